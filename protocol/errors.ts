/**
 * The one error type of the product (jose's JOSEError style): a stable string code that partners, integrators
 * and scripts can match on, and a sentence that says what went wrong and what to do. HTTP status and CLI exit
 * codes are mapped from the code in exactly one place each (node/api/problem.ts, node/cli/exit.ts).
 */
import type { z } from 'zod';
import type { ProblemIssue } from './api/schemas.js';

export const ERROR_CODES = [
  // input from integrators and files
  'GNC_INVALID_JSON',
  'GNC_BODY_TOO_LARGE',
  'GNC_UNSUPPORTED_MEDIA_TYPE',
  'GNC_UNKNOWN_TYPE',
  'GNC_SCHEMA_INVALID',
  'GNC_TOTALS_MISMATCH',
  'GNC_XML_INVALID',
  'GNC_XML_FORBIDDEN',
  'GNC_XML_TOO_DEEP',
  'GNC_ORIGINAL_UNKNOWN',
  // a part of an AEO snapshot sent in parts that contradicts the parts of that snapshot already held or sent
  'GNC_AEO_PART_CONFLICT',
  'GNC_NOT_FOUND',
  // an arrival asked for by the id of a version (declaration, amendment, cancellation) whose content retention purged
  'GNC_ARRIVAL_PURGED',
  'GNC_CONFLICT',
  'GNC_IDEMPOTENCY_KEY_INVALID',
  'GNC_IDEMPOTENCY_KEY_REUSED',
  // a file or directory named on the command line that cannot be read or written (path, permissions)
  'GNC_FILE_ACCESS',
  // envelopes and keys
  'GNC_ENVELOPE_MALFORMED',
  'GNC_ENVELOPE_HEADER',
  'GNC_SIGNATURE_INVALID',
  'GNC_KEY_UNKNOWN',
  'GNC_KEY_EXPIRED',
  'GNC_KEY_REVOKED',
  // this node's own certificate ends soon (GET /v1/health): rotate the node key before it does
  'GNC_KEY_EXPIRING',
  'GNC_SENDER_MISMATCH',
  'GNC_WRONG_RECIPIENT',
  'GNC_CLOCK_SKEW',
  'GNC_REPLAY',
  'GNC_RECEIPT_MISMATCH',
  // transport
  'GNC_FRAME_TOO_LARGE',
  'GNC_PEER_NOT_TRUSTED',
  'GNC_TOO_MANY_IN_FLIGHT',
  'GNC_PARTNER_UNREACHABLE',
  'GNC_DELIVERY_EXPIRED',
  // messages waiting in the outbox for long (GET /v1/health): see why in their status and the log
  'GNC_DELIVERY_DELAYED',
  // identity and trust
  'GNC_IDENTITY_EXISTS',
  'GNC_IDENTITY_MISSING',
  'GNC_FINGERPRINT_MISMATCH',
  'GNC_CERT_INVALID',
  'GNC_PARTNER_UNKNOWN',
  'GNC_CONFIG_INVALID',
  // agreements
  'GNC_AGREEMENT_NONE',
  'GNC_AGREEMENT_TYPE',
  'GNC_AGREEMENT_FIELD',
  'GNC_AGREEMENT_PURPOSE',
  'GNC_AGREEMENT_INVALID',
  'GNC_AGREEMENT_SIGNATURE',
  'GNC_AGREEMENT_OVERLAP',
  // local API
  'GNC_AUTH_MISSING',
  // an Authorization header that is no one bearer token (RFC 6750 section 3.1 invalid_request: `Bearer a b`)
  'GNC_AUTH_MALFORMED',
  'GNC_AUTH_INVALID',
  'GNC_AUTH_SCOPE',
  'GNC_METHOD_NOT_ALLOWED',
  // an Accept header that takes none of the media types the route answers with
  'GNC_NOT_ACCEPTABLE',
  // a request the HTTP parser refuses before any route sees it (a malformed request line, header or chunk)
  'GNC_REQUEST_MALFORMED',
  // a request line and headers over the HTTP parser's limit (Node's --max-http-header-size, 16 KiB)
  'GNC_HEADERS_TOO_LARGE',
  // a request whose headers or body did not arrive whole within the HTTP server's time limits (a client that stalled)
  'GNC_REQUEST_TIMEOUT',
  // a request with an Expect the node cannot meet (anything but 100-continue): Node answered a bare 417 for it
  'GNC_EXPECTATION_FAILED',
  // audit
  'GNC_AUDIT_BROKEN',
  // the node's own storage (free space on its data volume, then retry)
  'GNC_STORAGE_FULL',
  // the node's database file is not one, or is damaged (restore the data dir from its backup)
  'GNC_STORAGE_CORRUPT',
  // the node's database was written by a newer version (run that version; never downgraded)
  'GNC_STORAGE_VERSION',
  // queued consignments whose risk assessment keeps failing (GET /v1/health): the log names each; report it
  'GNC_RISK_UNASSESSABLE',
  // catch-all; never used for input the user can fix
  'GNC_INTERNAL',
] as const;

