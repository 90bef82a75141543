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

export class PartnerRepo {
  constructor(private readonly db: Db) {}

  upsert(p: PartnerRow): void {
    this.db
      .prepare(`INSERT INTO partners (country, name, root_jwk, fingerprint, addresses, identity, added_at) VALUES (@country, @name, @root_jwk, @fingerprint, @addresses, @identity, @added_at)
        ON CONFLICT(country) DO UPDATE SET name = excluded.name, root_jwk = excluded.root_jwk, fingerprint = excluded.fingerprint, addresses = excluded.addresses, identity = excluded.identity`)
      .run(p);
  }

  get(country: string): PartnerRow | undefined {
    return this.db.prepare('SELECT * FROM partners WHERE country = ?').get(country) as PartnerRow | undefined;
  }

  list(): PartnerRow[] {
    return this.db.prepare('SELECT * FROM partners ORDER BY country').all() as PartnerRow[];
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
