/**
 * A partner's session while it negotiates its exchange stream (PartnerSession.dial, negotiate): a session closed
 * meanwhile leaves no stream behind, and a connection of the partner that opens meanwhile is taken at once. Real KZ
 * nodes; KG a real node, or a raw libp2p host with KG's key (to answer as a test wants); a slow link is a TCP relay that
 * holds the bytes, an address that drops silently a TCP server that takes connections and answers nothing.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import type { Libp2p } from 'libp2p';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import { FRAME_REQUEST } from '../../../protocol/wire.js';
import { loadIdentity } from '../../../certs/identity.js';
import { networkPerTest, waitFor, type TestNode } from '../../helpers/network.js';
import { certified, delivered, disconnect, portOf, submitAci } from '../../helpers/connections.js';
import { onFrames, rawPeer, receiptFrame } from '../../helpers/raw-peer.js';
import { relay } from '../../helpers/relay.js';
import { NEGOTIATION_GRACE_MS } from '../../../node/transport/session.js';

const network = networkPerTest();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * `count` raw hosts with KG's key (KG's node stopped) that answer every request with KG's signed receipt, and the exchange
 * streams they were opened (several: libp2p makes one host's dials to a peer wait for each other).
 */
async function answeringKg(kg: TestNode, count = 1): Promise<{ hosts: Libp2p[]; streams: Stream[] }> {
  await kg.node.stop();
  const signer = loadIdentity(kg.dir).node.signer;
  const streams: Stream[] = [];
  const hosts: Libp2p[] = [];
  for (let i = 0; i < count; i++) {
    const raw = await rawPeer(kg, '/ip4/127.0.0.1/tcp/0');
    cleanups.push(() => raw.stop());
    await raw.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
      streams.push(stream);
      onFrames(stream, (frame) => {
        if (frame.kind === FRAME_REQUEST) stream.send(receiptFrame(signer, 'KG', 'KZ', frame, { status: 'accepted' }));
      });
    }, { maxInboundStreams: 64 });
    await raw.start();
    hosts.push(raw);
  }
  return { hosts, streams };
}

/** A TCP server on 127.0.0.1:`port` that takes connections and answers nothing: an address that drops silently. */
async function blackHole(port: number): Promise<{ sockets: Set<Socket>; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { sockets, server };
}

describe('a session closed while its stream is being negotiated', () => {
  it('ends the negotiation: no stream of the closed session stays open, nothing goes on it, the message goes on a new one', async () => {
    const { nodes } = await network(['KZ', 'KG']);
    const [kz, kg] = [nodes.KZ!, nodes.KG!];
    await disconnect(kz, kg);
    const link = await relay(portOf(kg), '127.0.9.7');
    cleanups.push(() => link.destroy());
    // KZ's only connection with KG goes over the slow link
    const conn = await kz.node.host!.dial(multiaddr(`/ip4/127.0.0.1/tcp/${link.port}/p2p/${certified(kg).peerId}`), { signal: AbortSignal.timeout(5000) });
    const release = link.hold();
    cleanups.push(release);
    const id = await submitAci(kz, 'KG');
    const outbound = (): Stream[] => conn.streams.filter((s) => s.direction === 'outbound');
    const [negotiating] = await waitFor(() => (outbound().length > 0 ? outbound() : undefined), 5000, 'the session\'s stream negotiation, held on the link');
    expect(negotiating!.status).toBe('open');

    // what GncNode does when the partner's trust changes under a session (trust.onChange): closed, a new one takes over
    kz.node.sessions.get('KG')!.close();
    kz.node.sessions.delete('KG');
    // aborted while KG's answer is still held: before any request could be written on it
    await waitFor(() => negotiating!.status !== 'open' || undefined, 2000, 'the closed session\'s negotiation aborted');

    release();
    await delivered(kz, id, 10_000, 'the message, on the new session\'s stream');
    // the one exchange stream left open on the connection is the new session's
    const open = outbound().filter((s) => s.status === 'open' && s.protocol === EXCHANGE_PROTOCOL);
    expect(open).toHaveLength(1);
    expect(open[0]).not.toBe(negotiating);
    expect(negotiating!.status).not.toBe('open');
  }, 30_000);
});

