/**
 * The feed towards the national risk engine: every new or changed assessment becomes an event with an
 * increasing id, stored in the same transaction as the assessment (risk_events), so the SSE stream can
 * resume after a reconnect (Last-Event-ID) and the webhook queue can be rebuilt after a crash. Live
 * subscribers (open SSE streams, the webhook sender) are told after the transaction committed.
 *
 * An event id is never handed out twice, whatever deletes events: a client that saw id N skips everything up
 * to N (the SSE stream, a webhook receiver deduplicating by x-gnc-event-id), so a reused id is an event it
 * silently never gets. Ids are rowids, which SQLite takes from the newest row, so a deletion that may remove
 * the newest event (the retention purge) first stores the newest id in risk_state (HIGH_WATER); new ids and
 * latestId() count from the higher of that number and the newest row. Only the number is kept, no row: the
 * purged content goes entirely (retention is a data-protection rule), and a kept placeholder row would be
 * replayed to every resuming stream.
 *
 * Deleted events are events a resuming client may not have read: the feed keeps the newest id it ever deleted
 * (DELETED), and a stream that would resume before it starts with a `gap` event instead of pretending to be
 * complete (node/risk/routes.ts).
 */
import type { AssessmentEvent } from '../../protocol/risk.js';
import type { Db } from '../store/db.js';

/** Events older than this are pruned (the feed is a notification channel, not an archive): seven days. */
export const EVENT_RETENTION_MS = 7 * 24 * 3_600_000;

/** Key in risk_state of the newest event id handed out before events were deleted (see the module comment). */
const HIGH_WATER = 'lastEventId';
/**
 * Key in risk_state of the newest event id deleted, by the prune or with purged data (its consignment's, or data it quoted): a client
 * that resumes before it has missed that event at least.
 */
const DELETED = 'deletedEventId';
/** Raise DELETED to `newest` when a deletion removes a newer event (kept as the higher value). */
const keepDeleted = (newest: string): string => `INSERT INTO risk_state (key, value)
  SELECT '${DELETED}', newest FROM (${newest}) WHERE newest IS NOT NULL ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)`;
/** The events the prune deletes: older than the cutoff, not the newest, not waiting for the webhook. */
const PRUNABLE = `at < ? AND seq < (SELECT MAX(seq) FROM risk_events) AND seq NOT IN (SELECT event_seq FROM risk_webhook WHERE state = 'pending')`;
/** The newest event id ever handed out: the newest row's, or the one stored before a deletion if higher. */
const NEWEST = `MAX((SELECT COALESCE(MAX(seq), 0) FROM risk_events), COALESCE((SELECT value FROM risk_state WHERE key = '${HIGH_WATER}'), 0))`;

export class RiskFeed {
  private readonly listeners = new Set<(events: AssessmentEvent[]) => void>();
  private readonly s;

