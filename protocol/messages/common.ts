/**
 * Building blocks shared by the ACI, e-CoO and AEO schemas: text and identifier rules, parties and addresses,
 * measures and amounts, dates, and the one parse function every edge uses for these documents.
 *
 * The limits follow the WCO Data Model 3.x formats as the CDS profile in ../shared/reference/wco-dm states
 * them (names an..70, party ids an..17, address lines an..70, cities an..35, postcodes an..9, masses
 * n..16,6, amounts n..16,3), so a document valid here is always expressible as schema-valid WCO DM XML.
 * Text must be one line (tabs inside it allowed) without leading or trailing spaces: the WCO pattern `.*[^\s].*` has no line breaks
 * and XML readers trim element text, so anything else could not survive a JSON -> XML -> JSON round trip.
 */
import { z } from 'zod';
import { CountryCode, isCountryCode } from '../codes/countries.js';
import { CurrencyCode } from '../codes/currencies.js';
import { UNCOUNTED_PACKAGE_KINDS, PackageKindCode } from '../codes/package-kinds.js';
import { MassUnitCode, UnitCode } from '../codes/units.js';
import { MAX_REPORTED_ISSUES } from '../constants.js';
import { GncError, type ErrorIssue, type GncErrorCode } from '../errors.js';
import { issueTotal, moreProblems, zodIssues } from '../validate.js';

// One line, no control characters (C0, DEL, C1) but the tab, no leading/trailing whitespace, at least one visible
// character. Written without \p{} classes so the pattern in the generated JSON Schema works everywhere. The tab is
// text in the WCO pattern `.*[^\s].*` (its `.` excludes only line breaks), and national systems that fill fields
// from tab-separated sources send it inside names and descriptions: refusing it refused schema-valid WCO documents.
// At either end it is white space like a space (an XML reader trims it), so it is refused there as a space is.
// Only characters XML can carry (XML 1.0 section 2.2, Char): U+FFFE, U+FFFF and unpaired surrogates are valid
// in a JSON string but not in XML, so they would be written raw into a document no XML parser accepts, or
// come back as U+FFFD. A surrogate is allowed only as part of a pair (an astral character such as an emoji);
// the pattern reads the same with or without the u flag (JSON Schema validators use it).
const VISIBLE = '(?:[^\\s\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff\\ufffe\\uffff]|[\\ud800-\\udbff][\\udc00-\\udfff])';
const ANY = '(?:[^\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f\\ud800-\\udfff\\ufffe\\uffff]|[\\ud800-\\udbff][\\udc00-\\udfff])';
const ONE_LINE = new RegExp(`^${VISIBLE}(?:${ANY}*${VISIBLE})?$`);

/** Free text of 1..max characters on one line (WCO DM TextType with pattern `.*[^\s].*`). */
export function text(max: number) {
  return z.string().max(max, `expected at most ${max} characters`).regex(ONE_LINE, `expected text of 1 to ${max} characters on one line, without leading or trailing spaces`);
}

/** An identifier of 1..max characters (WCO DM IDType); same character rules as text. */
export function identifier(max: number) {
  return z.string().max(max, `expected an identifier of at most ${max} characters`).regex(ONE_LINE, `expected an identifier of 1 to ${max} characters without spaces at either end`);
}

/** HS code as a string of 6 to 10 digits: a number would drop the leading zero of chapters 01-09. */
export const HsCode = z.string().regex(/^\d{6,10}$/, 'expected an HS code as a string of 6 to 10 digits, like "0847130000" (never a number)');

/**
 * AEO identifier as the WCO SAFE Framework recommends for mutual recognition: at most 17 characters, the
 * first two the ISO 3166-1 alpha-2 code of the administration that granted the status (like "KZ" + national
 * number), then letters and digits.
 */
const AEO_ID = /^[A-Z]{2}[A-Z0-9]{1,15}$/;
export const AeoId = z
  .string()
  .regex(AEO_ID, 'expected an AEO id of 3 to 17 upper-case letters and digits starting with the ISO country code of the granting administration, like "KZ9811400012340"')
  .refine((v) => !AEO_ID.test(v) || isCountryCode(v.slice(0, 2)), { message: 'expected the AEO id to start with the ISO 3166-1 alpha-2 code of the granting administration' });

