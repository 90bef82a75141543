/**
 * The risk extension as the composition root sees it: built from the node's parts, it projects each accepted
 * message after its row committed (`onAccepted`), catches up on start with whatever arrived while it was
 * not running, serves /v1/arrivals and /v1/aeo, feeds the SSE stream and the webhook, and re-reads the rules
 * file when it changes (a broken edit is logged and the previous rules stay in force).
 */
import type { Hono } from 'hono';
import type { AuthEnv } from '../api/auth.js';
import type { AcceptedMessage } from '../inbound/receiver.js';
import type { NodeParts } from '../main.js';
import { flushLog, overwriting, type PurgedMessage } from '../retention.js';
import { aeoRoutes } from './aeo-routes.js';
import { failureFields, RiskEngine } from './engine.js';
import { RiskFeed } from './feed.js';
import { registerRiskOperations } from './openapi.js';
import { ArrivalQueries } from './query.js';
import { RiskPurge } from './purge.js';
import { arrivalRoutes } from './routes.js';
import { cleartextWebhookWarning, loadRules, rulesMtime, rulesPathFor, startRules, type LoadedRules } from './rules.js';
import { WebhookSender } from './webhook.js';

/** How often the rules file is checked for changes: 2 s, quick enough for an operator editing it. */
export const RULES_POLL_MS = 2000;
/** How often old feed events and settled deliveries are pruned: hourly. */
const PRUNE_MS = 3_600_000;
/**
 * After a failed step (a full disk, say), the loop tries again this much later, new messages or not: 5 s. A consignment
 * whose assessment fails alone is tried again this much later too, then twice as long at each failure in a row
 * (ASSESS_RETRY_MAX_MS at most), while the others go on (RiskEngine.assessIsolated).
 */
export const STEP_RETRY_MS = 5_000;
/**
 * A received message is projected and assessed this long after its commit at most, with whatever arrived meanwhile:
 * 20 ms, nothing beside the hours before a consignment arrives. Started at once, the step was a commit of its own for
 * every message at a low rate, whose fsync overlapped the sender's commit of the receipt on the same disk: measured at
 * 1 message in flight (npm run bench), p50 5.2-5.3 ms at once, 4.6-4.7 ms with this wait, and 400 us less CPU per
 * message on the receiver...
 */
export const STEP_DELAY_MS = 20;
/**
 * ...unless this many have arrived since the last step: then it runs at once. At a high rate a step every 20 ms held up
 * to 20 messages and blocked the receiver's event loop for the time of their projection in one go: the node-to-node
 * drain (64 in flight) measured 1,012-1,014 msg/s against 1,088-1,115 without the wait; with this bound 1,084-1,192
 * against 1,072-1,204, and the gain at 1 in flight kept (p50 4.73-4.98 ms against 5.38-5.71).
 */
export const STEP_BATCH_AT = 8;
/**
 * SQLite page cache of the node's connection while the risk extension runs: 64 MiB instead of the 2 MiB
 * default, so the AEO registry, the e-CoO index and the upper levels of the arrivals indexes stay in memory
 * (the OS page cache of these machines is reclaimed aggressively; a miss is a disk read).
 */
export const RISK_CACHE_KIB = 65_536;

/** Applies the cache size above to a connection (the node's, the bench's). */
export function useRiskCache(db: NodeParts['store']['db']): void {
  db.pragma(`cache_size = -${RISK_CACHE_KIB}`);
}

export interface RiskOptions {
  /** Rules file, which must exist; default: `riskRules` of gnc.json, else risk-rules.json in the data dir if there. */
  rulesPath?: string;
  clock?: () => number;
  /** Where the webhook secret's environment variable is read (tests). */
  env?: NodeJS.ProcessEnv;
  /** Delay before a failed step, or the first time a failed assessment, is tried again (tests); default STEP_RETRY_MS. */
  stepRetryMs?: number;
  /** How long after a received message the step that projects it runs at most (tests: 0, at once); default STEP_DELAY_MS. */
  stepDelayMs?: number;
  /** How long one write of the event stream or the export may wait for its client (tests); default SSE_WRITE_TIMEOUT_MS (routes.ts). */
  streamWriteTimeoutMs?: number;
}

