/**
 * The signed payload of an envelope (contract "Envelope"): `{v, id, type, from, to, agreement, created, body}`
 * plus `ref` (amendments, cancellations, status changes, receipts name the message they are about) and
 * `purpose` (the processing purpose declared under the bilateral agreement, see protocol/SPEC.md).
 * The body is checked against the schema of its `type` separately (protocol/messages), so this schema
 * is the same for every message and for receipts.
 */
import { z } from 'zod';
import { PAYLOAD_VERSION } from '../constants.js';
import { CountryCode } from '../codes/countries.js';
import { MESSAGE_ID_PATTERN } from '../ids.js';

/** Which way a message went, seen from the node holding it: `in` received, `out` sent. */
export const MessageDirection = z.enum(['in', 'out']);
export type MessageDirection = z.infer<typeof MessageDirection>;

export const MessageId = z.string().regex(MESSAGE_ID_PATTERN, 'expected a message id: 1-64 characters of letters, digits, ".", "_", ":" or "-"');

/** RFC 3339 UTC timestamp with milliseconds, as written by `Date.prototype.toISOString`. */
export const UtcTimestamp = z.iso.datetime({ precision: 3, offset: false });

export const ENVELOPE_TYPES = ['aci', 'ecoo', 'aeo', 'receipt', 'agreement', 'key'] as const;
export const EnvelopeType = z.enum(ENVELOPE_TYPES);
export type EnvelopeType = z.infer<typeof EnvelopeType>;

export const EnvelopePayload = z.strictObject({
  v: z.literal(PAYLOAD_VERSION),
  id: MessageId,
  type: EnvelopeType,
  from: CountryCode,
  to: CountryCode,
  agreement: z.string().min(1).max(128).nullable(),
  created: UtcTimestamp,
  ref: MessageId.optional(),
  purpose: z.string().min(1).max(64).optional(),
  body: z.record(z.string(), z.unknown()),
});
export type EnvelopePayload = z.infer<typeof EnvelopePayload>;

/** Flattened JWS JSON serialization (RFC 7515 section 7.2.2), without the unprotected `header`. */
export const FlattenedJws = z.strictObject({
  protected: z.string().min(1),
  payload: z.string().min(1),
  signature: z.string().min(1),
});
export type FlattenedJws = z.infer<typeof FlattenedJws>;

/** Protected header of an envelope. Exactly these members: anything else (crit, jku, x5u...) is refused. */
export const EnvelopeHeader = z.strictObject({
  alg: z.literal('EdDSA'),
  kid: z.string().min(1).max(128),
  typ: z.string(),
});
export type EnvelopeHeader = z.infer<typeof EnvelopeHeader>;
