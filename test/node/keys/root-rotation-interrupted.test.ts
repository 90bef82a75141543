/**
 * `gnc keys rotate --root` interrupted between two of its steps and completed by running the same command again, as
 * rotation-interrupted.test.ts does for a node key rotation: the data dir a crash leaves is made with the very step
 * functions the command runs (beginRootRotation, installRootRotation, storeSuccession, queueSuccessionTo), stopped after
 * step k. Stopped after the re-issued certificate was written (the node certifies itself under a root no partner was
 * told of), the command completes that succession instead of beginning another from the unannounced root, without
 * either root's private key; KG, a real node, gets exactly one succession and trusts the new root. And one rotation at
 * a time: `rotation.lock` in the data dir.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { installRootRotation, readRootRotation, type RootRotationState } from '../../../certs/rotation.js';
import { openOffline } from '../../../node/compose.js';
import { beginRootRotation, queueSuccessionTo, rotateNodeKeys, rotateRootKey, storeSuccession } from '../../../node/keys/service.js';
import { jwkThumbprint } from '../../../protocol/jwk.js';
import { queryDir as query, startOutput } from '../../helpers/cli.js';
import { api, finalMessage, networkPerTest, restartNode, runCli } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const network = networkPerTest();

/** The data dir `gnc keys rotate --root` leaves when it stops after its first `steps` steps (KG is queued to before UZ). */
async function interrupt(dir: string, steps: number): Promise<RootRotationState> {
  const { state } = beginRootRotation(dir, Date.now());
  if (steps >= 2) installRootRotation(dir, state);
  if (steps >= 3) {
    const n = openOffline(dir, { log: () => undefined });
    try {
      storeSuccession(n, state);
      if (steps >= 4) await queueSuccessionTo(n, state, 'KG');
      if (steps >= 5) await queueSuccessionTo(n, state, 'UZ');
    } finally {
      await n.close();
    }
  }
  return state;
}

/** The thumbprints the private key files of `dir` hold, whatever their name (a rotating key takes its root name). */
function keyThumbprints(dir: string): string[] {
  return readdirSync(join(dir, 'keys')).map((f) => /([A-Za-z0-9_-]{43})\.jwk$/.exec(f)?.[1] ?? f).sort();
}

const boundaries: [number, string, string | undefined][] = [
  [1, 'the succession was recorded', 'the node certificate the new root issued is not installed'],
  [2, 'the re-issued certificate was written', 'the root succession is not stored'],
  [3, 'the succession was stored', 'the root succession is not queued to KG, UZ'],
  [4, 'KG was queued the succession, UZ not yet', 'the root succession is not queued to UZ'],
  [5, 'every partner was queued the succession', undefined],
];

