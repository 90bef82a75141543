/**
 * The feed towards the national risk engine: every new or changed assessment becomes an event with an
 * increasing id, stored in the same transaction as the assessment (risk_events), so the SSE stream can
 * resume after a reconnect (Last-Event-ID) and the webhook queue can be rebuilt after a crash. Live
 * subscribers (open SSE streams, the webhook sender) are told after the transaction committed.
 */
import type { AssessmentEvent } from '../../protocol/risk.js';
import type { Db } from '../store/db.js';

/** Events older than this are pruned (the feed is a notification channel, not an archive): seven days. */
export const EVENT_RETENTION_MS = 7 * 24 * 3_600_000;

export class RiskFeed {
  private readonly listeners = new Set<(events: AssessmentEvent[]) => void>();
  private readonly s;

  constructor(db: Db) {
    this.s = {
      insert: db.prepare('INSERT INTO risk_events (cid, at, payload) VALUES (?, ?, ?)'),
      enqueue: db.prepare(`INSERT INTO risk_webhook (event_seq, state, next_at, expires_at) VALUES (?, 'pending', ?, ?)`),
      after: db.prepare('SELECT seq, payload FROM risk_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      latest: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM risk_events').pluck(),
      // the newest event always stays: event ids are rowids, and an empty table would hand out 1, 2, ... again,
      // so a client resuming after id 500 would miss the new events 1-500 without being told
      prune: db.prepare(`DELETE FROM risk_events WHERE at < ? AND seq < (SELECT MAX(seq) FROM risk_events) AND seq NOT IN (SELECT event_seq FROM risk_webhook WHERE state = 'pending')`),
      pruneDeliveries: db.prepare(`DELETE FROM risk_webhook WHERE state <> 'pending' AND done_at < ?`),
    };
  }

  /** Stores an event (inside the caller's transaction); queues it for the webhook when one is configured. */
  record(cid: number, event: Omit<AssessmentEvent, 'id'>, now: number, webhookMaxAgeMs: number | undefined): AssessmentEvent {
    const id = Number(this.s.insert.run(cid, now, JSON.stringify(event)).lastInsertRowid);
    if (webhookMaxAgeMs !== undefined) this.s.enqueue.run(id, now, now + webhookMaxAgeMs);
    return { id, ...event };
  }

  /** Stored events after `id`, oldest first (replay for a reconnecting stream). */
  after(id: number, limit: number): AssessmentEvent[] {
    return (this.s.after.all(id, limit) as { seq: number; payload: string }[]).map((r) => ({ id: r.seq, ...(JSON.parse(r.payload) as Omit<AssessmentEvent, 'id'>) }));
  }

  latestId(): number {
    return this.s.latest.get() as number;
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

  prune(now: number): void {
    this.s.prune.run(now - EVENT_RETENTION_MS);
    this.s.pruneDeliveries.run(now - EVENT_RETENTION_MS);
  }
}
