/**
 * Sealing: payload -> RFC 8785 canonical JSON -> flattened JWS signed with EdDSA (RFC 8037). The wire form is
 * the UTF-8 JSON text of `{protected, payload, signature}`; those exact bytes are what receipts hash and
 * what the evidence log keeps, so any JOSE library can verify them later without this code.
 */
import { createHash, sign as nodeSign, type KeyObject } from 'node:crypto';
import { ENVELOPE_TYP, JWS_ALG } from '../constants.js';
import { canonicalJson } from './canonical.js';
import { b64u } from './base64url.js';
import type { EnvelopePayload, FlattenedJws } from './payload.js';

/** Signs with the node key. `kid` is the RFC 7638 thumbprint of the public JWK. */
export interface Signer {
  readonly kid: string;
  sign(data: Uint8Array): Uint8Array;
}

/** A Signer over a node:crypto Ed25519 private KeyObject (made once; ~20k signatures/s on one core). */
export function keyObjectSigner(kid: string, privateKey: KeyObject): Signer {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('keyObjectSigner needs an Ed25519 private key');
  return { kid, sign: (data) => new Uint8Array(nodeSign(null, data, privateKey)) };
}

const encoder = new TextEncoder();

/** JWS over an arbitrary protected header and payload bytes; shared by envelopes, certificates and notices. */
export function signJws(header: Record<string, unknown>, payload: Uint8Array, signer: Signer): FlattenedJws {
  const protectedB64 = b64u(canonicalJson(header));
  const payloadB64 = b64u(payload);
  const signature = signer.sign(encoder.encode(`${protectedB64}.${payloadB64}`));
  return { protected: protectedB64, payload: payloadB64, signature: b64u(signature) };
}

export interface SealedEnvelope {
  jws: FlattenedJws;
  /** The exact bytes that go on the wire and into the store. */
  bytes: Uint8Array;
  /** Lowercase hex SHA-256 of `bytes`, as receipts name it. */
  sha256: string;
}

export function sealEnvelope(payload: EnvelopePayload, signer: Signer): SealedEnvelope {
  const jws = signJws({ alg: JWS_ALG, kid: signer.kid, typ: ENVELOPE_TYP }, encoder.encode(canonicalJson(payload)), signer);
  const bytes = encodeFlattened(jws);
  return { jws, bytes, sha256: sha256Hex(bytes) };
}

/** Fixed member order so the same JWS always has the same bytes. */
export function encodeFlattened(jws: FlattenedJws): Uint8Array {
  return encoder.encode(JSON.stringify({ protected: jws.protected, payload: jws.payload, signature: jws.signature }));
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 hex of a compact JWS (ASCII text), as evidence entries and the key-notice store name such documents. */
export function sha256Ascii(text: string): string {
  return createHash('sha256').update(text, 'ascii').digest('hex');
}
