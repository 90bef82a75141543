/**
 * A node restored from a backup taken before `gnc keys revoke` (README step 7), `identity/` and `keys/` kept as they are
 * now: the revocation, root-signed and recorded in identity/revocations.json, is stored again at start (no root key
 * needed), with a line naming the restore, and queued to partners again, who hold it already and keep it as it is; or
 * `gnc keys status`, run before the start, does it. KG, a real
 * node, got the revocation before the restore. Two cases: a revocation of a key rotated away before the backup; and, as
 * the README advises for a compromised key, a rotation then the revocation, both after the backup, where the restored
 * database alone would make KZ sign with the revoked key (KG refusing everything, GNC_KEY_REVOKED). `gnc start`, a real
 * process, tells the operator on stderr too, not only in its JSON log.
 */
import { copyFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity, loadRootKey } from '../../../certs/identity.js';
import { readRevocations } from '../../../certs/rotation.js';
import { signKeyNotice } from '../../../protocol/notice.js';
import { queryDir as query, startOutput } from '../../helpers/cli.js';
import { api, finalMessage, initNode, networkPerTest, restartNode, runCli, tempDir, waitFor, type Network, type TestNode } from '../../helpers/network.js';
import { exportVerifies, restoredAfter, rotateNode, rotateRoot, send } from './restore-helpers.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';
import { peekKid } from '../../../protocol/envelope/open.js';

const network = networkPerTest();

/** `gnc keys revoke` of `kid` beside the running KZ, and KG has applied it; the revocation's time. */
async function revoke(kz: TestNode, kg: TestNode, kid: string): Promise<string> {
  const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', kid, '--reason', 'key file found on a decommissioned server', '--json']);
  expect(r.code, r.out.join('\n')).toBe(0);
  const { revokedAt } = JSON.parse(r.out[0]!) as { revokedAt: string };
  await waitFor(() => (kg.node.parts.store.partners.certificates('KZ').find((c) => c.kid === kid)?.revoked_at === Date.parse(revokedAt) ? true : undefined), 20_000, 'KG to apply the revocation');
  return revokedAt;
}

/** The revocation of `kid` from `revokedAt` as KG holds it (KG applied it before KZ's restore). */
function noticeAtKg(kg: TestNode, kid: string, revokedAt: string): string {
  const rows = kg.node.parts.store.db.prepare("SELECT compact FROM key_notices WHERE kind = 'revocation' AND subject = ? AND at = ?").all(kid, Date.parse(revokedAt)) as { compact: string }[];
  expect(rows.length).toBe(1);
  return rows[0]!.compact;
}

/** The `key` envelopes KZ queued to KG that carry revocation `notice`. */
function queuedRevocations(kz: TestNode, notice: string): { id: string }[] {
  return query<{ id: string; body: string }>(kz.dir, `SELECT id, body FROM (${MESSAGE_SELECT}) WHERE direction = 'out' AND type = 'key' AND kind = 'revoke'`).filter((m) => (JSON.parse(m.body) as { notice: string }).notice === notice);
}

/**
 * KZ holds the revocation of `kid` again, says so, KG got it once more and kept it once, and both sides are in step; each
 * side's audit export verifies.
 */
async function inStep(net: Network, kz: TestNode, kg: TestNode, said: string[], kid: string, revokedAt: string): Promise<void> {
  const notice = noticeAtKg(kg, kid, revokedAt);
  expect(kz.node.parts.store.db.prepare('SELECT COUNT(*) AS n FROM key_notices WHERE compact = ?').get(notice)).toEqual({ n: 1 });
  // once, by whichever ran first
  const restored = said.filter((l) => l.includes(`revocation of node key ${kid}`));
  expect(restored, said.join('\n')).toHaveLength(1);
  expect(restored[0]).toContain('restored from a backup taken before it');
  expect(restored[0]).toContain('queued it to KG');
  // a public document, like the certificates beside it: written by its owner, readable by others (0644 under umask 022)
  expect(statSync(join(kz.dir, 'identity/revocations.json')).mode & 0o733).toBe(0o600);
  const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
  expect(status.split('\n').find((l) => l.includes(`${kid}  issuer`))).toContain(`REVOKED from ${revokedAt}`);
  const health = await api(kz, 'GET', '/v1/health');
  expect(JSON.stringify(health.json.checks ?? [])).not.toContain('GNC_KEY_REVOKED');
  // queued to KG again, delivered, and held there as before (one notice, no second `key` entry)
  const again = queuedRevocations(kz, notice);
  expect(again.length).toBe(1);
  expect((await finalMessage(kz, again[0]!.id, 20_000)).status).toBe('delivered');
  expect(kg.node.parts.store.db.prepare('SELECT COUNT(*) AS n FROM key_notices WHERE compact = ?').get(notice)).toEqual({ n: 1 });
  expect(kg.node.parts.store.db.prepare("SELECT COUNT(*) AS n FROM evidence WHERE message_id = ? AND json_extract(entry, '$.event') = 'key'").get(again[0]!.id)).toEqual({ n: 0 });
  // another start changes nothing
  await kz.node.stop();
  await restartNode(kz);
  expect(queuedRevocations(kz, notice).length).toBe(1);
  expect((await send(kz, 'KG')).status).toBe('delivered');
  expect((await send(kg, 'KZ')).status).toBe('delivered');
  await exportVerifies(kz, 'KG', net.base);
  await exportVerifies(kg, 'KZ', net.base);
}

