/**
 * FramedStream over a real libp2p stream (TCP + Noise + Yamux on 127.0.0.1): frames written in one turn
 * leave in one send (fewer stream messages than frames on the other side), every frame arrives once and in
 * order, and a write on a closed stream fails with GNC_PARTNER_UNREACHABLE instead of hanging.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Stream } from '@libp2p/interface';
import '../../../node/polyfill.js';
import { FramedStream } from '../../../node/transport/framed-stream.js';
import { FRAME_REQUEST, type Frame } from '../../../protocol/wire.js';
import { isGncError } from '../../../protocol/errors.js';

const PROTOCOL = '/gnc/test-framing/1.0.0';

let server: Libp2p;
let client: Libp2p;
/** What the server side saw on its most recent stream. */
let seen: { messages: number; frames: Frame[] };

const host = () => createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });

beforeAll(async () => {
  [server, client] = await Promise.all([host(), host()]);
  await server.handle(PROTOCOL, (stream: Stream) => {
    seen = { messages: 0, frames: [] };
    stream.addEventListener('message', () => seen.messages++);
    new FramedStream(stream, { onFrame: (f) => seen.frames.push(f), onClose: () => undefined });
  });
});
afterAll(async () => {
  await Promise.all([client?.stop(), server?.stop()]);
});

async function open(): Promise<FramedStream> {
  const stream = await client.dialProtocol(server.getMultiaddrs()[0]!, PROTOCOL);
  return new FramedStream(stream, { onFrame: () => undefined, onClose: () => undefined });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

const frame = (requestId: number, size = 1000): Frame => ({ kind: FRAME_REQUEST, requestId, payload: new Uint8Array(size).fill(requestId % 251) });

describe('FramedStream over libp2p', () => {
  it('sends 64 frames written in one turn together: all arrive in order, in far fewer stream messages', async () => {
    const framed = await open();
    await Promise.all(Array.from({ length: 64 }, (_, i) => framed.write(frame(i + 1))));
    await until(() => seen.frames.length === 64);
    expect(seen.frames.map((f) => f.requestId)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(seen.frames.every((f) => f.payload.length === 1000 && f.payload[0] === f.requestId % 251)).toBe(true);
    // one send of ~64 KB: one or two Yamux data frames, not 64
    expect(seen.messages).toBeLessThanOrEqual(4);
    framed.close();
  });

  it('keeps the order of frames written in successive turns, larger than one Yamux frame in total', async () => {
    const framed = await open();
    const writes: Promise<void>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 20; i++) writes.push(framed.write(frame(turn * 20 + i + 1, 8000)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    await until(() => seen.frames.length === 100);
    expect(seen.frames.map((f) => f.requestId)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    framed.close();
  });

  it('fails a write on a closed stream with GNC_PARTNER_UNREACHABLE', async () => {
    const framed = await open();
    framed.close();
    const err = await framed.write(frame(1)).then(() => undefined, (e: unknown) => e);
    expect(isGncError(err) && err.code).toBe('GNC_PARTNER_UNREACHABLE');
  });
});
