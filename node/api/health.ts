/**
 * The conditions GET /v1/health reports to a node's operator and monitoring (`checks`, `status: degraded`): what this
 * node can tell reliably from cheap reads, each with a stable code and a sentence saying what to do. The answer has no
 * token, so a check names no message content and no partner: the operator finds which with a token and in the log.
 */
import type { HealthCheck } from '../../protocol/api/schemas.js';
import type { SigningState } from '../keys/keyring.js';
import type { Db } from '../store/db.js';

const DAY_MS = 86_400_000;
/** GNC_KEY_EXPIRING from this long before the node certificate ends: time to rotate and for partners to learn the key. */
export const KEY_EXPIRY_WARNING_MS = 30 * DAY_MS;
/** GNC_DELIVERY_DELAYED once the oldest message in the outbox was queued longer ago than this: one hour. */
export const DELIVERY_DELAY_MS = 3_600_000;
/** GNC_PARTNER_UNREACHABLE once a partner has been unreachable for this long, attempt after attempt: one hour. */
export const UNREACHABLE_MS = 3_600_000;

/** What the checks read, each from the part of the node that knows it. */
export interface HealthSources {
  now: number;
  /** This node's signing (Keyring.signing); undefined where no keyring is composed. */
  signing?: SigningState;
  /** Queued consignments whose assessment failed (RiskEngine.unassessable), on a node running the risk view. */
  unassessable?: number;
  /** Partners found unreachable, with since when (Dispatcher.unreachableSince). */
  unreachableSince: ReadonlyMap<string, number>;
  /** The countries pinned now: one removed meanwhile is not reported. */
  partners: readonly string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export class HealthChecks {
  /** The oldest row of the outbox, by its primary key (the seq of the message it delivers), and that message's queueing time. */
  private readonly oldest;

  constructor(db: Db) {
    this.oldest = db.prepare('SELECT o.attempts, o.last_error, m.stored_at FROM outbox o JOIN messages m ON m.seq = o.seq ORDER BY o.seq LIMIT 1');
  }

  run(s: HealthSources): HealthCheck[] {
    return [...signingChecks(s), ...riskChecks(s), ...this.deliveryChecks(s)];
  }

  private deliveryChecks(s: HealthSources): HealthCheck[] {
    const checks: HealthCheck[] = [];
    const oldest = this.oldest.get() as { attempts: number; last_error: string | null; stored_at: number } | undefined;
    if (oldest && s.now - oldest.stored_at >= DELIVERY_DELAY_MS) {
      // the code of the last failure only: its text may quote what the partner answered
      const code = /^GNC_[A-Z_]+/.exec(oldest.last_error ?? '')?.[0];
      const last = oldest.attempts === 0 ? 'no attempt yet (it waits for a message queued before it)' : `${plural(oldest.attempts, 'attempt')}, the last failed with ${code ?? 'an error'}`;
      checks.push({
        code: 'GNC_DELIVERY_DELAYED',
        detail: `Messages have waited in the outbox since ${iso(oldest.stored_at)} (the oldest: ${last}). See which and why with GET /v1/messages?status=retrying (status and error of each) and the node's log; messages expire after the maximum message age, control envelopes are sealed again.`,
      });
    }
    const pinned = new Set(s.partners);
    const long = [...s.unreachableSince].filter(([country, since]) => pinned.has(country) && s.now - since >= UNREACHABLE_MS);
    if (long.length > 0) {
      const since = Math.min(...long.map(([, t]) => t));
      checks.push({
        code: 'GNC_PARTNER_UNREACHABLE',
        detail: `${plural(long.length, 'partner')} unreachable for more than ${UNREACHABLE_MS / 60_000} minutes (since ${iso(since)}; their messages stay queued and are retried). GET /v1/partners (\`connected\`) and the log line "partner XX is unreachable" say which: check the network path to it and its addresses, and ask its operator whether its node runs.`,
      });
    }
    return checks;
  }
}

function signingChecks(s: HealthSources): HealthCheck[] {
  const k = s.signing;
  if (k === undefined) return [];
  const checks: HealthCheck[] = [];
  if (s.now >= k.exp) {
    checks.push({
      code: 'GNC_KEY_EXPIRED',
      detail: `This node's signing key ${k.kid} expired at ${iso(k.exp)}: it signs nothing (submissions are refused, partners get no receipts and no longer connect). Certify a new key with \`gnc keys rotate\` (it needs the root key) and give partners the new identity file (\`gnc identity export\`; they run \`gnc partner add\` again).`,
    });
  } else if (s.now < k.nbf) {
    checks.push({
      code: 'GNC_KEY_EXPIRED',
      detail: `This node's signing key ${k.kid} is certified from ${iso(k.nbf)}, but this node's clock says ${iso(s.now)}: it signs nothing until then. Check this machine's clock.`,
    });
  } else if (k.latestExp - s.now <= KEY_EXPIRY_WARNING_MS) {
    const days = Math.floor((k.latestExp - s.now) / DAY_MS);
    checks.push({
      code: 'GNC_KEY_EXPIRING',
      detail: `This node's certificate ends at ${iso(k.latestExp)}, in ${days === 0 ? 'less than a day' : plural(days, 'day')}: after that it signs nothing and partners no longer connect. Rotate the node key before then (\`gnc keys rotate\`, it needs the root key), which partners learn over the wire while the old key is valid.`,
    });
  }
  if (k.revokedAt !== undefined && k.revokedAt <= s.now) {
    checks.push({
      code: 'GNC_KEY_REVOKED',
      detail: `This node's signing key ${k.kid} is revoked from ${iso(k.revokedAt)} and no other key signs: partners refuse what it signs. Certify a new key with \`gnc keys rotate\` (it needs the root key); if the data dir's keys were restored from an older backup, restore the current ones instead.`,
    });
  }
  return checks;
}

function riskChecks(s: HealthSources): HealthCheck[] {
  if (!s.unassessable) return [];
  return [{
    code: 'GNC_RISK_UNASSESSABLE',
    detail: `${plural(s.unassessable, 'queued consignment')} could not be assessed (shown unassessed or with an assessment that may be out of date) and ${s.unassessable === 1 ? 'is' : 'are'} tried again with a backoff; the others are assessed. The log names each (\`risk: a consignment could not be assessed\`, its cid and code): report those lines.`,
  }];
}
