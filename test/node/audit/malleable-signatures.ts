/**
 * Signers that produce Ed25519 signatures a lax verifier accepts and strict RFC 8032 refuses, to prove the
 * auditor is strict. Built from the key's own scalar, so they are "valid" under ZIP-215 rules:
 * - non-canonical R: R is the identity point encoded with y = p + 1 (RFC 8032 5.1.3 requires y < p);
 *   S = k·a mod L then satisfies [8]SB = [8]R + [8]kA, which ZIP-215 checks over the raw bytes;
 * - S + L: a non-reduced scalar (RFC 8032 5.1.7 requires S < L; ZIP-215 does too, noble refuses both).
 */
import { createHash, sign as nodeSign } from 'node:crypto';
import type { Signer } from '../../../protocol/envelope/seal.js';
import type { Key } from './fixture.js';

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function toLe(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

function fromLe(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

const sha512 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** The clamped secret scalar a of RFC 8032 5.1.5 step 2. */
function secretScalar(key: Key): bigint {
  const seed = Buffer.from((key.privateKey.export({ format: 'jwk' }) as { d: string }).d, 'base64url');
  const h = sha512(seed).slice(0, 32);
  h[0]! &= 248;
  h[31]! &= 127;
  h[31]! |= 64;
  return fromLe(h);
}

/** The identity point with its y coordinate encoded as p + 1 (non-canonical). */
export const NON_CANONICAL_IDENTITY = toLe(P + 1n);

export function nonCanonicalRSigner(key: Key): Signer {
  const a = secretScalar(key);
  const A = Buffer.from(key.jwk.x, 'base64url');
  return {
    kid: key.signer.kid,
    sign(data: Uint8Array): Uint8Array {
      const k = fromLe(sha512(NON_CANONICAL_IDENTITY, A, data)) % L;
      const sig = new Uint8Array(64);
      sig.set(NON_CANONICAL_IDENTITY, 0);
      sig.set(toLe((k * a) % L), 32);
      return sig;
    },
  };
}

export function sPlusLSigner(key: Key): Signer {
  return {
    kid: key.signer.kid,
    sign(data: Uint8Array): Uint8Array {
      const sig = new Uint8Array(nodeSign(null, data, key.privateKey));
      sig.set(toLe(fromLe(sig.subarray(32)) + L), 32);
      return sig;
    },
  };
}
