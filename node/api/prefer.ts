/**
 * The `Prefer` request header (RFC 7240), as far as this API honours it: `wait=N` (section 4.3), the seconds
 * a client is willing to wait for the final answer, and `return=minimal | representation` (section 4.2), how
 * much of the message that answer carries. Preferences are hints: an unknown preference, a malformed value or
 * a parameter of another preference is ignored, as section 2 asks of servers; the first valid one counts.
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

export type ReturnPreference = 'minimal' | 'representation';

/** `return=minimal` or `return=representation` from the header, if it names either. */
export function preferredReturn(header: string | undefined): ReturnPreference | undefined {
  if (header === undefined) return undefined;
  for (const preference of header.split(',')) {
    const m = /^\s*return\s*=\s*(?:(minimal|representation)|"(minimal|representation)")\s*(?:;|$)/i.exec(preference);
    if (m) return (m[1] ?? m[2])!.toLowerCase() as ReturnPreference;
  }
  return undefined;
}
