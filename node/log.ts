/**
 * Minimal structured logging: one JSON line per event on stderr, so operators can ship it to their SIEM.
 * Callers pass ids, codes and countries only; key material and tokens are never handed to the logger.
 */
export type Logger = (msg: string, fields?: Record<string, string | number | boolean | null>) => void;

export function jsonLogger(component: string, quiet = false): Logger {
  return (msg, fields) => {
    if (quiet) return;
    process.stderr.write(JSON.stringify({ t: new Date().toISOString(), c: component, msg, ...fields }) + '\n');
  };
}

/**
 * A budget of log lines per key and window, for lines a peer can provoke at will (refused connections and
 * streams, resets, framing errors): one hostile peer cannot fill the operator's disk or SIEM. Within a window
 * a key gets `perWindow` lines; the rest are counted, and the first line of the key's next window says how
 * many were not logged. Keys are partner countries or a fixed class ("untrusted"), never peer-chosen text, so
 * the map stays small; it is swept anyway when it grows.
 */
export class LogBudget {
  private readonly keys = new Map<string, { start: number; used: number; dropped: number }>();

  constructor(
    private readonly perWindow = 60,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `line` as it should be logged (with a note on lines held back in the key's last window), or undefined. */
  admit(key: string, line: string): string | undefined {
    const t = this.now();
    let k = this.keys.get(key);
    let dropped = 0;
    if (!k || t - k.start >= this.windowMs) {
      dropped = k?.dropped ?? 0;
      if (!k && this.keys.size >= 1000) this.sweep(t);
      k = { start: t, used: 0, dropped: 0 };
      this.keys.set(key, k);
    }
    if (k.used >= this.perWindow) {
      k.dropped++;
      return undefined;
    }
    k.used++;
    return dropped > 0 ? `${line} (${dropped} more such lines about ${key} were not logged after the last one logged)` : line;
  }

  private sweep(t: number): void {
    for (const [key, k] of this.keys) if (t - k.start >= this.windowMs && k.dropped === 0) this.keys.delete(key);
  }
}
