/** base64url without padding (RFC 7515 section 2), strict on decode: JWS parts must not smuggle other alphabets. */
import { GncError } from '../errors.js';

const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64u(data: Uint8Array | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return buf.toString('base64url');
}

export function fromB64u(text: string, what: string): Uint8Array {
  if (!B64URL.test(text) || text.length % 4 === 1) {
    throw new GncError('GNC_ENVELOPE_MALFORMED', `${what} is not base64url (RFC 7515): use the URL-safe alphabet without padding.`);
  }
  return new Uint8Array(Buffer.from(text, 'base64url'));
}
