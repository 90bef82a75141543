/**
 * The bilateral agreement document (protocol/SPEC.md section 8): who the two administrations are, on what
 * legal basis, for how long, and per direction which message types, fields, purposes, retention and onward
 * transfer are allowed. This is the text both legal departments sign, so the schema is strict and every
 * rule beyond shape (dates in order, two distinct parties, directions between them, each type once) is
 * checked here with an error that names the member. `draftAgreement` also checks the field lists against
 * the current message schemas; a signed document is only checked structurally (see verifyAgreement).
 */
import { z } from 'zod';
import { CountryCode } from '../codes/countries.js';
import { GncError } from '../errors.js';
import { MESSAGE_ID_PATTERN } from '../ids.js';
import { BODY_SCHEMAS, BusinessType } from '../messages/registry.js';
import { AGREEMENT_PURPOSES, AGREEMENT_VERSION, ALL_FIELDS, MAX_FIELD_PATHS, MAX_RETENTION_DAYS } from './constants.js';
import { fieldPathProblem, missingRequired, scopeTree } from './field-paths.js';
import { issuesOf, summary } from './issues.js';

const ONE_LINE = /^\S(?:[^\n\r\t]*\S)?$/;
const line = (max: number) => z.string().max(max).regex(ONE_LINE, `expected text of 1 to ${max} characters on one line, without leading or trailing spaces`);

/** Agreement id: the message id alphabet without "@", because envelopes name an agreement as `id@version`. */
export const AgreementId = z.string().regex(MESSAGE_ID_PATTERN, 'expected an agreement id: 1-64 letters, digits, ".", "_", ":" or "-", like "KZ-KG-MRA-2026"');
export const AgreementPurpose = z.enum(AGREEMENT_PURPOSES);
export type AgreementPurpose = z.infer<typeof AgreementPurpose>;

/** A calendar date (a whole day, UTC) or an RFC 3339 date-time with a zone. */
export const AgreementTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'expected a date like "2026-01-01" or a date-time with a zone like "2026-01-01T00:00:00+05:00"',
});

export const RootFingerprint = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'expected the RFC 7638 thumbprint of the party\'s root key (43 base64url characters); draft files may write "@root:" and the country, like "@root:KZ", which `gnc agreement draft` replaces');

export const AgreementParty = z.strictObject({ country: CountryCode, name: line(200), rootFingerprint: RootFingerprint });
export type AgreementParty = z.infer<typeof AgreementParty>;

/** What one message type may carry in one direction. */
export const MessageScope = z.strictObject({
  type: BusinessType,
  /** Field paths of the body (protocol/SPEC.md section 8.2, "Field paths"), or ["*"] for every field. */
  fields: z.array(z.string().min(1).max(256)).min(1).max(MAX_FIELD_PATHS),
  /** true: fields outside `fields` are removed before sending; false: such a message is refused. */
  minimise: z.boolean(),
  purposes: z.array(AgreementPurpose).min(1).max(AGREEMENT_PURPOSES.length),
  /** Days the receiver keeps a message of this type; then only audit metadata remains. */
  retentionDays: z.number().int().min(1).max(MAX_RETENTION_DAYS),
  /** Whether the receiver may pass the data to third parties (other authorities, other countries). */
  onwardTransfer: z.boolean(),
});
export type MessageScope = z.infer<typeof MessageScope>;

export const AgreementDirection = z.strictObject({ from: CountryCode, to: CountryCode, messages: z.array(MessageScope).min(1).max(16) });
export type AgreementDirection = z.infer<typeof AgreementDirection>;

export const AgreementContact = z.strictObject({
  country: CountryCode,
  name: line(140),
  role: line(140),
  email: z.email(),
  /** E.164 number, like "+77172000000". */
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 phone number, like "+77172000000"').optional(),
});

const AgreementShape = z.strictObject({
  v: z.literal(AGREEMENT_VERSION),
  id: AgreementId,
  version: z.number().int().min(1).max(1_000_000),
  title: line(200),
  legalBasis: z.strictObject({
    instrument: z.enum(['mra', 'customs-cooperation', 'other']),
    reference: line(200),
    text: z.string().min(1).max(20_000).optional(),
  }),
  parties: z.tuple([AgreementParty, AgreementParty]),
  validFrom: AgreementTime,
  /** A date is the last day in force; a date-time is the instant the agreement ends. */
  validUntil: AgreementTime,
  supersedes: z.strictObject({ id: AgreementId, version: z.number().int().min(1) }).optional(),
  directions: z.array(AgreementDirection).min(1).max(2),
  contacts: z.array(AgreementContact).min(2).max(20),
});

const DAY_MS = 86_400_000;

/** Epoch ms of an AgreementTime; a date as the end of a period means the end of that day (UTC). */
export function agreementInstant(value: string, edge: 'start' | 'end'): number {
  if (value.length === 10) return Date.parse(`${value}T00:00:00Z`) + (edge === 'end' ? DAY_MS : 0);
  return Date.parse(value);
}

/** The period in force: start <= t < end (epoch ms). */
export function agreementPeriod(doc: { validFrom: string; validUntil: string }): { start: number; end: number } {
  return { start: agreementInstant(doc.validFrom, 'start'), end: agreementInstant(doc.validUntil, 'end') };
}

