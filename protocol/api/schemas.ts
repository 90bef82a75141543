/**
 * Schemas of the local HTTP API (`/v1`): requests as validated at the edge, responses as documented. The
 * OpenAPI document at `/v1/openapi.json` is generated from these same schemas (node/api/openapi.ts), so the
 * documentation cannot drift from what the node enforces.
 */
import { z } from 'zod';
import { CountryCode, CountryFilter } from '../codes/countries.js';
import { EnvelopeType, FlattenedJws, MessageDirection, MessageId, UtcTimestamp } from '../envelope/payload.js';
import { IDEMPOTENCY_KEY_TTL_MS, MAX_WAIT_SECONDS } from '../constants.js';
import { ERROR_CODES } from '../errors.js';
import { BusinessType } from '../messages/registry.js';
import { ReceiptCode } from '../messages/receipt.js';
import { AgreementDocument, AgreementId, AgreementTime } from '../agreement/document.js';
import { AgreementStatus } from '../agreement/lifecycle.js';
import { AgreementNotice } from '../agreement/notice.js';
import { DataTerms } from '../agreement/terms.js';
import { SignedAgreement } from '../agreement/signing.js';
import { QueryInstant, windowInOrder } from './instant.js';
import { queryWholeNumber } from './parameters.js';

export const SubmitRequest = z.strictObject({
  to: CountryCode.describe('ISO 3166-1 alpha-2 code of the partner administration'),
  type: z.string().describe('aci | ecoo | aeo'),
  purpose: z.string().min(1).max(64).optional().describe('processing purpose allowed by the agreement, e.g. pre-arrival-risk-assessment'),
  ref: MessageId.optional().describe('id of the original message, for amendments, cancellations and status changes'),
  body: z.record(z.string(), z.unknown()).describe('the message body, validated against the schema of `type`'),
});
export type SubmitRequest = z.infer<typeof SubmitRequest>;

/** A submission of an XML body (Content-Type application/xml) is addressed by the query string. */
export const XmlSubmitQuery = SubmitRequest.pick({ to: true, purpose: true, ref: true });

export const SubmitResponse = z.object({
  id: MessageId,
  status: z.literal('queued'),
  to: CountryCode,
  type: BusinessType,
  agreement: z.string(),
  sha256: z.string(),
  removed: z.array(z.string()).describe('field paths removed by data minimisation under the agreement'),
  removedXmlPaths: z.array(z.string()).optional().describe('for a document submitted as XML, the element paths in it of the fields `removed` names, each element once (`/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/GoodsMeasure/NetNetWeightMeasure` for `goodsItems[].netMass`, one per goods item); empty when nothing was removed; absent for a JSON submission'),
});

/**
 * Every status a message has: outbound `queued` .. `withdrawn`, inbound `accepted`. `withdrawn`: an outbound message
 * taken back before it was handed to the partner (`POST /v1/messages/{id}/withdraw`, or its partner removed); final.
 */
export const MessageStatus = z.enum(['queued', 'sending', 'retrying', 'delivered', 'rejected', 'expired', 'resealed', 'withdrawn', 'accepted']);
export type MessageStatus = z.infer<typeof MessageStatus>;

/** `POST /v1/messages/{id}/withdraw`: why the message is taken back (stored with it, shown with its status). */
/** Why something is taken back or ended, recorded with it: 1-500 characters, not only spaces. */
const Reason = z.string().min(1).max(500).regex(/\S/, 'expected a reason, not only spaces');

export const WithdrawRequest = z.strictObject({
  reason: Reason.describe('why the message is withdrawn, 1-500 characters'),
});

export const ListMessagesQuery = windowInOrder(z.strictObject({
  direction: z.enum(['out', 'in']).optional(),
  partner: CountryFilter.optional(),
  type: EnvelopeType.exclude(['receipt']).optional().describe('a business type (aci, ecoo, aeo) or a control type (agreement, key)'),
  status: MessageStatus.optional(),
  since: QueryInstant.optional().describe('created at or after'),
  until: QueryInstant.optional().describe('created before'),
  // opaque (node/api/cursor.ts): a message's seq and the filters it pages
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected the nextCursor of the previous page').optional().describe('the nextCursor of the previous page, with the same filters'),
  limit: queryWholeNumber(1, 500).default(50),
}), 'since', 'until');

/**
 * `GET /v1/messages/{id}`: message ids are unique per direction and partner only, so an id that more than one message
 * has needs `partner` or `direction` (409 GNC_CONFLICT without them names the partners).
 */