export type GncErrorCode = (typeof ERROR_CODES)[number];

/** Where in a document a problem is, with what was expected and what arrived: the zod schema of a problem's issue. */
export type ErrorIssue = z.infer<typeof ProblemIssue>;

/** The element path in an XML document of a JSON pointer into the body read from it (`/body/exporter/id` -> `/Declaration/Exporter/ID`). */
export type XmlPathOf = (pointer: string) => string | undefined;

export class GncError extends Error {
  override readonly name = 'GncError';
  readonly code: GncErrorCode;
  readonly issues: ErrorIssue[] | undefined;
  /**
   * The message for a body submitted as XML, naming the elements it was read from where `message` names JSON pointers
   * or field paths (an agreement's field refusal); undefined for an error worded the same for JSON and XML.
   */
  readonly inXml: ((xmlPathOf: XmlPathOf) => string) | undefined;

  constructor(code: GncErrorCode, message: string, options?: { issues?: ErrorIssue[]; cause?: unknown; inXml?: (xmlPathOf: XmlPathOf) => string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options?.issues;
    this.inXml = options?.inXml;
  }
}

export function isGncError(err: unknown): err is GncError {
  return err instanceof GncError;
}

export function isErrorCode(value: string): value is GncErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}

/** At most this many characters of a value a refusal quotes from its input (an id, a query value, a header). */
export const MAX_QUOTED = 120;

/**
 * `text` as a refusal or a log line quotes it: whole up to MAX_QUOTED characters, else its first MAX_QUOTED (never half a
 * surrogate pair), `…` and its length, so a 5,000-character id does not come back, or go to the log, whole.
 */
export function quote(text: string): string {
  if (text.length <= MAX_QUOTED) return text;
  const end = /[\uD800-\uDBFF]/.test(text[MAX_QUOTED - 1]!) ? MAX_QUOTED - 1 : MAX_QUOTED;
  return `${text.slice(0, end)}… (${text.length} characters)`;
}

/**
 * What went wrong, in words, from any thrown value: an Error's message; an event some libraries reject with instead of
 * an Error (libp2p's stream negotiation rejects with the stream's `close` event when the connection closes while it
 * waits to write) by the error it carries, or by what it is ("the close event"), not "undefined"; anything else as text.
 */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) {
    const carried = (err as { error?: unknown }).error;
    if (carried instanceof Error) return carried.message;
    const type = (err as { type?: unknown }).type;
    if (typeof type === 'string') return `the ${type} event, without an error (the connection closed meanwhile)`;
  }
  return String(err);
}

/** `text` between quotation marks as a refusal writes a value it received: bounded by `quote`, then escaped as a JSON string. */
export function quoted(text: string): string {
  return JSON.stringify(quote(text));
}

/**
 * `text` as one word of a POSIX shell command line, for a command a message suggests: as it is where a shell reads it
 * so (letters, digits and `_/.,:=+@%-`), else between single quotes (a `'` in it as `'\''`), so that a data dir or file
 * with a space or a shell metacharacter in its path pastes whole.
 */
export function shellWord(text: string): string {
  return /^[\p{L}\p{N}_/.,:=+@%-]+$/u.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** The `--dir` of a command a message suggests: the data dir, as one shell word, or `DIR` where it is not known. */
export function dirOption(dir: string | undefined): string {
  return `--dir ${dir === undefined ? 'DIR' : shellWord(dir)}`;
}
