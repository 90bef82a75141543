/**
 * Ed25519 public keys as JWK (RFC 8037 section 2) and their RFC 7638 thumbprints. The thumbprint is the key
 * id (`kid`) of node keys and the fingerprint of administration roots that partners compare out of band.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { GncError } from './errors.js';

export const Ed25519PublicJwk = z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected the 32-byte public key in base64url (43 characters)'),
});
export type Ed25519PublicJwk = z.infer<typeof Ed25519PublicJwk>;

/** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace, base64url. */
export function jwkThumbprint(jwk: Ed25519PublicJwk): string {
  const json = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`;
  return createHash('sha256').update(json, 'utf8').digest('base64url');
}

export function publicJwkOf(key: KeyObject): Ed25519PublicJwk {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' }) as { kty?: string; crv?: string; x?: string };
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('expected an Ed25519 key');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
}

/** The field prime of edwards25519, 2^255 - 19 (RFC 8032 section 5.1). */
const P = 2n ** 255n - 19n;
/** y of the order-8 points (RFC 7748 / libsodium's small-order list); the others of the 8-torsion are p - Y8, 0, 1, p - 1. */
const Y8 = 0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n;
/** The y coordinates of the eight points of small order: with x's sign, every point of the 8-torsion. */
const SMALL_ORDER_Y = new Set([0n, 1n, P - 1n, Y8, P - Y8]);

/**
 * Why a 32-byte Ed25519 public key cannot be trusted for signatures, or undefined when it can: an encoding with
 * y >= p (RFC 8032 section 5.1.3 requires y < p), or a point of small order, under which one signature verifies
 * for many messages (R = identity, S = 0 for every message under the identity point). SPEC 9.7 refuses both;
 * node:crypto (OpenSSL 3.0) accepts both, so every key must pass this before it is used to verify.
 */
export function weakPublicKey(x: Uint8Array): string | undefined {
  if (x.byteLength !== 32) return 'it is not 32 bytes';
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? x[i]! & 0x7f : x[i]!);
  if (y >= P) return 'its y coordinate is not below 2^255 - 19 (a non-canonical encoding, RFC 8032 section 5.1.3)';
  if (SMALL_ORDER_Y.has(y)) return 'it is a point of small order, under which one signature verifies for many messages';
  return undefined;
}

/**
 * The node:crypto key of a public JWK, for verifying. Refuses what strict RFC 8032 verification refuses (SPEC 9.7)
 * and OpenSSL would accept: non-canonical and small-order keys (GNC_CERT_INVALID).
 */
export function publicKeyFromJwk(jwk: Ed25519PublicJwk): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  } catch (err) {
    throw new GncError('GNC_CERT_INVALID', 'Public JWK is not a valid Ed25519 key (RFC 8037): check the "x" member.', { cause: err });
  }
  const weak = weakPublicKey(Buffer.from(jwk.x, 'base64url'));
  if (weak !== undefined) {
    throw new GncError('GNC_CERT_INVALID', `Public JWK ${jwk.x} cannot verify signatures: ${weak} (strict RFC 8032, SPEC 9.7). The administration must make a new key.`);
  }
  return key;
}
