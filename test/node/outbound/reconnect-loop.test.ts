/**
 * A partner that connects in a loop while every delivery to it fails once its connection is open (it answers each
 * REQUEST with an ERROR frame: its disk is full) gets the backoff schedule, not one attempt per connection: a connection
 * brings queued messages forward when their last attempt could not reach the partner (a failed dial), and when it
 * reached it and failed otherwise only once, until a delivery goes through (Dispatcher.connected). The partner is a raw
 * libp2p host with KG's key on KG's certified address that hangs up on KZ and dials it again every 150 ms.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import { encodeFrame, errorFrame, FRAME_REQUEST } from '../../../protocol/wire.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { onFrames, rawPeer } from '../../helpers/raw-peer.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
/** The delivery backoff of KZ: 1-2 s before the second attempt, then 2-4 s each. */
const RETRY = { initialMs: 2_000, maxMs: 4_000 };
const WINDOW_MS = 9_000;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let full: Libp2p;
/** When each REQUEST reached the partner (Date.now). */
const requests: number[] = [];

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { retry: RETRY } : {}) });
  kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  await kg.node.stop();
  full = await rawPeer(kg);
  await full.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
    onFrames(stream, (frame) => {
      if (frame.kind !== FRAME_REQUEST) return;
      requests.push(Date.now());
      stream.send(encodeFrame(errorFrame(frame.requestId, 'GNC_STORAGE_FULL', 'The volume is full.')));
    });
  }, { maxInboundStreams: 64 });
}, 30_000);
afterAll(async () => {
  await full?.stop();
  await net?.close();
});

it('keeps to the backoff schedule while the partner reconnects every 150 ms and fails every delivery', async () => {
  const kzAddrs = kz.node.host!.getMultiaddrs();
  const kzPeer = multiaddr(`/p2p/${kz.node.parts.identity.peerId}`);
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  await waitFor(() => (requests.length > 0 ? true : undefined), 10_000, 'the first attempt');
  const start = requests[0]!;
  let connections = 0;
  while (Date.now() - start < WINDOW_MS) {
    await full.hangUp(kzPeer).catch(() => undefined);
    if (await full.dial(kzAddrs, { signal: AbortSignal.timeout(2_000) }).then(() => true, () => false)) connections++;
    await new Promise((res) => setTimeout(res, 150));
  }
  const inWindow = requests.filter((at) => at - start < WINDOW_MS).length;
  // the first connection after the first failure brings the message forward once (a partner back after its disk filled
  // up gets its queue at once), then the schedule allows one attempt after >= 2 s each: six within 9 s at most
  expect(connections).toBeGreaterThan(20);
  expect(inWindow).toBeGreaterThanOrEqual(2);
  expect(inWindow).toBeLessThanOrEqual(6);
  const m = (await api(kz, 'GET', `/v1/messages/${r.json.id}`)).json;
  expect(m.status).toBe('retrying');
}, 60_000);
