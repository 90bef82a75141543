/**
 * A partner's session sends its new requests on the newest connection with that partner. A partner (KG) that restarted
 * behind a firewall that drops silently left its old connection open at KZ, dead, with KZ's exchange stream on it:
 * before, KZ's next messages were written into that stream and waited for libp2p's ping (10-20 s) or the receipt
 * timeout (30 s), although KG had greeted KZ on a fresh connection. Real nodes; the firewall is a TCP relay that
 * freezes. And when both connections are alive (two nodes dialing each other at once), the switch fails nothing and
 * sends nothing twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { RETIRED_PROBE_MS } from '../../../node/transport/session.js';
import { holdReceipts, networkForFile, restartNode, waitFor, type TestNode } from '../../helpers/network.js';
import { certified, connections, delivered, disconnect, exchangeStreamOn, portOf, submitAci } from '../../helpers/connections.js';
import { relay } from '../../helpers/relay.js';

const kzLog: string[] = [];
const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { log: (m: string) => void kzLog.push(m) } : {}) });

afterEach(() => void (kzLog.length = 0));

describe('a partner that restarted behind a firewall that drops silently, its old connection still open here', () => {
  it('gets the next message on its new connection at once, and the one in flight on the dead one soon after', async () => {
    await disconnect(kz, kg);
    const kgPort = portOf(kg);
    const firewall = await relay(kgPort, '127.0.9.2');
    try {
      // KZ's connection with KG, and so its session's stream, goes through the firewall
      await kz.node.host!.dial(multiaddr(`/ip4/127.0.0.1/tcp/${firewall.port}/p2p/${certified(kg).peerId}`), { signal: AbortSignal.timeout(5000) });
      await delivered(kz, await submitAci(kz, 'KG'), 5000, 'the first message, through the firewall');
      const [old] = connections(kz, kg);
      expect(connections(kz, kg)).toHaveLength(1);
      expect(exchangeStreamOn(old!)).toBe(true);

      // KG's host goes away: nothing of it reaches KZ any more, not even a close. A message then goes into the dead stream
      firewall.freeze();
      await kg.node.stop();
      const inFlight = await submitAci(kz, 'KG');
      await waitFor(() => kz.node.dispatcher.inFlight('KG') > 0 || undefined, 2000, 'the message on the dead stream');
      // KG is back and greets KZ: a second connection, while the first one still looks open at KZ
      await restartNode(kg);
      await waitFor(() => connections(kz, kg).length === 2 || undefined, 5000, 'KG\'s new connection at KZ');
      expect(old!.status).toBe('open');

      const next = await submitAci(kz, 'KG');
      // libp2p's ping would close the dead connection after 10-20 s, the receipt timeout is 30 s: well before those
      await delivered(kz, next, 3000, 'the next message, on KG\'s new connection');
      await delivered(kz, inFlight, RETIRED_PROBE_MS + 3000, 'the message that was in flight on the dead connection');
      expect(exchangeStreamOn(connections(kz, kg).at(-1)!)).toBe(true);
      expect(kzLog.filter((l) => /moved the \d+ message\(s\) in flight to KG/.test(l))).toHaveLength(1);
    } finally {
      firewall.destroy();
    }
  }, 30_000);
});

describe('two live connections with a partner (both nodes dialed at once)', () => {
  it('switches to the newer one without failing or sending twice what is in flight on the older one', async () => {
    await disconnect(kz, kg);
    await kz.node.host!.dial(multiaddr(`${certified(kg).addrs[0]}/p2p/${certified(kg).peerId}`), { signal: AbortSignal.timeout(5000) });
    const held = holdReceipts(kg);
    try {
      const first = [await submitAci(kz, 'KG'), await submitAci(kz, 'KG')];
      await waitFor(() => held.arrived.length === 2 || undefined, 5000, 'the first two at KG, their receipts held');
      const [older] = connections(kz, kg);
      expect(exchangeStreamOn(older!)).toBe(true);

      // KG dials too: a second connection, alive like the first
      await kg.node.host!.dial(multiaddr(`${certified(kz).addrs[0]}/p2p/${certified(kz).peerId}`), { force: true, signal: AbortSignal.timeout(5000) });
      await waitFor(() => connections(kz, kg).length === 2 || undefined, 5000, 'the second connection at KZ');
      const newer = connections(kz, kg)[1]!;
      const next = [await submitAci(kz, 'KG'), await submitAci(kz, 'KG')];
      await waitFor(() => held.arrived.length === 4 || undefined, 5000, 'the next two at KG');
      expect(exchangeStreamOn(newer)).toBe(true);
      // past the older connection's probe: it answered, so what is in flight on it stays there
      await new Promise((r) => setTimeout(r, RETIRED_PROBE_MS + 500));
      expect(exchangeStreamOn(older!)).toBe(true);
      held.release();
      for (const id of [...first, ...next]) await delivered(kz, id, 5000, `message ${id} delivered`);
      // each arrived once, and the older stream closed with its last answer
      expect([...held.arrived].sort()).toEqual([...first, ...next].sort());
      await waitFor(() => !exchangeStreamOn(older!) || undefined, 3000, 'the older stream closed');
      expect(older!.status).toBe('open');
      expect(kzLog.filter((l) => /unreachable|moved the|closed/.test(l))).toEqual([]);
    } finally {
      held.release();
    }
  }, 30_000);
});
