/**
 * Inbound exchange streams that get stuck are reset and logged (SPEC section 6): a frame that does not
 * complete within the frame read deadline, a stream idle with nothing outstanding, a stream over the limit per
 * peer (over all its connections), and a stream whose peer does not close after a framing error; the log lines
 * a flood provokes stay within a budget. A peer that does not read its answers gets no more requests read
 * until it does, so what it provokes stays bounded. A real KG node is served by a raw libp2p host holding KZ's libp2p key
 * (a hostile KZ); the time limits are shortened through NodeOptions.transport (production:
 * FRAME_READ_TIMEOUT_MS, INBOUND_IDLE_TIMEOUT_MS).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import { multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL, MAX_INBOUND_STREAMS_PER_PEER } from '../../../protocol/constants.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { sealEnvelope } from '../../../protocol/envelope/seal.js';
import { newMessageId } from '../../../protocol/ids.js';
import { encodeFrame, FrameDecoder, FRAME_ERROR, FRAME_RECEIPT, FRAME_REQUEST, type Frame } from '../../../protocol/wire.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { rawPeer } from '../../helpers/raw-peer.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const FRAME_READ_MS = 1000;
const IDLE_MS = 1500;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
const kgLog: string[] = [];

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], {
    nodeOptions: (c) => (c === 'KG' ? { transport: { frameReadTimeoutMs: FRAME_READ_MS, idleTimeoutMs: IDLE_MS }, log: (m: string) => void kgLog.push(m) } : {}),
  });
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
}, 30_000);
afterAll(async () => net?.close());

/** Log lines from `from` on that contain `text`. */
const logged = (text: string, from = 0): string[] => kgLog.slice(from).filter((l) => l.includes(text));

/** Resolves when the stream closes (reset by KG, or closed by both sides). */
const closed = (stream: Stream): Promise<void> =>
  stream.status === 'open' ? new Promise((resolve) => stream.addEventListener('close', () => resolve(), { once: true })) : Promise.resolve();

describe('inbound streams with a real partner', () => {
  it('resets an idle inbound stream, and the sender delivers its next message on a new stream', async () => {
    const send = async () => {
      const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
      expect(r.status).toBe(202);
      return waitFor(async () => {
        const m = await api(kz, 'GET', `/v1/messages/${r.json.id}`);
        return m.json.status === 'delivered' ? m.json : undefined;
      }, 10_000, 'delivery');
    };
    await send();
    const from = kgLog.length;
    await waitFor(() => logged('idle for', from).length > 0 || undefined, 10_000, 'the idle reset');
    expect(logged('idle for', from)[0]).toContain('from KZ');
    expect((await send()).status).toBe('delivered');
  }, 30_000);
});

