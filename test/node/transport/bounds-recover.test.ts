/**
 * The transport's bounds come back after whatever ended what they count, so that they never slowly shut an honest
 * partner out: a handshake slot of a remote address (MAX_HANDSHAKES_PER_ADDRESS) after a stranger's connection that
 * sent garbage instead of Noise, closed before any byte, or was reset; the in-flight count of a partner
 * (MAX_IN_FLIGHT_PER_PARTNER, over all of its streams) after streams reset while their requests were processed. A real
 * KG node; KZ played by raw libp2p hosts holding KZ's real key, and the stranger by plain TCP sockets.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { EXCHANGE_PROTOCOL, MAX_IN_FLIGHT_PER_PARTNER } from '../../../protocol/constants.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { encodeFrame, FrameDecoder, FRAME_ERROR, FRAME_REQUEST, type Frame } from '../../../protocol/wire.js';
import { MAX_HANDSHAKES_PER_ADDRESS } from '../../../node/transport/libp2p.js';
import { makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { rawPeer } from '../../helpers/raw-peer.js';

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kgAddr: Multiaddr;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  await kz.node.stop(); // its key now belongs to the raw hosts below
  const cert = decodeNodeCertificate(net.nodes.KG!.node.parts.identity.certificate);
  kgAddr = multiaddr(`${cert.addrs[0]}/p2p/${cert.peerId}`);
}, 30_000);
afterAll(async () => net?.close());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One TCP connection from `from` to KG that sends garbage, closes at once or is reset; resolves once it has closed. */
function stranger(from: string, how: 'garbage' | 'close' | 'reset'): Promise<void> {
  const [, host, port] = /^\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(kgAddr.toString())!;
  return new Promise((resolve) => {
    const s = connect({ host: host!, port: Number(port), localAddress: from });
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    s.on('connect', () => {
      if (how === 'garbage') s.write(Buffer.alloc(2000, 0x41));
      else if (how === 'close') s.end();
      else s.resetAndDestroy();
      setTimeout(() => s.destroy(), 200);
    });
  });
}

describe('a remote address whose handshakes failed', () => {
  for (const [i, how] of (['garbage', 'close', 'reset'] as const).entries()) {
    it(`gets its handshake slots back (${how}): a partner at that address still connects`, async () => {
      const from = `127.0.7.${i + 2}`;
      for (let n = 0; n < 2 * MAX_HANDSHAKES_PER_ADDRESS + 1; n++) {
        await stranger(from, how);
        await sleep(220); // under libp2p's limit of 5 new connections a second per address
      }
      const raw = await rawPeer(kz, '/ip4/127.0.0.1/tcp/0', from);
      try {
        const c = await raw.dial(kgAddr, { signal: AbortSignal.timeout(5000) });
        expect(c.status).toBe('open');
      } finally {
        await raw.stop();
      }
    }, 20_000);
  }
});

describe('a partner whose streams are reset while KG processes their requests', () => {
  it('has none of them counted in flight afterwards: its next MAX_IN_FLIGHT_PER_PARTNER requests are all processed', async () => {
    const raw = await rawPeer(kz, '/ip4/127.0.0.1/tcp/0');
    let requestId = 0;
    const batch = (): Uint8Array => Buffer.concat(Array.from({ length: MAX_IN_FLIGHT_PER_PARTNER }, () => encodeFrame({ kind: FRAME_REQUEST, requestId: ++requestId, payload: Buffer.from('{"a":1}') })));
    try {
      for (let round = 0; round < 5; round++) {
        const streams = await Promise.all([0, 1, 2].map(() => raw.dialProtocol(kgAddr, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000) })));
        for (const s of streams) s.send(batch());
        await sleep(round * 3); // reset before, while and after KG reads them
        for (const s of streams) s.abort(new Error('reset by the test'));
      }
      await sleep(500);
      const s = await raw.dialProtocol(kgAddr, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000) });
      const answers: Frame[] = [];
      const decoder = new FrameDecoder();
      s.addEventListener('message', (e) => answers.push(...decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())));
      s.send(batch());
      await waitFor(() => answers.length >= MAX_IN_FLIGHT_PER_PARTNER || undefined, 10_000, 'an answer to every request');
      const refused = answers.filter((f) => f.kind === FRAME_ERROR && JSON.parse(Buffer.from(f.payload).toString('utf8')).code === 'GNC_TOO_MANY_IN_FLIGHT');
      expect(refused).toEqual([]);
      s.abort(new Error('done'));
    } finally {
      await raw.stop();
    }
  }, 30_000);
});
