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
