/**
 * RFC 8037 appendix A (rfc8037.json): the Ed25519 JWK, its RFC 7638 thumbprint and the EdDSA JWS example.
 * The thumbprint is every node's `kid` and every root's fingerprint; the JWS example shows that our signing
 * path (signJws + keyObjectSigner) writes the bytes any JOSE library expects, and that jose verifies them.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, compactVerify, flattenedVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyJwsSignature } from '../../protocol/envelope/open.js';
import { keyObjectSigner, signJws } from '../../protocol/envelope/seal.js';
import { Ed25519PublicJwk, jwkThumbprint, publicJwkOf, publicKeyFromJwk } from '../../protocol/jwk.js';

interface Rfc8037 {
  source: string;
  'A.1': { jwk: { kty: 'OKP'; crv: 'Ed25519'; d: string; x: string } };
  'A.2': { jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } };
  'A.3': { canonicalJson: string; sha256Hex: string; thumbprint: string };
  'A.4': { protectedHeader: string; protectedB64: string; payload: string; payloadB64: string; signingInput: string; signatureB64: string; compact: string };
}

const v = JSON.parse(readFileSync(new URL('./rfc8037.json', import.meta.url), 'utf8')) as Rfc8037;
const rfc8032 = JSON.parse(readFileSync(new URL('./rfc8032.json', import.meta.url), 'utf8')) as { vectors: { secretKey: string; publicKey: string }[] };
const privateKey = createPrivateKey({ key: v['A.1'].jwk, format: 'jwk' });
const publicJwk = Ed25519PublicJwk.parse(v['A.2'].jwk);

describe('RFC 8037 appendix A (test/vectors/rfc8037.json)', () => {
  it('names its source', () => {
    expect(v.source).toContain('RFC 8037');
    expect(v.source).toContain('Appendix A');
  });

  it('A.1 is the key of RFC 8032 TEST 1 (d is its secret key, x its public key)', () => {
    expect(Buffer.from(v['A.1'].jwk.d, 'base64url').toString('hex')).toBe(rfc8032.vectors[0]!.secretKey);
    expect(Buffer.from(v['A.1'].jwk.x, 'base64url').toString('hex')).toBe(rfc8032.vectors[0]!.publicKey);
  });

  it('A.2: publicJwkOf derives exactly the published public JWK from the private key of A.1', () => {
    expect(publicJwkOf(privateKey)).toStrictEqual(v['A.2'].jwk);
  });

  it('A.2: the public JWK passes the strict Ed25519PublicJwk schema and the private members do not', () => {
    expect(Ed25519PublicJwk.safeParse(v['A.2'].jwk).success).toBe(true);
    expect(Ed25519PublicJwk.safeParse(v['A.1'].jwk).success).toBe(false);
  });

  it('A.3: the thumbprint input is the published canonical JSON and hashes to the published SHA-256', () => {
    const digest = createHash('sha256').update(v['A.3'].canonicalJson, 'utf8').digest();
    expect(digest.toString('hex')).toBe(v['A.3'].sha256Hex);
    expect(digest.toString('base64url')).toBe(v['A.3'].thumbprint);
  });

  it('A.3: jwkThumbprint gives kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k, the same as jose', async () => {
    expect(jwkThumbprint(publicJwk)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
    expect(jwkThumbprint(publicJwk)).toBe(v['A.3'].thumbprint);
    expect(await calculateJwkThumbprint(v['A.2'].jwk, 'sha256')).toBe(v['A.3'].thumbprint);
  });

  it('A.3: jwkThumbprint depends on x: another key gives another thumbprint', () => {
    const other = { ...publicJwk, x: Buffer.from(rfc8032.vectors[1]!.publicKey, 'hex').toString('base64url') };
    expect(jwkThumbprint(other)).not.toBe(v['A.3'].thumbprint);
  });

  it('A.4: the protected header and payload encode to the published base64url parts', () => {
    expect(Buffer.from(v['A.4'].protectedHeader, 'utf8').toString('base64url')).toBe(v['A.4'].protectedB64);
    expect(Buffer.from(v['A.4'].payload, 'utf8').toString('base64url')).toBe(v['A.4'].payloadB64);
    expect(v['A.4'].compact).toBe(`${v['A.4'].signingInput}.${v['A.4'].signatureB64}`);
  });

  it('A.4: signJws with keyObjectSigner (the seal path) produces exactly the published JWS', () => {
    const jws = signJws({ alg: 'EdDSA' }, new TextEncoder().encode(v['A.4'].payload), keyObjectSigner(v['A.3'].thumbprint, privateKey));
    expect(jws).toStrictEqual({ protected: v['A.4'].protectedB64, payload: v['A.4'].payloadB64, signature: v['A.4'].signatureB64 });
    expect(`${jws.protected}.${jws.payload}.${jws.signature}`).toBe(v['A.4'].compact);
  });

  it('A.5: verifyJwsSignature (the open path) accepts the published JWS under the A.2 key', () => {
    const [p, pl, s] = v['A.4'].compact.split('.') as [string, string, string];
    expect(verifyJwsSignature({ protected: p, payload: pl, signature: s }, publicKeyFromJwk(publicJwk))).toBe(true);
  });

  it('A.5: verifyJwsSignature rejects the JWS with a changed payload', () => {
    const [p, , s] = v['A.4'].compact.split('.') as [string, string, string];
    const payload = Buffer.from('Example of Ed25519 signinG', 'utf8').toString('base64url');
    expect(verifyJwsSignature({ protected: p, payload, signature: s }, publicKeyFromJwk(publicJwk))).toBe(false);
  });

  it('A.5: jose verifies the published compact JWS and the flattened form of what signJws wrote', async () => {
    const key = await importJWK(v['A.2'].jwk, 'EdDSA');
    const compact = await compactVerify(v['A.4'].compact, key, { algorithms: ['EdDSA'] });
    expect(new TextDecoder().decode(compact.payload)).toBe(v['A.4'].payload);
    expect(compact.protectedHeader).toStrictEqual({ alg: 'EdDSA' });
    const jws = signJws({ alg: 'EdDSA' }, new TextEncoder().encode(v['A.4'].payload), keyObjectSigner(v['A.3'].thumbprint, privateKey));
    const flattened = await flattenedVerify(jws, key, { algorithms: ['EdDSA'] });
    expect(new TextDecoder().decode(flattened.payload)).toBe(v['A.4'].payload);
  });
});
