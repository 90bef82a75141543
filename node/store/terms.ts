/**
 * The terms received messages are held under (protocol/agreement/terms.ts), computed when read from what each message
 * row stores (the `agreement` id@version it was accepted under, its `purpose`, its `retain_until`) and the agreement
 * document of that version. An id@version names one document on this node for good (AgreementRegistry refuses other
 * content under it), so each document is read and decoded once per process and kept: reading a message's terms costs
 * no query after the first of its agreement version. The receive path computes nothing of it.
 */
import { combineTerms, decodeAgreement, termsOf, type AgreementDocument, type DataTerms } from '../../protocol/agreement/index.js';
import type { Db } from './db.js';
import type { MessageRow } from './messages.js';

/** The columns of a message row its terms come from. */
export type TermsSource = Pick<MessageRow, 'direction' | 'partner' | 'type' | 'agreement' | 'purpose' | 'retain_until'>;

export class TermsRepo {
  /**
   * By id@version, the versions held. One not held (a message stored by other means than acceptance: a restored or
   * bulk-loaded row) is asked for again at each read: the CLI may import it meanwhile, and this process would otherwise
   * answer no terms for its messages until it restarted.
   */
  private readonly documents = new Map<string, AgreementDocument>();
  private readonly s;

  constructor(db: Db) {
    this.s = {
      document: db.prepare('SELECT signed FROM agreements WHERE id = ? AND version = ?').pluck(),
      received: db.prepare(`SELECT direction, partner, type, agreement, purpose, retain_until FROM messages WHERE direction = 'in' AND partner = ? AND id = ?`),
      // the messages of a list, one row per distinct terms source: an AEO record's history may quote dozens
      grouped: db.prepare(`SELECT type, agreement, purpose, MIN(retain_until) AS retain_until, COUNT(*) AS n, SUM(retain_until IS NULL) AS unknown
        FROM messages WHERE direction = 'in' AND partner = ? AND id IN (SELECT value FROM json_each(?)) GROUP BY type, agreement, purpose`),
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

  /** The terms of the message received from `partner` as `id` (null when it is not held or has none). */
  ofReceived(partner: string, id: string): DataTerms | null {
    const row = this.s.received.get(partner, id) as TermsSource | undefined;
    return row ? this.of(row) : null;
  }

  /**
   * The terms of the messages received from `partner` as `ids`, combined (combineTerms: the earliest retention end,
   * onward transfer only if all allow it) onto `main`'s; null when `main` is null or any of them is not held or has no
   * terms. One query for the whole list, whatever its length.
   */
  combinedWith(main: DataTerms | null, partner: string, ids: readonly string[]): DataTerms | null {
    if (main === null || ids.length === 0) return main;
    const groups = this.s.grouped.all(partner, JSON.stringify([...new Set(ids)])) as (Omit<TermsSource, 'direction' | 'partner'> & { n: number; unknown: number })[];
    if (groups.reduce((n, g) => n + g.n, 0) < new Set(ids).size || groups.some((g) => g.unknown > 0)) return null;
    return combineTerms(main, groups.map((g) => this.of({ ...g, direction: 'in', partner })));
  }

  private document(ref: string): AgreementDocument | undefined {
    const held = this.documents.get(ref);
    if (held !== undefined) return held;
    const at = ref.lastIndexOf('@');
    const signed = this.s.document.get(ref.slice(0, at), Number(ref.slice(at + 1))) as string | undefined;
    if (signed === undefined) return undefined;
    const doc = decodeAgreement(JSON.parse(signed)).document;
    this.documents.set(ref, doc);
    return doc;
  }
}
