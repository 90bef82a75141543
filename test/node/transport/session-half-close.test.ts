/**
 * PartnerSession against a partner that closes its side of the stream (it will send no receipt any more) while
 * this node's requests still wait in the stream's write buffer: a raw libp2p host with KG's libp2p key on KG's
 * certified address reads nothing on its first exchange stream and closes its side once KZ has filled the
 * window. Before, KZ's own close waited for those bytes to leave, the requests waited with it, and every new one
 * was written to the half-closed stream and failed, until the drain limit (30 s) reset it; the drain limit is set
 * far beyond this test's bound here, so only the half-close can end the first stream in time.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import type { Stream } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { rawPeer } from '../../helpers/raw-peer.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** An ACI of 600 goods items, about 230 KB of JSON: two of them fill a stream's 256 KiB Yamux window. */
function largeAci(): Record<string, unknown> {
  const item = (aci['goodsItems'] as Record<string, unknown>[])[0]!;
  const goodsItems = Array.from({ length: 600 }, (_, i) => ({ ...item, sequence: i + 1 }));
  return { ...aci, goodsItems, goodsItemCount: 600, totalPackages: 600 * 300, totalGrossMass: { value: 600 * 15060, unit: 'KGM' } };
}

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let hostile: Libp2p;
/** Exchange streams KZ opened to the hostile KG, in order; none is read. */
const streams: Stream[] = [];

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], {
    nodeOptions: (c) => (c === 'KZ' ? { transport: { drainTimeoutMs: 120_000, receiptTimeoutMs: 120_000 } } : {}),
  });
  kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  await kg.node.stop();
  hostile = await rawPeer(kg);
  await hostile.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
    stream.pause(); // reads nothing: KZ's frames beyond the window stay in KZ's write buffer
    streams.push(stream);
  }, { maxInboundStreams: 1024 });
}, 30_000);
afterAll(async () => {
  await hostile?.stop();
  await net?.close();
});

describe('PartnerSession when the partner closes its side', () => {
  it('fails the requests in flight for a retry at once, and sends the next attempt on a new stream', async () => {
    const body = largeAci();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body });
      expect(r.status).toBe(202);
      ids.push(r.json.id as string);
    }
    const first = await waitFor(() => streams[0], 10_000, 'the first exchange stream');
    await waitFor(() => first.readBufferLength >= 200 * 1024 || undefined, 10_000, "KZ's frames filling the window");
    await first.close({ signal: AbortSignal.timeout(5000) }); // KG sends nothing more on it
    // the requests fail now, not when the drain limit resets the stream, and are tried again on a new stream
    const failed = await waitFor(async () => {
      const m = await api(kz, 'GET', `/v1/messages/${ids[0]}`);
      return m.json.error !== null ? m.json : undefined;
    }, 10_000, 'the first attempt to fail');
    expect(failed.error.code).toBe('GNC_PARTNER_UNREACHABLE');
    expect(failed.error.reason).toContain('closed its side');
    await waitFor(() => streams.length >= 2 || undefined, 10_000, 'a new stream for the retry');
  }, 40_000);
});
