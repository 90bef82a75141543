/**
 * A session closed on purpose (a trust change, as GncNode's trust.onChange closes one) fails the requests in flight on it
 * for a retry on a new session, and says nothing of whether the partner can be reached: before, its closing marked the
 * partner unreachable (GET /v1/health, two log lines, a commit) and held its queue behind the gate. And a session closed
 * while the requests of its retired stream, whose connection answered the probe and
 * died later, wait for the stream they move to (moveOff) to be negotiated: that negotiation ends, nothing goes on a
 * stream of the closed session, and the message is failed once, retried on a new session and delivered once. Real
 * nodes; the older connection goes through a TCP relay that is cut, the newer one through a relay that holds the bytes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import { RETIRED_PROBE_MS } from '../../../node/transport/session.js';
import { holdReceipts, networkForFile, waitFor } from '../../helpers/network.js';
import { certified, connections, delivered, disconnect, exchangeStreamOn, portOf, submitAci } from '../../helpers/connections.js';
import { relay } from '../../helpers/relay.js';

const kzLog: string[] = [];
const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { log: (m: string) => void kzLog.push(m) } : {}) });
afterEach(() => void (kzLog.length = 0));

describe('a session closed (a trust change) with a request in flight on its stream', () => {
  it('does not mark the partner unreachable: the request goes again on a new session, and KG stores it once', async () => {
    const held = holdReceipts(kg);
    try {
      const id = await submitAci(kz, 'KG');
      await waitFor(() => held.arrived.length === 1 || undefined, 5000, 'the message at KG, its receipt held');
      const session = kz.node.sessions.get('KG')!;
      session.close();
      kz.node.sessions.delete('KG');
      held.release();
      await delivered(kz, id, 10_000, 'the message, on a new session');
      expect(kz.node.dispatcher.unreachableSince().has('KG')).toBe(false);
      expect(kzLog.filter((l) => /unreachable/.test(l))).toEqual([]);
      expect(kg.node.parts.store.db.prepare(`SELECT count(*) FROM messages WHERE direction = 'in' AND id = ?`).pluck().get(id)).toBe(1);
    } finally {
      held.release();
    }
  }, 30_000);
});

describe('a session closed while its retired stream\'s requests wait for the stream they move to', () => {
  it('ends that negotiation: nothing moves, the message is retried on a new session and stored once at KG', async () => {
    await disconnect(kz, kg);
    const older = await relay(portOf(kg), '127.0.9.30');
    const newer = await relay(portOf(kz), '127.0.9.31');
    const held = holdReceipts(kg);
    let release: (() => void) | undefined;
    try {
      await kz.node.host!.dial(multiaddr(`/ip4/127.0.0.1/tcp/${older.port}/p2p/${certified(kg).peerId}`), { signal: AbortSignal.timeout(5000) });
      const id = await submitAci(kz, 'KG');
      await waitFor(() => held.arrived.length === 1 || undefined, 5000, 'the message at KG, its receipt held');
      const session = kz.node.sessions.get('KG')!;
      // KG dials in over the second relay: the newer connection, no stream on it yet; the older one answers the probe
      await kg.node.host!.dial(multiaddr(`/ip4/127.0.0.1/tcp/${newer.port}/p2p/${certified(kz).peerId}`), { force: true, signal: AbortSignal.timeout(5000) });
      await waitFor(() => connections(kz, kg).length === 2 || undefined, 5000, 'the newer connection at KZ');
      await new Promise((r) => setTimeout(r, RETIRED_PROBE_MS + 500));
      const [c1, c2] = connections(kz, kg);
      expect(exchangeStreamOn(c1!)).toBe(true);
      expect(exchangeStreamOn(c2!)).toBe(false);

      // the newer link holds its bytes, then the older connection dies with the request in flight on it: its stream's
      // request waits for the stream negotiated on the newer connection
      release = newer.hold();
      older.freeze();
      held.release();
      older.destroy();
      const outbound = (): Stream[] => c2!.streams.filter((s) => s.direction === 'outbound' && s.protocol !== '/ipfs/ping/1.0.0');
      const [negotiating] = await waitFor(() => (outbound().length > 0 ? outbound() : undefined), 5000, 'the move\'s negotiation, held on the newer link');

      // the trust change: the session closes and goes, as GncNode's trust.onChange does
      session.close();
      kz.node.sessions.delete('KG');
      await waitFor(() => negotiating!.status !== 'open' || undefined, 2000, 'the closed session\'s negotiation aborted');
      expect(session.inFlight).toBe(0);

      release();
      await delivered(kz, id, 15_000, 'the message, on a new session');
      expect(kzLog.filter((l) => /moved the/.test(l))).toEqual([]);
      // a session closed on purpose says nothing of whether KG can be reached: not marked unreachable, not gated
      expect(kzLog.filter((l) => /unreachable/.test(l))).toEqual([]);
      // one exchange stream of KZ open with KG (the new session's), and KG stored the message once
      const open = connections(kz, kg).flatMap((c) => c.streams).filter((s) => s.direction === 'outbound' && s.protocol === EXCHANGE_PROTOCOL && s.status === 'open');
      expect(open).toHaveLength(1);
      expect(open[0]).not.toBe(negotiating);
      expect(kg.node.parts.store.db.prepare(`SELECT count(*) FROM messages WHERE direction = 'in' AND id = ?`).pluck().get(id)).toBe(1);
    } finally {
      release?.();
      held.release();
      older.destroy();
      newer.destroy();
    }
  }, 40_000);
});
