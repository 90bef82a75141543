/**
 * Values given in query strings, read from text. Their refusals say what the parameter takes in words an integrator
 * reads at once ("a whole number from 1 to 500"), not zod's "number to be <=500" on a value it calls a string.
 */
import { z } from 'zod';

/**
 * A whole number (`?limit=`, `?wait=`, `?after=`, `--limit`) from `min`, up to `max` when there is one, in plain decimal
 * digits: Number() would read "" as 0, "0x10" as 16, "1e1" as 10 and " 5" as 5, so `?after=` would replay every event
 * and `--limit 1e1` pass. One sentence for any refusal; the API's query and the CLI's options both read it here, and
 * OpenAPI shows it as the integer it is.
 */
export function queryWholeNumber(min: number, max?: number) {
  const error = max === undefined ? `a whole number, ${min} or more` : `a whole number from ${min} to ${max}`;
  const atLeast = z.coerce.number<string>({ error }).int({ error }).min(min, { error });
  return z.string({ error }).regex(/^[0-9]+$/, { error })
    .pipe(max === undefined ? atLeast : atLeast.max(max, { error }))
    // the text's pattern is said by the type, and the bounds are those of the number it is read as (a safe integer)
    .meta({ type: 'integer', minimum: min, maximum: max ?? Number.MAX_SAFE_INTEGER, pattern: undefined });
}

/** A text (`?trader=`, `?container=`) of `min` to `max` characters. */
export function queryText(min: number, max: number) {
  const error = `${min} to ${max} characters`;
  return z.string().min(min, { error }).max(max, { error });
}