describe('a partner that dials in while the session\'s dial waits on its address, which drops silently', () => {
  it('gets the message on its connection at once: on the attempt that was dialing, before the dial timed out', async () => {
    const kzLog: string[] = [];
    const { nodes } = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { log: (m: string) => void kzLog.push(m) } : {}) });
    const [kz, kg] = [nodes.KZ!, nodes.KG!];
    await disconnect(kz, kg);
    // KG itself, elsewhere, answers every request with its signed receipt
    const { hosts: [raw] } = await answeringKg(kg);
    // KG's certified address takes KZ's dial and answers nothing (libp2p gives it 6 s, the session's dial 10 s)
    const hole = await blackHole(portOf(kg));
    cleanups.push(() => {
      for (const s of hole.sockets) s.destroy();
      hole.server.close();
    });

    const id = await submitAci(kz, 'KG');
    await waitFor(() => hole.sockets.size > 0 || undefined, 5000, 'KZ\'s dial at KG\'s certified address');
    await raw!.dial(multiaddr(`${certified(kz).addrs[0]}/p2p/${certified(kz).peerId}`), { signal: AbortSignal.timeout(5000) });
    await delivered(kz, id, 15_000, 'the message, on KG\'s connection');
    // no attempt failed before it: the one waiting for the dial took KG's connection, instead of failing at the dial's
    // timeout and leaving the message to the next attempt
    expect(kzLog.filter((l) => /unreachable/.test(l))).toEqual([]);
  }, 30_000);
});

describe('a partner that opens connections faster than a stream negotiation with it takes', () => {
  it('has the negotiation begin again at most once per NEGOTIATION_GRACE_MS, not on each: the message goes through', async () => {
    const { nodes } = await network(['KZ', 'KG']);
    const [kz, kg] = [nodes.KZ!, nodes.KG!];
    await disconnect(kz, kg);
    const { hosts, streams } = await answeringKg(kg, 5);
    // long links to KZ (a round trip of 200 ms, so a negotiation takes that much), from five addresses: KZ admits
    // connections from one address at 5 a second at most
    const links = await Promise.all([0, 1, 2, 3, 4].map((i) => relay(portOf(kz), `127.0.9.${20 + i}`, 100)));
    cleanups.push(() => links.forEach((l) => l.destroy()));
    let opened = 0;
    kz.node.host!.addEventListener('connection:open', (evt) => void (evt.detail.remotePeer.toString() === certified(kg).peerId && opened++));
    // KG opens a connection every 150 ms (each of its hosts one every 750 ms, a connection taking 2 round trips): each one
    // newer than the one the negotiation is on, before its answer comes
    const STORM = 20;
    const dials: Promise<unknown>[] = [];
    const storm = (async () => {
      for (let k = 0; k < STORM; k++) {
        const to = multiaddr(`/ip4/127.0.0.1/tcp/${links[k % links.length]!.port}/p2p/${certified(kz).peerId}`);
        dials.push(hosts[k % hosts.length]!.dial(to, { force: true, signal: AbortSignal.timeout(10_000) }).catch(() => undefined));
        await new Promise((r) => setTimeout(r, 150));
      }
      await Promise.all(dials);
    })();
    await waitFor(() => opened >= 2 || undefined, 5000, 'the storm under way');
    const began = Date.now();
    const id = await submitAci(kz, 'KG');
    await delivered(kz, id, 20_000, 'the message');
    const [negotiated, openedBefore, took] = [streams.length, opened, Date.now() - began];
    await storm;
    // each negotiation KZ began reached KG (its answer is what KZ waited for): before, one per connection that opened
    // meanwhile, and the message went only once the storm was over
    expect(negotiated).toBeLessThanOrEqual(Math.ceil(took / NEGOTIATION_GRACE_MS) + 1);
    expect(openedBefore).toBeLessThan(opened);
    expect(opened).toBeGreaterThan(STORM / 2);
  }, 40_000);
});
