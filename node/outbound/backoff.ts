/**
 * Retry delay of the dispatcher: exponential from `initialMs`, capped at `maxMs`, with "equal jitter" (half
 * fixed, half random) so that many queued messages do not hammer a partner that just came back in lockstep.
 */
export interface BackoffConfig {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, cfg: BackoffConfig, random: () => number = Math.random): number {
  const exp = Math.min(cfg.maxMs, cfg.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/**
 * Probing a partner found unreachable while nothing is queued for it (Dispatcher.probeLater): this node dials it, a
 * connection and no message, so that GET /v1/health stops telling of it once it is back, also when it never dials this
 * node. The first probe waits the delivery backoff's first delay (`initialMs`), each further one twice as long, with
 * the same jitter, up to PROBE_MAX_MS; probes of different partners start at least PROBE_SPACING_MS apart, so that a
 * node started with many partners marked unreachable does not dial them all at once.
 */
export const PROBE_MAX_MS = 180_000;
export const PROBE_SPACING_MS = 250;

/** How long before probe number `attempt` (0: the first) of a partner; `cfg`: the delivery backoff. */
export function probeDelay(attempt: number, cfg: BackoffConfig, random: () => number = Math.random): number {
  return backoffDelay(attempt, { initialMs: Math.min(cfg.initialMs, PROBE_MAX_MS), maxMs: PROBE_MAX_MS }, random);
}
