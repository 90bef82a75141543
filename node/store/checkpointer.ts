/**
 * WAL checkpoints off the main thread. SQLite's auto-checkpoint runs inside the COMMIT that takes the WAL past
 * 1,000 pages: that commit copies the pages into the database file and fsyncs it on the event loop, and every
 * message in flight waits for it. A running node turns it off on its connection (`wal_autocheckpoint = 0`) and a
 * worker thread, with its own connection to the same file, checkpoints once the WAL holds `pages` frames: PASSIVE,
 * which never takes the write lock, so commits go on meanwhile, and FULL for the last few frames (holding the write
 * lock for those pages and one fsync), since the WAL is started over only by a commit that finds all of it copied, and
 * under load a PASSIVE checkpoint never ends before the next commit appends more. When commits follow each other too
 * closely for the worker to catch up and take the write lock (sixteen checkpoints without the WAL started over), the node's next commit copies those few frames
 * itself (auto-checkpoint, until the WAL was started over): far less than the 1,000 pages it copied before.
 *
 * Safe: in WAL mode a commit is durable once its frames are in the WAL and the WAL is fsynced (synchronous=FULL);
 * a checkpoint only copies committed pages into the database file (fsyncing it before the WAL may be reused), and
 * a crash in the middle of one leaves the WAL intact for the next open to read. Which connection checkpoints
 * changes neither.
 *
 * Bounded: the worker reads how many frames the WAL holds from the WAL index (the -shm file, its header's
 * `mxFrame` and `nBackfill`, https://www.sqlite.org/walformat.html) every `pollMs`, a read of 100 bytes. When the
 * WAL nevertheless grows past `limitPages` (the worker cannot keep up, or a reader pins an old snapshot) the node
 * goes back to auto-checkpoint until the WAL was started over, and so when the worker fails: it is logged, and
 * auto-checkpoint stays on. The short-lived connections of the CLI never start one and keep auto-checkpoint.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { Db } from './db.js';

/** SQLite's own auto-checkpoint threshold, restored on the node's connection whenever the worker cannot do the work. */
export const AUTO_CHECKPOINT_PAGES = 1000;

export interface CheckpointerOptions {
  /** WAL frames not yet copied that make the worker checkpoint (default: SQLite's 1,000). */
  pages?: number;
  /** WAL frames past which the node's own commits checkpoint again (default: 8 x `pages`). */
  limitPages?: number;
  /** How often the worker looks at the WAL index, ms (default 20). */
  pollMs?: number;
  log: Logger;
}

/** What the worker tells the node. */
type Report = { type: 'checkpointed'; mode: 'PASSIVE' | 'FULL'; log: number; copied: number } | { type: 'behind'; frames: number; limit: boolean } | { type: 'caught-up'; frames: number } | { type: 'restarted' };

