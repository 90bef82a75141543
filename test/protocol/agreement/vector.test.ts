/**
 * The published test vector of protocol/SPEC.md section 8 (agreement-vector.json): two root keys from
 * RFC 8032 section 7.1 (TEST 1 is also RFC 8037 appendix A.1, whose thumbprint RFC 8037 A.3 publishes),
 * a document signed by both and a suspension notice. Ed25519 is deterministic, so the bytes must match
 * exactly; @noble/ed25519 checks the signatures independently of node:crypto with strict RFC 8032 rules.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { signAgreement, signNotice, verifyAgreement, verifyNotice, type AgreementNotice, type SignedAgreement } from '../../../protocol/agreement/index.js';
import { keyObjectSigner } from '../../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf, type Ed25519PublicJwk } from '../../../protocol/jwk.js';

interface Vector {
  keys: { country: string; privateJwk: { kty: 'OKP'; crv: 'Ed25519'; d: string; x: string }; fingerprint: string }[];
  document: unknown;
  signed: SignedAgreement;
  notice: AgreementNotice;
  noticeCompact: string;
}

const vector = JSON.parse(readFileSync(new URL('./agreement-vector.json', import.meta.url), 'utf8')) as Vector;
const keys = vector.keys.map((k) => {
  const privateKey = createPrivateKey({ key: k.privateJwk, format: 'jwk' });
  return { ...k, jwk: publicJwkOf(privateKey), signer: keyObjectSigner(k.fingerprint, privateKey) };
});
const roots = new Map<string, Ed25519PublicJwk>(keys.map((k) => [k.country, k.jwk]));

describe('agreement test vector', () => {
  it('uses the RFC 8037 appendix A.3 thumbprint for the RFC 8037 key', () => {
    expect(jwkThumbprint(keys[0]!.jwk)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
    for (const k of keys) expect(jwkThumbprint(k.jwk)).toBe(k.fingerprint);
  });

  it('reproduces the signed agreement byte for byte', () => {
    const signed = signAgreement(signAgreement(vector.document, keys[0]!.signer), keys[1]!.signer);
    expect(JSON.stringify(signed)).toBe(JSON.stringify(vector.signed));
  });

  it('verifies the signed agreement as complete', () => {
    expect(verifyAgreement(vector.signed, roots)).toMatchObject({ signedBy: ['KZ', 'KG'], complete: true });
  });

  it('has signatures that @noble/ed25519 verifies with strict RFC 8032 rules', async () => {
    for (const [i, sig] of vector.signed.signatures.entries()) {
      const input = new TextEncoder().encode(`${sig.protected}.${vector.signed.payload}`);
      const publicKey = Buffer.from(keys[i]!.jwk.x, 'base64url');
      expect(await ed.verifyAsync(Buffer.from(sig.signature, 'base64url'), input, publicKey, { zip215: false })).toBe(true);
    }
  });

  it('reproduces and verifies the suspension notice', () => {
    expect(signNotice(vector.notice, keys[1]!.signer)).toBe(vector.noticeCompact);
    expect(verifyNotice(vector.noticeCompact, roots)).toEqual(vector.notice);
  });
});
