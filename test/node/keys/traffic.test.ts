/**
 * Key events under live traffic between two real nodes (KZ, KG) on a shared clock the tests move: both partners rotating
 * while 120 messages each way wait for their receipts (receipts signed by the partner's old key during its rotation are
 * recorded and verify), the overlap ending while the partner is away with messages queued before, during and after it,
 * restarts in the middle, both nodes rotating while stopped, a root succession while a node rotation waits, and a
 * revocation from a past instant while what the revoked key sealed is on the wire. The invariants: nothing accepted is
 * lost, and `gnc audit export` + `gnc audit verify` pass on both sides for everything that should pass.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { revokeNodeKey, rotateNodeKeys } from '../../../node/keys/service.js';
import { api, holdReceipts, networkPerTest, restartNode, runCli, sharedClockPerTest, type Network, type TestNode, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

const HOUR = 3_600_000;
const t = sharedClockPerTest();
const { clock } = t;
const network = networkPerTest();

const kidOf = (jws: Buffer | Uint8Array): string => JSON.parse(Buffer.from(JSON.parse(Buffer.from(jws).toString('utf8')).protected, 'base64url').toString('utf8')).kid;

async function submitMany(from: TestNode, to: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    expect(r.status, r.text).toBe(202);
    ids.push(r.json.id as string);
  }
  return ids;
}

/** How many of `n`'s outgoing messages have each status. */
function outStatuses(n: TestNode): Record<string, number> {
  const rows = n.node.parts.store.db.prepare(`SELECT status, COUNT(*) AS c FROM messages WHERE direction = 'out' GROUP BY status`).all() as { status: string; c: number }[];
  return Object.fromEntries(rows.map((r) => [r.status, r.c]));
}

/** Every outgoing message of `n` delivered (or sealed again, and that one delivered); else what is left, in the error. */
async function allDelivered(n: TestNode, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => (Object.keys(outStatuses(n)).every((k) => k === 'delivered' || k === 'resealed') ? true : undefined), timeoutMs, `everything of ${n.country} delivered`).catch((e: unknown) => {
    const left = n.node.parts.store.db.prepare(`SELECT m.id, m.type, m.status, m.error_code, o.last_error FROM messages m LEFT JOIN outbox o ON o.seq = m.seq WHERE direction = 'out' AND m.status NOT IN ('delivered', 'resealed') LIMIT 5`).all();
    throw new Error(`${(e as Error).message}: ${JSON.stringify(outStatuses(n))} ${JSON.stringify(left)}`);
  });
}

/** `gnc audit export` of everything and `gnc audit verify` of the file with the pinned roots pass, and so does the live log's. */
async function exportVerifies(n: TestNode, base: string, roots: Record<string, string>): Promise<void> {
  const file = join(base, `${n.country}-${Date.now()}.bundle.json`);
  const e = await runCli(['audit', 'export', '--dir', n.dir, '--out', file]);
  expect(e.code, e.out.join('\n')).toBe(0);
  const v = await runCli(['audit', 'verify', file, ...Object.entries(roots).flatMap(([c, fp]) => ["--root", `${c}=${fp}`])]);
  expect(v.code, v.out.join('\n')).toBe(0);
  const live = await runCli(['audit', 'verify', '--dir', n.dir]);
  expect(live.code, live.out.join('\n')).toBe(0);
}

/** KZ and KG, pinned to each other under an agreement, started on the shared clock; the roots they pinned. */
async function pair(): Promise<{ net: Network; kz: TestNode; kg: TestNode; roots: Record<string, string> }> {
  const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ clock }) });
  const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
  return { net, kz, kg, roots: { KZ: loadIdentity(kz.dir).root.thumbprint, KG: loadIdentity(kg.dir).root.thumbprint } };
}

/** `at` holds every message of `ids` from `from`. */
function arrived(at: TestNode, from: string, ids: string[]): void {
  expect(ids.filter((id) => at.node.parts.store.messages.byKey('in', from, id) === undefined)).toEqual([]);
}

/** The node keys that signed the receipts `n` holds for its messages. */
function receiptKids(n: TestNode): Set<string> {
  const rows = n.node.parts.store.db.prepare(`SELECT r.jws FROM receipts r JOIN messages m ON m.seq = r.message_seq WHERE m.direction = 'out'`).pluck().all() as Buffer[];
  return new Set(rows.map(kidOf));
}

