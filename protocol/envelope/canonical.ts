/**
 * RFC 8785 JSON Canonicalization Scheme. The signed payload of every envelope, certificate and agreement is
 * the JCS form of its object, so two implementations that agree on the object agree on the signed bytes.
 * `canonicalize` (the reference implementation by the RFC's authors) decides every case; a fast path gives
 * the same text for the common one (tested against it in test/protocol/envelope/canonical.test.ts and
 * against the RFC's own examples in test/vectors/rfc8785.json).
 */
import canonicalizeImpl from 'canonicalize';
import { GncError } from '../errors.js';

const encoder = new TextEncoder();

/**
 * Nesting depth the fast path follows. The product's documents nest under 10 levels; a deeper tree, or a cycle,
 * takes the reference path (which reports cycles as errors).
 */
const FAST_PATH_MAX_DEPTH = 64;

/** ES2024 `String.prototype.isWellFormed` (Node 20): false when the string holds a lone surrogate. */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * True when JSON.stringify already writes the RFC 8785 form of `value`: a tree of null, booleans, finite
 * numbers, well-formed strings, arrays without holes or undefined, and plain objects whose own keys are
 * listed in strictly increasing UTF-16 code-unit order with no undefined, function or symbol values. Both
 * serializations then agree member by member (JSON.stringify follows Object.keys order; numbers and
 * strings are written by the same ECMAScript routines RFC 8785 names). Anything else (unsorted or
 * integer-like keys, toJSON, NaN, lone surrogates, cycles) returns false and goes the reference way.
 */
function writesCanonically(value: unknown, depth = 0): boolean {
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value === 'string') return isWellFormed(value);
  if (typeof value !== 'object' || depth > FAST_PATH_MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || !writesCanonically(value[i], depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  let prev: string | undefined;
  for (const key of Object.keys(value)) {
    if ((prev !== undefined && !(prev < key)) || !isWellFormed(key)) return false;
    if (!writesCanonically((value as Record<string, unknown>)[key], depth + 1)) return false;
    prev = key;
  }
  return true;
}

/** What sortedCopy returns for a tree it does not copy (undefined is a value a tree may hold). */
const NOT_COPIED = Symbol('not copied');

/** Whether a key starts with a digit: V8 lists array-index keys ("0", "12") first, whatever the insertion order. */
const startsWithDigit = (key: string): boolean => {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57;
};

/**
 * A copy of a tree of plain objects and arrays with every object's members inserted in sorted order, which
 * JSON.stringify then writes in its RFC 8785 form (as writesCanonically describes it), or NOT_COPIED when the
 * tree holds anything else (it then goes the reference way): what writesCanonically refuses (NaN, lone
 * surrogates, holes, undefined, functions, cycles past the depth bound), checked in the same pass as the copy (not
 * walked again), keys starting with a digit, which V8 may list first (array indexes) whatever the insertion order,
 * and `__proto__`.
 */
function sortedCopy(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : NOT_COPIED;
  if (typeof value === 'string') return isWellFormed(value) ? value : NOT_COPIED;
  if (typeof value !== 'object' || depth > FAST_PATH_MAX_DEPTH) return NOT_COPIED;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return NOT_COPIED;
      const c = sortedCopy(value[i], depth + 1);
      if (c === NOT_COPIED) return NOT_COPIED;
      out[i] = c;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return NOT_COPIED;
  const from = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(from).sort()) {
    // `__proto__` (an own member JSON.parse makes) would set the copy's prototype instead of adding a member
    if (startsWithDigit(key) || key === '__proto__' || !isWellFormed(key)) return NOT_COPIED;
    const c = sortedCopy(from[key], depth + 1);
    if (c === NOT_COPIED) return NOT_COPIED;
    out[key] = c;
  }
  return out;
}

/** The canonical JSON text of a JSON value; throws GNC_SCHEMA_INVALID for values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    if (writesCanonically(value)) return JSON.stringify(value);
    const copy = sortedCopy(value);
    if (copy !== NOT_COPIED) return JSON.stringify(copy);
  }
  let text: string | undefined;
  try {
    text = canonicalizeImpl(value);
  } catch (err) {
    // a stack overflow: arrays or objects nested thousands deep (no message body is more than a few levels)
    if (err instanceof RangeError) throw new GncError('GNC_SCHEMA_INVALID', 'Value is nested too deeply to be canonicalized as JSON (RFC 8785): check the document, no message body nests more than a few levels.', { cause: err });
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
