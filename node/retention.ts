/**
 * Retention under the agreements: a received message's content (signed bytes and body) is kept until the
 * retention period of its type under the agreement it arrived under, then purged. What remains is the
 * metadata the audit trail needs: id, partner, type, times, the SHA-256 of the envelope, the receipt we
 * signed, and the evidence-log entries (which hold hashes only). Derived data (the risk views) is purged
 * through `onPurge` in the same transaction. API idempotency keys are forgotten after IDEMPOTENCY_KEY_TTL_MS.
 * A refused envelope was never stored, but its rejection record's reason and negative receipt can quote a
 * refused value ("received string ..."): they are dropped after REJECTION_RETENTION_DAYS, the code stays.
 *
 * Purged means gone from the files too. SQLite leaves deleted or overwritten bytes in a page's free space, on free
 * pages and in the write-ahead log, where `strings gnc.sqlite` or a copy of the file (`gnc backup`) would still show
 * them: the purge runs with secure_delete ON (what it removes is overwritten with zeros, overflow pages included),
 * and after it the log, which still holds the pages as they were, is checkpointed into the database and truncated.
 * The reassessment of the consignments whose assessment quoted purged content, which the running node does right after
 * (node/risk/extension.ts), runs the same way (`overwriting`, then `flushLog`): the old assessment quoted it too.
 * `gnc backup` runs the same purge on its copy (node/cli/commands/backup.ts), so a copy holds no content past its end
 * either, also of a stopped node, which purges only when it starts.
 */
import { IDEMPOTENCY_KEY_TTL_MS, MAX_MESSAGE_AGE_LIMIT_MS } from '../protocol/constants.js';
import type { Db } from './store/db.js';
import type { MessageHead, MessageRow } from './store/messages.js';
import type { Store } from './store/store.js';

/**
 * Since when (epoch ms) the content of message `row` counts as purged at `now`, or null while it is held: a received
 * message's from its `retain_until` on, whether or not the sweep (RetentionJob) has removed it yet, so that no read
 * (API view, XML, evidence bundle, `gnc audit export` with the node stopped) serves content past its retention for up
 * to a sweep interval. A comparison with the clock, no query. Sent messages are never purged.
 */
export function purgedSince(row: Pick<MessageRow, 'direction' | 'retain_until' | 'updated_at'> & ContentFacts, now: number): number | null {
  if (row.direction !== 'in') return null;
  if (row.retain_until !== null && row.retain_until <= now) return row.retain_until;
  // purged by the sweep, read with a clock set back since: purged all the same
  const held = 'held' in row ? row.held === 1 : row.jws !== null;
  return held ? null : (row.retain_until ?? row.updated_at);
}

/** Whether a message's content is held: its envelope as read (a MessageRow), or `held` (a MessageHead, read without it). */
export type ContentFacts = Pick<MessageRow, 'jws'> | Pick<MessageHead, 'held'>;

/**
 * The SQL twin of purgedSince over MESSAGE_SELECT (node/store/messages.ts: `messages` with its content, `jws` NULL once
 * purged), for selections (the audit export): true for the rows whose content counts as purged at the bound parameter
 * (epoch ms).
 */
export const PURGED_SQL = `(m.direction = 'in' AND (c.jws IS NULL OR (m.retain_until IS NOT NULL AND m.retain_until <= ?)))`;

/**
 * How long the reason of a refusal is kept: thirty days, enough for both administrations to investigate it (the
 * sender holds the same reason in the receipt it received), short against any agreement's retention.
 */
export const REJECTION_RETENTION_DAYS = 30;

/**
 * The longest wait between two purges: a node also wakes when the next received message's retention ends (a second
 * after it at most), so that the risk views, feeds and backups, which read what is stored, lose it then.
 */
export const RETENTION_SWEEP_MS = 60 * 60 * 1000;