describe('inbound streams from a hostile partner', () => {
  let raw: Libp2p;
  let target: ReturnType<typeof multiaddr>;
  const open = (): Promise<Stream> => raw.dialProtocol(target, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000), maxOutboundStreams: 64 });

  beforeAll(async () => {
    await kz.node.stop();
    raw = await rawPeer(kz, '/ip4/127.0.0.1/tcp/0');
    const cert = decodeNodeCertificate(kg.node.parts.identity.certificate);
    target = multiaddr(`${cert.addrs[0]}/p2p/${cert.peerId}`);
  });
  afterAll(async () => raw?.stop());

  it('resets a stream whose frame is still incomplete at the frame read deadline while bytes trickle in', async () => {
    const from = kgLog.length;
    const stream = await open();
    stream.send(Uint8Array.from([0xfb, 0xff, 0x7f])); // a ~2 MiB frame begins
    const trickle = setInterval(() => {
      if (stream.status === 'open') stream.send(Uint8Array.of(0));
    }, 200); // more often than the idle limit: only the frame deadline can end it
    try {
      await closed(stream);
    } finally {
      clearInterval(trickle);
    }
    expect(stream.status).toMatch(/^(reset|aborted)$/);
    expect(logged('was not complete', from)).toHaveLength(1);
    expect(logged('was not complete', from)[0]).toContain('from KZ');
  }, 15_000);

  it('refuses a stream over the limit per peer with a log line, and serves again once stuck ones are reset', async () => {
    const from = kgLog.length;
    const stuck = await Promise.all(Array.from({ length: MAX_INBOUND_STREAMS_PER_PEER }, () => open()));
    const trickles = stuck.slice(MAX_INBOUND_STREAMS_PER_PEER / 2).map((s) => {
      s.send(Uint8Array.from([0xfb, 0xff, 0x7f]));
      return setInterval(() => {
        if (s.status === 'open') s.send(Uint8Array.of(0));
      }, 200);
    });
    try {
      const ninth = await open();
      await closed(ninth);
      await waitFor(() => logged('refused an exchange stream from KZ', from).length > 0 || undefined, 5000, 'the refusal log line');
      // the silent half goes at the idle limit, the trickling half at the frame deadline
      await Promise.all(stuck.map(closed));
    } finally {
      trickles.forEach(clearInterval);
    }
    expect(logged('idle for', from)).toHaveLength(MAX_INBOUND_STREAMS_PER_PEER / 2);
    expect(logged('was not complete', from)).toHaveLength(MAX_INBOUND_STREAMS_PER_PEER / 2);
    const stream = await open();
    const frames: Frame[] = [];
    const decoder = new FrameDecoder();
    stream.addEventListener('message', (e) => frames.push(...decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())));
    const sealed = sealEnvelope(
      { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci } as never,
      kz.node.parts.identity.node.signer,
    );
    stream.send(encodeFrame({ kind: FRAME_REQUEST, requestId: 7, payload: sealed.bytes }));
    await waitFor(() => frames.length > 0 || undefined, 5000, 'the receipt');
    expect(frames[0]).toMatchObject({ kind: FRAME_RECEIPT, requestId: 7 });
    stream.abort(new Error('done'));
  }, 20_000);

  it('counts the limit per peer over all its connections: a second connection gets no more streams', async () => {
    const from = kgLog.length;
    const second = await rawPeer(kz, '/ip4/127.0.0.1/tcp/0'); // the same peer id on a connection of its own
    const streams: Stream[] = [];
    try {
      const half = MAX_INBOUND_STREAMS_PER_PEER / 2;
      streams.push(...(await Promise.all(Array.from({ length: half }, () => open()))));
      const openSecond = () => second.dialProtocol(target, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000) });
      streams.push(...(await Promise.all(Array.from({ length: half }, openSecond))));
      expect(raw.getConnections().length + second.getConnections().length).toBe(2);
      streams.push(await openSecond()); // only the fifth on its connection, but the ninth of the peer
      await waitFor(() => logged('refused an exchange stream from KZ', from).length > 0 || undefined, 5000, 'the refusal log line');
      expect(logged('refused an exchange stream from KZ', from)[0]).toContain(`limit ${MAX_INBOUND_STREAMS_PER_PEER} per peer`);
    } finally {
      streams.forEach((s) => s.abort(new Error('done')));
      await Promise.all(streams.map(closed));
      await second.stop();
    }
  }, 20_000);

  it('resets a stream after a framing error when the peer never closes its side, and logs the error', async () => {
    const from = kgLog.length;
    const stream = await open();
    const frames: Frame[] = [];
    const decoder = new FrameDecoder();
    stream.addEventListener('message', (e) => frames.push(...decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())));
    stream.send(Uint8Array.from([0x80, 0x80, 0xc0, 0x01])); // 3 MiB announced: refused from the prefix
    await closed(stream); // this side never closes: KG must end it
    expect(frames[0]?.kind).toBe(FRAME_ERROR);
    expect(stream.status).toMatch(/^(reset|aborted)$/);
    expect(logged('framing error (GNC_FRAME_TOO_LARGE)', from)).toHaveLength(1);
  }, 15_000);

  it('answers a request read before an unreadable frame that came in the same write, then sends the ERROR frame and closes', async () => {
    const from = kgLog.length;
    const stream = await open();
    const frames: Frame[] = [];
    const decoder = new FrameDecoder();
    stream.addEventListener('message', (e) => frames.push(...decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())));
    const id = newMessageId();
    const sealed = sealEnvelope(
      { v: 1, id, type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci } as never,
      kz.node.parts.identity.node.signer,
    );
    const request = encodeFrame({ kind: FRAME_REQUEST, requestId: 21, payload: sealed.bytes });
    const garbage = Uint8Array.from([0x05, 0x09, 0, 0, 0, 0]); // a whole frame of kind 9, which does not exist
    stream.send(Uint8Array.from([...request, ...garbage])); // one write: KG reads both in the same turn
    await closed(stream);
    // before, KG failed the stream on the garbage at once: the message was stored, its receipt never sent
    expect(frames.map((f) => [f.kind, f.requestId])).toEqual([[FRAME_RECEIPT, 21], [FRAME_ERROR, 0]]);
    const error = JSON.parse(Buffer.from(frames[1]!.payload).toString('utf8'));
    expect(error.code).toBe('GNC_ENVELOPE_MALFORMED');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', id)?.status).toBe('accepted');
    expect(logged('framing error (GNC_ENVELOPE_MALFORMED)', from)).toHaveLength(1);
    expect(logged('could not', from)).toEqual([]);
  }, 15_000);

  it('answers the requests a peer sent before closing its side, then closes the stream', async () => {
    const from = kgLog.length;
    const stream = await open();
    const frames: Frame[] = [];
    const decoder = new FrameDecoder();
    stream.addEventListener('message', (e) => frames.push(...decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())));
    for (let requestId = 1; requestId <= 3; requestId++) {
      const sealed = sealEnvelope(
        { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci } as never,
        kz.node.parts.identity.node.signer,
      );
      stream.send(encodeFrame({ kind: FRAME_REQUEST, requestId, payload: sealed.bytes }));
    }
    await stream.close({ signal: AbortSignal.timeout(5000) }); // KZ's side is closed: it sends nothing more, and reads on
    await closed(stream);
    // before, KG closed its side at once: the three messages were stored, their receipts never sent
    expect(frames.map((f) => [f.kind, f.requestId])).toEqual([[FRAME_RECEIPT, 1], [FRAME_RECEIPT, 2], [FRAME_RECEIPT, 3]]);
    expect(stream.status).toBe('closed'); // closed by both sides, not reset
    expect(logged('could not answer', from)).toEqual([]);
  }, 15_000);

  it('logs a receipt it could not send in its own words, naming what the partner does next', async () => {
    const from = kgLog.length;
    const stream = await open();
    const sealed = sealEnvelope(
      { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci } as never,
      kz.node.parts.identity.node.signer,
    );
    stream.send(encodeFrame({ kind: FRAME_REQUEST, requestId: 11, payload: sealed.bytes }));
    stream.abort(new Error('gone before the receipt')); // the request leaves first, then the reset
    await waitFor(() => logged('request 11', from).length > 0 || undefined, 10_000, 'the log line about request 11');
    const line = logged('request 11', from)[0]!;
    expect(line).toMatch(/^could not send the receipt for KZ request 11: The exchange stream from KZ (is closed|closed before)/);
    // the receiver's side of it: KZ sends the envelope again and is answered then, not "the message will be retried"
    expect(line).toContain('KZ sends the envelope again');
    expect(line).not.toContain('will be retried');
  }, 15_000);

  it('stops reading requests from a partner that does not read its answers, and answers each one once it reads again', async () => {
    const stream = await open();
    const answers = new Map<number, number>();
    const decoder = new FrameDecoder();
    stream.addEventListener('message', (e) => {
      for (const f of decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())) answers.set(f.requestId, (answers.get(f.requestId) ?? 0) + 1);
    });
    stream.pause(); // KZ reads nothing: every answer KG writes stays with KG until KZ grants a Yamux window
    // REQUEST frames of 205 bytes, each answered with a rejection receipt of about 800: before, KG read them as fast
    // as it could answer and kept every unsent answer, tens of megabytes within seconds, until the drain reset
    let sent = 0;
    let blocked = false;
    const giveUp = Date.now() + 10_000; // a bound on the test, not a time limit under test
    while (!blocked && Date.now() < giveUp) {
      const batch = Array.from({ length: 100 }, () => encodeFrame({ kind: FRAME_REQUEST, requestId: ++sent, payload: new Uint8Array(200).fill(0x7b) }));
      blocked = !stream.send(Uint8Array.from(batch.flatMap((f) => [...f])));
      await new Promise((r) => setImmediate(r));
    }
    expect(blocked).toBe(true); // KG stopped reading, so KZ's window ran out
    const held = kg.node.host!.getConnections().flatMap((c) => c.streams).filter((s) => s.protocol === EXCHANGE_PROTOCOL && s.direction === 'inbound' && s.status === 'open');
    expect(held.length).toBeGreaterThan(0);
    // what KG holds for KZ: the answers of one turn (HOLD_READS_BYTES) and the receipts of the requests in flight
    for (const s of held) expect(s.writeBufferLength).toBeLessThan(1024 * 1024);
    stream.resume();
    await waitFor(() => answers.size === sent || undefined, 20_000, 'an answer to every request');
    expect([...answers.values()].every((n) => n === 1)).toBe(true);
    stream.abort(new Error('done'));
  }, 40_000);

  it('logs a flood of refused streams within a budget, not one line each', async () => {
    const from = kgLog.length;
    const held = await Promise.all(Array.from({ length: MAX_INBOUND_STREAMS_PER_PEER }, () => open()));
    const attempts = 200;
    try {
      // in batches, under libp2p's own per-connection backstop, so that every refusal is this node's, and logged
      for (let i = 0; i < attempts; i += 16) {
        const batch = await Promise.all(Array.from({ length: 16 }, () => open()));
        await Promise.all(batch.map((s) => Promise.race([closed(s), new Promise((r) => setTimeout(r, 3000))])));
        batch.forEach((s) => s.abort(new Error('done')));
      }
    } finally {
      held.forEach((s) => s.abort(new Error('done')));
    }
    const lines = logged('refused an exchange stream from KZ', from).length;
    expect(lines).toBeGreaterThan(0);
    // 60 lines a minute for KZ: at most two windows can fall within this test, whatever the machine's speed
    expect(lines).toBeLessThanOrEqual(120);
  }, 60_000);
});
