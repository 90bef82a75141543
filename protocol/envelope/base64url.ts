/**
 * base64url without padding (RFC 7515 section 2), strict on decode: JWS parts must not smuggle other alphabets,
 * and the unused low bits of the last character must be zero (RFC 4648 section 3.5), so that each byte string
 * has exactly one spelling. Otherwise one signed envelope would travel as several byte sequences with different
 * SHA-256 values, and receipts, duplicate detection and the evidence log all name envelopes by that hash.
 */
import { GncError } from '../errors.js';

const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64u(data: Uint8Array | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return buf.toString('base64url');
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Pad bits in the last character when the length mod 4 is 2 (4 bits) or 3 (2 bits). */
const PAD_MASK: Record<number, number> = { 2: 0x0f, 3: 0x03 };

export function fromB64u(text: string, what: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64url');
  // Buffer.from passes over what is not base64url; the text is strict (the alphabet, no padding, zero pad bits) exactly
  // when it is the one spelling of the bytes it decodes to: one encode and compare instead of a scan of each rule
  if (bytes.toString('base64url') !== text) throw notStrict(text, what);
  return new Uint8Array(bytes);
}

/** Why `text`, which is not the one spelling of its bytes, is refused. */
function notStrict(text: string, what: string): GncError {
  const mask = PAD_MASK[text.length % 4];
  if (B64URL.test(text) && text.length % 4 !== 1 && mask !== undefined && (ALPHABET.indexOf(text[text.length - 1]!) & mask) !== 0) {
    return new GncError('GNC_ENVELOPE_MALFORMED', `${what} is not canonical base64url (RFC 4648 section 3.5): the unused bits of the last character must be zero.`);
  }
  return new GncError('GNC_ENVELOPE_MALFORMED', `${what} is not base64url (RFC 7515): use the URL-safe alphabet without padding.`);
}
