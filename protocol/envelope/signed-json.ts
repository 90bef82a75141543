/**
 * The one reader of signed JSON and JOSE headers (SPEC section 1, "Signed JSON"): JSON.parse, and then a refusal
 * of what two readers of the same bytes would read differently. JSON.parse keeps the last of two members of one
 * name, another reader (an auditor's JOSE library, SPEC 9.8) may keep the first; and a member named `__proto__` is
 * an own member for JSON.parse but the prototype for a reader that assigns members one by one. Envelopes, protected
 * headers, compact JWS documents (certificates, notices, checkpoints, statements), agreements and evidence bundles
 * are all read here, so each of them is refused alike wherever it is read: on the wire, by the offline verifier, by
 * the export and by the CLI. The scan costs one pass over the text outside strings (a string is skipped with one
 * indexOf), so a 2 MiB envelope, which is one object of three base64url strings, costs a few steps.
 */
import { GncError, type GncErrorCode } from '../errors.js';
import { fromB64u } from './base64url.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

export interface SignedJsonRead {
  /** Names the document in messages ("Envelope", "Protected header"). */
  what: string;
  /** The code of a member twice or named `__proto__`. */
  code: GncErrorCode;
  /** The sentence for bytes that are not UTF-8 JSON (default: `<what> is not UTF-8 JSON.`). */
  notJson?: string;
  /** The code for bytes that are not UTF-8 JSON, when it is not `code`. */
  notJsonCode?: GncErrorCode;
}

/** A member JSON readers disagree on: its JSON pointer (RFC 6901) and whether it is named `__proto__`. */
export interface AmbiguousMember {
  pointer: string;
  proto: boolean;
}

const pointerPart = (s: string | number): string => String(s).replaceAll('~', '~0').replaceAll('/', '~1');

/** Whether the quote at `end` is escaped (an odd number of backslashes before it). */
function escaped(text: string, end: number): boolean {
  let n = 0;
  for (let k = end - 1; text.charCodeAt(k) === 0x5c; k--) n++;
  return n % 2 === 1;
}

/**
 * The first member of `text` (valid JSON, as JSON.parse accepted it) named twice in its object or named
 * `__proto__`, or undefined.
 */
export function ambiguousMember(text: string): AmbiguousMember | undefined {
  // one level per open object (the names read so far) or array; `at` is the member or index being read
  const levels: { names: Set<string> | undefined; at: string | number }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let end = text.indexOf('"', i + 1);
      while (escaped(text, end)) end = text.indexOf('"', end + 1);
      const top = levels[levels.length - 1];
      let j = end + 1;
      while (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d || text.charCodeAt(j) === 0x09) j++;
      if (top?.names !== undefined && text.charCodeAt(j) === 0x3a) {
        const raw = text.slice(i + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (name === '__proto__' || top.names.has(name)) {
          return { pointer: [...levels.slice(0, -1).map((l) => l.at), name].map((p) => '/' + pointerPart(p)).join(''), proto: name === '__proto__' };
        }
        top.names.add(name);
        top.at = name;
        i = j;
      } else {
        i = end;
      }
    } else if (c === 0x7b) {
      levels.push({ names: new Set(), at: '' });
    } else if (c === 0x5b) {
      levels.push({ names: undefined, at: 0 });
    } else if (c === 0x7d || c === 0x5d) {
      levels.pop();
    } else if (c === 0x2c) {
      const top = levels[levels.length - 1];
      if (top !== undefined && top.names === undefined) top.at = (top.at as number) + 1;
    }
  }
  return undefined;
}

/** The refusal of an ambiguous member of `what`, naming its path (the issue other refusals carry too). */
function ambiguousError(m: AmbiguousMember, read: SignedJsonRead): GncError {
  const message = m.proto
    ? `${read.what} has a member named "__proto__" at ${m.pointer}: JSON readers differ on whether it is a member, so signed JSON carries none: leave it out.`
    : `${read.what} has the member ${m.pointer} twice: JSON readers differ on which copy they keep, so signed JSON names each member once: write it once.`;
  return new GncError(read.code, message, { issues: [{ path: m.pointer, expected: 'each member once, none named "__proto__"', received: m.proto ? 'a member named "__proto__"' : 'the member twice', message: `${m.pointer}: ${m.proto ? 'member named "__proto__"' : 'member twice'}` }] });
}

/** Reads signed JSON (UTF-8 bytes or text) as every reader reads it alike, or throws a GncError (SignedJsonRead). */
export function parseSignedJson(input: Uint8Array | string, read: SignedJsonRead): unknown {
  let value: unknown;
  let text: string;
  try {
    text = typeof input === 'string' ? input : decoder.decode(input);
    value = JSON.parse(text);
  } catch {
    throw new GncError(read.notJsonCode ?? read.code, read.notJson ?? `${read.what} is not UTF-8 JSON.`);
  }
  const m = ambiguousMember(text);
  if (m !== undefined) throw ambiguousError(m, read);
  return value;
}

/**
 * A base64url part of a JWS (header or payload) read as signed JSON: its UTF-8 text, which canonical-form checks compare
 * with, and its value. Bytes that are no base64url, no UTF-8 or no JSON are one refusal (`notJsonCode` or `code`, with
 * `notJson`); a member twice or named `__proto__` is `code` (parseSignedJson).
 */
export function parseSignedPart(part: string, read: SignedJsonRead): { value: unknown; text: string } {
  let text: string;
  try {
    text = decoder.decode(fromB64u(part, read.what));
  } catch {
    throw new GncError(read.notJsonCode ?? read.code, read.notJson ?? `${read.what} is not base64url of UTF-8 JSON.`);
  }
  return { value: parseSignedJson(text, read), text };
}
