/**
 * A node restored from a backup taken before two root rotations (README step 7), `identity/` and `keys/` kept as they are
 * now: the first succession, signed by the original root, is recorded nowhere but in identity/root-successions.json
 * (identity/root-rotation.json records only the last rotation), and the node stores it again when it starts, queued to
 * partners again, who hold it already and keep it as it is. Then KZ's own audit export shows every message's signer
 * chain back to the root KG pinned, as KG's export of the same messages does. A forged or damaged record is refused,
 * naming the file, and nothing is stored.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity, loadRootKey } from '../../../certs/identity.js';
import { readRootRotation, readSuccessions } from '../../../certs/rotation.js';
import { signKeyNotice } from '../../../protocol/notice.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';
import { queryDir as query } from '../../helpers/cli.js';
import { finalMessage, initNode, networkPerTest, restartNode, runCli, tempDir, type TestNode } from '../../helpers/network.js';
import { exportVerifies, restoredAfter, rotateRoot, send } from './restore-helpers.js';

const network = networkPerTest();

/** The root successions of KZ a node holds, oldest first. */
function successionsAt(n: TestNode): string[] {
  return (n.node.parts.store.db.prepare("SELECT compact FROM key_notices WHERE kind = 'root-succession' AND country = 'KZ' ORDER BY at").all() as { compact: string }[]).map((r) => r.compact);
}

/** The `key` envelopes KZ queued to KG that carry succession `notice`. */
function queuedSuccessions(kz: TestNode, notice: string): { id: string }[] {
  return query<{ id: string; body: string }>(kz.dir, `SELECT id, body FROM (${MESSAGE_SELECT}) WHERE direction = 'out' AND type = 'key' AND kind = 'root-succession'`).filter((m) => (JSON.parse(m.body) as { notice: string }).notice === notice);
}

describe('a node restored from a backup older than two root rotations', () => {
  it('stores the first succession again at start, queues it to KG once, and its own audit export verifies', async () => {
    const net = await network(['KZ', 'KG']);
    const { kz, kg, said } = await restoredAfter(net, { after: async (kz, kg) => {
      await rotateRoot(kz, kg);
      await rotateRoot(kz, kg);
    } });
    const atKg = successionsAt(kg);
    expect(atKg).toHaveLength(2);
    const [first, second] = atKg as [string, string];
    // both recorded in identity/, as public data (0644 under umask 022), the second also in the rotation record
    expect(readSuccessions(kz.dir)).toEqual([first, second]);
    expect(statSync(join(kz.dir, 'identity/root-successions.json')).mode & 0o733).toBe(0o600);
    expect(readRootRotation(kz.dir)?.notice).toBe(second);
    // the first is stored again at start, said once; the second is the rotation record's (README step 7)
    expect(successionsAt(kz)).toEqual([first]);
    const told = said.filter((l) => l.includes('root succession to'));
    expect(told, said.join('\n')).toHaveLength(1);
    expect(told[0]).toMatch(/^WARNING: the root succession to \S+ effective \S+ is recorded in identity\/, but the database \(gnc\.sqlite\) was restored from a backup taken before it/);
    expect(told[0]).toContain('queued it to KG');
    const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
    expect(status).toContain('ROOT ROTATION INCOMPLETE');
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(successionsAt(kz)).toEqual([first, second]);
    // queued to KG again once each, delivered, and held there once as before
    for (const notice of [first, second]) {
      const again = queuedSuccessions(kz, notice);
      expect(again).toHaveLength(1);
      expect((await finalMessage(kz, again[0]!.id, 20_000)).status).toBe('delivered');
    }
    expect(successionsAt(kg)).toEqual([first, second]);
    // another start changes nothing
    await kz.node.stop();
    await restartNode(kz);
    expect(queuedSuccessions(kz, first)).toHaveLength(1);
    expect((await send(kz, 'KG')).status).toBe('delivered');
    expect((await send(kg, 'KZ')).status).toBe('delivered');
    await exportVerifies(kz, 'KG', net.base);
    await exportVerifies(kg, 'KZ', net.base);
  }, 120_000);

  it('gnc audit export run first on the stopped node stores the first succession; after the root rotation is completed, the bundle verifies', async () => {
    const net = await network(['KZ', 'KG']);
    const { kz } = await restoredAfter(net, {
      after: async (kz, kg) => {
        await rotateRoot(kz, kg);
        await rotateRoot(kz, kg);
      },
      stopped: async (kz) => {
        const [first] = readSuccessions(kz.dir);
        const e = await runCli(['audit', 'export', '--dir', kz.dir, '--out', join(net.base, 'first.json'), '--partner', 'KG']);
        expect(e.code, e.out.join('\n')).toBe(0);
        expect(e.out[0]).toMatch(/^WARNING: the root succession to /);
        expect(query(kz.dir, "SELECT compact FROM key_notices WHERE kind = 'root-succession'")).toEqual([{ compact: first }]);
        const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
        expect(r.code, r.out.join('\n')).toBe(0);
      },
    });
    expect(successionsAt(kz)).toEqual(readSuccessions(kz.dir));
    await exportVerifies(kz, 'KG', net.base);
  }, 120_000);
});