describe('key rotations under traffic', () => {
  it('both partners rotate while 120 messages each way wait for their receipts: all delivered, all evidence verifies', async () => {
    const { net, kz, kg, roots } = await pair();
    const oldKz = loadIdentity(kz.dir).node.thumbprint;
    const oldKg = loadIdentity(kg.dir).node.thumbprint;
    const heldAtKg = holdReceipts(kg);
    const heldAtKz = holdReceipts(kz);
    const a = await submitMany(kz, 'KG', 120);
    const b = await submitMany(kg, 'KZ', 120);
    await waitFor(() => (heldAtKg.arrived.length >= 60 && heldAtKz.arrived.length >= 60 ? true : undefined), 20_000, 'messages on the wire');
    const [rz, rg] = await Promise.all([rotateNodeKeys(kz.dir, { overlapHours: 1, clock }), rotateNodeKeys(kg.dir, { overlapHours: 1, clock })]);
    const a2 = await submitMany(kz, 'KG', 10);
    heldAtKg.release();
    heldAtKz.release();
    await allDelivered(kz);
    await allDelivered(kg);
    await waitFor(() => (kz.node.parts.signer().kid === rz.current && kg.node.parts.signer().kid === rg.current ? true : undefined), 15_000, 'both switched');
    const a3 = await submitMany(kz, 'KG', 5);
    await allDelivered(kz);
    arrived(kg, 'KZ', [...a, ...a2, ...a3]);
    arrived(kz, 'KG', b);
    expect(receiptKids(kz)).toEqual(new Set([oldKg, rg.current]));
    expect(receiptKids(kg).has(oldKz)).toBe(true);
    await exportVerifies(kz, net.base, roots);
    await exportVerifies(kg, net.base, roots);
    // past the overlap: the old keys are retired; everything still verifies
    t.ahead += 2 * HOUR;
    await submitMany(kz, 'KG', 3);
    await submitMany(kg, 'KZ', 3);
    await allDelivered(kz);
    await allDelivered(kg);
    await exportVerifies(kz, net.base, roots);
    await exportVerifies(kg, net.base, roots);
  }, 120_000);

  it('the overlap ends while the partner is away, with messages queued before and after; the partner comes back after it', async () => {
    const { net, kz, kg, roots } = await pair();
    await kg.node.stop();
    const before = await submitMany(kz, 'KG', 40);
    const r = await rotateNodeKeys(kz.dir, { overlapHours: 1, clock });
    const during = await submitMany(kz, 'KG', 40);
    t.ahead += HOUR + 60_000;
    await waitFor(() => (kz.node.parts.signer().kid === r.current ? true : undefined), 10_000, 'the switch at the overlap end');
    const after = await submitMany(kz, 'KG', 40);
    await kz.node.stop();
    await restartNode(kz, { clock });
    after.push(...(await submitMany(kz, 'KG', 5)));
    await restartNode(kg, { clock });
    await allDelivered(kz, 40_000);
    arrived(kg, 'KZ', [...before, ...during, ...after]);
    await exportVerifies(kz, net.base, roots);
    await exportVerifies(kg, net.base, roots);
  }, 120_000);

  it('a restart of KZ in the middle of a rotation with 100 messages queued', async () => {
    const { net, kz, kg, roots } = await pair();
    const held = holdReceipts(kg);
    const ids = await submitMany(kz, 'KG', 100);
    await waitFor(() => (held.arrived.length >= 30 ? true : undefined), 20_000, 'messages on the wire');
    await rotateNodeKeys(kz.dir, { overlapHours: 1, clock });
    await kz.node.stop();
    held.release();
    await restartNode(kz, { clock });
    const more = await submitMany(kz, 'KG', 10);
    // KG rotates while KZ resumes
    await kg.node.stop();
    await rotateNodeKeys(kg.dir, { overlapHours: 1, clock });
    await restartNode(kg, { clock });
    await allDelivered(kz, 40_000);
    arrived(kg, 'KZ', [...ids, ...more]);
    await exportVerifies(kz, net.base, roots);
    await exportVerifies(kg, net.base, roots);
  }, 120_000);
});

