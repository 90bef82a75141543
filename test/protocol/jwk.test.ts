/**
 * Ed25519 public JWKs (protocol/jwk.ts) beyond the RFC 8037 vectors (test/vectors/rfc8037.test.ts): the strict
 * schema partners' identity files are read with, and the errors for keys that are not Ed25519.
 */
import { createPublicKey, generateKeyPairSync, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromB64u } from '../../protocol/envelope/base64url.js';
import { Ed25519PublicJwk, jwkThumbprint, publicJwkOf, publicKeyFromJwk, weakPublicKey } from '../../protocol/jwk.js';
import { KZ, codeOf } from './envelope/fixtures.js';

const X = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo'; // RFC 8037 A.2

const hex = (h: string): string => Buffer.from(h, 'hex').toString('base64url');
/** The eight points of small order (the 8-torsion of edwards25519), canonically encoded (libsodium's list). */
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
].map(hex);
const WEAK = {
  identity: SMALL_ORDER[0]!,
  /** y = p + 1: a non-canonical encoding of the identity that OpenSSL reads as y = 1 */
  identityPlusP: hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  /** y = p: a non-canonical encoding of y = 0 */
  zeroPlusP: hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  order8: SMALL_ORDER[6]!,
};

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

  it('publicKeyFromJwk refuses the small-order points and non-canonical encodings that node:crypto would verify under: GNC_CERT_INVALID', () => {
    const identity = { kty: 'OKP', crv: 'Ed25519', x: WEAK.identity } as const;
    // the reason: OpenSSL accepts R = identity, S = 0 under the identity point for every message
    const trivial = new Uint8Array(64);
    trivial[0] = 1;
    expect(nodeVerify(null, Buffer.from('any message'), createPublicKey({ key: identity, format: 'jwk' }), trivial)).toBe(true);
    for (const x of Object.values(WEAK)) expect(codeOf(() => publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x })), x).toBe('GNC_CERT_INVALID');
  });

  it('weakPublicKey names each of the eight points of small order, and no key node:crypto generates', () => {
    for (const x of SMALL_ORDER) expect(weakPublicKey(fromB64u(x, 'x')), x).toMatch(/small order/);
    expect(weakPublicKey(fromB64u(WEAK.identityPlusP, 'x'))).toMatch(/non-canonical/);
    for (let i = 0; i < 20; i++) expect(weakPublicKey(fromB64u(publicJwkOf(generateKeyPairSync('ed25519').privateKey).x, 'x'))).toBeUndefined();
    expect(weakPublicKey(fromB64u(X, 'x'))).toBeUndefined();
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
