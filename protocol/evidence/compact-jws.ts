/**
 * Decoding of the compact JWS documents that evidence carries (checkpoints, key notices, node certificates)
 * without verifying them, so that each verifier can check the signature with the implementation it trusts:
 * node:crypto in the running node, @noble/ed25519 in the offline auditor. Works from allowlists: the header
 * is exactly {alg: EdDSA, kid, typ: <expected>}, the payload passes its schema and, where the format says
 * so, is in RFC 8785 form (one object, one byte string: no malleable re-encodings of signed evidence).
 */
import { z } from 'zod';
import { JWS_ALG } from '../constants.js';
import { GncError, type GncErrorCode } from '../errors.js';
import { fromB64u } from '../envelope/base64url.js';
import { canonicalJson } from '../envelope/canonical.js';
import { parseSignedPart } from '../envelope/signed-json.js';
import { verifyJwsSignature } from '../envelope/open.js';
import { publicKeyFromJwk, type Ed25519PublicJwk } from '../jwk.js';
import { zodIssues } from '../validate.js';

export const CompactJwsHeader = z.strictObject({ alg: z.literal(JWS_ALG), kid: z.string().min(1).max(128), typ: z.string() });
export type CompactJwsHeader = z.infer<typeof CompactJwsHeader>;

export interface DecodedCompactJws<T> {
  header: CompactJwsHeader;
  payload: T;
  /** ASCII bytes of `protected.payload`: what the signature covers. */
  signingInput: Uint8Array;
  /** The raw signature bytes (64 for Ed25519 when well formed; length is checked by the verifier). */
  signature: Uint8Array;
}

export interface DecodeOptions<S extends z.ZodType> {
  typ: string;
  schema: S;
  /** Names the document in messages ("Checkpoint", "Key notice"). */
  what: string;
  /** Code for a malformed document. */
  code: GncErrorCode;
  /** Require the payload bytes to be the RFC 8785 form of the payload (true for evidence formats). */
  canonical: boolean;
}

const encoder = new TextEncoder();
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function jsonPart(part: string, what: string, code: GncErrorCode): { value: unknown; text: string } {
  return parseSignedPart(part, { what, code, notJson: `${what} is not base64url-encoded UTF-8 JSON.` });
}

/** Split, parse and schema-check a compact JWS; never use the result for trust before the signature is checked. */
export function decodeCompactJws<S extends z.ZodType>(compact: string, opts: DecodeOptions<S>): DecodedCompactJws<z.output<S>> {
  if (!COMPACT.test(compact)) {
    throw new GncError(opts.code, `${opts.what} must be a compact JWS: three base64url parts separated by dots (RFC 7515 section 7.1).`);
  }
  const [h, p, s] = compact.split('.') as [string, string, string];
  const header = CompactJwsHeader.safeParse(jsonPart(h, `${opts.what} header`, opts.code).value);
  if (!header.success || header.data.typ !== opts.typ) {
    throw new GncError(opts.code, `${opts.what} header must be exactly {"alg":"EdDSA","kid":<thumbprint>,"typ":"${opts.typ}"}; other algorithms and members are refused.`);
  }
  const body = jsonPart(p, `${opts.what} payload`, opts.code);
  const parsed = opts.schema.safeParse(body.value);
  if (!parsed.success) {
    const first = zodIssues(parsed.error, body.value)[0];
    throw new GncError(opts.code, `${opts.what} payload is invalid: ${first?.message ?? 'unknown problem'}.`);
  }
  if (opts.canonical && canonicalJson(body.value) !== body.text) {
    throw new GncError(opts.code, `${opts.what} payload is not in RFC 8785 canonical form.`);
  }
  let signature: Uint8Array;
  try {
    signature = fromB64u(s, `${opts.what} signature`);
  } catch {
    throw new GncError(opts.code, `${opts.what} signature is not base64url.`);
  }
  return { header: header.data, payload: parsed.data as z.output<S>, signingInput: encoder.encode(`${h}.${p}`), signature };
}

/** Signature check with node:crypto (the running node's path; the offline auditor uses noble instead). */
export function verifyCompactWithNode(compact: string, jwk: Ed25519PublicJwk): boolean {
  const [h, p, s] = compact.split('.') as [string, string, string];
  return verifyJwsSignature({ protected: h, payload: p, signature: s }, publicKeyFromJwk(jwk));
}