/**
 * How long the record of a purged version of a consignment (risk_purged_versions: its ids, kind and times, no content;
 * node/risk/purge.ts) outlives the consignment: it goes once no declaration or amendment of the consignment is held
 * and the retention of the last of its versions purged ended this long ago, with the records of its other versions.
 * While one is held, the records stay: its view lists the purged versions newer than the one in force. What a record
 * is for is a message whose `ref` names the purged version (it goes into that consignment, or opens it again under
 * its id) and GET /v1/arrivals/{id} (410 GNC_ARRIVAL_PURGED). A message created before the last of those retention
 * ends arrives within the maximum message age, thirty days at most (MAX_MESSAGE_AGE_LIMIT_MS, SPEC section 4 check
 * 15); one arriving later was created after the agreement's retention had ended for every version of the consignment.
 * Without the record such an amendment opens a consignment under the id its ref names, as one whose original never
 * reached the projection, a cancellation of it is ignored as it was (nothing of the consignment held), and the id is
 * answered 404 GNC_NOT_FOUND; GET /v1/messages/{id} keeps the message's metadata, `purged: {at}`.
 */
export const PURGED_VERSION_RECORD_MS = MAX_MESSAGE_AGE_LIMIT_MS;

/** The shortest wait between two purges (several retention ends close together are purged by one). */
const RETENTION_MIN_GAP_MS = 1_000;

/** A received message whose content the purge cleared, as `onPurge` is told of it. */
export interface PurgedMessage {
  seq: number;
  id: string;
  partner: string;
  type: string;
  /**
   * Of an AEO message (type `aeo`): the AEO ids its body named (a snapshot's operators, a change's operator), read
   * just before the body was cleared, so the risk views find the operators it may be quoted for (node/risk/purge.ts).
   * Ids only: no other content outlives the transaction.
   */
  aeoIds?: string[];
}

/**
 * The AEO ids the body of AEO message `@seq` names: each operator of a snapshot (or of a part of one), the operator of a
 * change; none once its content is purged. Read in SQLite (json_each), without parsing the body here.
 */
export const AEO_IDS_NAMED_SQL = `SELECT json_extract(o.value, '$.aeoId') FROM message_content c, json_each(c.body, '$.operators') o WHERE c.seq = @seq
  UNION SELECT json_extract(body, '$.operator.aeoId') FROM message_content WHERE seq = @seq AND json_extract(body, '$.operator.aeoId') IS NOT NULL`;

export interface RetentionOptions {
  clock: () => number;
  log: (msg: string, fields?: Record<string, string | number>) => void;
  /** Remove derived data of the purged messages (called inside the purge transaction, once their content is cleared). */
  onPurge?: (purged: PurgedMessage[]) => void;
}

