/**
 * A partner's older connection that answers the probe when a newer one opens (so the requests in flight on it stay
 * there), then dies before they are answered. Before, its stream's requests failed (GNC_PARTNER_UNREACHABLE) into the
 * dispatcher's retry backoff, although the newer connection was alive; now they move to a stream on that one, under
 * the same ids, and the partner answers the copy it holds with its stored receipt. Real nodes; the older connection
 * goes through a TCP relay that is cut.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { RETIRED_PROBE_MS } from '../../../node/transport/session.js';
import { api, holdReceipts, networkForFile, waitFor, type TestNode } from '../../helpers/network.js';
import { certified, connections, exchangeStreamOn, portOf, submitAci } from '../../helpers/connections.js';
import { relay } from '../../helpers/relay.js';

const kzLog: string[] = [];
// a failed attempt waits at least 15 s (half of initialMs, equal jitter): far longer than the delivery waited for below
const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], {
  nodeOptions: (c) => (c === 'KZ' ? { log: (m: string) => void kzLog.push(m), retry: { initialMs: 30_000, maxMs: 60_000 } } : {}),
});
afterEach(() => void (kzLog.length = 0));

/** The failed attempts of `n`'s queued message `id` (none once it is delivered and out of the queue). */
const failedAttempts = (n: TestNode, id: string): number =>
  (n.node.parts.store.db.prepare(`SELECT o.attempts FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.direction = 'out' AND m.id = ?`).pluck().get(id) as number | undefined) ?? 0;

describe('a retired connection that answered the probe and dies later, a request in flight on it', () => {
  it('has the request moved to the newer connection at once, not failed into the retry backoff', async () => {
    await waitFor(() => connections(kz, kg).length > 0 || undefined, 5000, 'KG\'s greeting at KZ');
    for (const c of connections(kz, kg)) c.abort(new Error('test: start without connections'));
    await waitFor(() => (connections(kz, kg).length === 0 && connections(kg, kz).length === 0) || undefined, 5000, 'KZ and KG disconnected');
    const link = await relay(portOf(kg), '127.0.9.8');
    const held = holdReceipts(kg);
    try {
      // KZ's connection with KG, and so its session's stream, goes through the relay; KG stores the message and holds its receipt
      await kz.node.host!.dial(multiaddr(`/ip4/127.0.0.1/tcp/${link.port}/p2p/${certified(kg).peerId}`), { signal: AbortSignal.timeout(5000) });
      const id = await submitAci(kz, 'KG');
      await waitFor(() => held.arrived.length === 1 || undefined, 5000, 'the message at KG, its receipt held');
      const [older] = connections(kz, kg);
      expect(exchangeStreamOn(older!)).toBe(true);

      // KG dials too: a newer connection, and the older one answers the probe, so the request stays on it
      await kg.node.host!.dial(multiaddr(`${certified(kz).addrs[0]}/p2p/${certified(kz).peerId}`), { force: true, signal: AbortSignal.timeout(5000) });
      await waitFor(() => connections(kz, kg).length === 2 || undefined, 5000, 'the newer connection at KZ');
      await new Promise((r) => setTimeout(r, RETIRED_PROBE_MS + 500));
      expect(exchangeStreamOn(older!)).toBe(true);
      expect(kzLog.filter((l) => /moved the/.test(l))).toEqual([]);

      // then the older connection dies: KG's receipt on it is lost, and the connection closes at KZ
      link.freeze();
      held.release();
      link.destroy();
      await waitFor(() => older!.status !== 'open' || undefined, 5000, 'the older connection closed at KZ');

      // delivered on the newer connection, with no failed attempt before: a retry would wait 15-30 s
      const status = await waitFor(async () => {
        expect(failedAttempts(kz, id), 'a failed attempt, retried after the backoff').toBe(0);
        const s = (await api(kz, 'GET', `/v1/messages/${id}`)).json.status as string;
        return s === 'delivered' ? s : undefined;
      }, 10_000, 'the message delivered on the newer connection');
      expect(status).toBe('delivered');
      expect(exchangeStreamOn(connections(kz, kg).at(-1)!)).toBe(true);
      expect(kzLog.filter((l) => /moved the 1 message\(s\) in flight to KG to its newer connection: their stream closed after/.test(l))).toHaveLength(1);
      expect(kzLog.filter((l) => /delivery of .* failed/.test(l))).toEqual([]);
      // the copy sent again went under the same id: KG answered it from storage, it stored the message once
      expect(kg.node.parts.store.db.prepare(`SELECT count(*) FROM messages WHERE direction = 'in' AND id = ?`).pluck().get(id)).toBe(1);
    } finally {
      held.release();
      link.destroy();
    }
  }, 30_000);
});
