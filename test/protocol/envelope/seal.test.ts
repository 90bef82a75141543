/**
 * sealEnvelope (protocol/envelope/seal.ts): the exact shape of what goes on the wire, so that any JOSE library
 * can verify it (contract "Envelope"): flattened JWS, canonical protected header {alg, kid, typ}, payload = the
 * RFC 8785 form of the payload object, Ed25519 signature over ASCII(protected "." payload).
 */
import { flattenedVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { b64u, fromB64u } from '../../../protocol/envelope/base64url.js';
import { verifyEd25519 } from '../../../protocol/envelope/open.js';
import { keyObjectSigner, sealEnvelope, sha256Hex } from '../../../protocol/envelope/seal.js';
import { publicJwkOf } from '../../../protocol/jwk.js';
import { KZ, codeOf, payload } from './fixtures.js';

const decoder = new TextDecoder();

describe('sealEnvelope', () => {
  it('writes the protected header as the canonical JSON {"alg":"EdDSA","kid":<thumbprint>,"typ":"gnc+jws"}', () => {
    const { jws } = sealEnvelope(payload(), KZ.signer);
    expect(decoder.decode(fromB64u(jws.protected, 'h'))).toBe('{"alg":"EdDSA","kid":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","typ":"gnc+jws"}');
  });

  it('writes the payload as the base64url of the RFC 8785 canonical JSON of the payload object', () => {
    const p = payload();
    const { jws } = sealEnvelope(p, KZ.signer);
    expect(decoder.decode(fromB64u(jws.payload, 'p'))).toBe(canonicalJson(p));
    expect(decoder.decode(fromB64u(jws.payload, 'p')).startsWith('{"agreement":"KZ-KG-MRA-2026@1","body":{"kind":"change","reason":"test"},"created":')).toBe(true);
  });

  it('signs ASCII(protected "." payload) with Ed25519: the signature verifies as raw Ed25519', () => {
    const { jws } = sealEnvelope(payload(), KZ.signer);
    expect(verifyEd25519(new TextEncoder().encode(`${jws.protected}.${jws.payload}`), fromB64u(jws.signature, 's'), KZ.publicKey)).toBe(true);
  });

  it('is deterministic: the same payload and key give the same bytes and SHA-256', () => {
    const a = sealEnvelope(payload(), KZ.signer);
    const b = sealEnvelope(payload(), keyObjectSigner(KZ.kid, KZ.privateKey));
    expect(b.bytes).toStrictEqual(a.bytes);
    expect(b.sha256).toBe(a.sha256);
  });

  it('gives the same bytes whatever the member order of the payload object', () => {
    const p = payload();
    const reversed = Object.fromEntries(Object.entries(p).reverse()) as typeof p;
    expect(sealEnvelope(reversed, KZ.signer).bytes).toStrictEqual(sealEnvelope(p, KZ.signer).bytes);
  });

  it('reports sha256 as the lowercase hex SHA-256 of exactly the bytes it returns', () => {
    const s = sealEnvelope(payload(), KZ.signer);
    expect(s.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(s.sha256).toBe(sha256Hex(s.bytes));
  });

  it('produces an envelope that jose verifies as a flattened JWS with alg EdDSA and typ gnc+jws', async () => {
    const s = sealEnvelope(payload(), KZ.signer);
    const key = await importJWK(publicJwkOf(KZ.publicKey), 'EdDSA');
    const r = await flattenedVerify(JSON.parse(decoder.decode(s.bytes)) as typeof s.jws, key, { algorithms: ['EdDSA'] });
    expect(r.protectedHeader).toStrictEqual({ alg: 'EdDSA', kid: KZ.kid, typ: 'gnc+jws' });
    expect(decoder.decode(r.payload)).toBe(canonicalJson(payload()));
  });

  it('refuses a body that has no JSON form (NaN): GNC_SCHEMA_INVALID', () => {
    expect(codeOf(() => sealEnvelope(payload({ body: { kind: 'change', n: Number.NaN } }), KZ.signer))).toBe('GNC_SCHEMA_INVALID');
  });

  it('keyObjectSigner refuses a key that is not Ed25519', () => {
    expect(() => keyObjectSigner('x', { asymmetricKeyType: 'x25519' } as unknown as typeof KZ.privateKey)).toThrow(TypeError);
  });
});

describe('base64url (RFC 7515 section 2, RFC 4648 section 5)', () => {
  it('b64u writes no padding and the URL-safe alphabet', () => {
    expect(b64u(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(b64u('Example of Ed25519 signing')).toBe('RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc');
  });

  it('fromB64u reads what b64u wrote, for every length mod 3', () => {
    for (const bytes of [new Uint8Array(0), Uint8Array.of(1), Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)]) {
      expect(fromB64u(b64u(bytes), 'x')).toStrictEqual(bytes);
    }
  });

  it('fromB64u refuses padding, the standard alphabet and an impossible length: GNC_ENVELOPE_MALFORMED', () => {
    expect(codeOf(() => fromB64u('-_8=', 'x'))).toBe('GNC_ENVELOPE_MALFORMED');
    expect(codeOf(() => fromB64u('+/8', 'x'))).toBe('GNC_ENVELOPE_MALFORMED');
    expect(codeOf(() => fromB64u('AAAAA', 'x'))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('fromB64u refuses non-zero pad bits in the last character, so each byte string has one spelling: GNC_ENVELOPE_MALFORMED', () => {
    // "-_8" is 0xfb 0xff; "-_9" decodes to the same two bytes with a pad bit set
    expect(Buffer.from('-_9', 'base64url')).toStrictEqual(Buffer.from('-_8', 'base64url'));
    expect(codeOf(() => fromB64u('-_9', 'x'))).toBe('GNC_ENVELOPE_MALFORMED');
    // one byte: 4 pad bits ("AQ" is 0x01, "AR" the same byte with a pad bit set)
    expect(codeOf(() => fromB64u('AR', 'x'))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('fromB64u accepts exactly the strict spellings and says why it refuses the others, for every text of up to two characters and many of three', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // RFC 7515 section 2 and RFC 4648 section 3.5, as rules: the alphabet, no impossible length, zero pad bits
    const padBitsSet = (t: string): boolean => ((({ 2: 0x0f, 3: 0x03 }[t.length % 4] ?? 0) & alphabet.indexOf(t[t.length - 1]!)) !== 0);
    const strict = (t: string): boolean => /^[A-Za-z0-9_-]*$/.test(t) && t.length % 4 !== 1 && !padBitsSet(t);
    const chars = [...alphabet, '=', '+', '/', ' ', '.', 'é', '\n'];
    // every text of up to two characters, and of three after a few prefixes (every last character: its pad bits)
    const texts = ['', ...chars, ...chars.flatMap((a) => chars.map((b) => a + b))];
    for (const prefix of ['AA', '-_', 'A=', '+/', 'é0']) texts.push(...chars.map((c) => prefix + c));
    const wrong: string[] = [];
    for (const t of texts) {
      let refusal: string | undefined;
      try {
        if (b64u(fromB64u(t, 'x')) !== t) wrong.push(`${JSON.stringify(t)} read back otherwise`);
      } catch (err) {
        refusal = (err as Error).message;
      }
      const reason = /^[A-Za-z0-9_-]*$/.test(t) && t.length % 4 !== 1 ? /unused bits of the last character/ : /not base64url \(RFC 7515\)/;
      if (strict(t) ? refusal !== undefined : !reason.test(refusal ?? '')) wrong.push(`${JSON.stringify(t)}: ${refusal ?? 'accepted'}`);
    }
    expect(wrong).toEqual([]);
  });
});
