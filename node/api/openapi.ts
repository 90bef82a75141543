/**
 * OpenAPI 3.1 document of the local API, generated from the zod schemas in protocol/ (z.toJSONSchema), so
 * the published contract is the enforced one. Route groups register their operations here too.
 */
import { z } from 'zod';
import * as api from '../../protocol/api/schemas.js';
import { AciBody } from '../../protocol/messages/aci.js';
import { AeoBody } from '../../protocol/messages/aeo.js';
import { EcooBody } from '../../protocol/messages/ecoo.js';
import { EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { SignedAgreement } from '../../protocol/agreement/signing.js';

type Operation = {
  summary: string;
  scope?: 'submit' | 'read' | 'admin';
  request?: string;
  response: string;
  status?: number;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  /** Headers of the success answer (name: description). */
  responseHeaders?: Record<string, string>;
  /**
   * Media types of the success answer besides JSON (type: description), or `only` instead of it (a stream, an
   * export); `response` then names what one item of it is.
   */
  produces?: { types: Record<string, string>; only?: boolean };
  /** The request body may also be XML (the message body as WCO DM XML, addressed by the query string). */
  xmlRequest?: boolean;
  /** A second success answer (status, its component or the components it is one of, when it is given). */
  also?: { status: number; response: string | string[]; description: string; headers?: Record<string, string> };
  /** Refusals worth naming (status: what it means, with its code), problem details like the default answer. */
  problems?: Record<number, string>;
};

const REPLAYED = '"true" when the Idempotency-Key named a message an earlier submission made: this is that message, nothing new was queued';

const components: Record<string, z.ZodType> = {
  SubmitRequest: api.SubmitRequest,
  SubmitResponse: api.SubmitResponse,
  MessageView: api.MessageView,
  MessageSummary: api.MessageSummary,
  MessageList: api.MessageList,
  WithdrawRequest: api.WithdrawRequest,
  PartnerView: api.PartnerView,
  PartnerList: api.PartnerList,
  PartnerRemoveRequest: api.PartnerRemoveRequest,
  PartnerRemoval: api.PartnerRemoval,
  Health: api.Health,
  ProblemDetails: api.ProblemDetails,
  AgreementCreateRequest: api.AgreementCreateRequest,
  AgreementNoticeRequest: api.AgreementNoticeRequest,
  AgreementView: api.AgreementView,
  AgreementList: api.AgreementList,
  AuditLogStatus: api.AuditLogStatus,
  EvidenceBundle,
  SignedAgreement,
  AciBody,
  EcooBody,
  AeoBody,
};

const paths: Record<string, Record<string, Operation>> = {
  '/v1/health': { get: { summary: 'Liveness and identity of this node, and the conditions that need its operator (no token needed): `status: degraded` with a `checks` entry (code, what to do) for each; the answer stays 200 while the process runs', response: 'Health' } },
  '/v1/messages': {
    post: {
      summary: 'Submit a message for a partner (JSON without a query string, or XML with ?to=&purpose=&ref=)', scope: 'submit', request: 'SubmitRequest', response: 'SubmitResponse', status: 202,
      headers: api.SubmitHeaders, query: api.XmlSubmitQuery, xmlRequest: true,
      responseHeaders: { Location: 'the message, /v1/messages/{id}', 'Idempotent-Replayed': REPLAYED },
      also: {
        status: 200, response: ['MessageView', 'MessageSummary'], description: 'With Prefer: wait=N, the message once final (delivered, rejected, expired, resealed or withdrawn) within N seconds (its summary with return=minimal)',
        headers: { Location: 'the message, /v1/messages/{id}', 'Preference-Applied': 'return=minimal or return=representation, when the request asked for either', 'Idempotent-Replayed': REPLAYED },
      },
    },
    get: { summary: 'List messages, newest first, with cursor pagination', scope: 'read', response: 'MessageList', query: api.ListMessagesQuery },
  },
  '/v1/messages/{id}': { get: { summary: 'One message with status, receipt and signed envelope (Accept: application/xml for the body as XML), of the partner and direction given when more than one message has the id', scope: 'read', response: 'MessageView', query: api.WaitQuery,
      problems: {
        404: 'GNC_NOT_FOUND: no message has this id (sent to or received from that partner, in that direction, with ?partner= or ?direction=), or, with Accept: application/xml only, it has no XML form',
        409: 'GNC_CONFLICT: more than one message has this id and ?partner= and ?direction= do not say which (message ids are unique per direction and partner only: two partners may pick the same id, and a received message may have the id of one sent); the detail names the partners and what to add, e.g. ?partner=XX',
      },
      responseHeaders: { Vary: 'Accept: the body is JSON or, when preferred, WCO DM XML', 'X-Gnc-Status': "with an XML answer, the message's status (queued ... delivered), which the XML body does not carry" }, produces: { types: { 'application/xml': 'the message body as WCO DM XML (with Accept: application/xml; a control message or a purged body has none and comes as JSON if Accept takes JSON too)' } } } },
  '/v1/messages/{id}/withdraw': { post: { summary: 'Withdraw a message queued for a partner that does not have it yet (queued or retrying, never handed over): final status withdrawn, with the time and reason. 409 GNC_CONFLICT for one the partner has or may have (sending, delivered, or handed over by an earlier attempt: send a cancellation, amendment or status change instead), one already final, a control message, or one that queued messages refer to (withdraw those first); a message withdrawn already is answered as it is', scope: 'submit', request: 'WithdrawRequest', response: 'MessageView' } },
  '/v1/partners': { get: { summary: 'Partner administrations and their certificates: pinned ones, and removed ones (`removed`)', scope: 'read', response: 'PartnerList' } },
  '/v1/partners/{country}/remove': { post: { summary: 'End a partnership, as `gnc partner remove` does: the partner is trusted no more (the running node closes its connections at once), and what is still queued for it is withdrawn (`withdrawn` lists the ids). 409 GNC_CONFLICT while an agreement with it is active, suspended or not yet valid, or an agreement notice to it is undelivered, unless despiteAgreement; 404 GNC_NOT_FOUND for a country never pinned. A partner removed already is answered with that removal (`already: true`), nothing done. Pinning again (and --replace-root) is CLI-only: `gnc partner add`', scope: 'admin', request: 'PartnerRemoveRequest', response: 'PartnerRemoval' } },
  '/v1/messages/{id}/evidence': { get: { summary: 'Evidence bundle of one message (envelope, receipt, certificates and those set aside as conflicting that it was signed under, roots, log segment, checkpoints, export statement), to verify offline with `gnc audit verify`; every message with the id (two partners may have picked it, and a partner that of a message sent to it), or with ?partner= that partner\'s alone, with ?direction=in the received or ?direction=out the sent alone', scope: 'read', response: 'EvidenceBundle', query: api.EvidenceQuery } },
  '/v1/agreements': {
    get: { summary: 'Agreements this node holds, with their status now', scope: 'read', response: 'AgreementList' },
    post: { summary: 'Draft from a readable document, sign with this root, optionally propose to the partner', scope: 'admin', request: 'AgreementCreateRequest', response: 'AgreementView', status: 201 },
  },
  '/v1/agreements/{id}': { get: { summary: 'One agreement (latest version, or ?version=N) with document, signatures and notices', scope: 'read', response: 'AgreementView', query: api.AgreementVersionQuery } },
  '/v1/agreements/import': { post: { summary: 'Import a signed agreement file (e.g. countersigned by the partner)', scope: 'admin', request: 'SignedAgreement', response: 'AgreementView', status: 201 } },
  '/v1/agreements/{id}/sign': { post: { summary: "Add this administration's root signature (countersign a proposal). Takes no body (the version is ?version=N): one other than {} is 422 GNC_SCHEMA_INVALID", scope: 'admin', response: 'AgreementView', query: api.AgreementVersionQuery } },
  '/v1/agreements/{id}/propose': { post: { summary: 'Send the agreement signed here to the partner over the wire. Takes no body (the version is ?version=N): one other than {} is 422 GNC_SCHEMA_INVALID', scope: 'admin', response: 'AgreementView', status: 202, query: api.AgreementVersionQuery } },
  '/v1/agreements/{id}/suspend': { post: { summary: 'Suspend by a root-signed notice the partner receives over the wire', scope: 'admin', request: 'AgreementNoticeRequest', response: 'AgreementView', status: 202 } },
  '/v1/agreements/{id}/terminate': { post: { summary: 'Terminate by a root-signed notice the partner receives over the wire', scope: 'admin', request: 'AgreementNoticeRequest', response: 'AgreementView', status: 202 } },
  '/v1/agreements/{id}/resume': { post: { summary: 'Resume a suspended agreement by a root-signed notice', scope: 'admin', request: 'AgreementNoticeRequest', response: 'AgreementView', status: 202 } },
  '/v1/audit/verify': { get: { summary: "Status of this node's evidence log: links, checkpoints, and any deleted, reordered or changed entry", scope: 'admin', response: 'AuditLogStatus' } },
};

/** Route groups outside this file add their operations and schemas. */
export function registerOperations(more: Record<string, Record<string, Operation>>, schemas: Record<string, z.ZodType> = {}): void {
  Object.assign(paths, more);
  Object.assign(components, schemas);
}

/** The media types of an operation's success answers: JSON, unless it answers only others, and those it lists. */
function mediaTypes(op: Operation): string[] {
  return [...(op.produces?.only ? [] : ['application/json']), ...Object.keys(op.produces?.types ?? {})];
}

/**
 * The media types the route `path` (as registered: `/v1/messages/:id`) answers `method` with, as its operation in the
 * document lists them; the document itself is JSON. Undefined for a path that is no route.
 */
export function answersWith(method: string, path: string): string[] | undefined {
  if (path === '/v1/openapi.json') return ['application/json'];
  const op = paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
  return op && mediaTypes(op);
}

function jsonSchema(s: z.ZodType): unknown {
  return z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
}

let cached: unknown;

export function openApiDocument(): unknown {
  if (cached) return cached;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(paths)) {
    out[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      const params: unknown[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      if (op.query) {
        for (const [name, s] of Object.entries(op.query.shape)) params.push({ name, in: 'query', required: false, schema: jsonSchema(s as z.ZodType) });
      }
      if (op.headers) {
        for (const [name, s] of Object.entries(op.headers.shape)) params.push({ name, in: 'header', required: false, schema: jsonSchema(s as z.ZodType) });
      }
      const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
      const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('ProblemDetails') } } });
      const ok = (response: string | string[], description: string, headers?: Record<string, string>) => ({
        description,
        ...(headers ? { headers: Object.fromEntries(Object.entries(headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
        content: Object.fromEntries(mediaTypes(op).map((type) => [
          type,
          { schema: type === 'application/json' ? (typeof response === 'string' ? ref(response) : { oneOf: response.map(ref) }) : { type: 'string', description: op.produces!.types[type] } },
        ])),
      });
      out[path]![method] = {
        summary: op.summary,
        ...(op.scope ? { security: [{ bearer: [op.scope] }] } : {}),
        ...(params.length ? { parameters: params } : {}),
        ...(op.request
          ? {
              requestBody: {
                required: true,
                content: {
                  'application/json': { schema: { $ref: `#/components/schemas/${op.request}` } },
                  ...(op.xmlRequest ? { 'application/xml': { schema: { type: 'string', description: 'the message body as WCO DM XML; to, purpose and ref in the query string' } } } : {}),
                },
              },
            }
          : {}),
        responses: {
          [String(op.status ?? 200)]: ok(op.response, 'OK', op.responseHeaders),
          ...(op.also ? { [String(op.also.status)]: ok(op.also.response, op.also.description, op.also.headers) } : {}),
          ...Object.fromEntries(Object.entries(op.problems ?? {}).map(([status, description]) => [status, problem(description)])),
          default: problem('Problem details (RFC 9457)'),
        },
      };
    }
  }
  cached = {
    openapi: '3.1.0',
    info: { title: 'GNC exchange node local API', version: '1.0.0', description: 'Local API of a Globally Networked Customs exchange node. Bearer tokens with scopes submit, read, admin (`gnc token create`). Each operation answers the media types its responses list; an Accept that takes XML but none of them is 406 GNC_NOT_ACCEPTABLE (problem details), before the operation runs. A request the HTTP parser cannot read is answered with problem details too, before any operation, and the connection closed: a method HTTP does not define 405 GNC_METHOD_NOT_ALLOWED, a malformed request line or header 400 GNC_REQUEST_MALFORMED, a request line and headers over 16 KiB 431 GNC_HEADERS_TOO_LARGE, headers not read within 60 s or a whole request not within 300 s (a client that stalls) 408 GNC_REQUEST_TIMEOUT, an Expect but 100-continue 417 GNC_EXPECTATION_FAILED.' },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token of `gnc token create` as "Authorization: Bearer <token>". No token (no header, another scheme, "Bearer" alone) is 401 GNC_AUTH_MISSING; a header that is no one token ("Bearer a b", characters no bearer token has) 400 GNC_AUTH_MALFORMED, with WWW-Authenticate error="invalid_request" (RFC 6750 section 3.1); an unknown or revoked token 401 GNC_AUTH_INVALID (error="invalid_token"); a token without the operation\'s scope 403 GNC_AUTH_SCOPE.',
        },
      },
      schemas: Object.fromEntries(Object.entries(components).map(([k, s]) => [k, jsonSchema(s)])),
    },
    paths: out,
  };
  return cached;
}
