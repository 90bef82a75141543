/**
 * Requests the HTTP parser refuses before hono sees them (Node's `clientError`): an unknown method (`BREW`), a
 * malformed request line or header, a request line and headers over the parser's limit. Node's own answer is a bare
 * `400 Bad Request` (or 431) without a body; this one is problem details with a GNC code, as every other refusal,
 * and the connection closes after it as Node's does (the parser cannot find where the next request starts). So is a
 * request the server's time limits cut off (headers or body stalled; Node's own answer is a bare `408`), and a
 * request the parser reads but hono's listener cannot make a URL of (requestErrorResponse), and one with an `Expect`
 * the node cannot meet (Node's own answer is a bare `417`).
 */
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestError } from '@hono/node-server';
import { GncError, quoted } from '../../protocol/errors.js';
import { toProblem } from './problem.js';

/** Every method a route of the API takes (/v1/openapi.json lists them per path). */
const API_METHODS = 'GET, HEAD, POST';

function refusal(code: string | undefined, server: Server | undefined): GncError | undefined {
  switch (code) {
    case 'HPE_INVALID_METHOD':
      return new GncError('GNC_METHOD_NOT_ALLOWED', `The request's method is not one this API takes: use ${API_METHODS} as /v1/openapi.json lists them for each path.`);
    case 'HPE_HEADER_OVERFLOW':
      return new GncError('GNC_HEADERS_TOO_LARGE', `The request line and headers exceed the ${maxHeaderSize} bytes this node reads: shorten the query string (a filter value too long?) or the headers, and send the request again.`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new GncError('GNC_BODY_TOO_LARGE', 'The chunked body carries chunk extensions over the limit: send the body without chunk extensions (or with Content-Length).');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return timedOut(server);
    case 'ECONNRESET':
      return undefined;
    default:
      return malformed(code ?? 'unreadable');
  }
}

/** Node's one code for both limits: the headers not read within headersTimeout, or the whole request within requestTimeout. */
function timedOut(server: Server | undefined): GncError {
  const limits = server ? ` (its headers within ${seconds(server.headersTimeout)}, the whole request within ${seconds(server.requestTimeout)})` : '';
  return new GncError('GNC_REQUEST_TIMEOUT', `The request did not arrive whole in time${limits}, so nothing of it was applied: send the body right after the headers, as many bytes as Content-Length says (or a chunked body to its last chunk), and send the request again.`);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function malformed(why: string): GncError {
  return new GncError('GNC_REQUEST_MALFORMED', `The request is not well-formed HTTP/1.1 (${why}): check the request line (METHOD /v1/path HTTP/1.1, the path percent-encoded), the Host header and the other headers (Name: value, one per line), and send it again.`);
}

/**
 * The answer to a request hono's Node listener could not turn into a URL (its RequestError: a Host header that is no
 * host, a backslash in the path, a request target that is no path such as `*`), or to a failure before the app answered.
 */
export function requestErrorResponse(err: unknown): Response {
  const unreadable = err instanceof RequestError;
  const p = toProblem(unreadable ? malformed(err.message) : err);
  // a request that is no URL is refused as the parser's refusals are: the connection closes after it (the client
  // learns at once that the request was not read, rather than waiting on a kept-alive connection for nothing)
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...(unreadable ? { connection: 'close' } : {}) };
  return new Response(JSON.stringify(p), { status: p.status, headers });
}

export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // the server the connection came to (net.Server sets it on each socket it accepts): its time limits, for the 408
  const accepted = socket as Duplex & { server?: Server; _httpMessage?: { headersSent?: boolean } | null };
  const e = refusal(err.code, accepted.server);
  // an answer in flight whose head has gone out cannot be followed by another (Node's own check; a kept-alive
  // connection's earlier answers are done and do not count); a reset connection gets nothing
  const fresh = socket.writable && accepted._httpMessage?.headersSent !== true;
  if (e === undefined || !fresh) {
    socket.destroy();
    return;
  }
  const p = toProblem(e);
  const body = JSON.stringify(p);
  const head = [
    `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? ''}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(p.code === 'GNC_METHOD_NOT_ALLOWED' ? [`Allow: ${API_METHODS}`] : []),
    'Connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * Node's `checkExpectation`: a request whose Expect is not `100-continue` (which Node answers itself) is answered with
 * 417 problem details, before any route, instead of Node's bare 417 (RFC 9110 section 10.1.1); nothing of it is
 * applied and the connection closes, as the body it announced may still follow.
 */
export function answerExpectation(req: IncomingMessage, res: ServerResponse): void {
  const expect = quoted(req.headers.expect ?? '');
  const p = toProblem(new GncError('GNC_EXPECTATION_FAILED', `Expect: ${expect} is not an expectation this node can meet (it meets 100-continue only), so nothing of the request was applied: send it without Expect, or with Expect: 100-continue.`));
  const body = JSON.stringify(p);
  res.writeHead(p.status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
