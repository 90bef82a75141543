/**
 * Wire frames of `/gnc/exchange/1.0.0` (contract "Wire"). Each frame is an unsigned-varint length prefix (the
 * libp2p convention) followed by: 1 byte kind, 4 bytes request id (big-endian), then the payload.
 *   kind 1 REQUEST  payload = an envelope's exact JWS bytes
 *   kind 2 RECEIPT  payload = the receipt envelope's exact JWS bytes, same request id
 *   kind 3 ERROR    payload = UTF-8 JSON {code, message}; only when no receipt can be formed: request id 0 for
 *                   an unreadable or oversize frame (its sender then closes the stream), else the id of the one
 *                   request the receiver could not process (it failed itself, or too many were in flight).
 * A length over MAX_FRAME_BYTES is refused as soon as the prefix is read, before the frame is buffered.
 */
import { MAX_FRAME_BYTES } from './constants.js';
import { GncError } from './errors.js';

export const FRAME_REQUEST = 1;
export const FRAME_RECEIPT = 2;
export const FRAME_ERROR = 3;
export type FrameKind = typeof FRAME_REQUEST | typeof FRAME_RECEIPT | typeof FRAME_ERROR;

export interface Frame {
  kind: FrameKind;
  requestId: number;
  payload: Uint8Array;
}

const HEADER = 5;

/** Largest envelope a REQUEST frame carries: the frame limit less the kind and request id. */
export const MAX_ENVELOPE_BYTES = MAX_FRAME_BYTES - HEADER;

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

export function encodeFrame(frame: Frame): Uint8Array {
  const len = HEADER + frame.payload.byteLength;
  if (len > MAX_FRAME_BYTES) {
    throw new GncError('GNC_FRAME_TOO_LARGE', `Frame of ${len} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit: split the message.`);
  }
  const prefix = varint(len);
  const out = new Uint8Array(prefix.byteLength + len);
  out.set(prefix, 0);
  const o = prefix.byteLength;
  out[o] = frame.kind;
  new DataView(out.buffer, out.byteOffset + o + 1, 4).setUint32(0, frame.requestId >>> 0);
  out.set(frame.payload, o + HEADER);
  return out;
}

const encoder = new TextEncoder();

/** An ERROR frame: `{code, message}` as UTF-8 JSON, for one request (or request id 0 for the whole stream). */
export function errorFrame(requestId: number, code: string, message: string): Frame {
  return { kind: FRAME_ERROR, requestId, payload: encoder.encode(JSON.stringify({ code, message })) };
}

/**
 * Incremental decoder: push received chunks, get whole frames. Throws GNC_FRAME_TOO_LARGE as soon as a length
 * prefix announces more than the limit, and GNC_ENVELOPE_MALFORMED for an unknown kind or a bad prefix.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly maxFrame = MAX_FRAME_BYTES) {}

  /** Bytes received that are not a whole frame yet, once `push` has yielded the complete ones: 0 when no frame has begun. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Append a received chunk and yield the frames it completes (`append` then `frames`). */
  *push(chunk: Uint8Array): Generator<Frame> {
    this.append(chunk);
    yield* this.frames();
  }

  /** Append a received chunk without decoding anything yet. */
  append(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
  }

  /**
   * The whole frames buffered, one at a time: a frame is taken from the buffer only when it is yielded, so a
   * reader that stops iterating (it cannot take more work now) leaves the rest buffered for a later call.
   */
  *frames(): Generator<Frame> {
    for (;;) {
      const head = this.peekLength();
      if (head === undefined) return;
      const { length, prefixBytes } = head;
      if (this.buffered < prefixBytes + length) return;
      const all = this.take(prefixBytes + length).subarray(prefixBytes);
      const kind = all[0];
      if (kind !== FRAME_REQUEST && kind !== FRAME_RECEIPT && kind !== FRAME_ERROR) {
        throw new GncError('GNC_ENVELOPE_MALFORMED', `Frame kind ${String(kind)} is unknown: expected 1 (request), 2 (receipt) or 3 (error).`);
      }
      const requestId = new DataView(all.buffer, all.byteOffset + 1, 4).getUint32(0);
      yield { kind, requestId, payload: all.subarray(HEADER) };
    }
  }

  private peekLength(): { length: number; prefixBytes: number } | undefined {
    let n = 0;
    let shift = 1;
    let i = 0;
    for (const c of this.chunks) {
      for (const b of c) {
        n += (b & 0x7f) * shift;
        i++;
        if ((b & 0x80) === 0) {
          if (n > this.maxFrame) {
            throw new GncError('GNC_FRAME_TOO_LARGE', `Frame of ${n} bytes exceeds the ${this.maxFrame}-byte limit: split the message.`);
          }
          if (n < HEADER) throw new GncError('GNC_ENVELOPE_MALFORMED', `Frame of ${n} bytes is shorter than its 5-byte header.`);
          return { length: n, prefixBytes: i };
        }
        shift *= 128;
        if (i >= 5) throw new GncError('GNC_ENVELOPE_MALFORMED', 'Frame length prefix is longer than 5 bytes.');
      }
    }
    return undefined;
  }

  /**
   * The first `n` buffered bytes. Consumed chunks are dropped with one splice: a shift per chunk is linear in
   * the chunks left, so a frame that arrived in tiny pieces (a slow or hostile partner) took quadratic time.
   */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    let used = 0;
    while (off < n) {
      const c = this.chunks[used]!;
      const need = n - off;
      if (c.byteLength <= need) {
        out.set(c, off);
        off += c.byteLength;
        used++;
      } else {
        out.set(c.subarray(0, need), off);
        this.chunks[used] = c.subarray(need);
        off += need;
      }
    }
    this.chunks.splice(0, used);
    this.buffered -= n;
    return out;
  }
}