export const WaitQuery = z.strictObject({
  direction: MessageDirection.optional().describe('in: the message received with this id; out: the one sent. Needed (409 GNC_CONFLICT without it) when a message sent and one received have the id'),
  partner: CountryFilter.optional().describe('the partner the message was sent to or received from; needed (409 GNC_CONFLICT without it) when messages of two or more partners have the id'),
  wait: queryWholeNumber(0, MAX_WAIT_SECONDS).optional().describe(`seconds (at most ${MAX_WAIT_SECONDS}) to hold the answer until the message is final (delivered, rejected, expired, resealed or withdrawn)`),
});

/**
 * `GET /v1/messages/{id}/evidence`: the bundle holds every message with the id (message ids are unique per direction and
 * partner only), or those of that direction and partner alone.
 */
export const EvidenceQuery = z.strictObject({
  direction: MessageDirection.optional().describe('in: only the messages received with this id; out: only those sent (without it, both: a partner may have sent a message with the id of one sent to it); the bundle\'s selection names the direction'),
  partner: CountryFilter.optional().describe('only the messages sent to or received from this partner with the id (without it, every message with the id: two partners may have picked the same one); the bundle\'s selection names the partner'),
});

/** A client's idempotency key: printable ASCII without `"` and `\`, as the Idempotency-Key header carries it. */
export const IdempotencyKey = z.string().regex(/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,255}$/, 'expected 1 to 255 printable ASCII characters, no " or \\');

export const SubmitHeaders = z.object({
  'idempotency-key': IdempotencyKey.optional().describe(`draft-ietf-httpapi-idempotency-key-header: a key of the client's own (a quoted string, "KZ-SW-2026-000123", or bare), scoped to its API token. A repeated submission with the same key and the same to, type, purpose, ref and body answers with the message the first one made (same id, "Idempotent-Replayed: true") and queues nothing; with another submission it is 422 GNC_IDEMPOTENCY_KEY_REUSED. Keys are remembered for ${IDEMPOTENCY_KEY_TTL_MS / 86_400_000} days.`),
  prefer: z.string().optional().describe(`RFC 7240 "wait=N": hold the answer up to N seconds (at most ${MAX_WAIT_SECONDS}) until the partner's signed receipt is recorded; 200 with the message (as GET /v1/messages/{id}) once final (delivered, rejected, expired, resealed or withdrawn), else 202 as without it. With "return=minimal" as well, that 200 carries the message summary (as in GET /v1/messages: status and receipt outcome, no body or envelopes) and "Preference-Applied: return=minimal"`),
});

export const ReceiptView = z.object({
  id: z.string(),
  status: z.enum(['accepted', 'rejected']),
  code: ReceiptCode.nullable().describe('with rejected, the GNC_ code the partner gave: one of the README error table, or one a later version of the partner\'s node added'),
  reason: z.string().nullable(),
  sha256: z.string(),
  at: UtcTimestamp,
  envelope: FlattenedJws,
});

export const MessageView = z.object({
  id: MessageId,
  direction: z.enum(['out', 'in']),
  partner: CountryCode,
  type: z.string(),
  kind: z.string().nullable(),
  ref: z.string().nullable(),
  purpose: z.string().nullable(),
  agreement: z.string().nullable(),
  created: z.string(),
  status: MessageStatus,
  sha256: z.string(),
  error: z.object({ code: z.string(), reason: z.string().nullable() }).nullable(),
  withdrawn: z.object({ at: UtcTimestamp, reason: z.string() }).nullable().describe('status withdrawn: when and why it was taken back (it never reached the partner, or, for a partner removed, may have without a receipt coming back: the reason says so)'),
  resealedAs: MessageId.nullable().describe('status resealed: the id of the message whose envelope carries this control message\'s body on, sealed again because this envelope grew too old undelivered or the partner refused it as too old on arrival (follow it for the outcome); status withdrawn: the id of the message that carries this agreement message\'s body on, queued again when the partner whose removal withdrew it was pinned again'),
  removed: z.array(z.string()),
  terms: DataTerms.nullable().describe('a received business message: the terms of the agreement version it was accepted under (`agreement`), which bind whoever reads it from this node: its purpose, its retention end, whether it may go to third parties. null for every sent message and every control message'),
  purged: z.object({ at: UtcTimestamp }).nullable().describe('a received message whose retention period under its agreement has ended: its content (body and signed envelope) is purged since `at`, the end of that period, on every read path (this view, its XML, the evidence bundle) whether or not the hourly purge has run yet; the metadata, the receipt and the log entries stay. null while the content is held, and for every sent message'),
  body: z.record(z.string(), z.unknown()).nullable().describe('null once the retention period purged the content (`purged`)'),
  receipt: ReceiptView.nullable(),
  envelope: FlattenedJws.nullable().describe('the exact signed JWS, verifiable with any JOSE library; null once the retention period purged the content (`purged`)'),
});
export type MessageView = z.infer<typeof MessageView>;

