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
