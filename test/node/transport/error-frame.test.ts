/**
 * What a sender keeps of a partner's ERROR frame: its text goes into the message's error and the log, so it is
 * taken only as a string and bounded like a receipt's reason (MAX_REASON_CHARS). The partner is a raw libp2p
 * host with KG's libp2p key on KG's certified address that answers every REQUEST with an ERROR frame carrying
 * 100,000 characters of text. And what a sender does after an ERROR frame with request id 0 (its stream is out
 * of sync, SPEC section 6): it closes the stream itself and sends the retries on a new one, whether or not the
 * partner closes its side (here it does not, and reads nothing more on that stream).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import type { Stream } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL, MAX_REASON_CHARS } from '../../../protocol/constants.js';
import { encodeFrame, errorFrame, FRAME_REQUEST } from '../../../protocol/wire.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { onFrames, rawPeer } from '../../helpers/raw-peer.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let hostile: Libp2p;
/** How the hostile KG answers: each REQUEST with an ERROR frame for it, or the first one with an ERROR frame for the stream. */
let mode: 'request' | 'stream' = 'request';
/** Exchange streams KZ opened to the hostile KG. */
const streams: Stream[] = [];

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  await kg.node.stop();
  hostile = await rawPeer(kg);
  await hostile.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
    streams.push(stream);
    let outOfSync = false;
    onFrames(stream, (frame) => {
      if (frame.kind !== FRAME_REQUEST || outOfSync) return;
      if (mode === 'request') stream.send(encodeFrame(errorFrame(frame.requestId, 'GNC_INTERNAL', 'x'.repeat(100_000))));
      else {
        stream.send(encodeFrame(errorFrame(0, 'GNC_ENVELOPE_MALFORMED', 'Frame kind 9 is unknown.')));
        outOfSync = true; // ignores the rest of this stream and keeps its side open
      }
    });
  }, { maxInboundStreams: 64 });
}, 30_000);
afterAll(async () => {
  await hostile?.stop();
  await net?.close();
});

/** Submits an ACI at KZ for KG; the message once its first attempt failed (its error recorded). */
async function failedAttempt(): Promise<any> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  return waitFor(async () => {
    const v = (await api(kz, 'GET', `/v1/messages/${r.json.id}`)).json;
    return v.error !== null ? v : undefined;
  }, 15_000, 'the failed attempt');
}

describe("a partner's ERROR frame", () => {
  it('keeps at most MAX_REASON_CHARS of its text in the message error', async () => {
    const m = await failedAttempt();
    expect(m.error.code).toBe('GNC_INTERNAL');
    expect(m.error.reason).toContain('answered with an error frame: xxx');
    expect(m.error.reason.length).toBeLessThan(MAX_REASON_CHARS + 100);
  });

  it('with request id 0 makes the sender close that stream and send the retry on a new one', async () => {
    mode = 'stream';
    const before = streams.length;
    // start from a new stream (the hostile KG answers its first REQUEST for the stream): a closed session is done, and
    // the node makes a new one, as when the partner's trust changes
    kz.node.session('KG').close();
    kz.node.sessions.delete('KG');
    const m = await failedAttempt();
    expect(m.error.code).toBe('GNC_ENVELOPE_MALFORMED');
    // before, the retry went to the same stream, which the partner no longer read: it waited for the receipt timeout
    await waitFor(() => streams.length >= before + 2 || undefined, 10_000, 'a new stream for the retry');
  });
});
