/**
 * The partner registry: pinned administration roots and the node certificates they issued. The transport's
 * connection gater and envelope opening both read from here, through an in-memory index the node refreshes
 * whenever a partner or certificate changes.
 */
import type { Db } from './db.js';

export interface PartnerRow {
  country: string;
  name: string;
  root_jwk: string;
  fingerprint: string;
  addresses: string;
  identity: string;
  added_at: string;
  /** When the partnership ended (`gnc partner remove`), an RFC 3339 time; null while the partner is pinned. */
  removed_at: string | null;
  removal_reason: string | null;
}

export interface CertificateRow {
  kid: string;
  country: string;
  peer_id: string;
  compact: string;
  not_before: number;
  not_after: number;
  revoked_at: number | null;
  revocation: string | null;
  added_at: string;
}

/** A partner certificate set aside by migration 22 (a node key or peer id of another administration), kept as evidence. */
export interface CertificateConflictRow extends CertificateRow {
  /** What another country's certificate names too. */
  conflict: 'node-key' | 'peer-id';
  set_aside_at: number;
}

/** A partner root replaced after it was lost (`gnc partner add --replace-root`): evidence, trusted for nothing new. */
export interface ReplacedRootRow {
  country: string;
  fingerprint: string;
  root_jwk: string;
  identity: string;
  replaced_at: string;
  replaced_by: string;
}

/** What removed a partner: `gnc partner remove`, or the local API's `POST /v1/partners/{country}/remove`. */
export type Remover = 'cli' | 'api';

/** A partner's row with its removal (`partner_removals`), if it was removed and not pinned again since. */
const WITH_REMOVAL = 'SELECT p.*, r.removed_at AS removed_at, r.reason AS removal_reason FROM partners p LEFT JOIN partner_removals r ON r.country = p.country';

export class PartnerRepo {
  private readonly removedStmt;
  private readonly removedByStmt;
  private readonly unreachableStmt;
  private readonly reachableStmt;

  constructor(private readonly db: Db) {
    this.removedStmt = db.prepare('SELECT removed_at FROM partner_removals WHERE country = ?').pluck();
    this.removedByStmt = db
      .prepare('SELECT b.removed_by FROM partner_removals r JOIN partner_removers b ON b.country = r.country AND b.removed_at = r.removed_at WHERE r.country = ?')
      .pluck();
    this.unreachableStmt = db.prepare(
      'INSERT OR IGNORE INTO partner_unreachable (country, since) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM partner_removals WHERE country = ?)',
    );
    this.reachableStmt = db.prepare('DELETE FROM partner_unreachable WHERE country = ?');
  }

  /** When `country` was removed (`gnc partner remove`), if it is removed now: read from the file, not the trust index. */
  removedAt(country: string): string | undefined {
    return (this.removedStmt.get(country) as string | undefined) ?? undefined;
  }

  /** Pins a partner (again): one removed becomes a partner again, with its row as it was kept. */
  upsert(p: Omit<PartnerRow, 'removed_at' | 'removal_reason'>): void {
    this.db
      .prepare(`INSERT INTO partners (country, name, root_jwk, fingerprint, addresses, identity, added_at) VALUES (@country, @name, @root_jwk, @fingerprint, @addresses, @identity, @added_at)
        ON CONFLICT(country) DO UPDATE SET name = excluded.name, root_jwk = excluded.root_jwk, fingerprint = excluded.fingerprint, addresses = excluded.addresses, identity = excluded.identity`)
      .run(p);
    this.db.prepare('DELETE FROM partner_removals WHERE country = ?').run(p.country);
  }

  /**
   * Ends the partnership: the row, its root and its certificates stay as evidence (bundles of earlier messages verify
   * with them), but the trust index no longer counts them.
   */
  markRemoved(country: string, at: string, reason: string | null, by: Remover = 'cli'): void {
    this.db.prepare('INSERT OR REPLACE INTO partner_removals (country, removed_at, reason) VALUES (?, ?, ?)').run(country, at, reason);
    this.db.prepare('INSERT OR REPLACE INTO partner_removers (country, removed_at, removed_by) VALUES (?, ?, ?)').run(country, at, by);
    // pinned again, it is not told unreachable from before its removal
    this.clearUnreachable(country);
  }

