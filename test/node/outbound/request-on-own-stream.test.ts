/**
 * A partner that sends a REQUEST frame back on the stream this node opened (it mixed its streams up: requests go on
 * the streams the sender opens, SPEC section 6) puts that stream out of sync: the sender fails what was in flight on it
 * at once, answers with an ERROR frame of request id 0, closes it and sends the message again on a new stream, where
 * the partner answers properly. Ignored, the REQUEST left the message waiting for the 30 s receipt timeout and the
 * partner without a word. The partner is a raw libp2p host with KG's libp2p key on KG's certified address, signing its
 * receipts with KG's real node key: on its first stream it echoes each REQUEST back, on later ones it answers receipts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import type { Stream } from '@libp2p/interface';
import { loadIdentity } from '../../../certs/identity.js';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import { encodeFrame, FRAME_ERROR, FRAME_REQUEST } from '../../../protocol/wire.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { onFrames, rawPeer, receiptFrame } from '../../helpers/raw-peer.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let mixedUp: Libp2p;
let streams = 0;
const kzLog: string[] = [];
/** What the first stream got back after its echoed REQUEST: frames (kind, request id, JSON payload) and whether it closed. */
const first: { frames: { kind: number; requestId: number; payload: unknown }[]; closed: boolean } = { frames: [], closed: false };

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { log: (m: string) => void kzLog.push(m) } : {}) });
  kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  const signer = loadIdentity(kg.dir).node.signer;
  await kg.node.stop();
  mixedUp = await rawPeer(kg);
  await mixedUp.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
    const echo = streams++ === 0;
    if (echo) stream.addEventListener('close', () => (first.closed = true), { once: true });
    onFrames(stream, (frame) => {
      if (echo) {
        if (frame.kind === FRAME_REQUEST) stream.send(encodeFrame({ kind: FRAME_REQUEST, requestId: frame.requestId, payload: frame.payload }));
        else first.frames.push({ kind: frame.kind, requestId: frame.requestId, payload: JSON.parse(Buffer.from(frame.payload).toString('utf8')) });
        return;
      }
      if (frame.kind === FRAME_REQUEST) stream.send(receiptFrame(signer, 'KG', 'KZ', frame, { status: 'accepted' }));
    });
  }, { maxInboundStreams: 64 });
}, 30_000);
afterAll(async () => {
  await mixedUp?.stop();
  await net?.close();
});

it('a REQUEST frame on a stream the node opened closes it with an ERROR frame, and the message goes again on a new stream', async () => {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  // within seconds, not after the 30 s receipt timeout: the ERROR frame of request id 0, then the stream closes
  await waitFor(() => (first.frames.length > 0 && first.closed ? true : undefined), 10_000, 'the ERROR frame on the stream the REQUEST came back on');
  expect(first.frames).toEqual([{ kind: FRAME_ERROR, requestId: 0, payload: { code: 'GNC_ENVELOPE_MALFORMED', message: expect.stringContaining('out of sync') } }]);
  const m = await waitFor(async () => {
    const v = (await api(kz, 'GET', `/v1/messages/${r.json.id}`)).json;
    return v.status === 'delivered' ? v : undefined;
  }, 15_000, 'the message delivered on a new stream');
  expect(m.receipt.status).toBe('accepted');
  expect(streams).toBeGreaterThanOrEqual(2);
  // one line names the stream out of sync, without the frame's content; a mixed-up stream is no unreachable partner
  expect(kzLog.filter((l) => l.includes('REQUEST frame on an exchange stream this node opened'))).toHaveLength(1);
  expect(kzLog.join('\n')).not.toContain('is unreachable');
}, 40_000);
