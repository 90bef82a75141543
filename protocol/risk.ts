/**
 * Schemas of the pre-arrival risk use of the received data: the query parameters of `/v1/arrivals` and
 * `/v1/aeo`, the views they answer with (arrival, indicator with evidence, assessment, AEO record), the
 * event carried by the SSE stream and the webhook, and the local rules file. One schema per concept; the
 * node validates at its edges with these and the OpenAPI document is generated from the same objects.
 * The rules themselves are documented in the README (section "Pre-arrival risk").
 */
import { z } from 'zod';
import { DataTerms } from './agreement/terms.js';
import { QueryInstant, windowInOrder } from './api/instant.js';
import { queryText, queryWholeNumber } from './api/parameters.js';
import { CountryCode, CountryFilter } from './codes/countries.js';
import { MIN_AEO_NAME_QUERY } from './constants.js';
import { text } from './messages/common.js';

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export const RiskLevel = z.enum(RISK_LEVELS);
export type RiskLevel = z.infer<typeof RiskLevel>;

/** Indicators with a built-in meaning; their weights have defaults that the rules file may override. */
export const BUILTIN_INDICATORS = [
  'aeo-valid',
  'aeo-suspended',
  'aeo-revoked',
  'aeo-expired',
  'aeo-not-listed',
  'aeo-unverified',
  'ecoo-confirmed',
  'ecoo-partly-confirmed',
  'ecoo-cancelled',
  'ecoo-replaced',
  'ecoo-exporter-mismatch',
  'ecoo-consignee-mismatch',
  'ecoo-hs-mismatch',
  'ecoo-quantity-mismatch',
  'ecoo-origin-mismatch',
  'ecoo-date-mismatch',
  'ecoo-issued-retrospectively',
  'preferential-origin-without-ecoo',
] as const;
export const BuiltinIndicator = z.enum(BUILTIN_INDICATORS);
export type BuiltinIndicator = z.infer<typeof BuiltinIndicator>;

/** Indicators raised by the local rules file; each carries the weight and the name of its rule. */
export const LOCAL_INDICATORS = ['local-hs-prefix', 'local-origin', 'local-trader', 'local-route', 'local-mass-range', 'local-value-range'] as const;
export const IndicatorCode = z.enum([...BUILTIN_INDICATORS, ...LOCAL_INDICATORS]);
export type IndicatorCode = z.infer<typeof IndicatorCode>;

/** One fact an indicator rests on: which received message, which field (JSON pointer into its body), what it said. */
export const Evidence = z.object({
  messageId: z.string(),
  partner: CountryCode,
  type: z.enum(['aci', 'ecoo', 'aeo']),
  path: z.string().describe('JSON pointer into the message body, like /goodsItems/0/hsCode'),
  value: z.union([z.string(), z.number(), z.null()]).optional(),
});
export type Evidence = z.infer<typeof Evidence>;

export const Indicator = z.object({
  code: IndicatorCode,
  /** risk raises the score, facilitation lowers it, info explains without weight. */
  kind: z.enum(['risk', 'facilitation', 'info']),
  weight: z.number(),
  summary: z.string(),
  rule: z.string().optional().describe('name of the local rule that raised it'),
  evidence: z.array(Evidence),
});
export type Indicator = z.infer<typeof Indicator>;

export const Assessment = z.object({
  consignment: z.string().describe('id of the consignment: the message id of its original declaration'),
  partner: CountryCode,
  revision: z.number().int(),
  assessedAt: z.string(),
  level: RiskLevel,
  score: z.number(),
  thresholds: z.object({ medium: z.number(), high: z.number() }),
  explanation: z.string().describe('the score as the sum of the indicator weights and the thresholds it was compared with; when versions created after the one in force were purged at their retention end (the arrival\'s purgedVersions), a note that it was assessed on an older version naming them; when a cancellation was, a note that it was cancelled naming it'),
  indicators: z.array(Indicator),
});
export type Assessment = z.infer<typeof Assessment>;

/**
 * A version of a consignment whose content the retention purge took although it was created after the version now in
 * force (its retention ended first, under an agreement version that shortened it): what is shown is older data. Or a
 * cancellation of it, whenever created: what is shown may be a consignment that was cancelled.
 */
