/**
 * RFC 8785 JSON Canonicalization Scheme. The signed payload of every envelope, certificate and agreement is
 * the JCS form of its object, so two implementations that agree on the object agree on the signed bytes.
 * Delegates to `canonicalize` (the reference implementation by the RFC's authors); tested against the
 * RFC's own examples in test/vectors/rfc8785.json.
 */
import canonicalizeImpl from 'canonicalize';
import { GncError } from '../errors.js';

const encoder = new TextEncoder();

/** The canonical JSON text of a JSON value; throws GNC_SCHEMA_INVALID for values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalizeImpl(value);
  } catch (err) {
    throw new GncError('GNC_SCHEMA_INVALID', `Value cannot be canonicalized as JSON (RFC 8785): ${(err as Error).message}. Remove NaN, Infinity, lone surrogates or cycles.`, { cause: err });
  }
  if (text === undefined) {
    throw new GncError('GNC_SCHEMA_INVALID', 'Value cannot be canonicalized as JSON (RFC 8785): it has no JSON form (undefined or a function).');
  }
  return text;
}

/** UTF-8 bytes of the canonical JSON text. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}
