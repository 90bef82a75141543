/**
 * The node's store: one SQLite file in the data dir, its repositories, and the group-commit queue that
 * batches concurrent writes into one durable transaction (WAL + synchronous=FULL costs one fsync per commit,
 * so committing 64 arrivals together is ~64x cheaper than one by one).
 */
import { join } from 'node:path';
import { openDb, type Db } from './db.js';
import { openFailure } from './storage-error.js';
import { MessageRepo } from './messages.js';
import { OutboxRepo } from './outbox.js';
import { PartnerRepo } from './partners.js';
import { RejectionRepo } from './rejections.js';
import { TokenRepo } from './tokens.js';
import { GroupCommit } from './group-commit.js';
import { Checkpointer, type CheckpointerOptions } from './checkpointer.js';
import { IdempotencyRepo } from './idempotency.js';
import { AeoPartRepo } from './aeo-parts.js';
import { TermsRepo } from './terms.js';

export const DB_FILE = 'gnc.sqlite';

export class Store {
  readonly messages: MessageRepo;
  readonly outbox: OutboxRepo;
  readonly partners: PartnerRepo;
  readonly tokens: TokenRepo;
  readonly rejections: RejectionRepo;
  readonly idempotency: IdempotencyRepo;
  readonly aeoParts: AeoPartRepo;
  /** The agreement terms of received messages, for every view that hands them to national systems. */
  readonly terms: TermsRepo;
  readonly commits: GroupCommit;

  constructor(readonly db: Db) {
    this.messages = new MessageRepo(db);
    this.outbox = new OutboxRepo(db);
    this.partners = new PartnerRepo(db);
    this.tokens = new TokenRepo(db);
    this.rejections = new RejectionRepo(db);
    this.idempotency = new IdempotencyRepo(db);
    this.aeoParts = new AeoPartRepo(db);
    this.terms = new TermsRepo(db);
    // rows the dispatcher marked in a batch are handed over once it commits; until then a withdrawal may take them back
    this.commits = new GroupCommit(db, (committed) => this.outbox.transactionEnded(committed));
  }

  static open(dir: string): Store {
    try {
      return new Store(openDb(join(dir, DB_FILE)));
    } catch (err) {
      throw openFailure(err, dir, DB_FILE);
    }
  }

  private dataVersion = -1;

  /** True when another connection (the CLI beside a running node) committed since the last call. */
  changedElsewhere(): boolean {
    const v = this.db.pragma('data_version', { simple: true }) as number;
    const changed = this.dataVersion !== -1 && v !== this.dataVersion;
    this.dataVersion = v;
    return changed;
  }

  private checkpointer: Checkpointer | undefined;

  /**
   * A running node's WAL checkpoints, off the main thread (node/store/checkpointer.ts): its commits no longer copy
   * the WAL into the database file. The CLI's short-lived connections never call this and keep auto-checkpoint.
   */
  startCheckpoints(opts: CheckpointerOptions): Checkpointer {
    if (!this.db.open) throw new Error('the store is closed');
    this.checkpointer ??= new Checkpointer(this.db, opts);
    return this.checkpointer;
  }

  /** Stops the checkpoint worker, once it has closed its connection; the commits checkpoint again meanwhile. */
  async stopCheckpoints(): Promise<void> {
    await this.checkpointer?.stop();
  }

  close(): void {
    // a path that did not stop it first: the worker still stops, and closes its connection, on its own
    void this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }
}
