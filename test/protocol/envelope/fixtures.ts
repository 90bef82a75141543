/**
 * Shared fixtures of the envelope tests: two node keys from published vectors (KZ = RFC 8037 appendix A.1,
 * which is RFC 8032 TEST 1; KG = RFC 8032 TEST 2), so every signature in these tests is reproducible, a fixed
 * clock, a payload, the open options of the KG node, and helpers to build hostile envelopes by hand.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_AGE_MS } from '../../../protocol/constants.js';
import type { OpenOptions, VerificationKey } from '../../../protocol/envelope/open.js';
import type { EnvelopePayload, FlattenedJws } from '../../../protocol/envelope/payload.js';
import { encodeFlattened, keyObjectSigner, type Signer } from '../../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';

interface Rfc8032Vector {
  name: string;
  secretKey: string;
  publicKey: string;
}

const rfc8032 = JSON.parse(readFileSync(new URL('../../vectors/rfc8032.json', import.meta.url), 'utf8')) as { vectors: Rfc8032Vector[] };

export interface TestNode {
  country: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  signer: Signer;
}

function nodeFromVector(country: string, name: string): TestNode {
  const v = rfc8032.vectors.find((x) => x.name === name);
  if (!v) throw new Error(`RFC 8032 vector ${name} missing`);
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(v.secretKey, 'hex').toString('base64url'), x: Buffer.from(v.publicKey, 'hex').toString('base64url') },
    format: 'jwk',
  });
  const kid = jwkThumbprint(publicJwkOf(privateKey));
  return { country, privateKey, publicKey: createPublicKey(privateKey), kid, signer: keyObjectSigner(kid, privateKey) };
}

/** The KZ node: the RFC 8037 appendix A.1 key (kid kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k). */
export const KZ = nodeFromVector('KZ', 'TEST 1');
/** The KG node: RFC 8032 TEST 2. */
export const KG = nodeFromVector('KG', 'TEST 2');
/** A third key, never certified by anyone in these tests. */
export const STRANGER = nodeFromVector('CN', 'TEST 3');

export const NOW = Date.parse('2026-11-24T09:30:00.000Z');
export const CERT_NOT_BEFORE = Date.parse('2026-01-01T00:00:00.000Z');
export const CERT_NOT_AFTER = Date.parse('2027-01-01T00:00:00.000Z');

export function verificationKey(node: TestNode, overrides: Partial<VerificationKey> = {}): VerificationKey {
  return { kid: node.kid, publicKey: node.publicKey, country: node.country, notBefore: CERT_NOT_BEFORE, notAfter: CERT_NOT_AFTER, ...overrides };
}

/** Open options of the KG node, which trusts the KZ node key only. */
export function kgOptions(overrides: Partial<OpenOptions> = {}, keys: VerificationKey[] = [verificationKey(KZ)]): OpenOptions {
  const byKid = new Map(keys.map((k) => [k.kid, k]));
  return { resolveKey: (kid) => byKid.get(kid), self: 'KG', now: NOW, clockSkewMs: DEFAULT_CLOCK_SKEW_MS, maxAgeMs: DEFAULT_MAX_MESSAGE_AGE_MS, ...overrides };
}

export function payload(overrides: Partial<EnvelopePayload> = {}): EnvelopePayload {
  return {
    v: 1,
    id: '019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b',
    type: 'aeo',
    from: 'KZ',
    to: 'KG',
    agreement: 'KZ-KG-MRA-2026@1',
    created: new Date(NOW - 2_000).toISOString(),
    purpose: 'aeo-mra-benefits',
    body: { kind: 'change', reason: 'test' },
    ...overrides,
  };
}

const encoder = new TextEncoder();

/** A JWS over any header and payload text, correctly signed: for envelopes that are signed but not acceptable. */
export function signRaw(header: unknown, payloadText: string, signer: Signer = KZ.signer): FlattenedJws {
  const protectedB64 = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
  const payloadB64 = Buffer.from(payloadText, 'utf8').toString('base64url');
  const signature = signer.sign(encoder.encode(`${protectedB64}.${payloadB64}`));
  return { protected: protectedB64, payload: payloadB64, signature: Buffer.from(signature).toString('base64url') };
}

export function bytesOf(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export { encodeFlattened };

export { codeOf } from '../../helpers/errors.js';