export const MessageSummary = MessageView.omit({ body: true, envelope: true, receipt: true }).extend({ receiptStatus: z.enum(['accepted', 'rejected']).nullable() });
export type MessageSummary = z.infer<typeof MessageSummary>;

export const MessageList = z.object({ items: z.array(MessageSummary), nextCursor: z.string().nullable() });

export const PartnerView = z.object({
  country: CountryCode,
  name: z.string(),
  fingerprint: z.string(),
  addresses: z.array(z.string()),
  certificates: z.array(z.object({
    kid: z.string(), peerId: z.string(), notBefore: UtcTimestamp, notAfter: UtcTimestamp, revokedAt: UtcTimestamp.nullable(),
    replacedRoot: z.boolean().describe('issued under a root of this partner replaced as lost (`replacedRoots`): kept as evidence, trusted for nothing whatever its dates'),
  })),
  replacedRoots: z.array(z.object({ fingerprint: z.string(), replacedAt: z.string(), replacedBy: z.string() }))
    .describe('roots of this partner replaced after they were lost (`gnc partner add --replace-root`), oldest first, each with the root pinned in its place; empty for most partners'),
  connected: z.boolean(),
  added: z.string(),
  removed: z.object({ at: z.string(), reason: z.string().nullable() }).nullable().describe('a partner removed (`gnc partner remove`): trusted no more, kept as evidence; null while pinned'),
});
export type PartnerView = z.infer<typeof PartnerView>;

/** `GET /v1/partners`: every partner ever pinned, removed ones included. */
export const PartnerList = z.object({ items: z.array(PartnerView) });

/**
 * `POST /v1/partners/{country}/remove`, as `gnc partner remove` takes it: the reason (`--reason`, required there too,
 * recorded with the removal and in each withdrawn message's reason) and `--despite-agreement`.
 */
export const PartnerRemoveRequest = z.strictObject({
  reason: Reason.describe('why the partnership ends, 1-500 characters'),
  despiteAgreement: z.boolean().default(false).describe('remove it even while an agreement binds it or an agreement notice to it is undelivered, without telling it (`--despite-agreement`)'),
});

/** A partnership ended (`gnc partner remove`, `POST /v1/partners/{country}/remove`), or found ended already. */
export const PartnerRemoval = z.object({
  country: CountryCode,
  name: z.string(),
  removedAt: z.string().describe('when it was removed: now, or with `already` the earlier removal'),
  reason: z.string().nullable().describe('the reason recorded with the removal (with `already`, the earlier one)'),
  already: z.boolean().describe('true: it was removed before (by this endpoint or `gnc partner remove`) and nothing was done now; `withdrawn` and `agreements` are then empty'),
  withdrawn: z.array(MessageId).describe('the messages still queued for it that this removal withdrew (status withdrawn), agreement and key messages included'),
  agreements: z.array(z.string()).describe('agreements binding it that the removal went past (`despiteAgreement`), as id@version (status): left as they are here, and the partner was not told'),
});
export type PartnerRemoval = z.infer<typeof PartnerRemoval>;

/** A condition of this node that needs its operator (GET /v1/health `checks`). */
export const HealthCheck = z.object({
  code: z.enum(ERROR_CODES).describe('what is wrong, stable (the README error table): GNC_KEY_EXPIRED, GNC_KEY_EXPIRING, GNC_KEY_REVOKED, GNC_RISK_UNASSESSABLE, GNC_DELIVERY_DELAYED, GNC_PARTNER_UNREACHABLE'),
  detail: z.string().describe('what is wrong and what to do; names no message content and no partner (GET /v1/partners, with a token, and the log say which)'),
});
export type HealthCheck = z.infer<typeof HealthCheck>;

