/**
 * Values given in query strings, read from text. Their refusals say what the parameter takes in words an integrator
 * reads at once ("a whole number from 1 to 500"), not zod's "number to be <=500" on a value it calls a string.
 */
import { z } from 'zod';

/** A whole number (`?limit=`, `?wait=`, `?after=`) from `min`, up to `max` when there is one; one sentence for any refusal. */
export function queryWholeNumber(min: number, max?: number) {
  const error = max === undefined ? `a whole number, ${min} or more` : `a whole number from ${min} to ${max}`;
  const atLeast = z.coerce.number({ error }).int({ error }).min(min, { error });
  return max === undefined ? atLeast : atLeast.max(max, { error });
}

/** A text (`?trader=`, `?container=`) of `min` to `max` characters. */
export function queryText(min: number, max: number) {
  const error = `${min} to ${max} characters`;
  return z.string().min(min, { error }).max(max, { error });
}
