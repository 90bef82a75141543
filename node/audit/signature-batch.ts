/**
 * A batch of signature checks packed into one transferable buffer, so worker threads receive thousands of
 * checks in one message without structured-clone copies of many small arrays. Used by both sides of the
 * worker pool and by the in-thread path, so the two cannot disagree on the format.
 * Record layout: u32 LE message length | 32-byte public key | 64-byte signature | message bytes.
 */
import { verifyStrict } from './strict-ed25519.js';

export interface SignatureJob {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

const HEAD = 4 + 32 + 64;

/** Pack jobs; a malformed key or signature length is packed as zeros and fails verification. */
export function packJobs(jobs: readonly SignatureJob[]): Uint8Array {
  let size = 0;
  for (const j of jobs) size += HEAD + j.message.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const j of jobs) {
    view.setUint32(at, j.message.byteLength, true);
    if (j.publicKey.byteLength === 32) out.set(j.publicKey, at + 4);
    if (j.signature.byteLength === 64) out.set(j.signature, at + 36);
    out.set(j.message, at + HEAD);
    at += HEAD + j.message.byteLength;
  }
  return out;
}

/** Verify every record of a packed batch; result byte i is 1 when record i verifies (strict RFC 8032). */
export function verifyPacked(packed: Uint8Array): Uint8Array {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const results: number[] = [];
  let at = 0;
  while (at + HEAD <= packed.byteLength) {
    const len = view.getUint32(at, true);
    const publicKey = packed.subarray(at + 4, at + 36);
    const signature = packed.subarray(at + 36, at + HEAD);
    const message = packed.subarray(at + HEAD, at + HEAD + len);
    results.push(verifyStrict(signature, message, publicKey) ? 1 : 0);
    at += HEAD + len;
  }
  return Uint8Array.from(results);
}
