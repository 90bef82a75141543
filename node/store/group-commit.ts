/**
 * Group commit: callers enqueue a unit of work and get a promise that settles only after the transaction
 * holding it has committed. Work queued in the same event-loop turn shares one transaction, so concurrent
 * arrivals pay one fsync together, and no receipt or API answer can promise a row a crash could still lose.
 * Each unit runs in its own savepoint: one failing unit rolls back alone and rejects alone. Some failures (a
 * full disk, an I/O error) make SQLite roll the whole transaction back: then every unit of the batch
 * rejects, none runs after it (outside the transaction it would commit on its own), and nothing is stored.
 * `onEnd` hears how each transaction ended (committed or not) before any of its units' promises settles.
 */
import type { Db } from './db.js';
import { storageError } from './storage-error.js';

interface Pending<T> {
  work: () => T;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit {
  private queue: Pending<unknown>[] = [];
  private scheduled = false;
  private commits = 0;
  /**
   * A batch's transaction, and one unit in its savepoint: each wrapped once, not per batch or unit (better-sqlite3
   * builds four wrapper functions per `transaction` call: some 5 us, twice a message or more on the hot path).
   */
  private readonly inTransaction: (batch: Pending<unknown>[], results: { ok: boolean; value: unknown }[]) => void;
  private readonly inSavepoint: (work: () => unknown) => unknown;

  constructor(private readonly db: Db, private readonly onEnd?: (committed: boolean) => void) {
    this.inSavepoint = db.transaction((work: () => unknown) => work());
    // IMMEDIATE: the write lock from the start (waiting out busy_timeout for a CLI command writing the same file).
    // Deferred, a batch that reads first and then writes fails whole (SQLITE_BUSY_SNAPSHOT) when another
    // process commits in between, and its busy handler is never called for that.
    this.inTransaction = db.transaction((batch: Pending<unknown>[], results: { ok: boolean; value: unknown }[]) => {
      for (const p of batch) {
        try {
          results.push({ ok: true, value: this.inSavepoint(p.work) });
        } catch (err) {
          if (!this.db.inTransaction) throw err;
          results.push({ ok: false, value: storageError(err) });
        }
      }
    }).immediate;
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Transactions committed so far, each one fsync (`synchronous=FULL`): what the tests count to see what a message costs. */
  get committed(): number {
    return this.commits;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.inTransaction(batch, results);
      this.commits++;
    } catch (err) {
      this.onEnd?.(false);
      const e = storageError(err);
      for (const p of batch) p.reject(e);
      return;
    }
    this.onEnd?.(true);
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r.ok) p.resolve(r.value);
      else p.reject(r.value);
    });
  }
}