  constructor(db: Db) {
    this.s = {
      insert: db.prepare(`INSERT INTO risk_events (seq, cid, at, payload) VALUES (${NEWEST} + 1, ?, ?, ?)`),
      enqueue: db.prepare(`INSERT INTO risk_webhook (event_seq, state, next_at, expires_at) VALUES (?, 'pending', ?, ?)`),
      after: db.prepare('SELECT seq, payload FROM risk_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      latest: db.prepare(`SELECT ${NEWEST}`).pluck(),
      keepHighWater: db.prepare(`INSERT INTO risk_state (key, value) SELECT '${HIGH_WATER}', newest FROM (SELECT MAX(seq) AS newest FROM risk_events) WHERE newest IS NOT NULL
        ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)`),
      dropDeliveries: db.prepare('DELETE FROM risk_webhook WHERE event_seq IN (SELECT seq FROM risk_events WHERE cid = ?)'),
      keepDropped: db.prepare(keepDeleted('SELECT MAX(seq) AS newest FROM risk_events WHERE cid = ?')),
      dropEvents: db.prepare('DELETE FROM risk_events WHERE cid = ?'),
      dropDelivery: db.prepare('DELETE FROM risk_webhook WHERE event_seq = ?'),
      dropEvent: db.prepare('DELETE FROM risk_events WHERE seq = ?'),
      keepDeletedId: db.prepare(keepDeleted('SELECT ? AS newest')),
      keepPruned: db.prepare(keepDeleted(`SELECT MAX(seq) AS newest FROM risk_events WHERE ${PRUNABLE}`)),
      // the newest event always stays: event ids are rowids, and an empty table would hand out 1, 2, ... again,
      // so a client resuming after id 500 would miss the new events 1-500 without being told
      prune: db.prepare(`DELETE FROM risk_events WHERE ${PRUNABLE}`),
      deleted: db.prepare(`SELECT COALESCE((SELECT value FROM risk_state WHERE key = '${DELETED}'), 0)`).pluck(),
      pruneDeliveries: db.prepare(`DELETE FROM risk_webhook WHERE state <> 'pending' AND done_at < ?`),
    };
  }

  /** Stores an event (inside the caller's transaction); queues it for the webhook when one is configured. */
  record(cid: number, event: Omit<AssessmentEvent, 'id'>, now: number, webhookMaxAgeMs: number | undefined): AssessmentEvent {
    const id = Number(this.s.insert.run(cid, now, JSON.stringify(event)).lastInsertRowid);
    if (webhookMaxAgeMs !== undefined) this.s.enqueue.run(id, now, now + webhookMaxAgeMs);
    return { id, ...event };
  }

  /**
   * Stored events after `id`, oldest first (replay for a reconnecting stream). One recorded before arrival views carried
   * their terms reads with `terms` null.
   */
  after(id: number, limit: number): AssessmentEvent[] {
    return (this.s.after.all(id, limit) as { seq: number; payload: string }[]).map((r) => {
      const event = { id: r.seq, ...(JSON.parse(r.payload) as Omit<AssessmentEvent, 'id'>) };
      // (a payload without an arrival, written by hand or damaged, is replayed as it is rather than failing the stream)
      if (event.arrival !== undefined) event.arrival.terms ??= null;
      return event;
    });
  }

  latestId(): number {
    return this.s.latest.get() as number;
  }

  /** The newest event id deleted (0: none ever was): a reader that has not read up to it has missed events. */
  deletedThrough(): number {
    return this.s.deleted.get() as number;
  }

  subscribe(fn: (events: AssessmentEvent[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called after the events' transaction committed. A failing listener does not stop the others. */
  publish(events: AssessmentEvent[]): void {
    if (events.length === 0) return;
    for (const fn of this.listeners) {
      try {
        fn(events);
      } catch {
        /* a listener's failure is its own (a closed stream) */
      }
    }
  }

  /**
   * Deletes consignment `cid`'s events and their webhook deliveries (the retention purge, inside its
   * transaction). The newest id is stored first: the consignment's event may be the newest one.
   */
  dropConsignment(cid: number): void {
    this.s.keepHighWater.run();
    this.s.dropDeliveries.run(cid);
    this.s.keepDropped.run(cid);
    this.s.dropEvents.run(cid);
  }

  /**
   * Deletes events by id, with their webhook deliveries (the retention purge, inside its transaction, for events
   * quoting purged data of a consignment it keeps). The newest id is stored first, as for dropConsignment; a stream
   * that resumes before them gets a `gap`.
   */
  dropEventsById(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    this.s.keepHighWater.run();
    for (const seq of seqs) {
      this.s.dropDelivery.run(seq);
      this.s.dropEvent.run(seq);
    }
    this.s.keepDeletedId.run(seqs.reduce((a, b) => Math.max(a, b)));
  }

  prune(now: number): void {
    this.s.keepPruned.run(now - EVENT_RETENTION_MS);
    this.s.prune.run(now - EVENT_RETENTION_MS);
    this.s.pruneDeliveries.run(now - EVENT_RETENTION_MS);
  }
}
