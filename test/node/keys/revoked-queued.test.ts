/**
 * What a node key sealed and is still queued when that key is revoked from an earlier instant (`gnc keys revoke --at`,
 * the compromise case), on two real nodes sharing a clock offset: KG is away while KZ queues a message and, sealed by
 * its old key, a rotation's announcement and retirement and a suspend notice; the overlap ends, KZ revokes the old key
 * from before all of them, and KG pins KZ's identity file again (which carries the revocation) before it comes back.
 * KG refuses what the revoked key signed from then on (SPEC section 4, check 9), finally: the control envelopes are
 * sealed again by the key that signs now and arrive; the message is not sent and ends saying to submit it again.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { revokeNodeKey, rotateNodeKeys } from '../../../node/keys/service.js';
import { api, finalMessage, networkPerTest, restartNode, runCli, sharedClockPerTest, type TestNode, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';
import { exportEvidence } from '../../../node/audit/export.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { EvidenceLog } from '../../../node/store/evidence.js';
import { verifiedExport } from '../audit/helpers.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

const HOUR = 3_600_000;
const AGREEMENT = '/v1/agreements/KZ-KG-test';

const t = sharedClockPerTest();
const { clock } = t;
const network = networkPerTest();

/** The message `id` at `n` stands for, once re-sealings are followed, when that one is final. */
async function carriedOn(n: TestNode, id: string): Promise<{ first: any; last: any }> {
  const first = await waitFor(async () => {
    const m = (await api(n, 'GET', `/v1/messages/${id}`)).json;
    return m.status === 'resealed' || m.status === 'rejected' ? m : undefined;
  }, 20_000, `${id} to be sealed again`);
  let last = first;
  while (last.status === 'resealed') last = await finalMessage(n, last.resealedAs, 20_000);
  return { first, last };
}

const kidOf = (m: any): string => JSON.parse(Buffer.from(m.envelope.protected, 'base64url').toString('utf8')).kid;

/**
 * KG is stopped; KZ queues (`queue`, after a rotation with a one-hour overlap when `rotateFirst`), the overlap ends and KZ
 * signs with the new key, then revokes the old one from before all of it; KG pins KZ's identity file again, comes back.
 */
async function compromised(queue: (kz: TestNode) => Promise<void>): Promise<{ kz: TestNode; kg: TestNode; rotated: Awaited<ReturnType<typeof rotateNodeKeys>>; from: string }> {
  const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ clock }) });
  const kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  await kg.node.stop();
  // the key is compromised from here: what it signs from then on is not KZ's, as far as partners know
  const from = new Date(clock() - 1_000).toISOString();
  await queue(kz);
  const rotated = await rotateNodeKeys(kz.dir, { overlapHours: 1, clock });
  t.ahead += 2 * HOUR;
  await waitFor(() => (kz.node.parts.signer().kid === rotated.current ? true : undefined), 10_000, 'the switch to the new key');
  await revokeNodeKey(kz.dir, rotated.previous, 'key file found on a decommissioned server', { at: from, clock });
  const file = join(net.base, 'kz-after-revocation.identity.json');
  expect((await runCli(['identity', 'export', '--dir', kz.dir, '--out', file, '--force'])).code).toBe(0);
  const pinned = await runCli(['partner', 'add', '--dir', kg.dir, file, '--fingerprint', loadIdentity(kz.dir).root.thumbprint]);
  expect(pinned.code, pinned.out.join('\n')).toBe(0);
  await restartNode(kg, { clock });
  return { kz, kg, rotated, from };
}

/** Nothing `kg` holds from KZ was signed by the revoked key `kid` at or after `from`. */
function noneSignedAfter(kg: TestNode, kid: string, from: string): void {
  const atKg = kg.node.parts.store.db.prepare(`SELECT id, jws, created FROM (${MESSAGE_SELECT}) WHERE direction = 'in' AND partner = 'KZ'`).all() as { id: string; jws: Buffer; created: string }[];
  const late = atKg.filter((e) => kidOf({ envelope: JSON.parse(e.jws.toString('utf8')) }) === kid && e.created >= from).map((e) => e.id);
  expect(late).toEqual([]);
}