/**
 * Date-time with seconds and a zone of whole hours (`2026-11-25T14:00:00+05:00` or `...Z`). The WCO DM
 * DateTimeString (formatCode 304, `CCYYMMDDhhmmss` + `Z` or `+hh`) has no minutes of offset and no fraction
 * of a second, and its pattern wants the years 2000-2099; Afghanistan (+04:30) states times in UTC.
 */
const DATE_TIME = /^(20\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:Z|[+-](\d\d):00)$/;
const DATE_TIME_FORM = 'expected a date-time in 2000-2099 with seconds and a whole-hour zone, like "2026-11-25T14:00:00+05:00" or "2026-11-25T09:00:00Z"';

function realDateTime(v: string): boolean {
  const m = DATE_TIME.exec(v);
  if (!m) return true; // the form check reports it
  const [, y, mo, d, h, mi, s, zone] = m.map(Number) as number[];
  const days = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  return mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= days && h! <= 23 && mi! <= 59 && s! <= 59 && (Number.isNaN(zone) || zone! <= 14);
}

export const DateTime = z
  .string()
  .regex(DATE_TIME, DATE_TIME_FORM)
  .refine(realDateTime, { message: 'expected a date-time that exists in the calendar (month 01-12, day within the month, hour 00-23, zone up to 14 hours)' });

/**
 * Calendar date `YYYY-MM-DD`, years 0001-9999: the XML forms carry dates as XML Schema xs:date, which has no year
 * 0000, so such a date would be written into a document that fails its own schema.
 */
export const IsoDate = z.iso.date().refine((v) => !v.startsWith('0000'), { message: 'expected a date in the years 0001 to 9999 (XML Schema xs:date has no year 0000)' });

/**
 * Whether `form`, a number's shortest JS form (String(v)), has at most `totalDigits` digits, `fractionDigits` of them
 * after the point, as XML Schema's totalDigits and fractionDigits count them (leading zeros of the integer part
 * are not digits: 0.000001 has one). No exponent form: a number that needs one is outside every WCO format.
 */
export function fitsDigits(form: string, totalDigits: number, fractionDigits: number): boolean {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(form);
  if (!m) return false;
  const fraction = m[2] ?? '';
  return fraction.length <= fractionDigits && m[1]!.replace(/^0+/, '').length + fraction.length <= totalDigits;
}

/**
 * Non-negative decimal of the WCO format n..`totalDigits`,`fractionDigits` (the XSD's totalDigits and fractionDigits
 * facets): at most `totalDigits` digits in all, `fractionDigits` of them after the point, no exponent. So a mass of
 * n..16,6 may have 16 digits before the point when it has none after, as the WCO schema allows.
 */
export function decimal(totalDigits: number, fractionDigits: number) {
  return z
    .number()
    .nonnegative()
    .refine((v) => fitsDigits(String(v), totalDigits, fractionDigits), {
      message: `expected a number of at most ${totalDigits} digits, at most ${fractionDigits} of them after the decimal point (WCO n..${totalDigits},${fractionDigits}), without exponent`,
    });
}

/** A whole count (WCO n..8 quantities such as packages). */
export const Count = z.number().int().min(0).max(99_999_999);

/** Mass with a UN/ECE Rec 20 mass unit (WCO n..16,6 measure with unitCode). */
export const MassMeasure = z.strictObject({ value: decimal(16, 6).refine((v) => v > 0, { message: 'expected a mass above 0' }), unit: MassUnitCode });
export type MassMeasure = z.infer<typeof MassMeasure>;

/** Quantity in any Rec 20 unit of the shipped subset (WCO n..16,6). */
export const Quantity = z.strictObject({ value: decimal(16, 6).refine((v) => v > 0, { message: 'expected a quantity above 0' }), unit: UnitCode });
export type Quantity = z.infer<typeof Quantity>;

/** Amount with its ISO 4217 currency (WCO n..16,3 amount with currencyID). */
export const Amount = z.strictObject({ amount: decimal(16, 3), currency: CurrencyCode });
export type Amount = z.infer<typeof Amount>;

/** Postal address in the WCO DM Address class (Line, CityName, PostcodeID, CountryCode). */
export const Address = z.strictObject({
  line: text(70),
  city: text(35),
  postcode: identifier(9).optional(),
  country: CountryCode,
});
export type Address = z.infer<typeof Address>;

