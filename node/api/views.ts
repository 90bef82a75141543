/** Store rows -> API views (the shapes documented in protocol/api/schemas.ts). */
import type { MessageSummary, MessageView } from '../../protocol/api/schemas.js';
import type { FlattenedJws } from '../../protocol/envelope/payload.js';
import type { GncErrorCode } from '../../protocol/errors.js';
import { purgedSince, type ContentFacts } from '../retention.js';
import type { TermsRepo } from '../store/terms.js';
import type { MessageRow, ReceiptRow } from '../store/messages.js';

function jwsObject(bytes: Buffer | null): FlattenedJws | null {
  return bytes ? (JSON.parse(bytes.toString('utf8')) as FlattenedJws) : null;
}

/**
 * `now` is the node's clock: a received message past its retention end reads as purged (`purged`, no body or
 * envelope) from that instant, also before the retention sweep has removed its content (node/retention.ts). A received
 * message carries the terms it was accepted under (`terms`), computed from the row and its agreement version.
 */
export function summaryOf(row: Omit<MessageRow, 'jws' | 'body'> & ContentFacts, receipt: Pick<ReceiptRow, 'status'> | undefined, now: number, terms: Pick<TermsRepo, 'of'>): MessageSummary {
  const purged = purgedSince(row, now);
  return {
    id: row.id,
    direction: row.direction,
    partner: row.partner,
    type: row.type,
    kind: row.kind,
    ref: row.ref,
    purpose: row.purpose,
    agreement: row.agreement,
    created: row.created,
    status: row.status,
    sha256: row.sha256,
    error: row.error_code ? { code: row.error_code, reason: row.error_reason } : null,
    withdrawn: row.withdrawn_at === null ? null : { at: new Date(row.withdrawn_at).toISOString(), reason: row.withdrawal_reason ?? '' },
    resealedAs: row.resealed_as,
    removed: row.removed ? (JSON.parse(row.removed) as string[]) : [],
    terms: terms.of(row),
    purged: purged === null ? null : { at: new Date(purged).toISOString() },
    receiptStatus: receipt?.status ?? null,
  };
}

export function viewOf(row: MessageRow, receipt: ReceiptRow | undefined, now: number, terms: Pick<TermsRepo, 'of'>): MessageView {
  const { receiptStatus: _ignored, ...summary } = summaryOf(row, receipt, now, terms);
  // past its retention: the shape of a purged message (body and envelope gone; metadata and our receipt stay)
  const held = summary.purged === null;
  return {
    ...summary,
    body: held && row.body ? (JSON.parse(row.body) as Record<string, unknown>) : null,
    receipt: receipt
      ? {
          id: receipt.receipt_id,
          status: receipt.status,
          code: receipt.code as GncErrorCode | null,
          reason: receipt.reason,
          sha256: receipt.sha256,
          at: new Date(receipt.at).toISOString(),
          envelope: jwsObject(receipt.jws)!,
        }
      : null,
    envelope: held ? jwsObject(row.jws) : null,
  };
}
