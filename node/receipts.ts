/**
 * Makes and checks receipts (contract "Receipt"): an envelope of type "receipt", `ref` = the message id,
 * body naming the SHA-256 of the exact JWS bytes received and the outcome. Both directions use these two
 * functions, so what one node writes is exactly what the other checks.
 */
import { MAX_REASON_CHARS, PAYLOAD_VERSION } from '../protocol/constants.js';
import { sealEnvelope, type SealedEnvelope, type Signer } from '../protocol/envelope/seal.js';
import { openEnvelope, type OpenOptions, type OpenedEnvelope } from '../protocol/envelope/open.js';
import { GncError, type GncErrorCode } from '../protocol/errors.js';
import { newMessageId, MESSAGE_ID_PATTERN } from '../protocol/ids.js';
import { ReceiptBody } from '../protocol/messages/receipt.js';
import { parseWith } from '../protocol/validate.js';
import type { EnvelopePayload } from '../protocol/envelope/payload.js';

export interface ReceiptInput {
  self: string;
  to: string;
  messageId: string | undefined;
  sha256: string;
  agreement: string | null;
  outcome: { status: 'accepted' } | { status: 'rejected'; code: GncErrorCode; reason: string };
  now: number;
}

export function sealReceipt(signer: Signer, r: ReceiptInput): { sealed: SealedEnvelope; id: string; body: ReceiptBody } {
  const created = new Date(r.now).toISOString();
  // a refused envelope may carry no usable id; the receipt then names "unknown" and the hash identifies it
  const messageId = r.messageId !== undefined && MESSAGE_ID_PATTERN.test(r.messageId) ? r.messageId : 'unknown';
  const body: ReceiptBody =
    r.outcome.status === 'accepted'
      ? { messageId, sha256: r.sha256, status: 'accepted', received: created }
      : { messageId, sha256: r.sha256, status: 'rejected', code: r.outcome.code, reason: r.outcome.reason.slice(0, MAX_REASON_CHARS), received: created };
  const id = newMessageId(r.now);
  const sealed = sealEnvelope(
    { v: PAYLOAD_VERSION, id, type: 'receipt', from: r.self, to: r.to, agreement: r.agreement, created, ref: messageId, body },
    signer,
  );
  return { sealed, id, body };
}

/** The envelope a receipt must answer: its id, the SHA-256 of the bytes sent, its `created`, and the partner it went to. */
export interface SentEnvelope {
  messageId: string;
  sha256: string;
  /** The sent envelope's `created` (RFC 3339, as sealed). */
  created: string;
  partner: string;
}

/**
 * Open a receipt and check that it answers exactly the message we sent (by id and by SHA-256 of its bytes). The
 * caller holds that message and reads `bytes` over the connection of `expect.partner`'s admitted peer: a receipt
 * naming it exactly, created no earlier than it (less the clock skew), is accepted although the partner's key that
 * signed it has ended since, if `created` lies within that key's certificate, and although it is older than this
 * node's maximum age (SPEC section 5), since the partner answers a message it holds with the receipt it stored.
 */
export function openReceipt(bytes: Uint8Array, opts: OpenOptions, expect: SentEnvelope): { opened: OpenedEnvelope; body: ReceiptBody } {
  const fromPartner = (p: EnvelopePayload): boolean => p.type === 'receipt' && p.from === expect.partner;
  const namesSent = (p: EnvelopePayload, body: ReceiptBody): boolean => body.messageId === expect.messageId && p.ref === expect.messageId && body.sha256 === expect.sha256;
  // a receipt cannot be older than what it answers: a partner accepts no envelope created beyond the skew ahead of its clock
  const notBeforeSent = (p: EnvelopePayload): boolean => Date.parse(p.created) >= Date.parse(expect.created) - opts.clockSkewMs;
  const answersSent = (p: EnvelopePayload): boolean => {
    const body = ReceiptBody.safeParse(p.body);
    return fromPartner(p) && body.success && namesSent(p, body.data) && notBeforeSent(p);
  };
  const opened = openEnvelope(bytes, { ...opts, answersSent });
  if (!fromPartner(opened.payload)) {
    throw new GncError('GNC_RECEIPT_MISMATCH', `Expected a receipt from ${expect.partner}, got a ${opened.payload.type} from ${opened.payload.from}.`);
  }
  const body = parseWith(ReceiptBody, opened.payload.body, 'Receipt body', '/body', 'GNC_RECEIPT_MISMATCH');
  if (!namesSent(opened.payload, body)) {
    // say which of the three differs: with the same message id, "names X, not X" would read as no mismatch at all
    const what =
      body.messageId !== expect.messageId || opened.payload.ref !== expect.messageId
        ? `names message ${body.messageId === expect.messageId ? `${body.messageId} in its body but ${String(opened.payload.ref)} as its ref` : body.messageId}, not ${expect.messageId} as sent`
        : `for message ${body.messageId} has sha256 ${body.sha256.slice(0, 12)}..., not ${expect.sha256.slice(0, 12)}... of the envelope sent`;
    throw new GncError('GNC_RECEIPT_MISMATCH', `Receipt ${what}: it is not a receipt for this envelope; the message stays queued and is sent again.`);
  }
  return { opened, body };
}
