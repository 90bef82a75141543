/**
 * Races around the switch of a partner's session to its newest connection (PartnerSession.connectionOpened, retire).
 * Real KZ nodes; KG is either a real node or a raw libp2p host with KG's key (to answer as a test wants), and the
 * firewall that drops silently is a TCP relay that freezes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import { encodeFrame, errorFrame, FRAME_REQUEST } from '../../../protocol/wire.js';
import { RETIRED_PROBE_MS } from '../../../node/transport/session.js';
import { api, networkPerTest, restartNode, waitFor, type TestNode } from '../../helpers/network.js';
import { certified, connections, disconnect, portOf, submitAci } from '../../helpers/connections.js';
import { onFrames, rawPeer } from '../../helpers/raw-peer.js';
import { relay } from '../../helpers/relay.js';

const network = networkPerTest();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const statusOf = async (n: TestNode, id: string): Promise<string> => (await api(n, 'GET', `/v1/messages/${id}`)).json.status as string;

describe('a message moved to the newer connection, which the partner answers with an error frame', () => {
  it('still counts as handed over (the partner may hold it from the dead connection): it cannot be withdrawn', async () => {
    const { nodes } = await network(['KZ', 'KG']);
    const [kz, kg] = [nodes.KZ!, nodes.KG!];
    await disconnect(kz, kg);
    await kg.node.stop(); // its key goes to the raw host below, at its certified address
    const raw = await rawPeer(kg, undefined, '127.0.9.5');
    cleanups.push(() => raw.stop());
    const requests: { stream: Stream; requestId: number }[] = [];
    await raw.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
      onFrames(stream, (frame) => {
        if (frame.kind !== FRAME_REQUEST) return;
        requests.push({ stream, requestId: frame.requestId });
        // the first copy is read (KG may store it) and its receipt lost with the connection; the copy sent again on the
        // newer connection is refused unprocessed, as a KG at its in-flight limit refuses it
        if (requests.length > 1) stream.send(encodeFrame(errorFrame(frame.requestId, 'GNC_TOO_MANY_IN_FLIGHT', 'test: not processed')));
      });
    }, { maxInboundStreams: 64 });
    await raw.start();
    const firewall = await relay(portOf(kg), '127.0.9.4');
    cleanups.push(() => firewall.destroy());
    await kz.node.host!.dial(multiaddr(`/ip4/127.0.0.1/tcp/${firewall.port}/p2p/${certified(kg).peerId}`), { signal: AbortSignal.timeout(5000) });

    const id = await submitAci(kz, 'KG');
    await waitFor(() => requests.length === 1 || undefined, 5000, 'the first copy at KG');
    // the connection dies silently, and KG opens a newer one: the dead one does not answer the probe, the message moves
    firewall.freeze();
    await raw.dial(multiaddr(`${certified(kz).addrs[0]}/p2p/${certified(kz).peerId}`), { force: true, signal: AbortSignal.timeout(5000) });
    await waitFor(() => requests.length === 2 || undefined, RETIRED_PROBE_MS + 3000, 'the copy sent again on the newer connection');
    expect(requests[1]!.requestId).toBe(requests[0]!.requestId);
    await waitFor(async () => (await statusOf(kz, id)) !== 'sending' || undefined, 3000, 'the attempt over');
    // KG gone: the retries fail at once, before anything reaches it again
    firewall.destroy();
    await raw.stop();

    const withdrawn = await waitFor(async () => {
      const r = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'test' });
      // an attempt (a failing dial) in progress just now: ask again
      return r.status === 409 && r.text.includes('being handed') ? undefined : r;
    }, 5000, 'an answer between two attempts');
    expect(withdrawn.status, withdrawn.json.status as string).toBe(409);
    expect(withdrawn.text).toContain('by an earlier attempt');
  }, 30_000);
});

describe('a partner\'s newer connection that opens while the session opens its stream on a dead one', () => {
  it('takes the stream at once, instead of after the dial timeout', async () => {
    const { nodes } = await network(['KZ', 'KG']);
    const [kz, kg] = [nodes.KZ!, nodes.KG!];
    await disconnect(kz, kg);
    const firewall = await relay(portOf(kg), '127.0.9.6');
    cleanups.push(() => firewall.destroy());
    // KZ's only connection with KG goes through the firewall, no stream on it yet
    await kz.node.host!.dial(multiaddr(`/ip4/127.0.0.1/tcp/${firewall.port}/p2p/${certified(kg).peerId}`), { signal: AbortSignal.timeout(5000) });
    firewall.freeze();
    await kg.node.stop();
    // the session's stream negotiation goes into the dead connection, and waits
    const id = await submitAci(kz, 'KG');
    await waitFor(() => kz.node.dispatcher.inFlight('KG') > 0 || undefined, 2000, 'the message waiting for its stream');
    await restartNode(kg);
    await waitFor(() => connections(kz, kg).length === 2 || undefined, 5000, 'KG\'s new connection at KZ');
    // the dial timeout is 10 s (DIAL_TIMEOUT_MS), and a backoff after it
    await waitFor(async () => (await statusOf(kz, id)) === 'delivered' || undefined, 3000, 'the message delivered on the new connection');
  }, 30_000);
});