  /** The partners found unreachable at their last attempt, with since when (the dispatcher's, kept across restarts). */
  unreachable(): { country: string; since: number }[] {
    return this.db.prepare('SELECT country, since FROM partner_unreachable ORDER BY country').all() as { country: string; since: number }[];
  }

  /**
   * `country` became unreachable at `since` (the first failed attempt after a delivery); kept as it was if it is already,
   * and not for a partner removed meanwhile (an attempt on the wire at the removal that fails after it).
   */
  markUnreachable(country: string, since: number): void {
    this.unreachableStmt.run(country, since, country);
  }

  /** `country` is reachable (a delivery to it went through, or its node connected) or no longer a partner. */
  clearUnreachable(country: string): void {
    this.reachableStmt.run(country);
  }

  /** What removed `country`, if it is removed now: undefined also for a removal made before migration 35 kept it. */
  removedBy(country: string): Remover | undefined {
    return (this.removedByStmt.get(country) as Remover | null | undefined) ?? undefined;
  }

  /** Keeps the root `country` was pinned with as replaced by root `by` (the caller then pins the new one). */
  recordReplacedRoot(r: ReplacedRootRow): void {
    this.db.prepare('INSERT OR IGNORE INTO partner_replaced_roots (country, fingerprint, root_jwk, identity, replaced_at, replaced_by) VALUES (@country, @fingerprint, @root_jwk, @identity, @replaced_at, @replaced_by)').run(r);
  }

  /** The replaced roots of `country` (every country's without one), oldest replacement first. */
  replacedRoots(country?: string): ReplacedRootRow[] {
    return (country === undefined
      ? this.db.prepare('SELECT * FROM partner_replaced_roots ORDER BY country, replaced_at').all()
      : this.db.prepare('SELECT * FROM partner_replaced_roots WHERE country = ? ORDER BY replaced_at').all(country)) as ReplacedRootRow[];
  }

  get(country: string): PartnerRow | undefined {
    return this.db.prepare(`${WITH_REMOVAL} WHERE p.country = ?`).get(country) as PartnerRow | undefined;
  }

  /** Every partner ever pinned, removed ones included (`removed_at`). */
  list(): PartnerRow[] {
    return this.db.prepare(`${WITH_REMOVAL} ORDER BY p.country`).all() as PartnerRow[];
  }

  /** The partners pinned now (not removed): the ones this node trusts and talks to. */
  pinned(): PartnerRow[] {
    return this.db.prepare(`${WITH_REMOVAL} WHERE r.country IS NULL ORDER BY p.country`).all() as PartnerRow[];
  }

  setAddresses(country: string, addrs: string[]): void {
    this.db.prepare('UPDATE partners SET addresses = ? WHERE country = ?').run(JSON.stringify(addrs), country);
  }

  addCertificate(c: Omit<CertificateRow, 'revoked_at' | 'revocation'>): void {
    this.db
      .prepare(`INSERT INTO certificates (kid, country, peer_id, compact, not_before, not_after, added_at) VALUES (@kid, @country, @peer_id, @compact, @not_before, @not_after, @added_at)
        ON CONFLICT(kid) DO UPDATE SET compact = excluded.compact, peer_id = excluded.peer_id, not_before = excluded.not_before, not_after = excluded.not_after`)
      .run(c);
  }

  /** A certificate of another country than `country` naming this node key or this peer id. */
  claimedElsewhere(country: string, kid: string, peerId: string): CertificateRow | undefined {
    return this.db.prepare('SELECT * FROM certificates WHERE country <> ? AND (kid = ? OR peer_id = ?) LIMIT 1').get(country, kid, peerId) as CertificateRow | undefined;
  }

  certificates(country?: string): CertificateRow[] {
    return (country === undefined
      ? this.db.prepare('SELECT * FROM certificates ORDER BY country, not_before').all()
      : this.db.prepare('SELECT * FROM certificates WHERE country = ? ORDER BY not_before').all(country)) as CertificateRow[];
  }

  /** The certificates set aside as conflicting: trusted for nothing, exported for what was signed under them. */
  conflicts(): CertificateConflictRow[] {
    return this.db.prepare('SELECT * FROM certificate_conflicts ORDER BY rowid').all() as CertificateConflictRow[];
  }

  revoke(kid: string, revokedAt: number, notice: string): void {
    this.db.prepare('UPDATE certificates SET revoked_at = ?, revocation = ? WHERE kid = ?').run(revokedAt, notice, kid);
  }
}
