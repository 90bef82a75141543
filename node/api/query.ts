/**
 * Query strings of the local API: each parameter at most once (`?partner=KG&partner=KZ` would otherwise be
 * read as KG alone, silently), then the route's strict schema, so a misspelt or unknown parameter is refused
 * instead of being ignored and widening the answer. Routes without parameters take `NO_QUERY`, except
 * `/v1/health` and `/v1/openapi.json`: load-balancer probes and API tools add cache-busting parameters, and
 * neither answer has anything a parameter could narrow, so they ignore their query.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { GncError } from '../../protocol/errors.js';
import { parseWith } from '../../protocol/validate.js';

export const NO_QUERY = z.strictObject({});

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const all = c.req.queries();
  const single: Record<string, string> = {};
  for (const [name, values] of Object.entries(all)) {
    if (values.length > 1) {
      const message = `/${name}: expected the parameter once, received it ${values.length} times`;
      throw new GncError('GNC_SCHEMA_INVALID', `Query is invalid: ${message}. Give each parameter once.`, {
        issues: [{ path: `/${name}`, expected: 'the parameter once', received: `${values.length} values`, message }],
      });
    }
    single[name] = values[0]!;
  }
  return parseWith(schema, single, 'Query', '');
}