export interface Risk {
  onAccepted(m: AcceptedMessage): void;
  /** The retention job purged these messages' content: drop what was derived from them (inside its transaction). */
  onPurge(purged: PurgedMessage[]): void;
  routes: { path: string; routes: Hono<AuthEnv> }[];
  start(): void;
  /** Ends every open event stream (/v1/arrivals/stream) and cuts off every export in progress (/export): the node is stopping. */
  closeStreams(): void;
  stop(): Promise<void>;
  /** The store changed elsewhere, or the rules file may have: catch up. */
  reload(): void;
  engine: RiskEngine;
  feed: RiskFeed;
  queries: ArrivalQueries;
  rules(): LoadedRules;
  /** Resolves once everything received so far is projected and assessed (tests, demo). */
  idle(): Promise<void>;
  /** What GET /v1/health says of the risk view. */
  health(): { unassessable: number };
}

export function createRisk(parts: NodeParts, opts: RiskOptions = {}): Risk {
  const { store, log } = parts;
  const clock = opts.clock ?? parts.clock;
  const at = opts.rulesPath !== undefined ? { path: opts.rulesPath, required: true } : rulesPathFor(parts.dir, parts.config.riskRules);
  const { path } = at;
  // a broken rules file, or a configured one missing, stops the node here, naming the field (GNC_CONFIG_INVALID);
  // without one in the default place the built-in rules apply until one is put there (checkRules reads it then)
  let rules = startRules(at, opts.env);
  const warnCleartext = (): void => {
    const warning = rules.webhook && cleartextWebhookWarning(rules.webhook.url);
    if (warning) log(warning);
  };
  warnCleartext();
  registerRiskOperations();
  useRiskCache(store.db);
  const feed = new RiskFeed(store.db);
  const retryMs = opts.stepRetryMs ?? STEP_RETRY_MS;
  const stepDelayMs = opts.stepDelayMs ?? STEP_DELAY_MS;
  const engine = new RiskEngine({ store, feed, rules: () => rules, clock, log, retryMs });
  const queries = new ArrivalQueries(store.db, engine.consignments, (cid) => engine.failed(cid));
  const arrivals = arrivalRoutes(store, queries, feed, { log, writeTimeoutMs: opts.streamWriteTimeoutMs });
  const webhook = new WebhookSender(store, feed, () => rules.webhook, clock, log);
  const purge = new RiskPurge(store.db, engine, feed, clock, log);
  let started = false;
  let stopped = false;
  let running: Promise<void> | undefined;
  let cleaning: Promise<void> | undefined;
  let again = false;
  const timers: NodeJS.Timeout[] = [];
  let retry: NodeJS.Timeout | undefined;
  /** When (performance.now()) `retry` fires. */
  let retryAt = Infinity;

  /** The step that projects what was received since it was armed (kickSoon). */
  let soon: NodeJS.Timeout | undefined;
  /** Runs the loop again in `ms`, unless it is to run sooner already. */
  function retryIn(ms: number): void {
    if (performance.now() + ms >= retryAt) return;
    clearTimeout(retry);
    retryAt = performance.now() + ms;
    retry = setTimeout(() => {
      retry = undefined;
      retryAt = Infinity;
      kick();
    }, ms).unref();
  }
  /**
   * Purges so far, and those whose reassessment has run to its end. While one has not, steps run with secure_delete ON
   * (the assessments they replace quoted purged content: purge.ts), and once none is left the write-ahead log, which
   * still holds the pages as they were, is flushed, as after the purge itself (node/retention.ts). Other writes
   * sharing the step's transaction, and every step otherwise, run without it.
   */
  let purges = 0;
  let reassessed = 0;
  /** That flush did not go through (a CLI command reading the file): tried again at every look at the rules file. */
  let unflushed = false;

  async function loop(): Promise<void> {
    do {
      again = false;
      for (;;) {
        if (stopped) return;
        let r;
        try {
          r = await store.commits.run(() => {
            // read as the step runs: a purge may commit between its queueing and its run
            const seen = purges;
            return { ...(seen > reassessed ? overwriting(store.db, () => engine.step()) : engine.step()), purges: seen };
          });
        } catch (err) {
          // the step rolled back; what it had not projected is still ahead of the cursor: try again later. The error's
          // code and kind only: its message may quote a message's content
          log('risk assessment step failed; retrying', { ...failureFields(err), retryInMs: retryMs });
          // also when the step went through and its batch rolled back whole after it
          engine.rolledBack();
          retryIn(retryMs);
          return;
        }
        feed.publish(r.events);
        if (!r.more) {
          if (r.purges > reassessed) {
            reassessed = r.purges;
            unflushed = !flushLog(store.db);
          }
          // consignments whose assessment failed are left queued: the loop runs again when the first is due
          const due = engine.retryDueIn();
          if (due !== undefined) retryIn(due);
          break;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    } while (again && !stopped);
  }

  function kick(): void {
    if (!started || stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = loop().finally(() => {
      running = undefined;
      // a kick that came while the loop was finishing (after its last look at `again`) starts the next round
      if (again) kick();
    });
  }

  /** Messages received since the step armed for them (kickSoon). */
  let arrived = 0;
  /**
   * Runs the loop STEP_DELAY_MS from now, for a message received: those received meanwhile go with it; at once when that
   * makes STEP_BATCH_AT of them.
   */
  function kickSoon(): void {
    if (stopped) return;
    if (stepDelayMs <= 0 || ++arrived >= STEP_BATCH_AT) {
      clearTimeout(soon);
      soon = undefined;
      arrived = 0;
      return kick();
    }
    if (soon !== undefined || !started) return;
    soon = setTimeout(() => {
      soon = undefined;
      arrived = 0;
      kick();
    }, stepDelayMs);
  }

  /** What an older version projected from messages sent for statistics goes, in batches, when the upgrade asked. */
  async function dropAggregateOnly(): Promise<void> {
    let batches = 0;
    for (;;) {
      if (stopped) return;
      const more = await store.commits.run(() => purge.dropAggregateOnly());
      if (more === undefined) return;
      batches++;
      kick();
      if (!more) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    log('risk: what messages sent for statistics had made in the risk view is removed, as the upgrade asked', { batches });
  }

  /** New rules whose reassessment is not queued yet (its commit failed: a full disk); tried at every look. */
  let reassess: 'no' | 'due' | 'failing' = 'no';

  function checkRules(): void {
    if (rulesMtime(path) !== rules.mtimeMs) {
      try {
        rules = loadRules(path, opts.env);
      } catch (err) {
        // keep scoring with the rules in force; say what is wrong (the message names the field, never the secret)
        rules = { ...rules, mtimeMs: rulesMtime(path) };
        log('risk rules not reloaded', { file: path, error: (err as Error).message });
        return;
      }
      log('risk rules reloaded', { file: path });
      warnCleartext();
      reassess = 'due';
    }
    if (reassess === 'no') return;
    const before = reassess;
    reassess = 'no';
    store.commits.run(() => engine.rulesChanged()).then(kick, (err: unknown) => {
      // one line per failing spell, not one per look
      if (before !== 'failing') log('risk rules reloaded, but the consignments to reassess could not be queued; trying again', failureFields(err));
      reassess = 'failing';
    });
  }

  return {
    onAccepted: (m) => {
      // the body as the receiver validated it: the step projects it without reading it back and parsing it again
      engine.offer(m.seq, m.body, m.opened.bytes.byteLength, m.opened.payload.purpose);
      kickSoon();
    },
    onPurge: (purged) => {
      const events = purge.run(purged);
      purges++;
      // once its transaction committed: tell the streams and the webhook of the rebuilt consignments' events (they read
      // them from the store: had it rolled back, they find nothing new), and reassess what the purge queued
      setImmediate(() => {
        feed.publish(events);
        kick();
      });
    },
    routes: [
      { path: '/arrivals', routes: arrivals.app },
      { path: '/aeo', routes: aeoRoutes(store, engine.aeo, engine.snapshots) },
    ],
    start() {
      started = true;
      store.commits.run(() => feed.prune(clock())).catch(() => undefined);
      store.commits
        .run(() => purge.rebuildIfAsked())
        .then(
          (rebuilt) => {
            if (!rebuilt) return;
            log('risk: AEO registry rebuilt from the AEO messages held, as the upgrade asked');
            kick();
          },
          (err: unknown) => log('risk: AEO registry rebuild failed; the next start tries again', failureFields(err)),
        );
      cleaning = dropAggregateOnly().catch((err: unknown) => {
        log('risk: removing what messages sent for statistics had made failed; the next start goes on', failureFields(err));
      });
      const look = (): void => {
        checkRules();
        if (unflushed) unflushed = !flushLog(store.db);
      };
      timers.push(setInterval(look, RULES_POLL_MS), setInterval(() => void store.commits.run(() => feed.prune(clock())).catch(() => undefined), PRUNE_MS));
      for (const t of timers) t.unref();
      webhook.start();
      kick();
    },
    closeStreams() {
      arrivals.closeStreams();
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      clearTimeout(retry);
      clearTimeout(soon);
      soon = undefined;
      arrivals.closeStreams();
      await cleaning;
      await running;
      await webhook.stop();
    },
    reload() {
      checkRules();
      kick();
    },
    engine,
    feed,
    queries,
    rules: () => rules,
    async idle() {
      // a step armed for what was received runs now, not after its wait
      if (soon !== undefined) {
        clearTimeout(soon);
        soon = undefined;
        kick();
      }
      while (running) await running;
    },
    health: () => ({ unassessable: engine.unassessable() }),
  };
}
