/**
 * `gnc keys rotate` interrupted between two of its steps (killed, a power loss, a full disk) and completed by running
 * the same command again, at every step boundary. The data dir a crash leaves is made with the very step functions the
 * command runs (rotateNodeKey, installRotation, retireOldKey, queueRotationTo, writeRotation), stopped after step k.
 * The operator notices only after the overlap, when the node signs with the new key: `gnc keys status` says what is
 * incomplete and what to run, the command completes it with the key and certificate the interrupted run made (no
 * second key, retirement, announcement or evidence entry), and KG, a real node, accepts what the new key signs.
 * `gnc keys rotate --root` stopped around its key write the same way uses the root key it wrote, and `gnc start` warns
 * of each key file no certificate names as `gnc keys status` lists it.
 */
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity, newNodeKey, newRotatingKey } from '../../../certs/identity.js';
import { installRotation, readRotation, rotateNodeKey, rotatingKey, writeRotation, type RotationState } from '../../../certs/rotation.js';
import { openOffline } from '../../../node/compose.js';
import { jwkThumbprint } from '../../../protocol/jwk.js';
import { queueRotationTo, retireOldKey } from '../../../node/keys/service.js';
import { queryDir as query, startOutput } from '../../helpers/cli.js';
import { api, finalMessage, networkPerTest, restartNode, runCli, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const network = networkPerTest();

/** Short, so that the test completes the rotation after the overlap, when the new key signs whatever partners know. */
const OVERLAP_MS = 2_000;

/** The data dir `gnc keys rotate` leaves when it stops after its first `steps` steps (KG is queued to before UZ). */
async function interrupt(dir: string, steps: number): Promise<RotationState> {
  const state = rotateNodeKey(dir, { now: Date.now(), overlapMs: OVERLAP_MS }).state;
  if (steps >= 2) installRotation(dir, state);
  if (steps >= 3) {
    const n = openOffline(dir, { log: () => undefined });
    try {
      const retirement = retireOldKey(n, state);
      const announcements: Record<string, string> = {};
      if (steps >= 4) announcements['KG'] = await queueRotationTo(n, state, 'KG', retirement);
      if (steps >= 5) announcements['UZ'] = await queueRotationTo(n, state, 'UZ', retirement);
      if (steps >= 6) writeRotation(dir, { ...state, announcements, announced: true });
    } finally {
      await n.close();
    }
  }
  return state;
}

const boundaries: [number, string, string][] = [
  [1, 'the rotation was recorded', 'the new certificate is not installed'],
  [2, 'the new certificate was installed', "the old key's retirement is not signed"],
  [3, "the old key's retirement was signed", 'the new key is not queued to KG, UZ'],
  [4, 'KG was queued the announcement, UZ not yet', 'the new key is not queued to UZ'],
  [5, 'every partner was queued the announcement', 'its evidence entry is not written'],
  [6, 'the rotation file said so', 'its evidence entry is not written'],
];

describe('gnc keys rotate, interrupted', () => {
  for (const [steps, after, missing] of boundaries) {
    it(`is completed by the same command after ${after}, each step once, and KG accepts what the new key signs`, async () => {
      const net = await network(['KZ', 'KG', 'UZ'], { start: false });
      const kz = net.nodes.KZ!;
      const kg = net.nodes.KG!;
      const oldKid = loadIdentity(kz.dir).node.thumbprint;
      const state = await interrupt(kz.dir, steps);
      const keyFiles = readdirSync(join(kz.dir, 'keys')).sort();

      const before = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
      expect(before).toContain(`ROTATION INCOMPLETE: the node key rotation to ${state.to} begun at ${state.startedAt} was interrupted (`);
      expect(before).toContain(missing);
      expect(before).toContain(`Complete it with \`gnc keys rotate --dir ${kz.dir}\` (the same command again)`);

      // the operator notices after the overlap: the node signs with the new key by then
      await waitFor(() => (Date.now() > Date.parse(state.overlapUntil) ? true : undefined), 10_000, 'the end of the overlap');
      const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
      expect(r.code, r.out.join('\n')).toBe(0);
      expect(r.out[0]).toBe(`Completed the interrupted rotation to node key ${state.to} (was ${oldKid}); each step was done once.`);
      expect(loadIdentity(kz.dir).node.thumbprint).toBe(state.to);
      expect(readdirSync(join(kz.dir, 'keys')).sort()).toEqual(keyFiles);
      expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('INCOMPLETE');

      // one retirement, one announcement and one retirement envelope per partner, one evidence entry per key document
      expect(query(kz.dir, `SELECT subject FROM key_notices WHERE kind = 'revocation'`)).toEqual([{ subject: oldKid }]);
      const queued = query<{ id: string; partner: string; kind: string }>(kz.dir, `SELECT id, partner, kind FROM messages WHERE direction = 'out' AND type = 'key' ORDER BY seq`);
      expect(queued.map((m) => `${m.partner} ${m.kind}`).sort()).toEqual(['KG announce', 'KG revoke', 'UZ announce', 'UZ revoke']);
      const announcements = Object.fromEntries(queued.filter((m) => m.kind === 'announce').map((m) => [m.partner, m.id]));
      expect(readRotation(kz.dir)).toMatchObject({ to: state.to, announced: true, announcements });
      const entries = query<{ message_id: string; n: number }>(kz.dir, `SELECT message_id, COUNT(*) AS n FROM evidence WHERE message_id IN (?, ?) GROUP BY message_id`, `key:${oldKid}`, `key:${state.to}`);
      expect(Object.fromEntries(entries.map((e) => [e.message_id, e.n]))).toEqual({ [`key:${oldKid}`]: 1, [`key:${state.to}`]: 1 });
      for (const m of queued) expect(query(kz.dir, `SELECT 1 FROM evidence WHERE message_id = ? AND json_extract(entry, '$.event') = 'sent'`, m.id), m.id).toHaveLength(1);

      // KG learns the new key and accepts what it signs after the overlap (UZ stays down); the nodes start from
      // their data dirs as they are now (the fixture opened them before the rotation)
      for (const n of [kz, kg]) {
        await n.node.stop();
        await restartNode(n);
      }
      expect(kz.node.parts.signer().kid).toBe(state.to);
      const sent = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
      expect(sent.status, sent.text).toBe(202);
      const final = await finalMessage(kz, sent.json.id as string, 20_000);
      expect(final.status, JSON.stringify(final)).toBe('delivered');
      const held = kg.node.parts.store.messages.byKey('in', 'KZ', sent.json.id as string)!;
      const env = JSON.parse(Buffer.from(held.jws!).toString('utf8'));
      expect(JSON.parse(Buffer.from(env.protected, 'base64url').toString('utf8')).kid).toBe(state.to);
      expect(kg.node.parts.trust.resolveKey(oldKid)?.revokedAt).toBe(Date.parse(state.overlapUntil));
    }, 90_000);
  }

  it('leaves KG refusing what the new key signs after the overlap (the defect), until the command, run beside the running node, completes it', async () => {
    const net = await network(['KZ', 'KG', 'UZ'], { start: false });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const state = await interrupt(kz.dir, 2);
    for (const n of [kz, kg]) {
      await n.node.stop();
      await restartNode(n);
    }
    await waitFor(() => (kz.node.parts.signer().kid === state.to ? true : undefined), 10_000, 'the switch at the end of the overlap');
    const submit = async (): Promise<any> => {
      const sent = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
      expect(sent.status, sent.text).toBe(202);
      return finalMessage(kz, sent.json.id as string, 20_000);
    };
    expect(await submit()).toMatchObject({ status: 'rejected', error: { code: 'GNC_KEY_UNKNOWN' } });
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect((await submit()).status).toBe('delivered');
    expect(kg.node.parts.trust.resolveKey(state.to)?.country).toBe('KZ');
  }, 90_000);

  it('is named by `gnc start`, which says what to run: the node cannot complete it without the root key', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    await kz.node.stop();
    const state = await interrupt(kz.dir, 3);
    // after the overlap, when the node signs with the new key: both say so, in the same sentence
    await waitFor(() => (Date.now() > Date.parse(state.overlapUntil) ? true : undefined), 10_000, 'the end of the overlap');
    const advice = `the node key rotation to ${state.to} begun at ${state.startedAt} was interrupted (the new key is not queued to KG; its evidence entry is not written). Complete it with \`gnc keys rotate --dir ${kz.dir}\` (the same command again), now: this node signs with ${state.to} since ${state.overlapUntil}, which a partner never told refuses (GNC_KEY_UNKNOWN).`;
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out).toContain(`  ROTATION INCOMPLETE: ${advice}`);
    // on stderr, as every warning of `gnc start`: its JSON log line, then the operator's line
    const out = await startOutput(kz.dir, (o) => /^WARNING: .*\n/m.test(o), 'stderr');
    expect(out.split('\n')).toContain(`WARNING: ${advice}`);
    expect(out.split('\n').some((l) => l.startsWith('{') && JSON.parse(l).msg === `WARNING: ${advice}`)).toBe(true);
  }, 60_000);

  it('leaves key files no certificate names to `gnc start`, which warns of each with what `gnc keys status` says of it', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    await kz.node.stop();
    // a node key rotation and a root rotation, each stopped once it wrote its new key
    const node = newRotatingKey(kz.dir, 'node').thumbprint;
    const root = rotatingKey(kz.dir, 'root').key.thumbprint;
    const unused = (await runCli(['keys', 'status', '--dir', kz.dir])).out.filter((l) => l.includes('UNUSED KEY FILE: '));
    expect(unused).toHaveLength(2);
    const out = await startOutput(kz.dir, (o) => o.split('\n').filter((l) => l.startsWith('WARNING: ')).length >= 2, 'stderr');
    const warnings = out.split('\n').filter((l) => l.startsWith('WARNING: '));
    expect(warnings).toEqual(unused.map((l) => `WARNING: unused key file ${l.split('UNUSED KEY FILE: ')[1]}`));
    expect(warnings.join('\n')).toContain(`keys/rotating-node-${node}.jwk is the new key of a rotation interrupted before it recorded itself`);
    expect(warnings.join('\n')).toContain(`keys/rotating-root-${root}.jwk is the new root key of a root rotation interrupted before it recorded itself; no certificate names it. \`gnc keys rotate --dir ${kz.dir} --root\` uses it (and makes no other key).`);
  }, 60_000);

  it('uses the key written by a run interrupted before it recorded the rotation, and makes no other', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const oldKid = loadIdentity(kz.dir).node.thumbprint;
    const keys = join(kz.dir, 'keys');
    const before = readdirSync(keys);
    // what the command does before it records the rotation: it writes the new key (then certifies it)
    const orphan = newRotatingKey(kz.dir, 'node').thumbprint;
    const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
    expect(status).toContain(`UNUSED KEY FILE: keys/rotating-node-${orphan}.jwk is the new key of a rotation interrupted before it recorded itself; no certificate names it. \`gnc keys rotate --dir ${kz.dir}\` uses it (and makes no other key).`);
    expect(status).not.toContain('ROTATION INCOMPLETE');

    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out).toContain(`Used the new key ${orphan} that an interrupted rotation had written before it recorded itself; no other key was made.`);
    expect(loadIdentity(kz.dir).node.thumbprint).toBe(orphan);
    expect(readRotation(kz.dir)).toMatchObject({ from: oldKid, to: orphan, announced: true, announcements: { KG: expect.any(String) } });
    // one private key file more than before: the orphan, under its node key name, still 0600
    expect(readdirSync(keys).sort()).toEqual([...before, `node-${orphan}.jwk`].sort());
    expect(statSync(join(keys, `node-${orphan}.jwk`)).mode & 0o777).toBe(0o600);
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('UNUSED KEY FILE');
  }, 60_000);

  it('is completed by the same command when interrupted after it recorded the rotation, before the key took its node key name', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const state = await interrupt(kz.dir, 1);
    // the data dir a crash leaves between the two: the key under the name it was written with
    renameSync(join(kz.dir, 'keys', `node-${state.to}.jwk`), join(kz.dir, 'keys', `rotating-node-${state.to}.jwk`));
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('UNUSED KEY FILE');
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(loadIdentity(kz.dir).node.thumbprint).toBe(state.to);
    expect(readdirSync(join(kz.dir, 'keys')).filter((f) => f.includes(state.to))).toEqual([`node-${state.to}.jwk`]);
  }, 60_000);

  it('deletes a key file a run was interrupted writing, and says so before; leaves a node key file no certificate names alone', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const keys = join(kz.dir, 'keys');
    const before = readdirSync(keys);
    // a run killed while it wrote the new key: its temporary file holds part of the key
    const partial = `rotating-node-${'A'.repeat(43)}.jwk.tmp`;
    writeFileSync(join(keys, partial), '{"crv":"Ed25519","d":"', { mode: 0o600 });
    // and what the command wrote before rotating names were used, which nothing proves is a rotation's
    const stray = newNodeKey(kz.dir).thumbprint;
    const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
    expect(status).toContain(`UNUSED KEY FILE: keys/${partial} is a key file a rotation was interrupted writing; no certificate names it. \`gnc keys rotate --dir ${kz.dir}\` deletes it.`);
    expect(status).toContain(`UNUSED KEY FILE: keys/node-${stray}.jwk is a private node key no certificate of this node names`);

    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    const next = loadIdentity(kz.dir).node.thumbprint;
    expect(next).not.toBe(stray);
    expect(readdirSync(keys).sort()).toEqual([...before, `node-${stray}.jwk`, `node-${next}.jwk`].sort());
    const after = (await runCli(['keys', 'status', '--dir', kz.dir])).out.filter((l) => l.includes('UNUSED KEY FILE'));
    expect(after).toHaveLength(1);
    expect(after[0]).toContain(`keys/node-${stray}.jwk`);
  }, 60_000);

  it('--root uses the root key written by a run interrupted before the certificate named it, also after the current root was brought back from offline, and makes no other', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const oldRoot = loadIdentity(kz.dir).root.thumbprint;
    const keys = join(kz.dir, 'keys');
    const before = readdirSync(keys);
    // what `gnc keys rotate --root` does before the certificate names the new root: it writes the new root key
    const orphan = rotatingKey(kz.dir, 'root').key.thumbprint;
    const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
    expect(status).toContain(`UNUSED KEY FILE: keys/rotating-root-${orphan}.jwk is the new root key of a root rotation interrupted before it recorded itself; no certificate names it. \`gnc keys rotate --dir ${kz.dir} --root\` uses it (and makes no other key).`);

    // the current root kept offline: asked for before anything is written, the orphan left as it is
    const offline = join(net.base, 'kz-root-offline.jwk');
    renameSync(join(keys, 'root.jwk'), offline);
    const refused = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
    expect(refused.code, refused.out.join('\n')).toBe(4);
    expect(refused.out.join('\n')).toContain(`GNC_IDENTITY_MISSING: The private root key ${oldRoot} is not in ${kz.dir}/keys (kept offline)`);
    expect(readdirSync(keys).sort()).toEqual([...before.filter((f) => f !== 'root.jwk'), `rotating-root-${orphan}.jwk`].sort());
    renameSync(offline, join(keys, 'root.jwk'));

    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out).toContain(`Used the new root key ${orphan} that an interrupted root rotation had written before the certificate named it; no other root key was made.`);
    expect(loadIdentity(kz.dir).root.thumbprint).toBe(orphan);
    // one private key file more than before: the orphan, under its root name, still 0600
    expect(readdirSync(keys).sort()).toEqual([...before, `root-${orphan}.jwk`].sort());
    expect(statSync(join(keys, `root-${orphan}.jwk`)).mode & 0o777).toBe(0o600);
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('UNUSED KEY FILE');
    await waitFor(() => (kg.node.parts.trust.rootsOf('KZ').some((root) => jwkThumbprint(root) === orphan) ? true : undefined), 15_000, 'the succession at KG');
  }, 60_000);

  it('--root: a root rotation interrupted after the certificate named the new root, before its key took its root name, leaves the key usable', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const keys = join(kz.dir, 'keys');
    expect((await runCli(['keys', 'rotate', '--dir', kz.dir, '--root'])).code).toBe(0);
    const root = loadIdentity(kz.dir).root.thumbprint;
    // the data dir a crash leaves between the two: the key under the name it was written with
    renameSync(join(keys, `root-${root}.jwk`), join(keys, `rotating-root-${root}.jwk`));
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('UNUSED KEY FILE');
    // what needs the root's signature finds it, and it takes its root name
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(loadIdentity(kz.dir).certPayload.iss).toBe(root);
    expect(readdirSync(keys).filter((f) => f.includes(root))).toEqual([`root-${root}.jwk`]);
  }, 60_000);

  it('--root deletes a root key file a run was interrupted writing; a node key rotation leaves root key files alone', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const keys = join(kz.dir, 'keys');
    const partial = `rotating-root-${'A'.repeat(43)}.jwk.tmp`;
    writeFileSync(join(keys, partial), '{"crv":"Ed25519","d":"', { mode: 0o600 });
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).toContain(`UNUSED KEY FILE: keys/${partial} is a key file a root rotation was interrupted writing; no certificate names it. \`gnc keys rotate --dir ${kz.dir} --root\` deletes it.`);
    expect((await runCli(['keys', 'rotate', '--dir', kz.dir])).code).toBe(0);
    expect(readdirSync(keys)).toContain(partial);
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out.join('\n')).not.toContain('Used the new root key');
    expect(readdirSync(keys)).not.toContain(partial);
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('UNUSED KEY FILE');
  }, 60_000);

  it('refuses other options than the interrupted run had (exit 2, GNC_CONFLICT), changing nothing', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const oldKid = loadIdentity(kz.dir).node.thumbprint;
    const state = await interrupt(kz.dir, 1);
    const keyFiles = readdirSync(join(kz.dir, 'keys')).sort();
    for (const [option, value] of [['--overlap-hours', '48'], ['--announce', '/dns4/gnc-new.customs-kz.example/tcp/4001']] as const) {
      const r = await runCli(['keys', 'rotate', '--dir', kz.dir, option, value]);
      expect(r.code, r.out.join('\n')).toBe(2);
      expect(r.out.join('\n')).toContain(`GNC_CONFLICT: A key rotation to ${state.to} was interrupted, with other options than ${option}`);
      expect(r.out.join('\n')).toContain(`complete it first with \`gnc keys rotate --dir ${kz.dir}\` (no options)`);
    }
    // nor is the root rotated meanwhile: the recorded certificate, issued by this root, would be installed under a
    // succeeded one, which partners refuse
    const rootBefore = loadIdentity(kz.dir).root.thumbprint;
    const root = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
    expect(root.code, root.out.join('\n')).toBe(2);
    expect(root.out.join('\n')).toContain(`GNC_CONFLICT: The node-key rotation to ${state.to} begun at ${state.startedAt} was interrupted: complete it first with \`gnc keys rotate --dir ${kz.dir}\``);
    expect(loadIdentity(kz.dir).root.thumbprint).toBe(rootBefore);
    expect(loadIdentity(kz.dir).node.thumbprint).toBe(oldKid);
    expect(readdirSync(join(kz.dir, 'keys')).sort()).toEqual(keyFiles);
    expect(readRotation(kz.dir)).toEqual(state);
  }, 60_000);

  it('says to restore a rotation file that is not JSON, and what deleting it would do', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    await interrupt(kz.dir, 2);
    writeFileSync(join(kz.dir, 'identity', 'rotation.json'), '{"v":1,');
    const r = await runCli(['keys', 'status', '--dir', kz.dir]);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toMatch(/GNC_CONFIG_INVALID: .*rotation\.json is not JSON: restore it from the data dir's backup \(README, step 7\)\. Deleting it instead ends the rotation as it stands/);
    expect(r.out.join('\n')).not.toContain('to finish the key rotation now');
  }, 60_000);
});
