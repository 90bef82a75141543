/**
 * Ed25519 public JWKs (protocol/jwk.ts) beyond the RFC 8037 vectors (test/vectors/rfc8037.test.ts): the strict
 * schema partners' identity files are read with, and the errors for keys that are not Ed25519.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Ed25519PublicJwk, jwkThumbprint, publicJwkOf, publicKeyFromJwk } from '../../protocol/jwk.js';
import { KZ, codeOf } from './envelope/fixtures.js';

const X = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo'; // RFC 8037 A.2

describe('Ed25519 public JWK', () => {
  it('the schema accepts exactly {kty: OKP, crv: Ed25519, x: 43 base64url characters}', () => {
    expect(Ed25519PublicJwk.safeParse({ kty: 'OKP', crv: 'Ed25519', x: X }).success).toBe(true);
    expect(Ed25519PublicJwk.safeParse({ kty: 'OKP', crv: 'Ed25519', x: X.slice(1) }).success).toBe(false);
    expect(Ed25519PublicJwk.safeParse({ kty: 'OKP', crv: 'Ed448', x: X }).success).toBe(false);
    expect(Ed25519PublicJwk.safeParse({ kty: 'OKP', crv: 'Ed25519', x: X, kid: 'k' }).success).toBe(false);
  });

  it('publicKeyFromJwk and publicJwkOf round-trip the key', () => {
    expect(publicJwkOf(publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: X }))).toStrictEqual({ kty: 'OKP', crv: 'Ed25519', x: X });
    expect(publicJwkOf(KZ.privateKey)).toStrictEqual({ kty: 'OKP', crv: 'Ed25519', x: X });
  });

  it('publicKeyFromJwk refuses an x that is not a 32-byte key: GNC_CERT_INVALID', () => {
    expect(codeOf(() => publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }))).toBe('GNC_CERT_INVALID');
  });

  it('publicJwkOf refuses a key that is not Ed25519', () => {
    const { publicKey } = generateKeyPairSync('x25519');
    expect(() => publicJwkOf(publicKey)).toThrow(TypeError);
  });

  it('the thumbprint does not depend on the member order of the JWK (RFC 7638 fixes it)', () => {
    const reordered = JSON.parse(`{"x":"${X}","crv":"Ed25519","kty":"OKP"}`) as Ed25519PublicJwk;
    expect(jwkThumbprint(reordered)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });
});
