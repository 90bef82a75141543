/**
 * The arrivals projection in SQLite: one row per consignment (the declaration in force after amendments,
 * or marked cancelled), its received versions, its search keys, and the queue of consignments whose
 * assessment must be recomputed. Written only by the risk engine inside group commits; read by the API,
 * the CLI and the export.
 */
import type { Db } from '../store/db.js';
import type { KeyKind } from './declaration.js';

export interface ConsignmentRow {
  cid: number;
  partner: string;
  root_id: string;
  current_seq: number;
  current_created: string;
  versions: number;
  status: 'active' | 'cancelled';
  cancel_seq: number | null;
  expected_arrival: number;
  office_of_entry: string;
  bcp: string | null;
  /** The crossing point read with its schwas as "e" (name-keys.ts foldPlaceTyped), NULL for a name without one. */
  bcp_e: string | null;
  level: 'low' | 'medium' | 'high' | null;
  score: number | null;
  revision: number;
  assessed_at: number | null;
  updated_at: number;
  /** ArrivalView as JSON. */
  view: string;
}

export interface VersionRow {
  seq: number;
  cid: number;
  partner: string;
  message_id: string;
  kind: string;
  created: string;
  received_at: number;
}

/** What the retention purge keeps of a purged version of a consignment (no content), until the retention job prunes it (PURGED_VERSION_RECORD_MS): risk_purged_versions. */
export interface PurgedVersionRow {
  message_id: string;
  partner: string;
  /** The consignment's id (its original's message id). */
  root_id: string;
  kind: 'declaration' | 'amendment' | 'cancellation';
  created: string;
  /** Its retention end (epoch ms). */
  purged_at: number;
}

export interface CurrentFields {
  current_seq: number;
  current_created: string;
  expected_arrival: number;
  office_of_entry: string;
  bcp: string | null;
  bcp_e: string | null;
  /** Provisional list view until the assessment rewrites it. */
  view: string;
}

export class ConsignmentRepo {
  private readonly s;