export const Health = z.object({
  status: z.enum(['ok', 'degraded']).describe('degraded when `checks` lists anything: the node runs (the answer stays 200, for a load balancer) but needs its operator'),
  checks: z.array(HealthCheck).describe('each condition that needs the operator, at most one per code; empty when `status` is ok'),
  country: CountryCode,
  name: z.string(),
  peerId: z.string(),
  kid: z.string(),
  addresses: z.array(z.string()),
  uptimeSeconds: z.number(),
  partners: z.number(),
  outbox: z.number(),
  risk: z
    .object({
      unassessable: z.number().int().describe('queued consignments whose assessment failed (each logged with its cid and code), left unassessed or showing an assessment that may be out of date, tried again with a backoff while the others are assessed; 0 normally'),
    })
    .optional()
    .describe('the pre-arrival risk view, on a node that runs it'),
});
export type Health = z.infer<typeof Health>;

/**
 * Where in a document a problem is, with what was expected and what arrived (schema, XML and agreement refusals): one
 * entry of a problem's `issues`, and the type of GncError's issues (protocol/errors.ts ErrorIssue).
 */
export const ProblemIssue = z.object({
  path: z.string().describe('the field: a JSON pointer (under /body in a submission; "" for the whole body or query), or for a document submitted as XML the element path of a problem found reading it'),
  xmlPath: z.string().optional().describe('for a document submitted as XML, the element path in it (/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification/ID), also where `path` is a JSON pointer (an agreement refusing a field); absent for a JSON submission and for what is not in the document (a query parameter). For a field read from several elements (`xmlPaths`), the first of them'),
  xmlPaths: z.array(z.string()).optional().describe('for a field of a document submitted as XML that was read from several elements not held in one of its own, all of them, each once: remove or fix them all (an ACI\'s `notifyParty` is its GNC AdditionalInformation entries, `/Declaration/AdditionalInformation[4]/StatementDescription` ...; `officeOfExit` is `/Declaration/ExitOffice/ID` and such an entry); absent for any other issue, whose one element is `xmlPath`'),
  expected: z.string(),
  received: z.string(),
  message: z.string(),
});

export const ProblemDetails = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.enum(ERROR_CODES),
  instance: z.string().optional(),
  issues: z.array(ProblemIssue).optional(),
});
export type ProblemDetails = z.infer<typeof ProblemDetails>;

/** `POST /v1/agreements`: a readable draft, signed here, optionally proposed to the partner at once. */
export const AgreementCreateRequest = z.strictObject({ draft: z.record(z.string(), z.unknown()), propose: z.boolean().default(false) });
/**
 * `POST /v1/agreements/{id}/suspend|terminate|resume`: the notice's own reason and effective time (SPEC 8.5: a
 * date, the start of that day UTC, or a date-time with its zone), as the CLI takes them; a reason says something.
 */
export const AgreementNoticeRequest = z.strictObject({
  reason: AgreementNotice.shape.reason.regex(/\S/, 'expected a reason, not only spaces'),
  effective: AgreementTime.optional(),
  version: z.number().int().min(1).optional(),
});
export const AgreementVersionQuery = z.strictObject({ version: queryWholeNumber(1).optional() });

/** One agreement as this node holds it: status now, who signed, notices, the document and its signed form. */
export const AgreementView = z.object({
  id: AgreementId,
  version: z.number().int().min(1),
  partner: CountryCode,
  status: z.union([AgreementStatus, z.literal('awaiting-signature')]),
  signedBy: z.array(CountryCode),
  complete: z.boolean(),
  validFrom: AgreementTime,
  validUntil: AgreementTime,
  title: z.string(),
  notices: z.array(AgreementNotice),
  document: AgreementDocument,
  signed: SignedAgreement,
  /** Id of the control message carrying a proposal (propose, create with propose: true). */
  proposedAs: z.string().nullable().optional(),
  /** Id of the control message carrying a notice (suspend, terminate, resume). */
  noticeMessage: z.string().optional(),
});
export type AgreementView = z.infer<typeof AgreementView>;
export const AgreementList = z.object({ items: z.array(AgreementView.omit({ document: true, signed: true })) });

/** `GET /v1/audit/verify`: links and checkpoints of this node's evidence log. */
export const AuditLogStatus = z.object({
  ok: z.boolean(),
  entries: z.number().int(),
  head: z.object({ seq: z.number().int(), hash: z.string() }).optional(),
  /** Highest seq pinned by a valid checkpoint (0: none). */
  checkpointed: z.number().int(),
  /** Entries after the last valid checkpoint: protected by links only until the next checkpoint. */
  uncheckpointed: z.number().int(),
  problems: z.array(z.object({ code: z.enum(ERROR_CODES), seq: z.number().int(), message: z.string() })),
});
export type AuditLogStatus = z.infer<typeof AuditLogStatus>;
