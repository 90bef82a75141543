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

export function publicKeyFromJwk(jwk: Ed25519PublicJwk): KeyObject {
  try {
    return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  } catch (err) {
    throw new GncError('GNC_CERT_INVALID', 'Public JWK is not a valid Ed25519 key (RFC 8037): check the "x" member.', { cause: err });
  }
}
