/**
 * Root-signed key notices this node holds (issue 6): revocations and root successions, its own administration's
 * and its partners'. They are evidence (every bundle carries the ones of the countries involved) and trust
 * input (the trust index applies partner revocations and successions). Only notices that verified under a
 * root of their country are ever added; a notice is kept once (keyed by the SHA-256 of its compact JWS).
 */
import { sha256Ascii } from '../../protocol/envelope/seal.js';
import type { KeyNotice } from '../../protocol/notice.js';
import { jwkThumbprint } from '../../protocol/jwk.js';
import type { Db } from './db.js';

export interface KeyNoticeRow {
  sha256: string;
  country: string;
  kind: 'revocation' | 'root-succession';
  subject: string;
  at: number;
  compact: string;
  added_at: number;
}

export class KeyNoticeRepo {
  private revocationsStmt: ReturnType<Db['prepare']> | undefined;

  constructor(private readonly db: Db) {}

  /** Whether notice `compact` is held already. */
  holds(compact: string): boolean {
    return this.db.prepare('SELECT 1 FROM key_notices WHERE sha256 = ?').get(sha256Ascii(compact)) !== undefined;
  }

  /** Store a verified notice; returns false when it was already held. */
  add(compact: string, notice: KeyNotice, now = Date.now()): boolean {
    const row: KeyNoticeRow = {
      sha256: sha256Ascii(compact),
      country: notice.country,
      kind: notice.kind,
      subject: notice.kind === 'revocation' ? notice.kid : jwkThumbprint(notice.newRoot),
      at: Date.parse(notice.kind === 'revocation' ? notice.revokedAt : notice.effective),
      compact,
      added_at: now,
    };
    const info = this.db
      .prepare('INSERT OR IGNORE INTO key_notices (sha256, country, kind, subject, at, compact, added_at) VALUES (@sha256, @country, @kind, @subject, @at, @compact, @added_at)')
      .run(row);
    return info.changes > 0;
  }

  list(kind?: KeyNoticeRow['kind'], countries?: readonly string[]): KeyNoticeRow[] {
    const rows = (kind === undefined
      ? this.db.prepare('SELECT * FROM key_notices ORDER BY at, sha256').all()
      : this.db.prepare('SELECT * FROM key_notices WHERE kind = ? ORDER BY at, sha256').all(kind)) as KeyNoticeRow[];
    return countries === undefined ? rows : rows.filter((r) => countries.includes(r.country));
  }

  /** Each key of `country` that a notice of that country revokes, with its earliest revocation instant (see revokedAt). */
  revocationsOf(country: string): Map<string, number> {
    this.revocationsStmt ??= this.db.prepare("SELECT subject, MIN(at) AS at FROM key_notices WHERE kind = 'revocation' AND country = ? GROUP BY subject");
    return new Map((this.revocationsStmt.all(country) as { subject: string; at: number }[]).map((r) => [r.subject, r.at]));
  }

  /**
   * Earliest revocation instant of `country`'s key `kid`, if a notice of that country revokes it. Only the key's
   * own country counts (SPEC 9.4, 9.10): a notice by another root, stored before the key's certificate was known
   * (or before this rule was enforced), never applies to it.
   */
  revokedAt(kid: string, country: string): number | undefined {
    const r = this.db.prepare("SELECT MIN(at) AS at FROM key_notices WHERE kind = 'revocation' AND subject = ? AND country = ?").get(kid, country) as { at: number | null };
    return r.at ?? undefined;
  }
}