  constructor(readonly db: Db) {
    this.s = {
      byCid: db.prepare('SELECT * FROM risk_consignments WHERE cid = ?'),
      byRoot: db.prepare('SELECT * FROM risk_consignments WHERE root_id = @id AND (@partner IS NULL OR partner = @partner) ORDER BY cid LIMIT 1'),
      byVersion: db.prepare(`SELECT c.* FROM risk_versions v JOIN risk_consignments c ON c.cid = v.cid
        WHERE v.message_id = @id AND (@partner IS NULL OR v.partner = @partner) ORDER BY v.seq LIMIT 1`),
      // every partner with a consignment, a version or a purged version under an id (risk_cons_root,
      // risk_versions_message and the primary key of risk_purged_versions each start with it)
      partnersOf: db.prepare(`SELECT partner FROM risk_consignments WHERE root_id = @id UNION SELECT partner FROM risk_versions WHERE message_id = @id
        UNION SELECT partner FROM risk_purged_versions WHERE message_id = @id ORDER BY partner`).pluck(),
      // a version first; else the consignment it opened, which keeps its id as root once that version's content was
      // purged; else the one a purged version belonged to
      ofRef: db.prepare(`SELECT cid FROM risk_versions WHERE partner = @partner AND message_id = @id
        UNION ALL SELECT cid FROM risk_consignments WHERE root_id = @id AND partner = @partner
        UNION ALL SELECT c.cid FROM risk_purged_versions p JOIN risk_consignments c ON c.root_id = p.root_id AND c.partner = p.partner
          WHERE p.message_id = @id AND p.partner = @partner LIMIT 1`).pluck(),
      purgedRoot: db.prepare('SELECT root_id FROM risk_purged_versions WHERE message_id = ? AND partner = ?').pluck(),
      purged: db.prepare('SELECT * FROM risk_purged_versions WHERE message_id = @id AND (@partner IS NULL OR partner = @partner) ORDER BY partner LIMIT 1'),
      // a purged cancellation whatever its created time: held, it would keep the consignment cancelled (engine.ts reproject)
      purgedAfter: db.prepare(`SELECT * FROM risk_purged_versions WHERE root_id = ? AND partner = ? AND (created > ? OR kind = 'cancellation')
        ORDER BY created, message_id`),
      recordPurged: db.prepare(`INSERT OR IGNORE INTO risk_purged_versions (message_id, partner, root_id, kind, created, purged_at)
        SELECT v.message_id, v.partner, c.root_id, v.kind, v.created, IFNULL(m.retain_until, @now)
        FROM risk_versions v JOIN risk_consignments c ON c.cid = v.cid JOIN messages m ON m.seq = v.seq WHERE v.partner = @partner AND v.message_id = @id`),
      insert: db.prepare(`INSERT INTO risk_consignments (cid, partner, root_id, current_seq, current_created, versions, status, expected_arrival, office_of_entry, bcp, bcp_e, view, updated_at)
        VALUES (@cid, @partner, @root_id, @current_seq, @current_created, 1, 'active', @expected_arrival, @office_of_entry, @bcp, @bcp_e, @view, @now)`),
      setCurrent: db.prepare(`UPDATE risk_consignments SET current_seq = @current_seq, current_created = @current_created, expected_arrival = @expected_arrival,
        office_of_entry = @office_of_entry, bcp = @bcp, bcp_e = @bcp_e, view = @view, updated_at = @now WHERE cid = @cid`),
      bumpVersions: db.prepare('UPDATE risk_consignments SET versions = versions + 1, updated_at = ? WHERE cid = ?'),
      cancel: db.prepare(`UPDATE risk_consignments SET status = 'cancelled', cancel_seq = ?, updated_at = ? WHERE cid = ?`),
      addVersion: db.prepare('INSERT OR IGNORE INTO risk_versions (seq, cid, partner, message_id, kind, created, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      versions: db.prepare('SELECT * FROM risk_versions WHERE cid = ? ORDER BY seq'),
      dropKeys: db.prepare('DELETE FROM risk_keys WHERE cid = ?'),
      addKey: db.prepare('INSERT OR IGNORE INTO risk_keys (k, v, cid) VALUES (?, ?, ?)'),
      pend: db.prepare('INSERT OR IGNORE INTO risk_pending (cid) VALUES (?)'),
      pendByKey: db.prepare(`INSERT OR IGNORE INTO risk_pending (cid) SELECT k.cid FROM risk_keys k JOIN risk_consignments c ON c.cid = k.cid
        WHERE k.k = ? AND k.v = ? AND c.expected_arrival >= ?`),
      pendByPrefix: db.prepare(`INSERT OR IGNORE INTO risk_pending (cid) SELECT k.cid FROM risk_keys k JOIN risk_consignments c ON c.cid = k.cid
        WHERE k.k = ? AND k.v >= ? AND k.v < ? AND c.expected_arrival >= ?`),
      pendSince: db.prepare('INSERT OR IGNORE INTO risk_pending (cid) SELECT cid FROM risk_consignments WHERE expected_arrival >= ?'),
      takePending: db.prepare('SELECT cid FROM risk_pending ORDER BY cid LIMIT ?').pluck(),
      // skipping the cids of a JSON array (consignments whose failed assessment waits for its backoff: engine.ts)
      takePendingBut: db.prepare('SELECT cid FROM risk_pending WHERE cid NOT IN (SELECT value FROM json_each(?)) ORDER BY cid LIMIT ?').pluck(),
      pendingAmong: db.prepare('SELECT cid FROM risk_pending WHERE cid IN (SELECT value FROM json_each(?))').pluck(),
      unpend: db.prepare('DELETE FROM risk_pending WHERE cid = ?'),
      pendingCount: db.prepare('SELECT COUNT(*) FROM risk_pending').pluck(),
      // through the partial index risk_pending_failed (migration 36), whatever the queue holds
      failing: db.prepare('SELECT cid, failures FROM risk_pending WHERE failures > 0'),
      setFailures: db.prepare('UPDATE risk_pending SET failures = ? WHERE cid = ?'),
      saveAssessment: db.prepare('UPDATE risk_consignments SET level = ?, score = ?, view = ?, assessed_at = ?, revision = ? WHERE cid = ?'),
      setView: db.prepare('UPDATE risk_consignments SET view = ? WHERE cid = ?'),
      saveStored: db.prepare('INSERT OR REPLACE INTO risk_assessments (cid, assessment) VALUES (?, ?)'),
      stored: db.prepare('SELECT assessment FROM risk_assessments WHERE cid = ?').pluck(),
    };
  }

  get(cid: number): ConsignmentRow | undefined {
    return this.s.byCid.get(cid) as ConsignmentRow | undefined;
  }

  /**
   * By the API id: the original declaration's message id, or the id of any of its versions; of `partner` when given
   * (message ids are unique per partner only: partnersOf says whether an id needs one), else of any partner.
   */
  find(id: string, partner?: string): ConsignmentRow | undefined {
    const key = { id, partner: partner ?? null };
    return (this.s.byRoot.get(key) ?? this.s.byVersion.get(key)) as ConsignmentRow | undefined;
  }

  /** The partners whose consignments, versions held or purged versions have this id, in order. */
  partnersOf(id: string): string[] {
    return this.s.partnersOf.all({ id }) as string[];
  }

  /**
   * The consignment an amendment or cancellation refers to by its ref: the one message `messageId` is a version of,
   * else the one it opened (its root) when the retention purge took that version and the consignment was rebuilt
   * from the others (node/risk/purge.ts).
   */
  cidOfRef(partner: string, messageId: string): number | undefined {
    return this.s.ofRef.get({ partner, id: messageId }) as number | undefined;
  }

  /**
   * The id of the consignment an amendment opens when its ref names no consignment held: that of the one the version it
   * names belonged to, if the retention purge took that version, else the ref itself (its original never reached the
   * projection, or was purged with every other version: then it is the consignment's id).
   */
  rootOfRef(partner: string, ref: string): string {
    return (this.s.purgedRoot.get(ref, partner) as string | undefined) ?? ref;
  }

  /**
   * Records what a version about to be purged leaves for later references, before the purge deletes its consignment
   * (node/risk/purge.ts): its id, consignment, kind, created time and retention end (`now` if it has none).
   */
  recordPurged(partner: string, messageId: string, now: number): void {
    this.s.recordPurged.run({ partner, id: messageId, now });
  }

  /** The purged version with this message id, of `partner` when given, else of any partner. */
  purged(messageId: string, partner?: string): PurgedVersionRow | undefined {
    return this.s.purged.get({ id: messageId, partner: partner ?? null }) as PurgedVersionRow | undefined;
  }

  /**
   * The purged versions of a consignment that what it shows may lack, oldest first: those created after `created` (that
   * of the version in force), and its purged cancellations whenever created (a held one would keep it cancelled,
   * whatever amendment came after it). As shownPurged says.
   */
  purgedAfter(row: Pick<ConsignmentRow, 'root_id' | 'partner'>, created: string): PurgedVersionRow[] {
    return this.s.purgedAfter.all(row.root_id, row.partner, created) as PurgedVersionRow[];
  }

  /** Opens a consignment; its id is the seq of the message that opened it. */
  create(cid: number, partner: string, rootId: string, f: CurrentFields, now: number): number {
    this.s.insert.run({ cid, partner, root_id: rootId, ...f, now });
    return cid;
  }

  setCurrent(cid: number, f: CurrentFields, now: number): void {
    this.s.setCurrent.run({ cid, ...f, now });
  }

  addVersion(v: VersionRow, bump: boolean): void {
    const added = this.s.addVersion.run(v.seq, v.cid, v.partner, v.message_id, v.kind, v.created, v.received_at).changes > 0;
    if (added && bump) this.s.bumpVersions.run(v.received_at, v.cid);
  }

  versions(cid: number): VersionRow[] {
    return this.s.versions.all(cid) as VersionRow[];
  }

  cancel(cid: number, seq: number, now: number): void {
    this.s.cancel.run(seq, now, cid);
  }

  replaceKeys(cid: number, keys: [KeyKind, string][]): void {
    this.s.dropKeys.run(cid);
    for (const [k, v] of keys) this.s.addKey.run(k, v, cid);
  }

  pend(cid: number): void {
    this.s.pend.run(cid);
  }

  /** Queue the consignments carrying a key, expected no earlier than `since` (epoch ms). */
  pendByKey(k: KeyKind, v: string, since: number): void {
    this.s.pendByKey.run(k, v, since);
  }

  /** Queue the consignments with a key starting with `prefix` (e.g. every AEO id of one country). */
  pendByPrefix(k: KeyKind, prefix: string, since: number): void {
    this.s.pendByPrefix.run(k, prefix, prefix + '\uffff', since);
  }

  pendSince(since: number): void {
    this.s.pendSince.run(since);
  }

  /** The first `limit` queued consignments, but those in `skip`. */
  takePending(limit: number, skip: readonly number[] = []): number[] {
    return (skip.length === 0 ? this.s.takePending.all(limit) : this.s.takePendingBut.all(JSON.stringify(skip), limit)) as number[];
  }

  /** Those of `cids` still queued. */
  pendingAmong(cids: readonly number[]): number[] {
    return this.s.pendingAmong.all(JSON.stringify(cids)) as number[];
  }

  unpend(cid: number): void {
    this.s.unpend.run(cid);
  }

  pendingCount(): number {
    return this.s.pendingCount.get() as number;
  }

  /** The queued consignments whose assessment failed, with the failures in a row recorded for each (setFailures). */
  failing(): { cid: number; failures: number }[] {
    return this.s.failing.all() as { cid: number; failures: number }[];
  }

  /** Records queued consignment `cid`'s failures in a row (0: tried at once again, as one never tried); gone with its entry. */
  setFailures(cid: number, failures: number): void {
    this.s.setFailures.run(failures, cid);
  }

  /** Writes an assessment: its level and score, the list view that shows it, and the full JSON with evidence. */
  saveAssessment(cid: number, a: { level: string; score: number; view: string; stored: string; at: number; revision: number }): void {
    this.s.saveAssessment.run(a.level, a.score, a.view, a.at, a.revision, cid);
    this.s.saveStored.run(cid, a.stored);
  }

  /** Rewrites the list view alone (the engine adding terms to a view stored without them). */
  setView(cid: number, view: string): void {
    this.s.setView.run(view, cid);
  }

  /** The assessment in force as stored (JSON), if the consignment was assessed. */
  stored(cid: number): string | undefined {
    return this.s.stored.get(cid) as string | undefined;
  }
}
