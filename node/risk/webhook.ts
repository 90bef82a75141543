/**
 * Webhook towards the national risk engine: each new or changed assessment is POSTed as JSON, signed with
 * HMAC-SHA256 under a shared secret (header `x-gnc-signature: t=<unix seconds>,v1=<hex>` over
 * `<t>.<body>`, so the receiver can refuse replays by time), in event order, one at a time. A failure is
 * retried with exponential backoff and jitter; delivery is bounded by attempts and by age, after which the
 * event is marked failed (the SSE stream and the export still have it). The queue lives in SQLite, so a
 * restart resumes where it stopped (a delivery in progress at a stop is abandoned, not counted, and sent again).
 * The secret and the URL's credentials never reach a log line.
 *
 * Order is strict head of line: while the oldest undelivered event waits out its backoff, no later event is
 * sent. The receiver keeps the last assessment it was given, so an amendment's event delivered before the
 * failed event of the original would leave it on the older revision.
 */
import { createHmac } from 'node:crypto';
import { backoffDelay } from '../outbound/backoff.js';
import type { Store } from '../store/store.js';
import type { RiskFeed } from './feed.js';
import type { WebhookSettings } from './rules.js';
import { failureFields } from './engine.js';

/** Deliveries looked at per round. */
const ROUND = 20;
/** After a round that could not record its outcome (a full disk), the next one waits this long: 5 s. */
const ROUND_RETRY_MS = 5_000;

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** A URL as it may be logged: no credentials, query or fragment (they may carry a token). */
function loggable(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** Where a redirect pointed, as it may be logged. */
function redirectTarget(base: string, location: string | null): string {
  if (location === null) return 'a redirect without a Location';
  try {
    return `a redirect to ${loggable(new URL(location, base))}`;
  } catch {
    return 'a redirect to an invalid Location';
  }
}

interface Queued {
  event_seq: number;
  attempts: number;
  next_at: number;
  expires_at: number;
  payload: string | null;
}

export class WebhookSender {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Aborted by stop(): a receiver that holds a delivery must not hold the node's shutdown for timeoutMs. */
  private halt = new AbortController();
  /** Epoch ms before which no round starts (set after a failed round). */
  private notBefore = 0;
  private readonly s;

  constructor(
    private readonly store: Store,
    private readonly feed: RiskFeed,
    private readonly settings: () => WebhookSettings | undefined,
    private readonly clock: () => number,
    private readonly log: (msg: string, fields?: Record<string, string | number>) => void,
  ) {
    const db = store.db;
    this.s = {
      // the oldest undelivered events whether due or not: one waiting for its retry holds back those after it
      pending: db.prepare(`SELECT w.event_seq, w.attempts, w.next_at, w.expires_at, e.payload FROM risk_webhook w LEFT JOIN risk_events e ON e.seq = w.event_seq
        WHERE w.state = 'pending' ORDER BY w.event_seq LIMIT ?`),
      // the next round is due when the head is, not when some later event would be
      headAt: db.prepare(`SELECT next_at FROM risk_webhook WHERE state = 'pending' ORDER BY event_seq LIMIT 1`).pluck(),
      done: db.prepare('UPDATE risk_webhook SET state = ?, attempts = ?, last_error = ?, done_at = ? WHERE event_seq = ?'),
      retry: db.prepare('UPDATE risk_webhook SET attempts = ?, next_at = ?, last_error = ? WHERE event_seq = ?'),
    };
  }

  start(): void {
    this.stopped = false;
    this.halt = new AbortController();
    this.feed.subscribe(() => this.kick());
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.halt.abort();
    await this.running;
  }

  kick(): void {
    if (this.stopped || this.running || !this.settings()) return;
    if (this.timer) clearTimeout(this.timer);
    this.running = this.round()
      // a write that failed (a full disk) leaves the event due: a later round sends it again (receivers
      // deduplicate by x-gnc-event-id), not at once, which would call the receiver in a tight loop
      .catch((err: unknown) => {
        // the error's code and kind only: its message may quote an event's content
        this.log('risk webhook round failed; retrying', { ...failureFields(err), retryInMs: ROUND_RETRY_MS });
        this.notBefore = this.clock() + ROUND_RETRY_MS;
      })
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
  }

  private schedule(): void {
    if (this.stopped) return;
    const next = this.s.headAt.get() as number | undefined;
    if (next === undefined) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, Math.max(next, this.notBefore) - this.clock()));
    this.timer.unref();
  }

  private async round(): Promise<void> {
    for (;;) {
      const cfg = this.settings();
      if (!cfg || this.stopped) return;
      const pending = this.s.pending.all(ROUND) as Queued[];
      if (pending.length === 0) return;
      for (const d of pending) {
        if (this.stopped) return;
        // in order: a failing event holds back the later ones until it is delivered or given up, also while
        // it waits out its backoff (schedule() wakes the sender when it is due)
        if (d.next_at > this.clock()) return;
        if (!(await this.deliver(cfg, d))) return;
      }
    }
  }

  /**
   * The signal of one attempt: aborted after `timeoutMs` (a TimeoutError) or by stop(), until `done()`. Not
   * `AbortSignal.any([AbortSignal.timeout(ms), halt])`: Node keeps each signal composed from a long-lived one in that
   * one's set of dependants for good (nodejs/node#55351; Node 20 prunes none, even after garbage collection), so a node
   * running for months kept one for every webhook attempt it made. This one's listener on stop()'s signal goes with it.
   */
  private attemptSignal(timeoutMs: number): { signal: AbortSignal; done: () => void } {
    const attempt = new AbortController();
    const halt = this.halt.signal;
    const halted = (): void => attempt.abort(halt.reason);
    const timer = setTimeout(() => attempt.abort(new DOMException(`No answer within ${timeoutMs} ms.`, 'TimeoutError')), timeoutMs);
    timer.unref();
    halt.addEventListener('abort', halted, { once: true });
    return {
      signal: attempt.signal,
      done: () => {
        clearTimeout(timer);
        halt.removeEventListener('abort', halted);
      },
    };
  }

  /** stop()'s signal, which each attempt follows while it runs (attemptSignal): what the tests observe. */
  get stopSignal(): AbortSignal {
    return this.halt.signal;
  }

  /** True when the event is settled (delivered or given up), false when it waits for a retry. */
  private async deliver(cfg: WebhookSettings, d: Queued): Promise<boolean> {
    const now = this.clock();
    const attempts = d.attempts + 1;
    if (d.payload === null || d.expires_at <= now) {
      await this.store.commits.run(() => this.s.done.run('failed', d.attempts, d.payload === null ? 'event pruned' : 'expired before delivery', now, d.event_seq));
      return true;
    }
    const body = JSON.stringify({ id: d.event_seq, ...(JSON.parse(d.payload) as object) });
    let error: string;
    const attempt = this.attemptSignal(cfg.timeoutMs);
    try {
      const res = await fetch(cfg.url, {
        method: 'POST',
        headers: { ...(cfg.authorization !== undefined ? { authorization: cfg.authorization } : {}), 'content-type': 'application/json', 'x-gnc-event-id': String(d.event_seq), 'x-gnc-signature': signatureHeader(cfg.secret, body, Math.floor(now / 1000)) },
        body,
        // a redirect is no delivery: fetch would repeat a POST answered 301/302/303 as a GET without the body
        // (and count that GET's 200 as delivered), and would carry the signed assessment to any host named
        redirect: 'manual',
        signal: attempt.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        await this.store.commits.run(() => this.s.done.run('delivered', attempts, null, this.clock(), d.event_seq));
        return true;
      }
      error = res.status >= 300 && res.status < 400 ? `HTTP ${res.status}, ${redirectTarget(cfg.url, res.headers.get('location'))} (not followed: set webhook.url to the address that takes the POST)` : `HTTP ${res.status}`;
    } catch (err) {
      // abandoned by stop(): no fault of the receiver, so no attempt counted; the event goes again after a start
      if (this.halt.signal.aborted) return false;
      error = (err as Error).name === 'TimeoutError' ? `no answer within ${cfg.timeoutMs} ms` : `connection failed (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name})`;
    } finally {
      attempt.done();
    }
    this.log('risk webhook delivery failed', { event: d.event_seq, attempt: attempts, target: loggable(new URL(cfg.url)), error });
    if (attempts >= cfg.maxAttempts) {
      await this.store.commits.run(() => this.s.done.run('failed', attempts, error, this.clock(), d.event_seq));
      return true;
    }
    const delay = backoffDelay(attempts - 1, { initialMs: cfg.initialBackoffMs, maxMs: cfg.maxBackoffMs });
    await this.store.commits.run(() => this.s.retry.run(attempts, this.clock() + delay, error, d.event_seq));
    return false;
  }
}
