/**
 * The `Prefer` request header (RFC 7240), as far as this API honours it: `wait=N` (section 4.3), the seconds
 * a client is willing to wait for the final answer, and `return=minimal | representation` (section 4.2), how
 * much of the message that answer carries. Preferences are hints: an unknown preference, a malformed value or
 * a parameter of another preference is ignored, as section 2 asks of servers; the first valid one counts.
 */
import { MAX_WAIT_SECONDS } from '../../protocol/constants.js';

/**
 * `token=word` as the leading member of one preference, the word bare or quoted:
 * preference = token [ BWS "=" BWS word ] *( OWS ";" [ OWS parameter ] ).
 */
const form = (token: string, word: string): RegExp => new RegExp(`^\\s*${token}\\s*=\\s*(?:(${word})|"(${word})")\\s*(?:;|$)`, 'i');
const WAIT = form('wait', '\\d{1,9}');
const RETURN = form('return', 'minimal|representation');

/** The word of the first preference of that form (several `Prefer` headers arrive joined by commas). */
function preference(header: string | undefined, of: RegExp): string | undefined {
  if (header === undefined) return undefined;
  for (const p of header.split(',')) {
    const m = of.exec(p);
    if (m) return m[1] ?? m[2];
  }
  return undefined;
}

/** Seconds from `wait=N`, capped at MAX_WAIT_SECONDS. */
export function preferredWait(header: string | undefined): number | undefined {
  const seconds = preference(header, WAIT);
  return seconds === undefined ? undefined : Math.min(Number(seconds), MAX_WAIT_SECONDS);
}

export type ReturnPreference = 'minimal' | 'representation';

/** `return=minimal` or `return=representation` from the header, if it names either. */
export function preferredReturn(header: string | undefined): ReturnPreference | undefined {
  return preference(header, RETURN)?.toLowerCase() as ReturnPreference | undefined;
}