describe('more key events under traffic', () => {
  it('both nodes rotate while stopped, and start after both overlaps ended, with messages queued both ways', async () => {
    const { net, kz, kg, roots } = await pair();
    await kg.node.stop();
    const a = await submitMany(kz, 'KG', 30);
    await kz.node.stop();
    await Promise.all([rotateNodeKeys(kz.dir, { overlapHours: 1, clock }), rotateNodeKeys(kg.dir, { overlapHours: 1, clock })]);
    t.ahead += 2 * HOUR;
    await restartNode(kz, { clock });
    const a2 = await submitMany(kz, 'KG', 30);
    await restartNode(kg, { clock });
    const b = await submitMany(kg, 'KZ', 30);
    await allDelivered(kz, 40_000);
    await allDelivered(kg, 40_000);
    arrived(kg, 'KZ', [...a, ...a2]);
    arrived(kz, 'KG', b);
    await exportVerifies(kz, net.base, roots);
    await exportVerifies(kg, net.base, roots);
  }, 120_000);

  it('a root succession while a node rotation waits for the partner, who is away; then it comes back', async () => {
    const { net, kz, kg, roots } = await pair();
    await kg.node.stop();
    const a = await submitMany(kz, 'KG', 30);
    const r = await rotateNodeKeys(kz.dir, { overlapHours: 1, clock });
    const a2 = await submitMany(kz, 'KG', 20);
    const rr = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root', '--json']);
    expect(rr.code, rr.out.join('\n')).toBe(0);
    const a3 = await submitMany(kz, 'KG', 20);
    expect(kz.node.parts.signer().kid).toBe(r.previous);
    await kz.node.stop();
    await restartNode(kz, { clock });
    expect(kz.node.parts.signer().kid).toBe(r.previous);
    a3.push(...(await submitMany(kz, 'KG', 5)));
    await restartNode(kg, { clock });
    await allDelivered(kz, 40_000);
    await waitFor(() => (kz.node.parts.signer().kid === r.current ? true : undefined), 10_000, 'the switch');
    const a4 = await submitMany(kz, 'KG', 20);
    await allDelivered(kz, 40_000);
    arrived(kg, 'KZ', [...a, ...a2, ...a3, ...a4]);
    await exportVerifies(kz, net.base, roots);
    await exportVerifies(kg, net.base, roots);
    t.ahead += 2 * HOUR;
    await submitMany(kz, 'KG', 3);
    await submitMany(kg, 'KZ', 3);
    await allDelivered(kz);
    await allDelivered(kg);
    await exportVerifies(kz, net.base, roots);
    await exportVerifies(kg, net.base, roots);
  }, 120_000);

  it('KG rotates while stopped and starts after its overlap: KZ, with messages queued, learns the new key', async () => {
    const { net, kz, kg, roots } = await pair();
    await kg.node.stop();
    const a = await submitMany(kz, 'KG', 50);
    await rotateNodeKeys(kg.dir, { overlapHours: 1, clock });
    t.ahead += 2 * HOUR;
    await restartNode(kg, { clock });
    const b = await submitMany(kg, 'KZ', 10);
    await allDelivered(kz, 40_000);
    await allDelivered(kg, 40_000);
    arrived(kg, 'KZ', a);
    arrived(kz, 'KG', b);
    await exportVerifies(kz, net.base, roots);
    await exportVerifies(kg, net.base, roots);
  }, 120_000);
});

describe('a revocation --at a past time under traffic', () => {
  it('of the old key while messages it sealed after that time are on the wire: those the partner holds are delivered, the rest end unsent, and the audit names each', async () => {
    const { net, kz, kg, roots } = await pair();
    const from = new Date(clock() - 1000).toISOString();
    const held = holdReceipts(kg);
    const sent = await submitMany(kz, 'KG', 100);
    await waitFor(() => (held.arrived.length >= 30 ? true : undefined), 20_000, 'messages on the wire');
    const r = await rotateNodeKeys(kz.dir, { overlapHours: 1, clock });
    t.ahead += 2 * HOUR;
    await waitFor(() => (kz.node.parts.signer().kid === r.current ? true : undefined), 10_000, 'the switch');
    await revokeNodeKey(kz.dir, r.previous, 'compromised', { at: from, clock });
    held.release();
    await waitFor(() => (Object.keys(outStatuses(kz)).every((k) => ['delivered', 'resealed', 'expired'].includes(k)) ? true : undefined), 30_000, 'all final');
    // KG committed those on the wire before it heard of the revocation; the rest are refused for certain: not sent
    const outcome = sent.map((id) => kz.node.parts.store.messages.byKey('out', 'KG', id)!);
    const delivered = outcome.filter((m) => m.status === 'delivered').map((m) => m.id);
    expect(delivered.length).toBeGreaterThanOrEqual(30);
    expect(outcome.filter((m) => m.status !== 'delivered').map((m) => `${m.status}:${m.error_code}`)).toEqual(Array(100 - delivered.length).fill('expired:GNC_KEY_REVOKED'));
    expect(sent.filter((id) => kg.node.parts.store.messages.byKey('in', 'KZ', id) !== undefined)).toEqual(delivered);
    // the key envelopes the old key sealed went on, sealed again by the new key, and arrived
    expect(kz.node.parts.store.db.prepare(`SELECT status FROM messages WHERE direction = 'out' AND type = 'key' AND resealed_as IS NULL`).pluck().all()).toEqual(['delivered', 'delivered', 'delivered']);
    await waitFor(() => (kg.node.parts.trust.resolveKey(r.previous)?.revokedAt === Date.parse(from) ? true : undefined), 10_000, 'the revocation at KG');
    // the audit fails exactly the envelopes the revoked key signed from then on (the receipts of KG still verify)
    const file = join(net.base, 'kz.json');
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file])).code).toBe(0);
    const v = await runCli(['audit', 'verify', file, '--json', ...Object.entries(roots).flatMap(([c, fp]) => ['--root', `${c}=${fp}`])]);
    const report = JSON.parse(v.out[0]!) as { failures: { code: string; subject: string }[] };
    const voided = kz.node.parts.store.db.prepare(`SELECT id FROM (${MESSAGE_SELECT}) WHERE direction = 'out' AND created >= ? AND jws IS NOT NULL`).pluck().all(from) as string[];
    const byRevoked = voided.filter((id) => kidOf(kz.node.parts.store.messages.byKey('out', 'KG', id)!.jws!) === r.previous);
    expect(report.failures.map((f) => `${f.code} ${f.subject}`).sort()).toEqual(byRevoked.map((id) => `GNC_KEY_REVOKED envelope ${id}`).sort());
  }, 90_000);
});
