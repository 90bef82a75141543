/**
 * RFC 9457 problem details: the one place where GNC error codes map to HTTP statuses. Every error the API
 * returns has `type` (a URN naming the code), `title`, `status`, `detail` (the sentence that says what to do),
 * `code`, and for document errors `issues` with the field path, the expected form and what arrived.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ProblemDetails } from '../../protocol/api/schemas.js';
import { GncError, isGncError, MAX_QUOTED, quote, type ErrorIssue, type GncErrorCode } from '../../protocol/errors.js';
import { storageError } from '../store/storage-error.js';

const STATUS: Partial<Record<GncErrorCode, ContentfulStatusCode>> = {
  GNC_INVALID_JSON: 400,
  GNC_SCHEMA_INVALID: 422,
  GNC_TOTALS_MISMATCH: 422,
  GNC_XML_INVALID: 422,
  GNC_XML_FORBIDDEN: 400,
  GNC_XML_TOO_DEEP: 400,
  GNC_UNKNOWN_TYPE: 422,
  GNC_ORIGINAL_UNKNOWN: 422,
  GNC_AEO_PART_CONFLICT: 422,
  GNC_BODY_TOO_LARGE: 413,
  GNC_UNSUPPORTED_MEDIA_TYPE: 415,
  GNC_NOT_FOUND: 404,
  GNC_ARRIVAL_PURGED: 410,
  GNC_CONFLICT: 409,
  GNC_IDENTITY_MISSING: 409,
  // the API meets it only for this node's own key (it cannot sign): a state to fix, like a missing root
  GNC_KEY_EXPIRED: 409,
  // conditions GET /v1/health reports (its answer stays 200): the status says what kind of state each is
  GNC_KEY_EXPIRING: 409,
  GNC_DELIVERY_DELAYED: 503,
  GNC_RISK_UNASSESSABLE: 500,
  GNC_IDEMPOTENCY_KEY_INVALID: 400,
  GNC_IDEMPOTENCY_KEY_REUSED: 422,
  GNC_PARTNER_UNKNOWN: 422,
  GNC_AGREEMENT_NONE: 403,
  GNC_AGREEMENT_TYPE: 403,
  GNC_AGREEMENT_FIELD: 403,
  GNC_AGREEMENT_PURPOSE: 403,
  GNC_AGREEMENT_INVALID: 422,
  GNC_AGREEMENT_SIGNATURE: 422,
  GNC_AGREEMENT_OVERLAP: 409,
  GNC_FINGERPRINT_MISMATCH: 422,
  GNC_CERT_INVALID: 422,
  GNC_AUTH_MISSING: 401,
  GNC_AUTH_MALFORMED: 400,
  GNC_AUTH_INVALID: 401,
  GNC_AUTH_SCOPE: 403,
  GNC_METHOD_NOT_ALLOWED: 405,
  GNC_NOT_ACCEPTABLE: 406,
  GNC_REQUEST_MALFORMED: 400,
  GNC_HEADERS_TOO_LARGE: 431,
  GNC_REQUEST_TIMEOUT: 408,
  GNC_EXPECTATION_FAILED: 417,
  GNC_PARTNER_UNREACHABLE: 503,
  GNC_STORAGE_FULL: 507,
  GNC_STORAGE_CORRUPT: 500,
  GNC_STORAGE_VERSION: 500,
};

export function httpStatusOf(code: GncErrorCode): ContentfulStatusCode {
  return STATUS[code] ?? (code === 'GNC_INTERNAL' ? 500 : 400);
}


/**
 * A run of this many characters without a space is input quoted in a form `echoes` did not list (changed in case, cut
 * by a parser): no sentence of the node's own has one, so it is quoted as bounded too.
 */
const LONG_RUN = new RegExp(`\\S{${4 * MAX_QUOTED + 1},}`, 'g');

/**
 * `text` with every quote of a long request value in `echoes` (longest first) bounded by `quote`, as given or as
 * JSON.stringify escapes it, and any other run too long to be the node's own words.
 */
function bounded(text: string, echoes: readonly string[]): string {
  let out = text;
  for (const e of echoes) {
    out = out.replaceAll(e, quote(e));
    const escaped = JSON.stringify(e).slice(1, -1);
    if (escaped !== e) out = out.replaceAll(escaped, quote(escaped));
  }
  return out.replace(LONG_RUN, quote);
}

/**
 * The problem details of `err`. Everything in them that quotes the request is bounded here, in one place (whatever
 * sentence the error was written with): each value in `echoes` (the request's path, its segments, query names and
 * values, header values) longer than MAX_QUOTED is quoted as `quote` does, in detail, instance and issues.
 */
export function toProblem(err: unknown, instance?: string, echoes: readonly string[] = []): ProblemDetails {
  const known = storageError(err);
  const e = isGncError(known) ? known : new GncError('GNC_INTERNAL', 'The node hit an unexpected error; the request was not applied. Retry, and report it to the node operator if it persists.');
  const status = httpStatusOf(e.code);
  const long = [...new Set(echoes.filter((t) => t.length > MAX_QUOTED))].sort((a, b) => b.length - a.length);
  const bound = (text: string): string => bounded(text, long);
  return {
    type: `urn:gnc:problem:${e.code}`,
    title: e.code.replace(/^GNC_/, '').toLowerCase().replace(/_/g, ' '),
    status,
    detail: bound(e.message),
    code: e.code,
    ...(instance ? { instance: bound(instance) } : {}),
    ...(e.issues ? { issues: e.issues.map((i) => boundIssue(i, bound)) } : {}),
  };
}

function boundIssue(issue: ErrorIssue, bound: (text: string) => string): ErrorIssue {
  return {
    ...issue,
    path: bound(issue.path), expected: bound(issue.expected), received: bound(issue.received), message: bound(issue.message),
    ...(issue.xmlPath !== undefined ? { xmlPath: bound(issue.xmlPath) } : {}),
    ...(issue.xmlPaths !== undefined ? { xmlPaths: issue.xmlPaths.map(bound) } : {}),
  };
}

/** What a refusal of this request may quote of it: its path and segments, query names and values (raw and decoded), header values. */
export function requestEchoes(c: Context): string[] {
  const url = new URL(c.req.url);
  const raw = [url.pathname, ...url.pathname.split('/'), ...url.search.slice(1).split(/[&=]/)];
  const texts = [...raw, ...raw.map(decoded), c.req.path];
  for (const [name, value] of url.searchParams) texts.push(name, value);
  c.req.raw.headers.forEach((value) => texts.push(value));
  return texts;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The challenge a 401 must carry (RFC 9110 section 11.6.1, RFC 6750 section 3): without it some HTTP clients
 * (Java's HttpURLConnection among them) fail with an I/O error instead of handing the problem to the caller.
 */
const CHALLENGE: Partial<Record<GncErrorCode, string>> = {
  GNC_AUTH_MISSING: 'Bearer realm="gnc"',
  // a 400, but RFC 6750 section 3 names the error of a malformed request in the challenge too
  GNC_AUTH_MALFORMED: 'Bearer realm="gnc", error="invalid_request"',
  GNC_AUTH_INVALID: 'Bearer realm="gnc", error="invalid_token"',
};

export function problemResponse(c: Context, err: unknown): Response {
  const p = toProblem(err, c.req.path, requestEchoes(c));
  const challenge = CHALLENGE[p.code];
  return c.body(JSON.stringify(p), p.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
    ...(challenge ? { 'www-authenticate': challenge } : {}),
  });
}
