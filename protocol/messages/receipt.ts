/**
 * Receipt body (contract "Receipt"): names the message, the SHA-256 of the exact JWS bytes received, and the
 * outcome. A rejection carries a stable GNC_ code and a sentence. The receipt itself travels as an envelope of
 * type "receipt" with `ref` = the message id, signed by the receiving node.
 */
import { z } from 'zod';
import { MAX_REASON_CHARS } from '../constants.js';
import { MessageId, UtcTimestamp } from '../envelope/payload.js';

/**
 * The code of a negative receipt: one of this version's codes (`ERROR_CODES`, protocol/errors.ts) or one a later
 * version of a partner's node added (SPEC section 5). A sender takes a code it does not know as it takes any rejection,
 * not as a broken receipt: refused, the receipt would leave the message queued and sent again until it expired,
 * although the partner answered it.
 */
export const ReceiptCode = z.string().regex(/^GNC_[A-Z0-9_]{1,60}$/, 'expected a GNC_ code: GNC_ then capital letters, digits or _');

export const ReceiptBody = z.strictObject({
  messageId: MessageId,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
  status: z.enum(['accepted', 'rejected']),
  code: ReceiptCode.optional(),
  reason: z.string().max(MAX_REASON_CHARS).optional(),
  received: UtcTimestamp,
});
export type ReceiptBody = z.infer<typeof ReceiptBody>;

/**
 * Whether a negative receipt refuses the envelope it answers, created at `created`, as older than the receiver's
 * acceptance window (SPEC section 4, check 15), not as ahead of its clock (check 14), which shares the code
 * GNC_CLOCK_SKEW. Told by the receipt's own signed content, not its wording: `received` is the receiver's clock when it
 * processed the envelope, and check 14 refuses only a `created` more than the clock skew after it, so an envelope
 * created before `received` was refused for its age.
 */
export function refusedAsTooOld(body: ReceiptBody, created: string): boolean {
  return body.status === 'rejected' && body.code === 'GNC_CLOCK_SKEW' && Date.parse(created) < Date.parse(body.received);
}
