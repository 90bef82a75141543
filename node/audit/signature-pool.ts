/**
 * Spreads the auditor's strict signature checks over worker threads. noble verifies about 650 signatures/s
 * per core here, so a bundle of 100,000 messages with their receipts needs every core; below a few thousand
 * signatures the worker start-up (~50 ms each) is not worth it and checks run in the calling thread.
 *
 * Workers load `verify-worker.js` next to this module, i.e. the compiled file under dist/. When this module
 * runs from its `.ts` source (vitest, which transforms TS in-process but cannot start a TS worker on Node 20)
 * or the compiled worker is missing, the pool falls back to in-thread checks: same code (signature-batch.ts),
 * same results, one core. Tests reach the worker path by passing the compiled worker's URL explicitly.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GncError } from '../../protocol/errors.js';
import { packJobs, type SignatureJob } from './signature-batch.js';
import { verifyStrict } from './strict-ed25519.js';

export type { SignatureJob } from './signature-batch.js';

/** Below this many signatures checks run in-thread (about 3 s of noble work on one core; issue 6 says ~2000). */
export const PARALLEL_THRESHOLD = 2000;
/** Signatures per message to a worker: large enough to amortise postMessage, small enough to balance load. */
const BATCH_SIZE = 256;
/** Batches in flight per worker, so a worker never idles waiting for its next batch. */
const IN_FLIGHT_PER_WORKER = 2;

export interface SignatureVerifier {
  /** Worker threads in use; 0 means checks run in the calling thread. */
  readonly threads: number;
  /** Queue one check; `done` is called once with the result (synchronously in the in-thread mode). */
  add(job: SignatureJob, done: (ok: boolean) => void): void;
  /** Resolves when the backlog is small enough to add more (bounds memory for large bundles). */
  capacity(): Promise<void>;
  /** Resolves when every queued check has reported; rejects with GNC_INTERNAL if a worker died. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Worker count (default: os.availableParallelism()). */
  threads?: number;
  /** Compiled worker module; `null` forces in-thread checks; default: verify-worker.js next to this module. */
  workerUrl?: URL | null;
  /** Use workers only above this many expected signatures (default PARALLEL_THRESHOLD). */
  parallelThreshold?: number;
}

/** The compiled worker next to this module, or undefined when running from TS sources or it was not built. */
export function defaultWorkerUrl(): URL | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined;
  const url = new URL('./verify-worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

class InThreadVerifier implements SignatureVerifier {
  readonly threads = 0;
  add(job: SignatureJob, done: (ok: boolean) => void): void {
    done(verifyStrict(job.signature, job.message, job.publicKey));
  }
  async capacity(): Promise<void> {}
  async drain(): Promise<void> {}
  async close(): Promise<void> {}
}

interface Batch {
  id: number;
  packed: Uint8Array;
  callbacks: ((ok: boolean) => void)[];
}

class WorkerPool implements SignatureVerifier {
  private readonly workers: { worker: Worker; inFlight: number }[] = [];
  private readonly queue: Batch[] = [];
  private readonly sent = new Map<number, Batch>();
  private jobs: SignatureJob[] = [];
  private callbacks: ((ok: boolean) => void)[] = [];
  private nextId = 1;
  private failure: Error | undefined;
  private waiters: { resolve: () => void; reject: (e: Error) => void; when: () => boolean }[] = [];

  constructor(url: URL, readonly threads: number) {
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(url);
      const slot = { worker, inFlight: 0 };
      worker.on('message', (msg: { id: number; results: Uint8Array }) => this.onResults(slot, msg));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0 && this.failure === undefined) this.fail(new Error(`signature worker exited with code ${code}`));
      });
      this.workers.push(slot);
    }
  }

  add(job: SignatureJob, done: (ok: boolean) => void): void {
    this.jobs.push(job);
    this.callbacks.push(done);
    if (this.jobs.length >= BATCH_SIZE) this.flush();
  }

  capacity(): Promise<void> {
    return this.waitFor(() => this.queue.length <= this.threads * IN_FLIGHT_PER_WORKER);
  }

  drain(): Promise<void> {
    this.flush();
    return this.waitFor(() => this.queue.length === 0 && this.sent.size === 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private flush(): void {
    if (this.jobs.length === 0) return;
    this.queue.push({ id: this.nextId++, packed: packJobs(this.jobs), callbacks: this.callbacks });
    this.jobs = [];
    this.callbacks = [];
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.workers) {
      while (slot.inFlight < IN_FLIGHT_PER_WORKER && this.queue.length > 0) {
        const batch = this.queue.shift()!;
        this.sent.set(batch.id, batch);
        slot.inFlight++;
        slot.worker.postMessage({ id: batch.id, packed: batch.packed }, [batch.packed.buffer as ArrayBuffer]);
      }
    }
  }

  private onResults(slot: { inFlight: number }, msg: { id: number; results: Uint8Array }): void {
    const batch = this.sent.get(msg.id);
    if (batch === undefined) return;
    this.sent.delete(msg.id);
    slot.inFlight--;
    batch.callbacks.forEach((cb, i) => cb(msg.results[i] === 1));
    this.dispatch();
    this.wake();
  }

  private fail(err: Error): void {
    this.failure ??= new GncError('GNC_INTERNAL', `Signature worker failed: ${err.message}. Run the verification again; if it persists, report it.`, { cause: err });
    this.wake();
  }

  private waitFor(when: () => boolean): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (when()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject, when }));
  }

  private wake(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.failure !== undefined) w.reject(this.failure);
      else if (w.when()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}

/** Choose in-thread or worker checks for about `expected` signatures. */
export function openSignatureVerifier(expected: number, opts: PoolOptions = {}): SignatureVerifier {
  const threshold = opts.parallelThreshold ?? PARALLEL_THRESHOLD;
  const url = opts.workerUrl === undefined ? defaultWorkerUrl() : opts.workerUrl;
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), 16));
  if (url === null || url === undefined || expected <= threshold) return new InThreadVerifier();
  return new WorkerPool(url, threads);
}
