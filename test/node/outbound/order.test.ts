/**
 * Delivery order and fate around control envelopes, on two real nodes: messages queued after a key
 * announcement or a resume notice wait until it is final (sent ahead while the partner was away, they were
 * refused, finally, GNC_KEY_UNKNOWN or GNC_AGREEMENT_NONE), and a message that may already be at the partner
 * (its receipt was lost) is not reported "not sent" when its agreement is suspended: it learns its receipt. A key
 * revocation goes ahead of the business messages queued before it.
 */
import { describe, expect, it } from 'vitest';
import { revokeNodeKey, rotateNodeKeys } from '../../../node/keys/service.js';
import { api, loseFirstReceipt, networkPerTest, restartNode, waitFor, type TestNode } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };
const FINAL = ['delivered', 'rejected', 'expired'];

const network = networkPerTest();

async function submitMany(kz: TestNode, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await api(kz, 'POST', '/v1/messages', submission);
    expect(r.status, r.text).toBe(202);
    ids.push(r.json.id as string);
  }
  return ids;
}

/** `status:code` of each message once final at the sender. */
async function outcomes(kz: TestNode, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    const m = await waitFor(async () => {
      const v = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
      return FINAL.includes(v.status) ? v : undefined;
    }, 30_000, `final status of ${id}`);
    out.push(`${m.status}:${m.error?.code ?? ''}`);
  }
  return out;
}

/** KG's receiver order of envelope types as they arrive. */
function arrivals(kg: TestNode): string[] {
  const seen: string[] = [];
  const receiver = kg.node.receiver;
  const handle = receiver.handle.bind(receiver);
  receiver.handle = (bytes, peer) => {
    const jws = JSON.parse(new TextDecoder().decode(bytes)) as { payload: string };
    seen.push((JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as { type: string }).type);
    return handle(bytes, peer);
  };
  return seen;
}

describe('delivery order behind control envelopes', () => {
  it('delivers what the new key signed after its announcement, when the partner was away past the overlap', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await kg.node.stop();
    const rotated = await rotateNodeKeys(kz.dir, { overlapHours: 1 / 3600 });
    await waitFor(() => (kz.node.parts.signer().kid === rotated.current ? true : undefined), 15_000, 'switch to the new key at the end of the overlap');
    const ids = await submitMany(kz, 10);
    await restartNode(kg);
    const seen = arrivals(kg);
    expect(await outcomes(kz, ids)).toEqual(ids.map(() => 'delivered:'));
    expect(seen.indexOf('key')).toBeLessThan(seen.indexOf('aci'));
  }, 60_000);

  it('delivers messages submitted after a resume behind the resume notice, when the partner was away', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Review' });
    await waitFor(async () => ((await api(kg, 'GET', '/v1/agreements/KZ-KG-test')).json.status === 'suspended' ? true : undefined));
    await kg.node.stop();
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'Review done' })).status).toBe(202);
    const ids = await submitMany(kz, 6);
    await restartNode(kg);
    const seen = arrivals(kg);
    expect(await outcomes(kz, ids)).toEqual(ids.map(() => 'delivered:'));
    expect(seen.slice(0, 1)).toEqual(['agreement']);
    expect((await api(kg, 'GET', '/v1/agreements/KZ-KG-test')).json.status).toBe('active');
  }, 60_000);

  it('keeps a suspend and the resume after it in their order, when the partner was away', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await kg.node.stop();
    await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Review' });
    await api(kz, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'Review done' });
    const notices = (await api(kz, 'GET', '/v1/messages?type=agreement&direction=out')).json.items.map((m: { id: string }) => m.id).reverse() as string[];
    expect(notices).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 1_500)); // several backoffs with jitter while KG is away
    await restartNode(kg);
    expect(await outcomes(kz, notices)).toEqual(['delivered:', 'delivered:']);
    expect((await api(kg, 'GET', '/v1/agreements/KZ-KG-test')).json.status).toBe('active');
  }, 60_000);
});

describe('a key revocation queued behind a backlog', () => {
  it('reaches the partner before the business messages queued while the partner was away', async () => {
    // KZ retries after a minute: once KG is back every row is due at the same instant, and only the order decides
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { retry: { initialMs: 60_000, maxMs: 60_000 } } : {}) });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const rotated = await rotateNodeKeys(kz.dir, { overlapHours: 1 / 3600 });
    await waitFor(() => (kz.node.parts.signer().kid === rotated.current && kz.node.parts.store.outbox.count() === 0 ? true : undefined), 15_000, 'the rotation to complete');
    await kg.node.stop();
    // more than a partner takes in flight at once (64)
    const backlog = await submitMany(kz, 80);
    // KG found unreachable: what is queued waits for its next attempt, one message at a time (the first of the backlog)
    const waiting = (id: string): boolean => ['queued', 'retrying'].includes(kz.node.parts.store.messages.byKey('out', 'KG', id)?.status ?? '');
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') && kz.node.dispatcher.inFlight('KG') === 0 && backlog.every(waiting) ? true : undefined), 15_000, 'the backlog to wait');
    const revoked = await revokeNodeKey(kz.dir, rotated.previous, 'Key compromised');
    const notice = kz.node.parts.store.messages.firstOutControl('KG', 'key', 'revoke', (b) => b['notice'] === revoked.notice)!;
    await waitFor(() => (kz.node.dispatcher.inFlight('KG') === 0 && waiting(notice.id) ? true : undefined), 15_000, 'the revocation to wait');
    await restartNode(kg);
    expect(await outcomes(kz, [notice.id, ...backlog])).toEqual([notice.id, ...backlog].map(() => 'delivered:'));
    // KG stores each envelope as it accepts it, and receipts it in that commit: the revocation came first
    const received = kg.node.parts.store.db.prepare(`SELECT id FROM messages WHERE direction = 'in' AND partner = 'KZ' ORDER BY seq`).pluck().all() as string[];
    const order = received.filter((id) => id === notice.id || backlog.includes(id));
    expect(order).toHaveLength(backlog.length + 1);
    expect(order[0]).toBe(notice.id);
  }, 90_000);
});

describe('a message whose receipt was lost, then its agreement suspended', () => {
  it('gets the receipt the partner stored instead of being reported as not sent', async () => {
    const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ retry: { initialMs: 3_000, maxMs: 3_000 } }) });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    // KG commits the message and its receipt, then the connection drops before the receipt leaves (once)
    loseFirstReceipt(kg);
    const [id] = await submitMany(kz, 1);
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${id}`)).json.status === 'retrying' ? true : undefined), 10_000, 'retrying');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', id!)?.status).toBe('accepted');
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Incident' })).status).toBe(202);
    expect(await outcomes(kz, [id!])).toEqual(['delivered:']);
    const m = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
    const stored = kg.node.parts.store.messages.receipt(kg.node.parts.store.messages.byKey('in', 'KZ', id!)!.seq)!;
    expect(m.receipt.id).toBe(stored.receipt_id);
  }, 60_000);
});