describe('a data dir of a version before identity/root-successions.json, with two root rotations', () => {
  it('records the successions its database holds at start and by gnc keys status, in order, so a restore from an older backup loses neither', async () => {
    const net = await network(['KZ', 'KG']);
    const file = (kz: TestNode): string => join(kz.dir, 'identity/root-successions.json');
    const { kz } = await restoredAfter(net, {
      after: async (kz, kg) => {
        await rotateRoot(kz, kg);
        await rotateRoot(kz, kg);
        const both = successionsAt(kz);
        expect(both).toHaveLength(2);
        expect(readSuccessions(kz.dir)).toEqual(both);
        // as an earlier version left it: the successions in the database only
        await kz.node.stop();
        rmSync(file(kz));
        await restartNode(kz);
        expect(readSuccessions(kz.dir)).toEqual(both);
        await kz.node.stop();
        // gnc keys status too, the earlier one put before the one recorded
        writeFileSync(file(kz), JSON.stringify({ v: 1, notices: [both[1]] }));
        const s = await runCli(['keys', 'status', '--dir', kz.dir]);
        expect(s.code, s.out.join('\n')).toBe(0);
        expect(readSuccessions(kz.dir)).toEqual(both);
        // not while another run holds the rotation lock (a live process: this one), which records them itself
        rmSync(file(kz));
        const lock = join(kz.dir, 'rotation.lock');
        writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), command: 'gnc keys rotate' }));
        expect((await runCli(['keys', 'status', '--dir', kz.dir])).code).toBe(0);
        expect(readSuccessions(kz.dir)).toEqual([]);
        rmSync(lock);
        // a damaged file is refused as before, and left as it is
        writeFileSync(file(kz), '{"v":1,"notices":["');
        const d = await runCli(['keys', 'status', '--dir', kz.dir]);
        expect(d.code).not.toBe(0);
        expect(d.out.join('\n')).toContain('GNC_CONFIG_INVALID');
        expect(readFileSync(file(kz), 'utf8')).toBe('{"v":1,"notices":["');
        rmSync(file(kz));
        expect((await runCli(['keys', 'status', '--dir', kz.dir])).code).toBe(0);
        expect(readSuccessions(kz.dir)).toEqual(both);
        await restartNode(kz);
      },
    });
    // the backup is older than both: the first is stored again at start, the second by gnc keys rotate --root
    const [first] = readSuccessions(kz.dir);
    expect(successionsAt(kz)).toEqual([first]);
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(successionsAt(kz)).toEqual(readSuccessions(kz.dir));
    await exportVerifies(kz, 'KG', net.base);
  }, 120_000);
});

describe('identity/root-successions.json', () => {
  it('a notice no root of this administration signed, or a damaged file, is refused naming the file, and nothing is stored', async () => {
    const base = tempDir();
    try {
      const kz = await initNode(base, 'KZ');
      const other = await initNode(join(base, 'other'), 'KZ');
      const forged = signKeyNotice({ v: 1, kind: 'root-succession', country: 'KZ', newRoot: loadIdentity(kz).root.jwk, effective: new Date().toISOString() }, loadRootKey(other, loadIdentity(other).root.thumbprint).signer);
      writeFileSync(join(kz, 'identity/root-successions.json'), JSON.stringify({ v: 1, notices: [forged] }));
      for (const args of [['keys', 'status', '--dir', kz], ['audit', 'export', '--dir', kz, '--out', join(base, 'b.json')]]) {
        const r = await runCli(args);
        expect(r.code).not.toBe(0);
        expect(r.out.join('\n')).toContain('GNC_CONFIG_INVALID: identity/root-successions.json in');
        expect(r.out.join('\n')).toContain('no root of KZ signed');
        expect(r.out.join('\n')).toContain("restore it from the data dir's backup");
      }
      expect(query(kz, 'SELECT 1 FROM key_notices')).toEqual([]);
      writeFileSync(join(kz, 'identity/root-successions.json'), '{"v":1,"notices":["');
      const r = await runCli(['keys', 'status', '--dir', kz]);
      expect(r.code).not.toBe(0);
      expect(r.out.join('\n')).toMatch(/GNC_CONFIG_INVALID: \S+root-successions\.json is not JSON: restore it from the data dir's backup/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
