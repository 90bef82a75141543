/**
 * The offline auditor's only signature check: @noble/ed25519 (pure JS, audited) with strict RFC 8032 rules
 * (`zip215: false`: canonical encodings of R and A below p, S below L, small-order public keys refused).
 * It shares no signing or verifying code with the node's hot path (node:crypto / OpenSSL), so a bug in one
 * cannot make the other vouch for a bad signature. node:crypto only supplies SHA-512, the hook noble v3
 * requires for its synchronous API (README "Enabling synchronous methods"); hashing is not trust logic.
 */
import { createHash } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { fromB64u } from '../../protocol/envelope/base64url.js';
import type { Ed25519PublicJwk } from '../../protocol/jwk.js';

if (ed.hashes.sha512 === undefined) {
  ed.hashes.sha512 = (message) => {
    const d = createHash('sha512').update(message).digest();
    return new Uint8Array(d.buffer as ArrayBuffer, d.byteOffset, d.byteLength);
  };
}

/** Options passed to noble on every call: strict RFC 8032 / FIPS 186-5, never the ZIP-215 default. */
export const STRICT_RFC8032 = Object.freeze({ zip215: false });

/** True only for a 64-byte signature that verifies under the 32-byte key by RFC 8032 rules; never throws. */
export function verifyStrict(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false;
  try {
    return ed.verify(signature, message, publicKey, STRICT_RFC8032);
  } catch {
    return false;
  }
}

/** The raw 32 public-key bytes of an Ed25519 JWK (RFC 8037 section 2), or undefined when malformed. */
export function jwkPublicBytes(jwk: Ed25519PublicJwk): Uint8Array | undefined {
  try {
    const bytes = fromB64u(jwk.x, 'JWK x');
    return bytes.byteLength === 32 ? bytes : undefined;
  } catch {
    return undefined;
  }
}