/** The keys that sealed the `key` envelopes KZ queued (the kid of each envelope's protected header). */
function keyEnvelopeSigners(kz: TestNode): string[] {
  const rows = query<{ jws: Buffer }>(kz.dir, `SELECT jws FROM (${MESSAGE_SELECT}) WHERE direction = 'out' AND type = 'key'`);
  expect(rows.length).toBeGreaterThan(0);
  return rows.map((r) => {
    const text = r.jws.toString('utf8');
    return peekKid(text.startsWith('{') ? (JSON.parse(text) as { protected: string }).protected : text.split('.')[0]!)!;
  });
}

/**
 * After the backup: a root rotation, a node key rotation, the revocation of the old key (signed by the root in office
 * then), and a second root rotation. The restored database holds neither succession, and identity/root-rotation.json
 * records only the second: the root that signed the revocation is named by no record the restored node reads first.
 * The first succession, signed by the original root (offline), is recorded in identity/root-successions.json, and
 * stored again at start (or by `gnc keys rotate --root`), so KZ's own audit export shows its roots' chain too.
 */
async function revokedUnderSucceededRoot(kz: TestNode, kg: TestNode): Promise<{ old: string; revokedAt: string }> {
  await rotateRoot(kz, kg);
  const { previous: old } = await rotateNode(kz);
  const revokedAt = await revoke(kz, kg, old);
  await rotateRoot(kz, kg);
  return { old, revokedAt };
}

