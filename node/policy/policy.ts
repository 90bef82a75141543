/**
 * The policy seam between the exchange and the bilateral agreements: what may be sent to a partner and what
 * may be accepted from one. The node composes one implementation (node/policy/agreement-policy.ts); the
 * dispatcher, the submission service and the receiver only see this interface.
 */
import type { BusinessType } from '../../protocol/messages/registry.js';

export interface SendDecision {
  /** Id of the agreement in force that allows this message. */
  agreement: string;
  /** The body to seal: equal to the input, or minimised when the agreement says to strip fields. */
  body: Record<string, unknown>;
  /** Field paths removed by minimisation (empty when nothing was removed). */
  removed: string[];
  /** Retention of this type under the agreement, in days. */
  retentionDays: number;
}

export interface Policy {
  /** Throws a GNC_AGREEMENT_* error when the message may not be sent. */
  onSend(to: string, type: BusinessType, purpose: string | undefined, body: Record<string, unknown>, now: number): SendDecision;
  /** Throws a GNC_AGREEMENT_* error when the message may not be accepted. Returns the retention in days. */
  onReceive(from: string, type: BusinessType, purpose: string | undefined, agreementId: string | null, body: Record<string, unknown>, now: number): { retentionDays: number };
  /**
   * Undefined while a queued message may still be delivered under the agreement it was sealed under; otherwise why
   * not, as the sentence its `expired` error carries: what became of that agreement, and what to do.
   */
  notInForce(agreementRef: string, partner: string, now: number): string | undefined;
}
