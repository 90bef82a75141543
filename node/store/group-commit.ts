/**
 * Group commit: callers enqueue a unit of work and get a promise that settles only after the transaction
 * holding it has committed. Work queued in the same event-loop turn shares one transaction, so concurrent
 * arrivals pay one fsync together, and no receipt or API answer can promise a row a crash could still lose.
 * Each unit runs in its own savepoint: one failing unit rolls back alone and rejects alone.
 */
import type { Db } from './db.js';

interface Pending<T> {
  work: () => T;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit {
  private queue: Pending<unknown>[] = [];
  private scheduled = false;

  constructor(private readonly db: Db) {}

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          try {
            results.push({ ok: true, value: this.db.transaction(p.work)() });
          } catch (err) {
            results.push({ ok: false, value: err });
          }
        }
      })();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r.ok) p.resolve(r.value);
      else p.reject(r.value);
    });
  }
}