describe('a node restored from a backup older than a revocation of its key', () => {
  it('a key rotated away before the backup, revoked after it: gnc keys status stores the revocation again and KG holds it once', async () => {
    let old = '';
    let revokedAt = '';
    const net = await network(['KZ', 'KG']);
    const { kz, kg, said } = await restoredAfter(net, {
      before: async (kz) => void ({ previous: old } = await rotateNode(kz)),
      after: async (kz, kg) => void (revokedAt = await revoke(kz, kg, old)),
      statusFirst: true,
    });
    expect(said.find((l) => l.includes(`revocation of node key ${old}`))).toMatch(/^ {2}REVOCATION RESTORED: /);
    expect(kz.node.parts.signer().kid).toBe(loadIdentity(kz.dir).node.thumbprint);
    await inStep(net, kz, kg, said, old, revokedAt);
  }, 120_000);

  it('a rotation then the revocation of the old key after the backup (a compromise): KZ never signs with the revoked key', async () => {
    let old = '';
    let revokedAt = '';
    const net = await network(['KZ', 'KG']);
    const { kz, kg, said } = await restoredAfter(net, { after: async (kz, kg) => {
      ({ previous: old } = await rotateNode(kz));
      revokedAt = await revoke(kz, kg, old);
    } });
    const current = loadIdentity(kz.dir).node.thumbprint;
    // the restored database knows neither the rotation's delivery nor the revocation: without the record, KZ would sign
    // with the old key until the overlap ends, and KG refuses everything it signs (GNC_KEY_REVOKED)
    expect(kz.node.parts.signer().kid).toBe(current);
    // the rotation itself is completed as for any restore (README step 7)
    const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
    expect(status.split('\n')[0]).toBe(`KZ: signing with ${current}`);
    expect(status).toContain('ROTATION INCOMPLETE');
    // `gnc start`, a real process, says of the rotation what `gnc keys status` says: the new key signs already (the old
    // one is revoked), not that it will from the end of the overlap
    await kz.node.stop();
    const stderr = await startOutput(kz.dir, (o) => o.includes('WARNING: the node key rotation'), 'stderr');
    const told = stderr.split('\n').find((l) => l.startsWith('WARNING: the node key rotation'));
    expect(told, stderr).toContain(`now: this node signs with ${current} already (its old key is revoked or has expired)`);
    expect(status).toContain(told!.slice('WARNING: '.length));
    await restartNode(kz, { log: (m) => void said.push(m) });
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(said.find((l) => l.includes(`revocation of node key ${old}`))).toMatch(/^WARNING: /);
    await inStep(net, kz, kg, said, old, revokedAt);
    for (const { id } of query<{ id: string }>(kz.dir, `SELECT id FROM messages WHERE direction = 'out' AND type = 'key'`)) {
      expect((await finalMessage(kz, id, 20_000)).status).toBe('delivered');
    }
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('INCOMPLETE');
  }, 120_000);

  it('gnc start tells the operator on stderr, in one plain line beside the JSON log, that it stored a revocation again', async () => {
    const base = tempDir();
    try {
      const kz = await initNode(base, 'KZ');
      const rotated = await runCli(['keys', 'rotate', '--dir', kz, '--json']);
      expect(rotated.code, rotated.out.join('\n')).toBe(0);
      const { previous } = JSON.parse(rotated.out[0]!) as { previous: string };
      const backup = join(base, 'kz-backup.sqlite');
      expect((await runCli(['backup', '--dir', kz, '--out', backup])).code).toBe(0);
      const revoked = await runCli(['keys', 'revoke', '--dir', kz, '--kid', previous, '--reason', 'key file found on a decommissioned server', '--json']);
      expect(revoked.code, revoked.out.join('\n')).toBe(0);
      // README step 7: the database restored from the backup, which does not hold the revocation
      for (const f of ['gnc.sqlite-wal', 'gnc.sqlite-shm']) rmSync(join(kz, f), { force: true });
      copyFileSync(backup, join(kz, 'gnc.sqlite'));
      const stderr = await startOutput(kz, (o) => o.includes('"msg":"node started"'), 'stderr');
      const told = stderr.split('\n').filter((l) => l.includes(`revocation of node key ${previous}`));
      // the JSON log line, and the operator's line
      expect(told, stderr).toHaveLength(2);
      expect(JSON.parse(told[0]!)).toMatchObject({ msg: expect.stringMatching(/^WARNING: the revocation of node key /) });
      expect(told[1]).toMatch(/^WARNING: the revocation of node key \S+ from \S+ is recorded in identity\/, but the database \(gnc\.sqlite\) was restored from a backup/);
      expect(told[1]).toContain('queued it to no partner again');
      expect(told[1]).toBe(JSON.parse(told[0]!).msg);
      const [notice] = readRevocations(kz);
      expect(query(kz, 'SELECT COUNT(*) AS n FROM key_notices WHERE compact = ?', notice)).toEqual([{ n: 1 }]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('a notice in identity/revocations.json no root of this administration signed is refused, and nothing is stored', async () => {
    const base = tempDir();
    try {
      const kz = await initNode(base, 'KZ');
      const other = await initNode(join(base, 'other'), 'KZ');
      const id = loadIdentity(kz);
      const forged = signKeyNotice({ v: 1, kind: 'revocation', country: 'KZ', kid: id.node.thumbprint, reason: 'forged', revokedAt: new Date().toISOString() }, loadRootKey(other, loadIdentity(other).root.thumbprint).signer);
      writeFileSync(join(kz, 'identity/revocations.json'), JSON.stringify({ v: 1, notices: [forged] }));
      const r = await runCli(['keys', 'status', '--dir', kz]);
      expect(r.code).not.toBe(0);
      expect(r.out.join('\n')).toContain('GNC_CONFIG_INVALID: identity/revocations.json in');
      expect(r.out.join('\n')).toContain(`no root of KZ signed`);
      expect(query(kz, 'SELECT 1 FROM key_notices')).toEqual([]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('a revocation signed by a root succeeded after it (two root rotations): gnc keys status, the node and gnc keys rotate never sign with the revoked key', async () => {
    let revoked = { old: '', revokedAt: '' };
    const net = await network(['KZ', 'KG']);
    const { kz, kg, said } = await restoredAfter(net, { after: async (kz, kg) => void (revoked = await revokedUnderSucceededRoot(kz, kg)), statusFirst: true });
    const { old, revokedAt } = revoked;
    const current = loadIdentity(kz.dir).node.thumbprint;
    expect(said[0], said.join('\n')).toBe(`KZ: signing with ${current}`);
    expect(said.find((l) => l.includes(`revocation of node key ${old}`))).toMatch(/^ {2}REVOCATION RESTORED: /);
    expect(kz.node.parts.signer().kid).toBe(current);
    // what the node says to run (README step 7), the root rotation first
    for (const args of [['keys', 'rotate', '--dir', kz.dir, '--root'], ['keys', 'rotate', '--dir', kz.dir]]) {
      const r = await runCli(args);
      expect(r.code, r.out.join('\n')).toBe(0);
    }
    expect(keyEnvelopeSigners(kz)).not.toContain(old);
    await inStep(net, kz, kg, said, old, revokedAt);
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('INCOMPLETE');
  }, 120_000);

  it('a revocation signed by a root succeeded after it: gnc keys rotate run first on the stopped node seals nothing with the revoked key', async () => {
    let revoked = { old: '', revokedAt: '' };
    const net = await network(['KZ', 'KG']);
    const { kz, kg, said } = await restoredAfter(net, {
      after: async (kz, kg) => void (revoked = await revokedUnderSucceededRoot(kz, kg)),
      // before any start or status stored the revocation again
      stopped: async (kz) => {
        const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
        expect(r.code, r.out.join('\n')).toBe(0);
        expect(keyEnvelopeSigners(kz)).not.toContain(revoked.old);
      },
    });
    const current = loadIdentity(kz.dir).node.thumbprint;
    expect(kz.node.parts.signer().kid).toBe(current);
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(keyEnvelopeSigners(kz)).not.toContain(revoked.old);
    await inStep(net, kz, kg, said, revoked.old, revoked.revokedAt);
  }, 120_000);
});