// the worker's code: a script (eval), so that it runs the same from the sources under test and from dist/
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const Database = require(workerData.driver);
const { file, pages, limitPages, pollMs, finishPages } = workerData;
const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 2');
db.pragma('synchronous = FULL');
const shm = openSync(file + '-shm', 'r');
const header = Buffer.alloc(100);
const le = require('node:os').endianness() === 'LE';
// mxFrame: offset 16 of the WAL-index header; nBackfill: offset 96, after its two copies (native byte order)
function frames() {
  if (readSync(shm, header, 0, 100, 0) < 100) return { max: 0, copied: 0 };
  return le ? { max: header.readUInt32LE(16), copied: header.readUInt32LE(96) } : { max: header.readUInt32BE(16), copied: header.readUInt32BE(96) };
}
let handedOver = false;
let misses = 0; // checkpoints since the WAL was last started over
let timer;
let last = 0;
function tick() {
  const f = frames();
  if (f.max < last) parentPort.postMessage({ type: 'restarted' });
  last = f.max;
  if (f.max < pages) misses = 0;
  if (handedOver && f.max < pages) {
    handedOver = false;
    parentPort.postMessage({ type: 'caught-up', frames: f.max });
  }
  // the node's commits checkpoint (auto-checkpoint) until the WAL was started over: when it outgrew the worker, and
  // when commits follow each other too closely for the worker to take the write lock for the last few frames (they
  // then copy only those: the worker copied the rest)
  if (!handedOver && (f.max >= limitPages || misses >= 16)) {
    handedOver = true;
    parentPort.postMessage({ type: 'behind', frames: f.max, limit: f.max >= limitPages });
  }
  // past the threshold, until the whole WAL was copied: the node's next commit then starts it over
  let ran = false;
  if (f.max >= pages && f.copied < f.max) {
    ran = true;
    // under sustained load frames are appended while a PASSIVE checkpoint runs, and the WAL is only started over by a
    // commit that finds it all copied: the last few frames are copied in FULL mode, holding the write lock (a commit
    // waits for those few pages and one fsync) and giving up within 2 ms when a commit or a reader is in the way
    const mode = !handedOver && f.max - f.copied <= finishPages ? 'FULL' : 'PASSIVE';
    const r = db.pragma('wal_checkpoint(' + mode + ')')[0];
    misses++;
    parentPort.postMessage({ type: 'checkpointed', mode, log: r.log, copied: r.checkpointed });
  }
  // while catching up, the next look comes at once: what was appended meanwhile is little, quick to copy
  timer = setTimeout(tick, ran ? 1 : pollMs);
}
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearTimeout(timer);
  closeSync(shm);
  db.close();
  parentPort.close();
});
tick();
`;

export class Checkpointer {
  /** The thread (its `threadId` is what a stack dump names). */
  readonly worker: Worker;
  private stopping = false;
  private alive = true;
  private readonly exited: Promise<void>;
  private fallback = false;
  /**
   * Checkpoints the worker ran, how many copied the whole WAL, how many in FULL mode, and how often the node's commits
   * were given auto-checkpoint back until the WAL was started over, and how often it was started over.
   */
  readonly stats = { checkpoints: 0, complete: 0, full: 0, handovers: 0, restarts: 0 };

  /** Starts the worker on `db`'s file (a WAL database the node has open) and turns the node's auto-checkpoint off. */
  constructor(private readonly db: Db, private readonly opts: CheckpointerOptions) {
    const pages = opts.pages ?? AUTO_CHECKPOINT_PAGES;
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), file: db.name, pages, limitPages: opts.limitPages ?? 8 * pages, pollMs: opts.pollMs ?? 20, finishPages: Math.max(1, Math.floor(pages / 8)) },
    });
    this.worker.unref();
    this.worker.on('message', (r: Report) => this.report(r));
    this.worker.on('error', (err) => this.failed(err.message));
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      this.alive = false;
      if (!this.stopping) this.failed(`the checkpoint worker exited (code ${code})`);
      resolve();
    }));
    this.autoCheckpoint(false);
  }

  /** False once the thread has exited (stopped, or failed). */
  get running(): boolean {
    return this.alive;
  }

  private report(r: Report): void {
    if (r.type === 'restarted') {
      this.stats.restarts++;
      return;
    }
    if (r.type === 'checkpointed') {
      this.stats.checkpoints++;
      if (r.mode === 'FULL') this.stats.full++;
      if (r.copied === r.log) this.stats.complete++;
      return;
    }
    if (this.fallback) return;
    this.autoCheckpoint(r.type === 'behind');
    if (r.type === 'behind') this.stats.handovers++;
    if (r.type === 'behind' && r.limit) this.opts.log('the WAL outgrew the checkpoint worker: the node checkpoints in its commits until it is started over', { frames: r.frames });
  }

  /** The worker failed: the node's commits checkpoint again, as SQLite does by default, for as long as it runs. */
  private failed(error: string): void {
    if (this.fallback) return;
    this.fallback = true;
    this.autoCheckpoint(true);
    this.opts.log('the checkpoint worker failed: the node checkpoints the WAL in its commits from now on', { error });
  }

  private autoCheckpoint(on: boolean): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${on ? AUTO_CHECKPOINT_PAGES : 0}`);
  }

  /** Stops the worker and closes its connection; the node's connection checkpoints in its commits again. Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.autoCheckpoint(true);
      this.worker.ref(); // the process waits for the worker to close its connection
      this.worker.postMessage('stop');
      const late = setTimeout(() => void this.worker.terminate(), 5000);
      await this.exited;
      clearTimeout(late);
    }
    await this.exited;
  }
}