export const PurgedVersion = z.object({
  messageId: z.string(),
  kind: z.enum(['declaration', 'amendment', 'cancellation']),
  created: z.string().describe('its envelope "created", later than that of the version in force (a cancellation\'s may be earlier)'),
  purgedAt: z.string().describe('its retention end, since when its content is purged'),
});
export type PurgedVersion = z.infer<typeof PurgedVersion>;

const PartyRef = z.object({ name: z.string(), id: z.string().optional(), aeoId: z.string().optional() });

/** One consignment as the arrivals list shows it: the declaration in force, its status and its assessment. */
export const ArrivalView = z.object({
  id: z.string().describe('message id of the original declaration'),
  partner: CountryCode,
  status: z.enum(['active', 'cancelled']),
  version: z.number().int().describe('number of versions received (declaration, amendments, cancellation)'),
  currentMessageId: z.string(),
  functionalReference: z.string(),
  declarationType: z.string(),
  expectedArrival: z.string(),
  officeOfEntry: z.object({ id: z.string(), borderCrossingPoint: z.string().optional() }),
  transportMeans: z.object({ mode: z.string(), id: z.string(), nationality: z.string() }),
  containers: z.array(z.string()),
  consignor: PartyRef,
  exporter: PartyRef.optional(),
  consignee: PartyRef,
  goods: z.object({
    items: z.number().int(),
    hsCodes: z.array(z.string()),
    grossMassKg: z.number(),
    packages: z.number().int(),
    unNumbers: z.array(z.string()).describe('the UN numbers of the dangerous goods of the consignment (each goods item\'s unNumber or unNumbers), each once, in the order declared; empty when none is declared'),
  }),
  level: RiskLevel,
  score: z.number(),
  indicators: z.array(Indicator.pick({ code: true, kind: true, weight: true, rule: true })).describe('the indicators in brief; GET /v1/arrivals/{id} has each with its sentence and evidence'),
  terms: DataTerms.nullable().describe('the terms this data is held under, combined over the messages it comes from (the declaration\'s versions, and the e-CoO and AEO messages its assessment quotes as evidence): `agreement` and `purpose` of the version in force, the earliest `retainUntil` of them all, `onwardTransfer` false if any of them forbids it. null only in an event recorded by a node version before terms were shown'),
  purgedVersions: z.array(PurgedVersion).optional().describe('present when versions created after the one in force, or a cancellation whenever created, were purged at their retention end (an amendment or cancellation whose retention ended before its declaration\'s): the consignment shows an older version (or is active again) because they are gone, so what it shows may no longer be current; a purged cancellation stays listed after a newer amendment, as a held one would keep the consignment cancelled; oldest first'),
  updatedAt: z.string(),
});
export type ArrivalView = z.infer<typeof ArrivalView>;

export const ArrivalList = z.object({ items: z.array(ArrivalView), nextCursor: z.string().nullable() });
export type ArrivalList = z.infer<typeof ArrivalList>;

export const ArrivalVersion = z.object({ messageId: z.string(), kind: z.string(), created: z.string(), receivedAt: z.string(), current: z.boolean() });

export const ArrivalDetail = ArrivalView.extend({
  assessment: Assessment,
  declaration: z.record(z.string(), z.unknown()).describe('body of the version in force'),
  history: z.array(ArrivalVersion),
  cancellation: z.object({ messageId: z.string(), reason: z.string() }).nullable(),
});
export type ArrivalDetail = z.infer<typeof ArrivalDetail>;

/** What the stream and the webhook carry: a new or changed assessment with the arrival it is about. */
export const AssessmentEvent = z.object({
  id: z.number().int(),
  type: z.literal('assessment'),
  change: z.enum(['new', 'changed']),
  arrival: ArrivalView,
  assessment: Assessment,
});
export type AssessmentEvent = z.infer<typeof AssessmentEvent>;

/**
 * The first event of a stream that resumes before events this node no longer holds (kept 7 days; those of a
 * consignment whose data retention purged, or quoting a purged certificate or AEO message, go with it): the client has missed some, so it resynchronises from the
 * arrivals list, then reads on. The stream goes on after `id`.
 */
