/**
 * Wire frames of /gnc/exchange/1.0.0 (protocol/wire.ts, protocol/SPEC.md "Wire"): unsigned-varint length,
 * 1 byte kind, 4 bytes big-endian request id, payload. Frames must survive any chunking by the transport,
 * and an oversize length must be refused from the prefix alone, before anything is buffered.
 */
import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../../protocol/constants.js';
import { FRAME_ERROR, FRAME_RECEIPT, FRAME_REQUEST, FrameDecoder, encodeFrame, type Frame } from '../../protocol/wire.js';
import { codeOf } from '../helpers/errors.js';


const text = (s: string) => new TextEncoder().encode(s);

function decodeAll(chunks: Uint8Array[], decoder = new FrameDecoder()): Frame[] {
  const out: Frame[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  return out;
}

describe('encodeFrame', () => {
  it('writes varint(length) || kind || request id (big-endian) || payload', () => {
    const bytes = encodeFrame({ kind: FRAME_REQUEST, requestId: 0x01020304, payload: text('{}') });
    expect([...bytes]).toEqual([7, 1, 0x01, 0x02, 0x03, 0x04, 0x7b, 0x7d]);
  });

  it('uses a two-byte varint once the frame reaches 128 bytes (unsigned LEB128, as libp2p length prefixes)', () => {
    const bytes = encodeFrame({ kind: FRAME_RECEIPT, requestId: 7, payload: new Uint8Array(200) });
    expect([...bytes.subarray(0, 3)]).toEqual([0xcd, 0x01, 2]); // 205 = 0x4d | 0x80, then 1
    expect(bytes.byteLength).toBe(2 + 205);
  });

  it('refuses a frame whose length would exceed MAX_FRAME_BYTES: GNC_FRAME_TOO_LARGE', () => {
    expect(codeOf(() => encodeFrame({ kind: FRAME_REQUEST, requestId: 1, payload: new Uint8Array(MAX_FRAME_BYTES - 4) }))).toBe('GNC_FRAME_TOO_LARGE');
  });

  it('accepts a frame of exactly MAX_FRAME_BYTES and the decoder reads it back', () => {
    const payload = new Uint8Array(MAX_FRAME_BYTES - 5).fill(0x61);
    const bytes = encodeFrame({ kind: FRAME_REQUEST, requestId: 9, payload });
    expect([...bytes.subarray(0, 4)]).toEqual([0x80, 0x80, 0x80, 0x01]); // 2^21
    const [frame] = decodeAll([bytes]);
    expect(frame?.payload.byteLength).toBe(MAX_FRAME_BYTES - 5);
  });
});

describe('FrameDecoder', () => {
  const frames: Frame[] = [
    { kind: FRAME_REQUEST, requestId: 0, payload: text('{"protected":"a","payload":"b","signature":"c"}') },
    { kind: FRAME_RECEIPT, requestId: 0xffffffff, payload: new Uint8Array(300).fill(7) },
    { kind: FRAME_ERROR, requestId: 42, payload: text('{"code":"GNC_FRAME_TOO_LARGE","message":"x"}') },
    { kind: FRAME_REQUEST, requestId: 5, payload: new Uint8Array(0) },
  ];
  const stream = Uint8Array.from(frames.flatMap((f) => [...encodeFrame(f)]));

  it('round-trips every frame kind, request ids 0 and 2^32-1, and an empty payload from one chunk', () => {
    expect(decodeAll([stream])).toStrictEqual(frames);
  });

  it('reassembles the same frames when the stream is split at every possible byte boundary', () => {
    for (let cut = 1; cut < stream.byteLength; cut++) {
      expect(decodeAll([stream.subarray(0, cut), stream.subarray(cut)])).toStrictEqual(frames);
    }
  });

  it('reassembles the same frames when the stream arrives one byte at a time', () => {
    expect(decodeAll([...stream].map((b) => Uint8Array.of(b)))).toStrictEqual(frames);
  });

  // a partner writing a large frame in tiny pieces: consumed pieces used to be dropped one shift() at a time,
  // quadratic in their number (about 200 s of blocked event loop for this frame); linear, it takes about a second
  it('reassembles a maximum-size frame that arrives in 4-byte pieces without stalling', () => {
    const bytes = encodeFrame({ kind: FRAME_REQUEST, requestId: 3, payload: new Uint8Array(MAX_FRAME_BYTES - 5).fill(0x62) });
    const decoder = new FrameDecoder();
    const out: Frame[] = [];
    for (let i = 0; i < bytes.byteLength; i += 4) out.push(...decoder.push(bytes.subarray(i, i + 4)));
    expect(out).toHaveLength(1);
    expect(out[0]!.payload.byteLength).toBe(MAX_FRAME_BYTES - 5);
    expect(out[0]!.payload.every((b) => b === 0x62)).toBe(true);
  }, 60_000);

  it('yields nothing for a truncated frame, then the frame once the rest arrives', () => {
    const one = encodeFrame(frames[0]!);
    const decoder = new FrameDecoder();
    expect([...decoder.push(one.subarray(0, one.byteLength - 1))]).toEqual([]);
    expect([...decoder.push(one.subarray(one.byteLength - 1))]).toStrictEqual([frames[0]]);
  });

  it('keeps the frames a reader did not take buffered, and yields them in order on the next call', () => {
    const decoder = new FrameDecoder();
    decoder.append(stream);
    const first = decoder.frames().next();
    expect(first.value).toStrictEqual(frames[0]);
    expect([...decoder.frames()]).toStrictEqual(frames.slice(1));
    expect(decoder.pendingBytes).toBe(0);
  });

  it('yields nothing for a prefix whose varint is not finished yet', () => {
    const decoder = new FrameDecoder();
    expect([...decoder.push(Uint8Array.of(0xcd))]).toEqual([]);
  });

  it('refuses a length prefix over MAX_FRAME_BYTES before the frame arrives: GNC_FRAME_TOO_LARGE', () => {
    const over = MAX_FRAME_BYTES + 1; // 0x200001
    const prefix = Uint8Array.of((over & 0x7f) | 0x80, ((over >> 7) & 0x7f) | 0x80, ((over >> 14) & 0x7f) | 0x80, over >> 21);
    expect(codeOf(() => [...new FrameDecoder().push(prefix)])).toBe('GNC_FRAME_TOO_LARGE');
  });

  it('applies a smaller limit given to the constructor: GNC_FRAME_TOO_LARGE', () => {
    const bytes = encodeFrame({ kind: FRAME_REQUEST, requestId: 1, payload: new Uint8Array(100) });
    expect(codeOf(() => [...new FrameDecoder(104).push(bytes)])).toBe('GNC_FRAME_TOO_LARGE');
    expect(decodeAll([bytes], new FrameDecoder(105))).toHaveLength(1);
  });

  it('refuses a frame shorter than its 5-byte header: GNC_ENVELOPE_MALFORMED', () => {
    expect(codeOf(() => [...new FrameDecoder().push(Uint8Array.of(4, 1, 0, 0, 0))])).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses an unknown frame kind: GNC_ENVELOPE_MALFORMED', () => {
    expect(codeOf(() => [...new FrameDecoder().push(Uint8Array.of(5, 4, 0, 0, 0, 1))])).toBe('GNC_ENVELOPE_MALFORMED');
    expect(codeOf(() => [...new FrameDecoder().push(Uint8Array.of(5, 0, 0, 0, 0, 1))])).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses a length prefix longer than 5 bytes: GNC_ENVELOPE_MALFORMED', () => {
    expect(codeOf(() => [...new FrameDecoder(Number.MAX_SAFE_INTEGER).push(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01))])).toBe('GNC_ENVELOPE_MALFORMED');
  });
});
