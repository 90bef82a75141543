/**
 * The terms received messages are held under (protocol/agreement/terms.ts), computed when read from what each message
 * row stores (the `agreement` id@version it was accepted under, its `purpose`, its `retain_until`) and the agreement
 * document of that version. An id@version names one document on this node for good (AgreementRegistry refuses other
 * content under it), so each document is read and decoded once per process and kept: reading a message's terms costs
 * no query after the first of its agreement version. The receive path computes nothing of it.
 */
import { decodeAgreement, termsOf, type AgreementDocument, type DataTerms } from '../../protocol/agreement/index.js';
import type { Db } from './db.js';
import type { MessageRow } from './messages.js';

/** The columns of a message row its terms come from. */
export type TermsSource = Pick<MessageRow, 'direction' | 'partner' | 'type' | 'agreement' | 'purpose' | 'retain_until'>;

export class TermsRepo {
  private readonly documents = new Map<string, AgreementDocument>();
  private readonly s;

  constructor(db: Db) {
    this.s = {
      document: db.prepare('SELECT signed FROM agreements WHERE id = ? AND version = ?').pluck(),
      received: db.prepare(`SELECT direction, partner, type, agreement, purpose, retain_until FROM messages WHERE direction = 'in' AND partner = ? AND id = ?`),
    };
  }

  /**
   * The terms of a received business message; null for a sent one, a control message (agreements, keys: no agreement
   * scope), or one whose agreement version is not held here (never for a message this node accepted).
   */
  of(row: TermsSource): DataTerms | null {
    if (row.direction !== 'in' || row.agreement === null || row.retain_until === null) return null;
    const doc = this.document(row.agreement);
    return (doc && termsOf(doc, row.partner, row.type, row.purpose, row.retain_until)) ?? null;
  }

  /** The terms of the messages received from `partner` as `ids`, in that order (null for one not held or without terms). */
  ofReceived(partner: string, ids: readonly string[]): (DataTerms | null)[] {
    return ids.map((id) => {
      const row = this.s.received.get(partner, id) as TermsSource | undefined;
      return row ? this.of(row) : null;
    });
  }

  private document(ref: string): AgreementDocument | undefined {
    const held = this.documents.get(ref);
    if (held) return held;
    const at = ref.lastIndexOf('@');
    const signed = this.s.document.get(ref.slice(0, at), Number(ref.slice(at + 1))) as string | undefined;
    if (signed === undefined) return undefined;
    const doc = decodeAgreement(JSON.parse(signed)).document;
    this.documents.set(ref, doc);
    return doc;
  }
}
