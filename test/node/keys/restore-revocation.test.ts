/**
 * A node restored from a backup taken before `gnc keys revoke` (README step 7), `identity/` and `keys/` kept as they are
 * now: the revocation, root-signed and recorded in identity/revocations.json, is stored again at start (no root key
 * needed), with a line naming the restore, and queued to partners again, who hold it already and keep it as it is; or
 * `gnc keys status`, run before the start, does it. KG, a real
 * node, got the revocation before the restore. Two cases: a revocation of a key rotated away before the backup; and, as
 * the README advises for a compromised key, a rotation then the revocation, both after the backup, where the restored
 * database alone would make KZ sign with the revoked key (KG refusing everything, GNC_KEY_REVOKED).
 */
import { copyFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity, loadRootKey } from '../../../certs/identity.js';
import { signKeyNotice } from '../../../protocol/notice.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { queryDir as query } from '../../helpers/cli.js';
import { api, finalMessage, initNode, networkPerTest, restartNode, runCli, tempDir, waitFor, type Network, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const network = networkPerTest();

async function send(from: TestNode, to: string): Promise<{ status: string; error?: { code: string } }> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  return finalMessage(from, r.json.id as string, 20_000);
}

/** `gnc keys rotate` beside the running KZ, then KZ signs with the new key (KG acknowledged it); the old key. */
async function rotateNode(kz: TestNode): Promise<string> {
  const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
  expect(r.code, r.out.join('\n')).toBe(0);
  const { previous, current } = JSON.parse(r.out[0]!) as { previous: string; current: string };
  await waitFor(() => (kz.node.parts.signer().kid === current ? true : undefined), 20_000, 'KZ to sign with the new key');
  expect((await send(kz, 'KG')).status).toBe('delivered');
  return previous;
}

/** `gnc keys revoke` of `kid` beside the running KZ, and KG has applied it; the revocation's time. */
async function revoke(kz: TestNode, kg: TestNode, kid: string): Promise<string> {
  const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', kid, '--reason', 'key file found on a decommissioned server', '--json']);
  expect(r.code, r.out.join('\n')).toBe(0);
  const { revokedAt } = JSON.parse(r.out[0]!) as { revokedAt: string };
  await waitFor(() => (kg.node.parts.store.partners.certificates('KZ').find((c) => c.kid === kid)?.revoked_at === Date.parse(revokedAt) ? true : undefined), 20_000, 'KG to apply the revocation');
  return revokedAt;
}

async function exportVerifies(from: TestNode, partner: string, base: string): Promise<void> {
  const file = join(base, `${from.country}-bundle.json`);
  const r = await runCli(['audit', 'export', '--dir', from.dir, '--out', file, '--partner', partner]);
  expect(r.code, r.out.join('\n')).toBe(0);
  expect((await verifyBundle(JSON.parse(readFileSync(file, 'utf8')))).failures).toEqual([]);
}

/**
 * KZ and KG exchange, `before` runs, KZ is backed up, `after` runs, KZ's database is restored from the backup and KZ
 * restarted; with `statusFirst`, `gnc keys status` runs on the stopped KZ before. What KZ said of the restore: the lines
 * of its log at start and those of `gnc keys status`.
 */
async function restoredAfter(before: (kz: TestNode) => Promise<void>, after: (kz: TestNode, kg: TestNode) => Promise<void>, statusFirst = false): Promise<{ net: Network; kz: TestNode; kg: TestNode; said: string[] }> {
  const net = await network(['KZ', 'KG']);
  const kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  expect((await send(kz, 'KG')).status).toBe('delivered');
  expect((await send(kg, 'KZ')).status).toBe('delivered');
  await before(kz);
  const backup = join(net.base, 'kz-backup.sqlite');
  expect((await runCli(['backup', '--dir', kz.dir, '--out', backup])).code).toBe(0);
  await after(kz, kg);
  // README step 7: stop the node, delete gnc.sqlite-wal and gnc.sqlite-shm, copy the backup over gnc.sqlite, start
  await kz.node.stop();
  for (const f of ['gnc.sqlite-wal', 'gnc.sqlite-shm']) rmSync(join(kz.dir, f), { force: true });
  copyFileSync(backup, join(kz.dir, 'gnc.sqlite'));
  const said = statusFirst ? (await runCli(['keys', 'status', '--dir', kz.dir])).out : [];
  await restartNode(kz, { log: (m) => void said.push(m) });
  return { net, kz, kg, said };
}

/** The revocation of `kid` from `revokedAt` as KG holds it (KG applied it before KZ's restore). */
function noticeAtKg(kg: TestNode, kid: string, revokedAt: string): string {
  const rows = kg.node.parts.store.db.prepare("SELECT compact FROM key_notices WHERE kind = 'revocation' AND subject = ? AND at = ?").all(kid, Date.parse(revokedAt)) as { compact: string }[];
  expect(rows.length).toBe(1);
  return rows[0]!.compact;
}

/** The `key` envelopes KZ queued to KG that carry revocation `notice`. */
function queuedRevocations(kz: TestNode, notice: string): { id: string }[] {
  return query<{ id: string; body: string }>(kz.dir, `SELECT id, body FROM messages WHERE direction = 'out' AND type = 'key' AND kind = 'revoke'`).filter((m) => (JSON.parse(m.body) as { notice: string }).notice === notice);
}

/** KZ holds the revocation of `kid` again, says so, KG got it once more and kept it once, and both sides are in step. */
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

describe('a node restored from a backup older than a revocation of its key', () => {
  it('a key rotated away before the backup, revoked after it: gnc keys status stores the revocation again and KG holds it once', async () => {
    let old = '';
    let revokedAt = '';
    const { net, kz, kg, said } = await restoredAfter(async (kz) => void (old = await rotateNode(kz)), async (kz, kg) => void (revokedAt = await revoke(kz, kg, old)), true);
    expect(said.find((l) => l.includes(`revocation of node key ${old}`))).toMatch(/^ {2}REVOCATION RESTORED: /);
    expect(kz.node.parts.signer().kid).toBe(loadIdentity(kz.dir).node.thumbprint);
    await inStep(net, kz, kg, said, old, revokedAt);
  }, 120_000);

  it('a rotation then the revocation of the old key after the backup (a compromise): KZ never signs with the revoked key', async () => {
    let old = '';
    let revokedAt = '';
    const { net, kz, kg, said } = await restoredAfter(async () => undefined, async (kz, kg) => {
      old = await rotateNode(kz);
      revokedAt = await revoke(kz, kg, old);
    });
    const current = loadIdentity(kz.dir).node.thumbprint;
    // the restored database knows neither the rotation's delivery nor the revocation: without the record, KZ would sign
    // with the old key until the overlap ends, and KG refuses everything it signs (GNC_KEY_REVOKED)
    expect(kz.node.parts.signer().kid).toBe(current);
    // the rotation itself is completed as for any restore (README step 7)
    const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
    expect(status.split('\n')[0]).toBe(`KZ: signing with ${current}`);
    expect(status).toContain('ROTATION INCOMPLETE');
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(said.find((l) => l.includes(`revocation of node key ${old}`))).toMatch(/^WARNING: /);
    await inStep(net, kz, kg, said, old, revokedAt);
    for (const { id } of query<{ id: string }>(kz.dir, `SELECT id FROM messages WHERE direction = 'out' AND type = 'key'`)) {
      expect((await finalMessage(kz, id, 20_000)).status).toBe('delivered');
    }
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('INCOMPLETE');
  }, 120_000);

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
});
