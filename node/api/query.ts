/**
 * Query strings of the local API: each parameter named (`?=5` is refused, not dropped as hono drops it) and given
 * at most once (`?partner=KG&partner=KZ` would otherwise be read as KG alone, silently), then the route's strict
 * schema, so a misspelt or unknown parameter is refused instead of being ignored and widening the answer. Routes
 * without parameters take `NO_QUERY`, except `/v1/health` and `/v1/openapi.json`: load-balancer probes and API
 * tools add cache-busting parameters, and neither answer has anything a parameter could narrow, so they ignore
 * their query.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { GncError, quoted } from '../../protocol/errors.js';
import { parseWith } from '../../protocol/validate.js';

export const NO_QUERY = z.strictObject({});

/**
 * The request's query parameters by name, as hono reads them. A parameter without a name (`?=5`, `?a=1&=`) is
 * refused: hono leaves it out, so a route would answer as if it had not been given. Empty segments (`?a=1&&b=2`,
 * a trailing `?` or `&`) are no parameter and pass.
 */
export function queryParams(c: Context): Record<string, string[]> {
  const url = c.req.url;
  // no query string (every submission of JSON): no parameter, without parsing the URL twice (here and by hono)
  if (!url.includes('?')) return {};
  const search = new URL(url).search.slice(1);
  const unnamed = search.split('&').find((part) => part.startsWith('='));
  if (unnamed !== undefined) {
    const received = quoted(unnamed);
    const message = `/: expected a parameter name before "=", received ${received}`;
    throw new GncError('GNC_SCHEMA_INVALID', `Query is invalid: ${message}. Name the parameter (like limit=5) or leave it out.`, {
      issues: [{ path: '', expected: 'a parameter name before "="', received, message }],
    });
  }
  return c.req.queries();
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const all = queryParams(c);
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
  return parseParameters(schema, single, 'Query', '');
}

/**
 * A request's parameters (its query, the parameters of its path) parsed with `schema`, or GNC_SCHEMA_INVALID: nothing
 * was submitted, so the refusal tells to fix the parameter and send the request again.
 */
export function parseParameters<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix: string): z.output<S> {
  return parseWith(schema, input, what, prefix, 'GNC_SCHEMA_INVALID', 'Fix the parameter and send the request again.');
}
