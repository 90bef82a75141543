/**
 * The GNC profile of the WCO DM declaration (CDS schema 2.15) for advance cargo information: the code values
 * this node writes, and the rules for fields the CDS profile has no element for. Those travel in
 * Declaration/AdditionalInformation with StatementTypeCode "GNC" and a StatementCode naming the field, which
 * the schema allows (an..3, an..17, an..512), so the XML stays schema-valid and the round trip loses nothing.
 * protocol/SPEC.md section 7 is the normative description of this mapping.
 */
import type { AciBody } from '../messages/aci.js';

/** Declaration/FunctionCode (UN/EDIFACT 1225 as allowed by the schema): 9 original, 13 request to change. */
export const FUNCTION_ORIGINAL = '9';
export const FUNCTION_CHANGE = '13';

/** Declaration/TypeCode for each declaration type, and INV (invalidation) for a cancellation. */
export const TYPE_CODES = { export: 'EX', transit: 'TR', 'pre-arrival': 'ENS' } as const satisfies Record<string, string>;
export const CANCELLATION_TYPE_CODE = 'INV';

export const TYPE_FROM_CODE: Readonly<Record<string, keyof typeof TYPE_CODES>> = { EX: 'export', TR: 'transit', ENS: 'pre-arrival' };

/** GoodsShipment/AEOMutualRecognitionParty/RoleCode per party (UN/EDIFACT 3035 party function codes). */
export const AEO_ROLES = { exporter: 'EX', consignor: 'CZ', consignee: 'CN', carrier: 'CA', notifyParty: 'N1' } as const;
export type PartyKey = keyof typeof AEO_ROLES;
export const PARTY_KEYS = Object.keys(AEO_ROLES) as PartyKey[];

/** StatementTypeCode marking a GNC extension field in Declaration/AdditionalInformation. */
export const EXT_TYPE = 'GNC';

/** StatementCode of each extension field, in the order they are written. */
export const EXT = {
  expectedArrival: 'EXPECTED_ARRIVAL',
  exitPoint: 'EXIT_BCP',
  entryPoint: 'ENTRY_BCP',
  notifyName: 'NOTIFY_NAME',
  notifyId: 'NOTIFY_ID',
  notifyLine: 'NOTIFY_LINE',
  notifyCity: 'NOTIFY_CITY',
  notifyPostcode: 'NOTIFY_POSTCODE',
  notifyCountry: 'NOTIFY_COUNTRY',
  reason: 'REASON',
} as const;

/** Goods item AdditionalDocument naming the e-CoO: category N, type 861 (UN/EDIFACT 1001 certificate of origin). */
export const ECOO_DOC_CATEGORY = 'N';
export const ECOO_DOC_TYPE = '861';

/** Classification/IdentificationTypeCode: HS for the 6-digit subheading, CV for the full national code. */
export const HS_TYPE = 'HS';
export const NATIONAL_TYPE = 'CV';

/**
 * Origin/TypeCode of the country of origin the body's `originCountry` holds: 1, non-preferential origin (CDS
 * usage, DE 5/15; 2 is the preferential origin, DE 5/16). The ACI data set has no preferential origin: preference
 * rests on the e-CoO, which states its own origin. On reading, an Origin without TypeCode counts as type 1.
 */
export const ORIGIN_NON_PREFERENTIAL = '1';

/** ds:DateTimeString formatCode for CCYYMMDDhhmmss + zone. */
export const DATETIME_FORMAT = '304';

/** `2026-11-25T14:00:00+05:00` -> `20261125140000+05` (the schema's pattern `(20\d{6})(\d{6}(Z|[-+]\d\d))?`). */
export function toWcoDateTime(iso: string): string {
  const zone = iso.endsWith('Z') ? 'Z' : iso.slice(19, 22);
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + zone;
}

const WCO_DATETIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(Z|[-+]\d\d)$/;

/** The reverse of toWcoDateTime; anything else is returned unchanged for the schema to report. */
export function fromWcoDateTime(text: string): string {
  const m = WCO_DATETIME.exec(text);
  if (!m) return text;
  const zone = m[7] === 'Z' ? 'Z' : `${m[7]}:00`;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone}`;
}

export const DATETIME_EXPECTED = 'a ds:DateTimeString with formatCode="304" like 20261125140000+05 (CCYYMMDDhhmmss, then Z or +hh)';

export type FullAci = Exclude<AciBody, { kind: 'cancellation' }>;