/** A party (exporter, consignor, consignee, carrier, notify party, producer): name, address, ids. */
export const Party = z.strictObject({
  name: text(70),
  /** National trader identifier (TIN, BIN, INN, EORI-style), WCO an..17. */
  id: identifier(17).optional(),
  /** AEO id where the party holds the status (used for MRA benefits and risk scoring). */
  aeoId: AeoId.optional(),
  address: Address,
});
export type Party = z.infer<typeof Party>;

/** Packages of a goods item: count and UN/ECE Rec 21 kind; bulk and unpacked goods count 0. */
export const Packages = z
  .strictObject({ count: Count, kind: PackageKindCode, marks: text(512).optional() })
  .superRefine((p, ctx) => {
    if (p.count === 0 && !UNCOUNTED_PACKAGE_KINDS.has(p.kind)) {
      ctx.addIssue({ code: 'custom', path: ['count'], message: `expected at least 1 package of kind ${p.kind} (0 is only for bulk or unpacked goods: ${[...UNCOUNTED_PACKAGE_KINDS].join(', ')})`, input: p.count });
    }
  });
export type Packages = z.infer<typeof Packages>;

/** Adds an issue for each item whose `sequence` is not its position (1, 2, 3 ... in order). */
export function checkSequence(items: readonly { sequence: number }[], ctx: z.RefinementCtx, listKey: string): void {
  items.forEach((item, i) => {
    if (item.sequence !== i + 1) {
      ctx.addIssue({ code: 'custom', path: [listKey, i, 'sequence'], message: `expected sequence ${i + 1}: items are numbered 1, 2, 3 ... in document order`, input: item.sequence });
    }
  });
}

/** Marks a refinement issue with the GNC code it stands for (default GNC_SCHEMA_INVALID). */
export function codeParams(code: GncErrorCode): { gncCode: GncErrorCode } {
  return { gncCode: code };
}

/** Where a JSON pointer came from in another form (an XML element path) and how that form is written. */
export type Locator = (pointer: string) => { path: string; expected?: string | undefined } | undefined;

export interface ParseOptions {
  /** Prefix for JSON pointers, like "/body" when the document sits inside a request. */
  prefix?: string;
  /** Translates pointers to element paths when the document was read from XML. */
  locate?: Locator;
}

function issueCode(issue: z.core.$ZodIssue): GncErrorCode | undefined {
  if (issue.code !== 'custom') return undefined;
  const code = (issue.params as { gncCode?: GncErrorCode } | undefined)?.gncCode;
  return code;
}

/**
 * Validates a document; throws GncError GNC_SCHEMA_INVALID (or the code a refinement named, such as
 * GNC_TOTALS_MISMATCH) whose issues name the field, the expected form and what arrived.
 */
export function parseDocument<S extends z.ZodType>(schema: S, input: unknown, what: string, opts: ParseOptions = {}): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // zod and refinement messages read "expected X[, received Y]": keep X, the received side is described apart
  let issues: ErrorIssue[] = zodIssues(result.error, input, opts.prefix ?? '').map((issue) => {
    const expected = issue.expected.replace(/^expected /, '').replace(/, received [^,]*$/, '');
    return { ...issue, expected, message: `${issue.path || '/'}: expected ${expected}, received ${issue.received}` };
  });
  const locate = opts.locate;
  if (locate) {
    issues = issues.map((issue) => {
      const loc = locate(issue.path);
      if (!loc) return issue;
      // a missing member is a missing element or attribute in XML: say that rather than "object" or "string"
      const missing = issue.received === 'nothing (missing)';
      const step = loc.path.slice(loc.path.lastIndexOf('/') + 1);
      const expected = loc.expected ?? (missing ? (step.startsWith('@') ? `attribute ${step.slice(1)}` : `element ${step}`) : issue.expected);
      const received = missing ? 'nothing' : issue.received;
      return { path: loc.path, expected, received, message: `${loc.path}: expected ${expected}, received ${received}` };
    });
  }
  const codes = new Set(result.error.issues.slice(0, MAX_REPORTED_ISSUES).map((i) => issueCode(i) ?? 'GNC_SCHEMA_INVALID'));
  const code: GncErrorCode = codes.size === 1 ? [...codes][0]! : 'GNC_SCHEMA_INVALID';
  const first = issues[0];
  // issues holds at most MAX_REPORTED_ISSUES of them
  throw new GncError(code, `${what} is invalid: ${first ? first.message : 'unknown problem'}${moreProblems(issueTotal(result.error))}. Fix the ${locate ? 'element' : 'field'} and submit again.`, { issues });
}
