/**
 * Instants and time windows given in query strings (`since`/`until` of /v1/messages, `from`/`to` of
 * /v1/arrivals): ISO 8601 with an offset, as the stored times are compared in UTC. An instant outside the years
 * 0001-9999 once in UTC has no four-digit-year form (`9999-12-31T23:59:59-14:00` is `+010000-...Z`, which sorts
 * before every real date), and a window that ends before it starts matches nothing: both are refused, so an
 * integrator's mistake never reads as "no messages".
 */
import { z } from 'zod';

/**
 * `2026-11-24T08:00:00 05:00`: an offset's `+` written bare in a query string, which reads as a space there (curl and
 * hand-written URLs send it so). Refused like any malformed instant, with a message that says how to write it.
 */
const PLUS_AS_SPACE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)? \d{2}:?\d{2}$/;

export const QueryInstant = z.iso.datetime({
  offset: true,
  // zod's own "a valid ISO datetime" misleads for the likeliest mistake, a local time without its offset
  // (`2026-11-25T00:00:00`), which is valid ISO 8601: the message says what the instant needs
  error: (iss) => (typeof iss.input === 'string' && PLUS_AS_SPACE.test(iss.input)
    ? 'expected the "+" of the offset written as %2B (a bare "+" in a query string reads as a space), like 2026-11-24T08:00:00%2B05:00, or the instant in UTC with Z'
    : 'expected an ISO 8601 date and time with its offset, like 2026-11-24T08:00:00Z or 2026-11-24T08:00:00+05:00 (in a query string, the "+" written as %2B)'),
}).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  // not an instant at all: the format check above says so, once
  return Number.isNaN(year) || (year >= 1 && year <= 9999);
}, 'expected an instant between the years 0001 and 9999 in UTC');

/**
 * What the end of a window whose end is not after its start expects, the start named as the reader gave it: the
 * member (`from`) in the API's words, the option (`--from`) in the CLI's.
 */
export function afterStart(start: string): string {
  return `an instant after ${start} (this window ends where it starts or before)`;
}

/**
 * `schema` with a check that `start`, when both are given, is before `end` (the issue names `end`; its params name
 * `start` as `windowStart`, so that a reader naming members otherwise can say it with afterStart).
 */
export function windowInOrder<S extends z.ZodObject>(schema: S, start: keyof S['shape'] & string, end: keyof S['shape'] & string): S {
  return schema.refine((q: Record<string, unknown>) => {
    const a = q[start];
    const b = q[end];
    return typeof a !== 'string' || typeof b !== 'string' || Date.parse(a) < Date.parse(b);
  }, { path: [end], message: `expected ${afterStart(start)}`, params: { windowStart: start } });
}