export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** A purge removed content whose old pages could not be checkpointed out of the write-ahead log yet. */
  private unflushed = false;
  /** When the next received message still held reaches its retention end, after `now` (by message_content_purge, in order). */
  private readonly nextEnd;
  /**
   * The records of purged versions past PURGED_VERSION_RECORD_MS (@bound: the latest retention end that is): those
   * with such a retention end (risk_purged_versions_purged), of a consignment not held (risk_cons_root), and no other
   * record of it with a later one (risk_purged_versions_root).
   */
  private readonly prunePurgedVersions;

  constructor(private readonly store: Store, private readonly opts: RetentionOptions) {
    // purge_at: the retain_until of a received message whose content is held (migration 42)
    this.nextEnd = store.db.prepare('SELECT purge_at FROM message_content WHERE purge_at > ? ORDER BY purge_at LIMIT 1').pluck();
    this.prunePurgedVersions = store.db.prepare(`DELETE FROM risk_purged_versions WHERE (message_id, partner) IN (
      SELECT p.message_id, p.partner FROM risk_purged_versions p WHERE p.purged_at <= @bound
        AND NOT EXISTS (SELECT 1 FROM risk_consignments c WHERE c.root_id = p.root_id AND c.partner = p.partner)
        AND NOT EXISTS (SELECT 1 FROM risk_purged_versions q WHERE q.root_id = p.root_id AND q.partner = p.partner AND q.purged_at > @bound))`);
  }

  start(): void {
    this.stopped = false;
    this.purge();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The next sweep: at the next retention end of a received message, or within RETENTION_SWEEP_MS. */
  private schedule(): void {
    if (this.stopped) return;
    let wait = RETENTION_SWEEP_MS;
    try {
      const now = this.opts.clock();
      const end = this.nextEnd.get(now) as number | undefined;
      if (end !== undefined) wait = Math.min(RETENTION_SWEEP_MS, Math.max(RETENTION_MIN_GAP_MS, end - now + 1));
    } catch (err) {
      this.opts.log('retention: the next retention end could not be read; the next sweep runs within the hour', { error: (err as Error).message });
    }
    this.timer = setTimeout(() => {
      this.sweep();
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  /** The periodic run: a failure (a full disk) is logged, and the next sweep tries again. */
  private sweep(): void {
    try {
      this.purge();
    } catch (err) {
      this.opts.log('retention purge failed; the next sweep tries again', { error: (err as Error).message });
    }
  }

  /** Purge every received message whose retention ended; returns how many were purged. */
  purge(now = this.opts.clock()): number {
    return overwriting(this.store.db, () => this.purgeContent(now));
  }

  private purgeContent(now: number): number {
    const db = this.store.db;
    let records = 0;
    const purged = db.transaction(() => {
      // every sweep, a purge or none: the bound passes with the clock
      records = this.prunePurgedVersions.run({ bound: now - PURGED_VERSION_RECORD_MS }).changes;
      const rows = db
        // by message_content_purge: the received messages whose content is held, by retention end
        .prepare(`SELECT m.seq, m.id, m.partner, m.type FROM message_content c JOIN messages m ON m.seq = c.seq WHERE c.purge_at <= ?`)
        .all(now) as PurgedMessage[];
      if (rows.length === 0) return rows;
      // what onPurge cannot read once the bodies are cleared
      const named = db.prepare(AEO_IDS_NAMED_SQL).pluck();
      for (const r of rows) if (r.type === 'aeo') r.aeoIds = named.all({ seq: r.seq }) as string[];
      const clear = db.prepare(`UPDATE messages SET status = 'accepted', updated_at = ? WHERE seq = ?`);
      const drop = db.prepare('DELETE FROM message_content WHERE seq = ?');
      for (const r of rows) {
        drop.run(r.seq);
        clear.run(now, r.seq);
      }
      this.opts.onPurge?.(rows);
      return rows;
    }).immediate(); // reads, then writes: the write lock from the start (group-commit.ts says why)
    if (purged.length) this.opts.log('retention purge', { purged: purged.length });
    if (records) this.opts.log('retention purge of the records of purged versions', { records });
    const reasons = this.store.rejections.purge(now - REJECTION_RETENTION_DAYS * 86_400_000, `Reason and negative receipt removed after ${REJECTION_RETENTION_DAYS} days (they may quote refused content); the code stays.`);
    if (reasons) this.opts.log('retention purge of rejection reasons', { rejections: reasons });
    // idempotency keys past their time: a retry that late is a new submission
    this.store.idempotency.prune(now - IDEMPOTENCY_KEY_TTL_MS);
    if (purged.length > 0 || reasons > 0 || this.unflushed) this.unflushed = !flushLog(this.store.db);
    return purged.length;
  }
}

/**
 * Runs `work` with secure_delete ON: what it deletes or overwrites is overwritten with zeros in the file (overflow
 * pages included), not left in free space. Then as it was (off for ordinary writes: it costs a write per freed byte).
 * The purge, and the reassessment of what quoted purged content (node/risk/extension.ts), run in it.
 */
export function overwriting<T>(db: Db, work: () => T): T {
  const before = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    return work();
  } finally {
    db.pragma(`secure_delete = ${before}`);
  }
}

/**
 * Moves the zeroed pages from the write-ahead log into the database and empties the log, which still holds the
 * pages as they were before. Without waiting: a CLI command reading the file meanwhile makes it busy, and the
 * caller tries again later. True when it went through.
 */
export function flushLog(db: Db): boolean {
  const wait = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return r?.busy === 0;
  } catch {
    return false;
  } finally {
    db.pragma(`busy_timeout = ${wait}`);
  }
}
