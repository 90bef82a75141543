/**
 * The one place where GNC error codes map to CLI exit codes, so scripts can branch on the class of failure:
 * 2 bad input or usage, 3 trust/security refusal, 4 not found, 5 partner unreachable, 6 agreement refusal,
 * 7 audit verification failed, 1 anything else (a full disk, an internal error).
 */
import type { GncErrorCode } from '../../protocol/errors.js';

export const EXIT_USAGE = 2;

export function exitCodeOf(code: GncErrorCode): number {
  if (code === 'GNC_AUDIT_BROKEN') return 7;
  if (code.startsWith('GNC_AGREEMENT_')) return 6;
  if (code === 'GNC_PARTNER_UNREACHABLE' || code === 'GNC_DELIVERY_EXPIRED' || code === 'GNC_DELIVERY_DELAYED') return 5;
  if (code === 'GNC_NOT_FOUND' || code === 'GNC_ARRIVAL_PURGED' || code === 'GNC_IDENTITY_MISSING' || code === 'GNC_PARTNER_UNKNOWN') return 4;
  if (
    ['GNC_SIGNATURE_INVALID', 'GNC_KEY_UNKNOWN', 'GNC_KEY_EXPIRED', 'GNC_KEY_EXPIRING', 'GNC_KEY_REVOKED', 'GNC_SENDER_MISMATCH', 'GNC_FINGERPRINT_MISMATCH', 'GNC_CERT_INVALID', 'GNC_PEER_NOT_TRUSTED', 'GNC_REPLAY', 'GNC_RECEIPT_MISMATCH'].includes(code)
  ) {
    return 3;
  }
  if (code === 'GNC_INTERNAL' || code === 'GNC_RISK_UNASSESSABLE' || code === 'GNC_STORAGE_FULL' || code === 'GNC_STORAGE_CORRUPT' || code === 'GNC_STORAGE_VERSION') return 1;
  return EXIT_USAGE;
}
