/**
 * The `Prefer` request header (RFC 7240), as far as this API honours it: `wait=N` (section 4.3), the seconds
 * a client is willing to wait for the final answer. Preferences are hints: an unknown preference, a
 * malformed value or a `wait` parameter of another preference is ignored, as section 2 asks of servers.
 */
import { MAX_WAIT_SECONDS } from '../../protocol/constants.js';

/** Seconds from `wait=N` in the header (several `Prefer` headers arrive joined by commas), capped at MAX_WAIT_SECONDS. */
export function preferredWait(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  for (const preference of header.split(',')) {
    // preference = token [ BWS "=" BWS word ] *( OWS ";" [ OWS parameter ] ); only the leading token=word counts
    const m = /^\s*wait\s*=\s*(?:(\d{1,9})|"(\d{1,9})")\s*(?:;|$)/i.exec(preference);
    if (m) return Math.min(Number(m[1] ?? m[2]), MAX_WAIT_SECONDS);
  }
  return undefined;
}
