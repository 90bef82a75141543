/**
 * Instants and time windows given in query strings (`since`/`until` of /v1/messages, `from`/`to` of
 * /v1/arrivals): ISO 8601 with an offset, as the stored times are compared in UTC. An instant outside the years
 * 0001-9999 once in UTC has no four-digit-year form (`9999-12-31T23:59:59-14:00` is `+010000-...Z`, which sorts
 * before every real date), and a window that ends before it starts matches nothing: both are refused, so an
 * integrator's mistake never reads as "no messages".
 */
import { z } from 'zod';

export const QueryInstant = z.iso.datetime({ offset: true }).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, 'expected an instant between the years 0001 and 9999 in UTC');

/** `schema` with a check that `start`, when both are given, is before `end` (the issue names `end`). */
export function windowInOrder<S extends z.ZodObject>(schema: S, start: keyof S['shape'] & string, end: keyof S['shape'] & string): S {
  return schema.refine((q: Record<string, unknown>) => {
    const a = q[start];
    const b = q[end];
    return typeof a !== 'string' || typeof b !== 'string' || Date.parse(a) < Date.parse(b);
  }, { path: [end], message: `expected an instant after ${start} (this window ends where it starts or before)` });
}