export const FeedGap = z.object({
  id: z.number().int().describe('the newest event no longer held: the stream goes on after it, and a client that reconnects resumes after it'),
  type: z.literal('gap'),
  after: z.number().int().describe('where the stream resumed (?after= or Last-Event-ID)'),
  detail: z.string().describe('what happened and what to do, in one sentence'),
});
export type FeedGap = z.infer<typeof FeedGap>;

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Filters of `/v1/arrivals` (and its export). Every filter narrows; none means everything received. */
export const ArrivalFilters = z.strictObject({
  from: QueryInstant.optional().describe('expected arrival at or after'),
  to: QueryInstant.optional().describe('expected arrival before'),
  borderCrossingPoint: queryText(1, 70).optional().describe('border crossing point name, read as AEO legal names are: any letter case, accents, the letters of the region a Russian keyboard has not, Latin twins in a Cyrillic word, spaces and punctuation between words; the Azerbaijani schwa (ə) read both "a" and "e", so Bilesuvar and Bilasuvar find Biləsuvar, which finds both, while a name without one keeps its reading'),
  officeOfEntry: queryText(1, 17).optional().describe('office of entry code, in any letter case, spaces left out'),
  partner: CountryFilter.optional().describe('the sending administration'),
  hsPrefix: z.string().regex(/^\d{2,10}$/, 'expected 2 to 10 digits of an HS code, like "8471"').optional(),
  trader: queryText(1, 17).optional().describe('trader id of any party'),
  aeoId: queryText(3, 17).optional().describe('AEO id of any party'),
  transportMeans: queryText(1, 35).optional(),
  container: queryText(1, 17).optional(),
  level: RiskLevel.optional(),
  includeCancelled: flag.optional().describe('true to list cancelled consignments too (marked status "cancelled")'),
});
export type ArrivalFilters = z.infer<typeof ArrivalFilters>;

export const ArrivalsQuery = windowInOrder(ArrivalFilters.extend({
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected the nextCursor of the previous page').optional().describe('the nextCursor of the previous page, with the same filters'),
  limit: queryWholeNumber(1, 500).default(50),
}), 'from', 'to');
export type ArrivalsQuery = z.infer<typeof ArrivalsQuery>;

export const ExportQuery = windowInOrder(ArrivalFilters.extend({ format: z.enum(['csv', 'jsonl']).default('csv') }), 'from', 'to');
export type ExportQuery = z.infer<typeof ExportQuery>;

/** `GET /v1/arrivals/{id}`: message ids are unique per partner only, so an id two partners have needs `partner`. */
export const ArrivalDetailQuery = z.strictObject({
  partner: CountryFilter.optional().describe('the sending administration whose consignment or version has this id; needed (409 GNC_CONFLICT without it) when two or more partners have the id'),
});
export type ArrivalDetailQuery = z.infer<typeof ArrivalDetailQuery>;

export const StreamQuery = z.strictObject({ after: queryWholeNumber(0).optional().describe('replay events after this id (like Last-Event-ID)') });
export const StreamHeaders = z.object({ 'last-event-id': z.string().optional().describe('the id of the last event received: the stream replays the stored events after it (?after= wins when both are given)') });

const IsoDate = z.iso.date();

export const AeoQuery = z.strictObject({
  partner: CountryFilter.optional(),
  id: queryText(1, 17).optional().describe('AEO id or national trader id'),
  name: queryText(1, 256).optional().describe(
    `legal name, or its beginning from any of its words ("silk road" finds "OOO Silk Road Logistics"), in any letter case and Unicode form, with or without accents (but й and ў are letters of their own, not и and у); punctuation separates words and legal forms (LLP, OOO, TOO, LLC...) are left out; at least ${MIN_AEO_NAME_QUERY} letters or digits (2 Chinese or Japanese characters); not with id. Listed in the order of the matched words`,
  ),
  limit: queryWholeNumber(1, 1000).default(100),
  // a name search's cursor carries the matched words (at most 64 characters of up to 4 UTF-8 bytes each)
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,512}$/, 'expected the nextCursor of the previous page').optional().describe('the nextCursor of the previous page, with the same partner, id or name'),
}).refine((q) => q.name === undefined || q.id === undefined, { path: ['id'], message: 'expected no id with name (search by one or the other)' });
export const AeoAtQuery = z.strictObject({ at: IsoDate.optional().describe('answer "was this operator a valid AEO on this date"') });

