/**
 * A partner at MAX_CONNECTIONS_PER_PEER that opens one more connection gets it, and loses its oldest one instead. A
 * partner that rebooted behind a firewall that drops silently left its old connections open at the node (no FIN or
 * RST came through): before, each of its new connections was closed as it opened, until libp2p's ping noticed the dead
 * ones (10-20 s), and it could deliver nothing meanwhile. A real KG node; KZ played first by a raw libp2p host with KZ's
 * real key (taking KG's requests, signing its receipts with KZ's real node key), then by the real KZ node restarted.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { loadIdentity } from '../../../certs/identity.js';
import { EXCHANGE_PROTOCOL, MAX_CONNECTIONS_PER_PEER } from '../../../protocol/constants.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { FrameDecoder, FRAME_REQUEST } from '../../../protocol/wire.js';
import { api, makeNetwork, restartNode, waitFor, type TestNode } from '../../helpers/network.js';
import { rawPeer, receiptFrame } from '../../helpers/raw-peer.js';
import { relay } from '../../helpers/relay.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
let kgAddr: Multiaddr;
const kgLog: string[] = [];
const peerIdOf = (n: TestNode): string => decodeNodeCertificate(n.node.parts.identity.certificate).peerId;
/** KG's open connections to KZ's peer id. */
const kgConnectionsToKz = () => kg.node.host!.getConnections().filter((c) => c.remotePeer.toString() === peerIdOf(kz) && c.status === 'open');
const replaced = (): string[] => kgLog.filter((l) => l.includes('closed the oldest connection of KZ'));

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KG' ? { log: (m: string) => void kgLog.push(m) } : {}) });
  [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
  await kz.node.stop(); // its key belongs to the raw hosts below, until the test that restarts it
  kgAddr = multiaddr(`${decodeNodeCertificate(kg.node.parts.identity.certificate).addrs[0]}/p2p/${peerIdOf(kg)}`);
}, 30_000);
afterAll(async () => net?.close());

async function submit(from: TestNode, to: string): Promise<string> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  return r.json.id as string;
}
const statusOf = async (n: TestNode, id: string): Promise<string> => (await api(n, 'GET', `/v1/messages/${id}`)).json.status as string;

describe('a partner whose connection carries requests in flight when it is replaced', () => {
  it('gets them again on its remaining connections: delivered, not lost, well before the receipt timeout', async () => {
    const signer = loadIdentity(kz.dir).node.signer;
    let held: Stream | undefined;
    // KZ at its certified address (where KG dials it), its own dials leaving from 127.0.8.3
    const raw = await rawPeer(kz, undefined, '127.0.8.3');
    await raw.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
      const decoder = new FrameDecoder();
      stream.addEventListener('message', (evt) => {
        for (const frame of decoder.push(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray())) {
          if (frame.kind !== FRAME_REQUEST) continue;
          // the first request stays unanswered: in flight on KG's stream when that stream's connection goes
          if (held === undefined) held = stream;
          else stream.send(receiptFrame(signer, 'KZ', 'KG', frame, { status: 'accepted' }));
        }
      });
    }, { maxInboundStreams: 64 });
    try {
      const id = await submit(kg, 'KZ');
      await waitFor(() => held, 5000, 'the request at KZ');
      const [first] = kgConnectionsToKz(); // KG's own dial: the oldest of KZ's connections
      expect(kgConnectionsToKz()).toHaveLength(1);
      // KZ opens MAX_CONNECTIONS_PER_PEER more: the last of them replaces the oldest, which carries the request
      for (let n = 0; n < MAX_CONNECTIONS_PER_PEER; n++) {
        await raw.dial(kgAddr, { force: true, signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      }
      // the receipt timeout is 30 s: this is the request failed with its stream and sent again on another connection
      await waitFor(async () => (await statusOf(kg, id)) === 'delivered' || undefined, 5000, 'the message delivered');
      const now = kgConnectionsToKz();
      expect(now.map((c) => c.id)).not.toContain(first!.id);
      expect(now.length).toBe(MAX_CONNECTIONS_PER_PEER);
      expect(replaced()).toHaveLength(1);
    } finally {
      await raw.stop();
    }
    await waitFor(() => kgConnectionsToKz().length === 0 || undefined, 5000, 'KZ\'s connections gone at KG');
  }, 20_000);
});

describe('a partner that rebooted behind a firewall that drops silently', () => {
  it('delivers at once over its new connection, while its old connections are still open at KG', async () => {
    const firewall = await relay(Number(kgAddr.getComponents()[1]!.value), '127.0.8.2');
    const old = await rawPeer(kz, '/ip4/127.0.0.1/tcp/0');
    try {
      const through = multiaddr(`/ip4/127.0.0.1/tcp/${firewall.port}/p2p/${peerIdOf(kg)}`);
      for (let n = 0; n < MAX_CONNECTIONS_PER_PEER; n++) await old.dial(through, { force: true, signal: AbortSignal.timeout(5000) });
      await waitFor(() => kgConnectionsToKz().length === MAX_CONNECTIONS_PER_PEER || undefined, 5000, 'KZ at its connection limit');
      const before = replaced().length;
      // KZ goes away for good: nothing of it reaches KG any more, not even a close
      firewall.freeze();
      await restartNode(kz);
      const id = await submit(kz, 'KG');
      // libp2p pings each connection every 10 s and closes one that does not answer: well before that
      await waitFor(async () => (await statusOf(kz, id)) === 'delivered' || undefined, 3000, 'delivery from the restarted KZ');
      expect(kgConnectionsToKz().length).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_PEER);
      expect(replaced().length).toBeGreaterThan(before);
    } finally {
      firewall.destroy();
      await old.stop();
    }
  }, 20_000);
});