describe('messages queued under a node key revoked since from before they were sealed', () => {
  it('are sealed again by the key that signs now when they are control envelopes (a notice, an announcement), and arrive', async () => {
    let suspend = '';
    const carried: string[] = [];
    const superseded: string[] = [];
    const { kz, kg, rotated, from } = await compromised(async (kz) => {
      const notice = await api(kz, 'POST', `${AGREEMENT}/suspend`, { reason: 'Review' });
      expect(notice.status, notice.text).toBe(202);
      suspend = notice.json.noticeMessage as string;
    });
    for (const id of [suspend, rotated.announcements.KG!]) {
      const { first, last } = await carriedOn(kz, id);
      expect(first.status, id).toBe('resealed');
      expect(`${last.status}:${last.receipt?.code ?? ''}`, id).toBe('delivered:');
      expect(kidOf(last)).toBe(rotated.current);
      carried.push(last.id as string);
      superseded.push(first.id as string);
    }
    expect((await api(kg, 'GET', AGREEMENT)).json.status).toBe('suspended');
    expect(kg.node.parts.trust.resolveKey(rotated.current)?.country).toBe('KZ');
    await waitFor(() => (kg.node.parts.trust.resolveKey(rotated.previous)?.revokedAt === Date.parse(from) ? true : undefined), 20_000, 'the revocation at KG');
    const refused = kz.node.parts.store.db.prepare(`SELECT id, kind, status, error_code FROM messages WHERE direction = 'out' AND status NOT IN ('delivered', 'resealed')`).all();
    expect(refused).toEqual([]);
    noneSignedAfter(kg, rotated.previous, from);
    await verifiedExport(kg, 'KZ');
    // KZ's own evidence: the envelopes that carried the notices on verify; each one they replaced stays stored and
    // logged, signed by a key its administration disowns from before it was sealed, and the verifier says so of it alone
    const { parts } = kz.node;
    const source = { dir: parts.dir, store: parts.store, identity: parts.identity, evidence: new EvidenceLog(parts.store.db, parts.identity.country, parts.signer, parts.clock), clock: parts.clock };
    const ok = await verifyBundle(exportEvidence(source, { messageIds: carried }));
    expect(ok.failures).toEqual([]);
    const all = await verifyBundle(exportEvidence(source, { partner: 'KG' }));
    expect(all.failures.map((f) => `${f.code} ${f.subject}`).sort()).toEqual(
      kz.node.parts.store.db.prepare(`SELECT id FROM messages WHERE direction = 'out' AND status = 'resealed'`).pluck().all().map((id) => `GNC_KEY_REVOKED envelope ${id as string}`).sort(),
    );
    expect(superseded.every((id) => all.failures.some((f) => f.subject === `envelope ${id}`))).toBe(true);
  }, 90_000);

  it('end a business message unsent, saying to submit it again', async () => {
    let aci = '';
    const { kz, kg, rotated, from } = await compromised(async (kz) => {
      const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
      expect(r.status, r.text).toBe(202);
      aci = r.json.id as string;
    });
    const m = await finalMessage(kz, aci, 20_000);
    expect(`${m.status}:${m.error?.code}`).toBe('expired:GNC_KEY_REVOKED');
    expect(m.error.reason).toContain(rotated.previous);
    expect(m.error.reason).toContain('submit it again');
    await waitFor(() => (kg.node.parts.trust.resolveKey(rotated.previous)?.revokedAt === Date.parse(from) ? true : undefined), 20_000, 'the revocation at KG');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', aci)).toBeUndefined();
    noneSignedAfter(kg, rotated.previous, from);
    // submitted again, it is sealed by the key that signs now and delivered
    const again = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    const d = await finalMessage(kz, again.json.id as string, 20_000);
    expect(`${d.status}:${kidOf(d)}`).toBe(`delivered:${rotated.current}`);
    await verifiedExport(kg, 'KZ');
  }, 90_000);
});
