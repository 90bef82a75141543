/**
 * Content negotiation (RFC 9110 section 12.5.1). Every route answers the media types its OpenAPI operation lists
 * (JSON for most); a request whose Accept takes XML and none of them (an XML integrator's `Accept: application/xml`)
 * is refused with 406 GNC_NOT_ACCEPTABLE before the route runs (nothing is submitted), rather than answered in a type
 * it said it cannot read. GET /v1/messages/{id} chooses between JSON and XML by q-values: XML when the client prefers
 * application/xml (or text/xml) to JSON; `;q=0` means "not this", and a media type that only contains "xml"
 * (application/xhtml+xml) is not XML of a message body.
 */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { GncError } from '../../protocol/errors.js';
import { problemResponse } from './problem.js';

interface Range {
  /** `type/subtype`, or a wildcard (`type/*`, the any-type range), lower case, without parameters. */
  type: string;
  q: number;
}

function ranges(accept: string): Range[] {
  const out: Range[] = [];
  for (const range of accept.split(',')) {
    const [raw = '', ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    if (raw === '') continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    // a bare "*" (sent by Java's HttpURLConnection) stands for */*
    out.push({ type: raw === '*' ? '*/*' : raw, q });
  }
  return out;
}

/** XML of a message body answers application/xml; text/xml asks for the same. */
const ALIASES: Readonly<Record<string, readonly string[]>> = { 'application/xml': ['application/xml', 'text/xml'] };

/** The q-value Accept gives `mediaType`: that of its most specific matching range (type/subtype, type/*, any type). */
function qualityOf(all: readonly Range[], mediaType: string): number {
  const names = ALIASES[mediaType] ?? [mediaType];
  const family = `${mediaType.slice(0, mediaType.indexOf('/'))}/*`;
  for (const candidates of [names, [family], ['*/*']]) {
    const matching = all.filter((r) => candidates.includes(r.type));
    if (matching.length > 0) return Math.max(...matching.map((r) => r.q));
  }
  return 0;
}

function weights(accept: string): { xml: number; json: number } {
  let xml = 0;
  let json = 0;
  for (const { type, q } of ranges(accept)) {
    if (type === 'application/xml' || type === 'text/xml') xml = Math.max(xml, q);
    else if (type === 'application/json' || type === 'application/*' || type === '*/*') json = Math.max(json, q);
  }
  return { xml, json };
}

export function prefersXml(accept: string | undefined): boolean {
  if (!accept) return false;
  const { xml, json } = weights(accept);
  return xml > 0 && xml >= json;
}

/**
 * Whether JSON is acceptable at all (q > 0): a message without an XML form (a control message, a purged body)
 * is then answered as JSON, as section 12.5.1 lets a server do, rather than refused.
 */
export function acceptsJson(accept: string | undefined): boolean {
  return !accept || weights(accept).json > 0;
}

/** Whether Accept takes one of `offered` (no Accept, or one with no readable range, takes anything). */
export function acceptsAny(accept: string | undefined, offered: readonly string[]): boolean {
  const all = ranges(accept ?? '');
  return all.length === 0 || offered.some((t) => qualityOf(all, t) > 0);
}

const XML = ['application/xml'];

/**
 * Refuses a request whose Accept takes XML but none of the media types its route answers with (`offered`, by the route's
 * method and its path as registered, `/v1/messages/:id`): 406 GNC_NOT_ACCEPTABLE naming them, as problem details. A
 * request no route takes (404, 405) goes on to be answered as such. Any other Accept is answered as before, in the
 * route's own type (RFC 9110 section 12.5.1 lets a server disregard it): a client that asks for application/xhtml+xml
 * or text/html alone still gets JSON.
 */
export function negotiate(offered: (method: string, path: string) => readonly string[] | undefined): MiddlewareHandler {
  return async (c, next) => {
    const accept = c.req.header('accept');
    // */* (what fetch and most clients send) takes every type: nothing to look up on the submit path
    if (accept !== undefined && accept !== '*/*') {
      // the route that answers: the first one matched after this middleware (GET /v1/arrivals/stream also matches
      // /v1/arrivals/:id, later), not a middleware of every path (method ALL)
      const route = matchedRoutes(c).slice(c.req.routeIndex + 1).find((r) => r.method !== 'ALL');
      const types = route && offered(route.method, route.path);
      if (types && !acceptsAny(accept, types) && acceptsAny(accept, XML)) {
        const list = types.join(', ');
        return problemResponse(c, new GncError('GNC_NOT_ACCEPTABLE', `${c.req.method} ${c.req.path} answers ${list}, none of which "Accept: ${accept}" takes: accept ${types.length > 1 ? 'one of them' : 'it'} (or */*), and read errors as application/problem+json.`));
      }
    }
    await next();
  };
}