function duplicates<T>(items: readonly T[], key: (t: T) => string, report: (index: number, first: number) => void): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else report(i, first);
  });
}

function checkStructure(d: z.infer<typeof AgreementShape>, ctx: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string, input: unknown) => ctx.addIssue({ code: 'custom', path, message, input });
  const [a, b] = d.parties;
  const countries = [a.country, b.country];
  if (a.country === b.country) issue(['parties', 1, 'country'], `expected a country other than ${a.country}: an agreement binds two administrations`, b.country);
  if (a.rootFingerprint === b.rootFingerprint) issue(['parties', 1, 'rootFingerprint'], `expected a root other than ${a.country}'s: each administration signs with its own root`, b.rootFingerprint);
  const { start, end } = agreementPeriod(d);
  if (!(end > start)) issue(['validUntil'], `expected a time after validFrom (${d.validFrom}): the dates are in the wrong order`, d.validUntil);
  if (d.supersedes && d.supersedes.id === d.id && d.supersedes.version >= d.version) {
    issue(['supersedes', 'version'], `expected a version below ${d.version}: a document supersedes earlier versions only`, d.supersedes.version);
  }
  d.directions.forEach((dir, i) => {
    for (const end of ['from', 'to'] as const) {
      if (!countries.includes(dir[end])) issue(['directions', i, end], `expected one of the parties (${countries.join(', ')})`, dir[end]);
    }
    if (dir.from === dir.to) issue(['directions', i, 'to'], `expected the other party than ${dir.from}`, dir.to);
    duplicates(dir.messages, (m) => m.type, (j, first) => issue(['directions', i, 'messages', j, 'type'], `expected each message type once per direction; ${dir.messages[j]!.type} is also message ${first}`, dir.messages[j]!.type));
    dir.messages.forEach((m, j) => {
      const at = ['directions', i, 'messages', j];
      if (m.fields.includes(ALL_FIELDS) && m.fields.length > 1) issue([...at, 'fields'], `expected either ["${ALL_FIELDS}"] alone or a list of field paths`, m.fields);
      duplicates(m.fields, (f) => f, (k, first) => issue([...at, 'fields', k], `expected each field path once; it is also entry ${first}`, m.fields[k]));
      duplicates(m.purposes, (p) => p, (k, first) => issue([...at, 'purposes', k], `expected each purpose once; it is also entry ${first}`, m.purposes[k]));
    });
  });
  duplicates(d.directions, (dir) => `${dir.from}>${dir.to}`, (i, first) => issue(['directions', i], `expected each direction once; ${d.directions[i]!.from} to ${d.directions[i]!.to} is also direction ${first}`, d.directions[i]));
  d.contacts.forEach((c, i) => {
    if (!countries.includes(c.country)) issue(['contacts', i, 'country'], `expected one of the parties (${countries.join(', ')})`, c.country);
  });
  for (const c of countries) {
    if (!d.contacts.some((k) => k.country === c)) issue(['contacts'], `expected at least one contact point for ${c}`, d.contacts);
  }
}

/** The agreement document: shape and structural rules (what every verifier checks on a signed document). */
export const AgreementDocument = AgreementShape.superRefine(checkStructure);
export type AgreementDocument = z.infer<typeof AgreementDocument>;

function checkScopes(d: AgreementDocument, ctx: z.RefinementCtx): void {
  d.directions.forEach((dir, i) =>
    dir.messages.forEach((m, j) => {
      if (m.fields.includes(ALL_FIELDS)) return;
      const at = ['directions', i, 'messages', j, 'fields'];
      const schema = BODY_SCHEMAS[m.type];
      let bad = false;
      m.fields.forEach((path, k) => {
        const problem = fieldPathProblem(schema, path);
        if (problem) {
          bad = true;
          ctx.addIssue({ code: 'custom', path: [...at, k], input: path, message: `expected a field path of the ${m.type} body: ${problem}` });
        }
      });
      if (bad) return;
      const missing = missingRequired(schema, scopeTree(m.fields, schema));
      if (missing.length > 0) {
        ctx.addIssue({ code: 'custom', path: at, input: m.fields, message: `expected also the fields every ${m.type} message must carry (${missing.join(', ')}): a body without them fails validation at the receiver` });
      }
    }),
  );
}

/** A document as drafted: the structural rules plus field paths that exist in the message schemas. */
export const DraftAgreementDocument = AgreementDocument.superRefine(checkScopes);

/** Parse or throw GNC_AGREEMENT_INVALID with every problem as an issue under a JSON pointer. */
export function parseAgreement<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = issuesOf(result.error, input, prefix);
  throw new GncError('GNC_AGREEMENT_INVALID', `${what} is invalid: ${summary(issues)}.`, { issues });
}

/**
 * Validates a readable draft (after resolveDraftPlaceholders) into the document both sides will sign:
 * shape, structure, and every field path against the message schema of its type. Throws
 * GNC_AGREEMENT_INVALID naming each problem as a JSON pointer.
 */
export function draftAgreement(input: unknown): AgreementDocument {
  return parseAgreement(DraftAgreementDocument, input, 'Agreement');
}

/** How envelopes name the agreement they were sent under (`agreement` member): `id@version`. */
export function agreementRef(doc: Pick<AgreementDocument, 'id' | 'version'>): string {
  return `${doc.id}@${doc.version}`;
}