describe('gnc keys rotate --root, interrupted', () => {
  for (const [steps, after, missing] of boundaries) {
    it(`is completed by the same command after ${after}, without the root keys, each step once, and KG trusts the new root`, async () => {
      const net = await network(['KZ', 'KG', 'UZ'], { start: false });
      const kz = net.nodes.KZ!;
      const kg = net.nodes.KG!;
      const oldRoot = loadIdentity(kz.dir).root.thumbprint;
      const state = await interrupt(kz.dir, steps);
      const keys = keyThumbprints(kz.dir);

      const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
      if (missing === undefined) expect(status).not.toContain('INCOMPLETE');
      else {
        expect(status).toContain(`ROOT ROTATION INCOMPLETE: the root rotation to ${state.to} (from ${oldRoot}, effective ${state.effective}) was interrupted (`);
        expect(status).toContain(missing);
        expect(status).toContain(`Complete it with \`gnc keys rotate --dir ${kz.dir} --root\` (the same command again; it needs no root key)`);
        // nor is the node key rotated meanwhile: its certificate would be issued by a root some partner was not told of
        const node = await runCli(['keys', 'rotate', '--dir', kz.dir]);
        expect(node.code, node.out.join('\n')).toBe(2);
        expect(node.out.join('\n')).toContain(`GNC_CONFLICT: The root rotation to ${state.to} effective ${state.effective} was interrupted: complete it first with \`gnc keys rotate --dir ${kz.dir} --root\``);
      }

      // both roots kept offline: completing needs neither (everything signed is in the record)
      const rootFiles = readdirSync(join(kz.dir, 'keys')).filter((f) => f.includes('root'));
      for (const f of rootFiles) renameSync(join(kz.dir, 'keys', f), join(net.base, `${f}.offline`));
      const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
      expect(r.code, r.out.join('\n')).toBe(0);
      expect(r.out[0]).toBe(`Completed the interrupted root rotation to ${state.to} (was ${oldRoot}); each step was done once.`);
      expect(r.out.join('\n')).toContain('announced to KG, UZ');
      for (const f of rootFiles) renameSync(join(net.base, `${f}.offline`), join(kz.dir, 'keys', f));
      expect(loadIdentity(kz.dir).root.thumbprint).toBe(state.to);
      expect(keyThumbprints(kz.dir)).toEqual(keys);
      expect(readRootRotation(kz.dir)).toEqual({ ...state, announced: true });
      expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('INCOMPLETE');

      // one succession stored, one `key` entry, one envelope per partner
      expect(query(kz.dir, `SELECT subject FROM key_notices WHERE kind = 'root-succession'`)).toEqual([{ subject: state.to }]);
      expect(query(kz.dir, `SELECT COUNT(*) AS n FROM evidence WHERE message_id = ?`, `key:${state.to}`)).toEqual([{ n: 1 }]);
      const queued = query<{ partner: string; kind: string }>(kz.dir, `SELECT partner, kind FROM messages WHERE direction = 'out' AND type = 'key' ORDER BY seq`);
      expect(queued.map((m) => `${m.partner} ${m.kind}`).sort()).toEqual(['KG root-succession', 'UZ root-succession']);

      // KG gets exactly that succession, trusts the new root, and accepts what KZ sends under it (UZ stays down)
      for (const n of [kz, kg]) {
        await n.node.stop();
        await restartNode(n);
      }
      const sent = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
      expect(sent.status, sent.text).toBe(202);
      const final = await finalMessage(kz, sent.json.id as string, 20_000);
      expect(final.status, JSON.stringify(final)).toBe('delivered');
      expect(kg.node.parts.trust.rootsOf('KZ').map(jwkThumbprint)).toEqual([oldRoot, state.to]);
      expect(query(kg.dir, `SELECT subject FROM key_notices WHERE country = 'KZ' AND kind = 'root-succession'`)).toEqual([{ subject: state.to }]);
      expect(query(kg.dir, `SELECT kind FROM messages WHERE direction = 'in' AND partner = 'KZ' AND type = 'key'`)).toEqual([{ kind: 'root-succession' }]);
    }, 90_000);
  }

  it('is named by `gnc start` once the re-issued certificate was written, with what to run', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    await kz.node.stop();
    const state = await interrupt(kz.dir, 2);
    // on stderr, as every warning of `gnc start`: its JSON log line, then the operator's line
    const out = await startOutput(kz.dir, (o) => /^WARNING: .*\n/m.test(o), 'stderr');
    expect(out).toMatch(/^\{.*"msg":"WARNING: the root rotation to /m);
    expect(out).toContain(`\nWARNING: the root rotation to ${state.to} (from ${state.from}, effective ${state.effective}) was interrupted (the root succession is not stored; the root succession is not queued to KG). Complete it with \`gnc keys rotate --dir ${kz.dir} --root\` (the same command again; it needs no root key): until then this node's certificate is issued by root ${state.to}, which a partner not told of it refuses.`);
  }, 60_000);
});

describe('gnc keys rotate, one at a time', () => {
  it('refuses a second rotation begun while one runs (root or node), which makes no key, signs and queues nothing', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const keys = readdirSync(join(kz.dir, 'keys')).length;
    const runs = await Promise.allSettled([rotateRootKey(kz.dir), rotateRootKey(kz.dir), rotateNodeKeys(kz.dir)]);
    expect(runs.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    for (const r of runs.slice(1)) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'GNC_CONFLICT' });
      expect(String((r as PromiseRejectedResult).reason.message)).toContain(`${join(kz.dir, 'rotation.lock')} says another \`gnc keys rotate\` (process ${process.pid} on `);
    }
    expect(readdirSync(join(kz.dir, 'keys'))).toHaveLength(keys + 1);
    expect(query(kz.dir, `SELECT kind FROM key_notices`)).toEqual([{ kind: 'root-succession' }]);
    expect(query(kz.dir, `SELECT kind FROM messages WHERE direction = 'out' AND type = 'key'`)).toEqual([{ kind: 'root-succession' }]);
    // released when the run ends
    expect(existsSync(join(kz.dir, 'rotation.lock'))).toBe(false);
    expect((await runCli(['keys', 'rotate', '--dir', kz.dir])).code).toBe(0);
  }, 60_000);

  it('is refused while another live process holds the lock, saying what to do, and takes over a lock whose process is gone', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const lock = join(kz.dir, 'rotation.lock');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const gone = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    const since = new Date().toISOString();
    writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: hostname(), since }) + '\n');
    try {
      const refused = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
      expect(refused.code, refused.out.join('\n')).toBe(2);
      expect(refused.out.join('\n')).toContain(`GNC_CONFLICT: ${lock} says another \`gnc keys rotate\` (process ${holder.pid} on ${hostname()}, since ${since}) is rotating a key of this data dir: wait until it has ended, then run the command again`);
      expect(refused.out.join('\n')).toContain(`delete ${lock} and run the command again`);
      expect(readRootRotation(kz.dir)).toBeUndefined();
      // another host's lock cannot be checked: refused the same way
      writeFileSync(lock, JSON.stringify({ pid: process.pid, host: 'elsewhere.example', since }) + '\n');
      expect((await runCli(['keys', 'rotate', '--dir', kz.dir])).code).toBe(2);
      // a revocation holds the same lock, named as such, and waits for a rotation's
      writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: hostname(), since, command: 'gnc keys revoke' }) + '\n');
      const behindRevoke = await runCli(['keys', 'rotate', '--dir', kz.dir]);
      expect(behindRevoke.code).toBe(2);
      expect(behindRevoke.out.join('\n')).toContain(`GNC_CONFLICT: ${lock} says another \`gnc keys revoke\` (process ${holder.pid} on ${hostname()}, since ${since}) is revoking a key of this data dir`);
      writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: hostname(), since }) + '\n');
      const revoke = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', kz.node.parts.identity.node.thumbprint, '--reason', 'test']);
      expect(revoke.code, revoke.out.join('\n')).toBe(2);
      expect(revoke.out.join('\n')).toContain(`GNC_CONFLICT: ${lock} says another \`gnc keys rotate\` (process ${holder.pid}`);
      // a start copying root successions into identity/ holds it for a moment: nothing of its own to complete
      writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: hostname(), since, command: 'gnc start' }) + '\n');
      const behindStart = await runCli(['keys', 'rotate', '--dir', kz.dir]);
      expect(behindStart.code).toBe(2);
      expect(behindStart.out.join('\n')).toContain(`is recording the root successions of this data dir's database in identity/root-successions.json: wait until it has ended, then run the command again (that run holds it only for a moment).`);
    } finally {
      holder.kill('SIGKILL');
      await gone;
    }
    // the holder crashed: its lock is stale, taken over and released
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);
});
