/**
 * A negative receipt whose code this version does not know (one a later version of the partner's node added, SPEC
 * section 5) is taken as the rejection it is: the message ends `rejected` with that code and reason, and the API shows
 * them. Refused as a broken receipt, it left the message queued and sent again until it expired, although the
 * partner had answered it. The partner is a raw libp2p host with KG's libp2p key on KG's certified address that
 * answers every REQUEST with a receipt signed by KG's real node key, as a later KG would.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import type { Stream } from '@libp2p/interface';
import { loadIdentity } from '../../../certs/identity.js';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import type { GncErrorCode } from '../../../protocol/errors.js';
import { FRAME_REQUEST } from '../../../protocol/wire.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { onFrames, rawPeer, receiptFrame } from '../../helpers/raw-peer.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
/** A code no version so far has: what a later KG may send. */
const FUTURE = 'GNC_FUTURE_CHECK_FAILED';

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let later: Libp2p;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  const signer = loadIdentity(kg.dir).node.signer;
  await kg.node.stop();
  later = await rawPeer(kg);
  await later.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
    onFrames(stream, (frame) => {
      if (frame.kind !== FRAME_REQUEST) return;
      const reason = 'A check of a later version failed: fix the goods description and send it again.';
      stream.send(receiptFrame(signer, 'KG', 'KZ', frame, { status: 'rejected', code: FUTURE as GncErrorCode, reason }));
    });
  }, { maxInboundStreams: 64 });
}, 30_000);
afterAll(async () => {
  await later?.stop();
  await net?.close();
});

it('a rejection with a code this version does not know ends the message rejected with that code, once', async () => {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  const m = await waitFor(async () => {
    const v = (await api(kz, 'GET', `/v1/messages/${r.json.id}`)).json;
    return v.status === 'rejected' || v.error?.code === 'GNC_RECEIPT_MISMATCH' ? v : undefined;
  }, 15_000, 'the receipt recorded or the attempt failed');
  expect(m.status, JSON.stringify(m.error)).toBe('rejected');
  expect(m.error).toEqual({ code: FUTURE, reason: expect.stringContaining('later version') });
  expect(m.receipt.status).toBe('rejected');
  expect(m.receipt.code).toBe(FUTURE);
  expect(m.receipt.reason).toContain('later version');
  const list = (await api(kz, 'GET', '/v1/messages?direction=out&status=rejected')).json;
  expect(list.items.map((i: { id: string }) => i.id)).toContain(r.json.id);
}, 30_000);
