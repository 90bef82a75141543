import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyObjectSigner, sealEnvelope } from '../../../protocol/envelope/seal.js';
import { BUNDLE_FORMAT, buildBundle, envelopeBytes, parseBundle, type BundleParts } from '../../../protocol/evidence/bundle.js';
import { GncError } from '../../../protocol/errors.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';

const { privateKey } = generateKeyPairSync('ed25519');
const jwk = publicJwkOf(privateKey);
const signer = keyObjectSigner(jwkThumbprint(jwk), privateKey);
const sealed = sealEnvelope({ v: 1, id: 'm-1', type: 'aeo', from: 'KZ', to: 'KG', agreement: null, created: '2026-03-01T08:00:00.000Z', body: { kind: 'snapshot' } }, signer);

function parts(envelopes: BundleParts['envelopes']): BundleParts {
  return { exportedBy: { country: 'KZ', kid: signer.kid }, roots: [{ country: 'KZ', jwk }], certificates: ['a.b.c', 'a.b.c'], envelopes, entries: [], checkpoints: [] };
}

describe('evidence bundle', () => {
  it('builds a bundle that passes its own schema', () => {
    const bundle = buildBundle(parts([sealed.bytes]));
    expect(parseBundle(JSON.parse(JSON.stringify(bundle)))).toEqual(bundle);
    expect(bundle.format).toBe(BUNDLE_FORMAT);
  });

  it('stores the fingerprint of each root as its RFC 7638 thumbprint', () => {
    expect(buildBundle(parts([])).roots[0]!.fingerprint).toBe(jwkThumbprint(jwk));
  });

  it('keeps each envelope and document once', () => {
    const bundle = buildBundle(parts([sealed.bytes, sealed.jws, new Uint8Array(sealed.bytes)]));
    expect(bundle.envelopes).toHaveLength(1);
    expect(bundle.certificates).toEqual(['a.b.c']);
  });

  it('stands for the exact sealed bytes without a text copy when they are in fixed member order', () => {
    const [env] = buildBundle(parts([sealed.bytes])).envelopes;
    expect(env!.text).toBeUndefined();
    expect(Buffer.from(envelopeBytes(env!)).equals(Buffer.from(sealed.bytes))).toBe(true);
  });

  it('keeps the received text when another implementation ordered the members differently', () => {
    const received = new TextEncoder().encode(JSON.stringify({ signature: sealed.jws.signature, payload: sealed.jws.payload, protected: sealed.jws.protected }));
    const [env] = buildBundle(parts([received])).envelopes;
    expect(Buffer.from(envelopeBytes(env!)).equals(Buffer.from(received))).toBe(true);
  });

  it('refuses a bundle with members the format does not define with GNC_SCHEMA_INVALID', () => {
    const bundle = { ...buildBundle(parts([])), extra: true };
    expect(() => parseBundle(bundle)).toThrow(GncError);
    try {
      parseBundle(bundle);
    } catch (err) {
      expect((err as GncError).code).toBe('GNC_SCHEMA_INVALID');
    }
  });
});