export const AeoHistoryEntry = z.object({
  effective: z.string(),
  status: z.enum(['valid', 'suspended', 'revoked', 'removed']),
  validFrom: z.string().nullable(),
  validUntil: z.string().nullable(),
  kind: z.enum(['snapshot', 'change']),
  messageId: z.string(),
  reason: z.string().nullable(),
});

export const AeoValidity = z.object({
  date: z.string(),
  valid: z.boolean(),
  status: z.enum(['valid', 'suspended', 'revoked', 'expired', 'not-yet-valid', 'removed', 'unknown']),
  basis: z.enum(['recorded', 'inferred', 'none']).describe('recorded: a status in force on that date was received; inferred: the date precedes the first recorded status, validity follows validFrom'),
  messageId: z.string().nullable(),
});
export type AeoValidity = z.infer<typeof AeoValidity>;

export const AeoRecordView = z.object({
  partner: CountryCode,
  aeoId: z.string(),
  nationalTraderId: z.string(),
  legalName: z.string(),
  programme: z.string(),
  status: z.enum(['valid', 'suspended', 'revoked']),
  statusDate: z.string(),
  validFrom: z.string(),
  validUntil: z.string().nullable(),
  listed: z.boolean().describe('false once a later snapshot from the partner no longer lists the operator'),
  messageId: z.string(),
  history: z.array(AeoHistoryEntry).describe('each status change once, in the order the statuses took effect: an entry that repeats the status of the one listed before it (the same status and validity period; any two removed are the same), whatever their dates, is left out, the earlier one listed'),
  terms: DataTerms.nullable().describe('the terms this record is held under, combined over the messages it comes from (`messageId` and those of its history): `agreement` and `purpose` of `messageId`, the earliest `retainUntil`, `onwardTransfer` false if any of them forbids it'),
  validity: AeoValidity.optional(),
});
export type AeoRecordView = z.infer<typeof AeoRecordView>;

export const AeoList = z.object({ items: z.array(AeoRecordView), nextCursor: z.string().nullable().describe('null on the last page') });

export const AeoPendingQuery = z.strictObject({ partner: CountryFilter.optional().describe('one partner; every partner when left out') });

export const AeoPendingSnapshot = z.object({
  partner: CountryCode,
  asOf: z.string().describe('the asOf its parts carry, which names the snapshot'),
  of: z.number().int().describe('how many parts the snapshot has'),
  held: z.array(z.object({ number: z.number().int(), messageId: z.string(), operators: z.number().int() })).describe('the parts received, by number'),
  missing: z.array(z.number().int()).describe('the numbers of the parts not received yet'),
});
export type AeoPendingSnapshot = z.infer<typeof AeoPendingSnapshot>;

export const AeoPendingList = z.object({ items: z.array(AeoPendingSnapshot).describe('newest asOf first, per partner') });

const weight = z.number().min(-20).max(20);
const note = z.string().min(1).max(200).optional();
const range = z
  .strictObject({ min: z.number().nonnegative().optional(), max: z.number().nonnegative().optional() })
  .refine((r) => r.min !== undefined || r.max !== undefined, { message: 'expected min, max or both' })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { message: 'expected min not above max' });
