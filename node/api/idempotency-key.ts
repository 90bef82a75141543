/**
 * The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header): a Structured Field string
 * ("...") or, as many clients send it, the bare key. A malformed key is refused rather than ignored: ignoring
 * it would turn the client's retry into a second message for the partner.
 */
import { IdempotencyKey } from '../../protocol/api/schemas.js';
import { GncError } from '../../protocol/errors.js';

const FORM = /^\s*(?:"([^"\\]*)"|([^\s",;\\]+))\s*$/;

export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = FORM.exec(header);
  const key = m?.[1] ?? m?.[2];
  if (key === undefined || !IdempotencyKey.safeParse(key).success) {
    throw new GncError('GNC_IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1 to 255 printable ASCII characters without " or \\, quoted or bare (Idempotency-Key: "KZ-SW-2026-000123"); send the submission again with such a key.');
  }
  return key;
}
