/** Store rows -> API views (the shapes documented in protocol/api/schemas.ts). */
import type { MessageSummary, MessageView } from '../../protocol/api/schemas.js';
import type { FlattenedJws } from '../../protocol/envelope/payload.js';
import type { GncErrorCode } from '../../protocol/errors.js';
import type { MessageRow, ReceiptRow } from '../store/messages.js';

function jwsObject(bytes: Buffer | null): FlattenedJws | null {
  return bytes ? (JSON.parse(bytes.toString('utf8')) as FlattenedJws) : null;
}

export function summaryOf(row: MessageRow, receipt: ReceiptRow | undefined): MessageSummary {
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
    receiptStatus: receipt?.status ?? null,
  };
}

export function viewOf(row: MessageRow, receipt: ReceiptRow | undefined): MessageView {
  const { receiptStatus: _ignored, ...summary } = summaryOf(row, receipt);
  return {
    ...summary,
    body: row.body ? (JSON.parse(row.body) as Record<string, unknown>) : null,
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
    envelope: jwsObject(row.jws),
  };
}