const moneyRange = z
  .strictObject({ min: z.number().nonnegative().optional(), max: z.number().nonnegative().optional(), currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code') })
  .refine((r) => r.min !== undefined || r.max !== undefined, { message: 'expected min, max or both' })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { message: 'expected min not above max' });

/** Whether this runtime's Intl knows a time zone name (any letter case: `asia/almaty` is `Asia/Almaty`). */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name (`Asia/Almaty`), not an offset: a zone follows its offset changes, a fixed offset does not. */
const TimeZone = z
  .string()
  .max(64)
  .refine((v) => /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(v) && knownTimeZone(v), { message: 'expected an IANA time zone name, the zone of this border (like "Asia/Almaty" or "Asia/Bishkek")' });

/** The local rules file (JSON): weights, thresholds, watch lists, ranges per HS heading, the border's time zones, webhook. */
export const RiskRules = z
  .strictObject({
    v: z.literal(1),
    levels: z.strictObject({ medium: z.number(), high: z.number() }).refine((l) => l.medium < l.high, { message: 'expected medium below high' }).default({ medium: 2, high: 5 }),
    weights: z.partialRecord(BuiltinIndicator, weight).default({}),
    ecoo: z
      .strictObject({
        quantityTolerance: z.number().min(0).max(1).default(0.05),
        /** How long a certificate is valid after its issue date (the e-CoO carries no end date); 12 months under the CIS FTA 2011. */
        validityMonths: z.number().int().min(1).max(120).default(12),
      })
      .default({ quantityTolerance: 0.05, validityMonths: 12 }),
    watch: z
      .strictObject({
        hsPrefixes: z.array(z.strictObject({ prefix: z.string().regex(/^\d{2,10}$/, 'expected 2 to 10 digits'), weight, note })).max(1000).default([]),
        originCountries: z.array(z.strictObject({ country: CountryCode, weight, note })).max(300).default([]),
        traders: z.array(z.strictObject({ id: z.string().min(1).max(17), weight, note })).max(10_000).default([]),
        routes: z
          .array(
            z
              .strictObject({ partner: CountryCode.optional(), officeOfEntry: z.string().min(1).max(17).optional(), borderCrossingPoint: z.string().min(1).max(70).optional(), via: CountryCode.optional(), transportMode: z.string().regex(/^[1-8]$/).optional(), weight, note })
              .refine((r) => r.partner ?? r.officeOfEntry ?? r.borderCrossingPoint ?? r.via ?? r.transportMode, { message: 'expected at least one of partner, officeOfEntry, borderCrossingPoint, via, transportMode' }),
          )
          .max(1000)
          .default([]),
      })
      .default({ hsPrefixes: [], originCountries: [], traders: [], routes: [] }),
    /**
     * The border's time zones: an arrival's calendar date (AEO validity, e-CoO dates) is that of the expected arrival
     * instant in the zone of its office (`offices`, by office of entry id or border crossing point as the declaration
     * writes it, compared folded as the arrivals filters compare them: node/risk/rules.ts borderZones), else in
     * `timeZone`. Without either, the date as the declaration writes it, in the offset the sender chose.
     */
    border: z
      .strictObject({
        timeZone: TimeZone.optional(),
        offices: z
          .record(text(70), TimeZone, {
            error: (issue) => (issue.code === 'invalid_key' ? 'expected an office of entry id or a border crossing point as declarations write it (1 to 70 characters on one line, without spaces at either end)' : undefined),
          })
          .refine((o) => Object.keys(o).length <= 1000, { message: 'expected at most 1000 offices' })
          .optional(),
      })
      .refine((b) => b.timeZone !== undefined || b.offices !== undefined, { message: 'expected timeZone, offices or both' })
      .optional(),
    ranges: z
      .array(
        z
          .strictObject({ hsHeading: z.string().regex(/^\d{2,10}$/, 'expected 2 to 10 digits, usually the 4-digit heading'), grossMassKg: range.optional(), customsValue: moneyRange.optional(), valuePerKg: moneyRange.optional(), weight, note })
          // a range with nothing to compare could never match: a rule that silently does nothing
          .refine((r) => r.grossMassKg ?? r.customsValue ?? r.valuePerKg, { message: 'expected at least one of grossMassKg, customsValue, valuePerKg' }),
      )
      .max(10_000)
      .default([]),
    webhook: z
      .strictObject({
        url: z.url({ protocol: /^https?$/ }),
        secretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the name of an environment variable').optional(),
        secretFile: z.string().min(1).optional(),
        maxAttempts: z.number().int().min(1).max(50).default(8),
        initialBackoffMs: z.number().int().min(10).max(3_600_000).default(1000),
        maxBackoffMs: z.number().int().min(10).max(86_400_000).default(300_000),
        timeoutMs: z.number().int().min(100).max(60_000).default(5000),
        maxAgeHours: z.number().min(0.01).max(720).default(24),
      })
      .refine((w) => (w.secretEnv === undefined) !== (w.secretFile === undefined), { message: 'expected exactly one of secretEnv or secretFile', path: ['secretEnv'] })
      .refine((w) => w.initialBackoffMs <= w.maxBackoffMs, { message: 'expected initialBackoffMs not above maxBackoffMs', path: ['initialBackoffMs'] })
      .optional(),
  });
export type RiskRules = z.infer<typeof RiskRules>;
