/**
 * Idempotency keys as clients give them: the `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-
 * key-header), a Structured Field string ("...") or, as many clients send it, the bare key; and the value of
 * `gnc send --idempotency-key`. A malformed key is refused rather than ignored: ignoring it would turn the
 * client's retry into a second message for the partner.
 */
import { IdempotencyKey } from '../../protocol/api/schemas.js';
import { GncError } from '../../protocol/errors.js';

const FORM = /^\s*(?:"([^"\\]*)"|([^\s",;\\]+))\s*$/;

/** The key, if it is one (1 to 255 printable ASCII characters without `"` and `\`); `given` names where it came from. */
export function checkedIdempotencyKey(key: string | undefined, given: string): string {
  if (key === undefined || !IdempotencyKey.safeParse(key).success) {
    throw new GncError('GNC_IDEMPOTENCY_KEY_INVALID', `${given} must be 1 to 255 printable ASCII characters without " or \\: give such a key and submit again.`);
  }
  return key;
}

export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = FORM.exec(header);
  return checkedIdempotencyKey(m?.[1] ?? m?.[2], 'Idempotency-Key, quoted or bare (Idempotency-Key: "KZ-SW-2026-000123"),');
}
