/**
 * Advance cargo information (`aci`): the WCO SAFE Framework advance electronic data set as carried by the
 * WCO Data Model declaration (classes Declaration, GoodsShipment, Consignment, GovernmentAgencyGoodsItem).
 * One schema is the source of the TypeScript types, the API documentation and the XML mapping
 * (protocol/xml/aci-*.ts). Variants: `declaration` (original), `amendment` (a full replacement of the
 * declaration; the envelope `ref` names the original message id) and `cancellation`.
 *
 * Field names are what the risk engine reads: `consignor.aeoId`, `exporter.aeoId`, `consignee.id`,
 * `goodsItems[].hsCode | packages | grossMass | originCountry | ecooReference | unNumber | unNumbers`, `expectedArrival`,
 * `officeOfEntry.id | borderCrossingPoint`, `borderTransportMeans.id`, `transportEquipment[].id`.
 */
import { z } from 'zod';
import { CountryCode } from '../codes/countries.js';
import { TransportMode } from '../codes/transport-modes.js';
import { toKilograms } from '../codes/units.js';
import { Amount, checkSequence, codeParams, DateTime, HsCode, identifier, MassMeasure, Packages, Party, text, parseDocument, type ParseOptions } from './common.js';

/** Declaration type; XML Declaration/TypeCode EX, TR, ENS (see protocol/SPEC.md section 7). */
export const ACI_DECLARATION_TYPES = ['export', 'transit', 'pre-arrival'] as const;

/** A customs office, and at a land border the named border crossing point it serves. */
export const CustomsOffice = z.strictObject({
  /** Customs office code (WCO DM an..17, e.g. the national office reference number). */
  id: identifier(17),
  /** Name of the border crossing point, like "Korday" or "Ak-Zhol". */
  borderCrossingPoint: text(70).optional(),
});

/** Means of transport crossing the border (WCO DM BorderTransportMeans). */
export const BorderTransportMeans = z.strictObject({
  mode: TransportMode,
  /** Registration plate, train number, IMO number or flight number (an..35). */
  id: identifier(35),
  /** How `id` identifies the means (WCO DM code an..17, e.g. 30 road vehicle registration, 21 train number). */
  idType: identifier(17).optional(),
  name: text(35).optional(),
  nationality: CountryCode,
});

/** A container, trailer or wagon with its seals, in loading order (WCO DM TransportEquipment, Seal). */
export const TransportEquipment = z.strictObject({
  /** Container number (ISO 6346) or trailer/wagon registration (an..17). */
  id: identifier(17),
  seals: z.array(identifier(35)).max(99),
});

/** UN number of dangerous goods (UN Model Regulations), four digits. */
export const UnNumber = z.string().regex(/^\d{4}$/, 'expected a UN dangerous goods number of four digits, like "1202"');

/** Most UN numbers one goods item carries in `unNumbers`: a mixed load of more is several goods items. */
export const MAX_UN_NUMBERS = 99;

/**
 * One form per content, as the XML reader gives it back (SPEC 7.3): one UN number in `unNumber`, which every
 * version reads, several in `unNumbers`, each once; never both.
 */
function checkUnNumbers(item: { unNumber?: string | undefined; unNumbers?: string[] | undefined }, ctx: z.RefinementCtx): void {
  const list = item.unNumbers;
  if (list === undefined) return;
  if (item.unNumber !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['unNumber'], input: item.unNumber, message: 'expected unNumber or unNumbers, not both: put every UN number of the item in unNumbers' });
  }
  list.forEach((n, i) => {
    if (list.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['unNumbers', i], input: n, message: `expected each UN number once (${n} is also unNumbers[${list.indexOf(n)}])` });
  });
}

export const AciGoodsItem = z.strictObject({
  sequence: z.number().int().min(1).max(999),
  hsCode: HsCode,
  description: text(512),
  packages: Packages,
  grossMass: MassMeasure,
  netMass: MassMeasure.optional(),
  customsValue: Amount,
  originCountry: CountryCode,
  /** Number of the electronic certificate of origin covering this item. */
  ecooReference: identifier(35).optional(),
  /** UN number of the dangerous goods of the item, when it has one. */
  unNumber: UnNumber.optional(),
  /**
   * UN numbers of the item when it has several (WCO DM Commodity/DangerousGoods repeats): 2 to MAX_UN_NUMBERS, each
   * once, in the order declared. A single one goes in `unNumber`, so that partners on versions without this member,
   * which refuse it as unknown, still read every item of one UN number.
   */
  unNumbers: z
    .array(UnNumber)
    .min(2, 'expected at least 2 UN numbers in unNumbers (a single one goes in unNumber)')
    .max(MAX_UN_NUMBERS, `expected at most ${MAX_UN_NUMBERS} UN numbers per goods item (declare the rest as goods items of their own)`)
    .optional(),
}).superRefine(checkUnNumbers);
export type AciGoodsItem = z.infer<typeof AciGoodsItem>;

const declarationShape = {
  functionalReference: identifier(35),
  /** Reference the customs office gave the declaration (MRN), if any (an..70). */
  declarationId: identifier(70).optional(),
  declarationType: z.enum(ACI_DECLARATION_TYPES),
  issueDateTime: DateTime.optional(),
  /** Unique consignment reference (WCO UCR, ISO 15459). */
  ucr: identifier(35).optional(),
  declarationOffice: identifier(17),
  exporter: Party.optional(),
  consignor: Party,
  consignee: Party,
  carrier: Party.optional(),
  notifyParty: Party.optional(),
  borderTransportMeans: BorderTransportMeans,
  /** Countries of routing in order, from departure to destination. */
  itinerary: z.array(CountryCode).min(1).max(99),
  officeOfExit: CustomsOffice.optional(),
  officeOfEntry: CustomsOffice,
  expectedArrival: DateTime,
  /** Goods travel in containers (WCO DM ContainerCode 1) rather than trailers, wagons or loose. */
  containerised: z.boolean(),
  transportEquipment: z.array(TransportEquipment).max(999),
  goodsItems: z.array(AciGoodsItem).min(1).max(999),
  totalGrossMass: MassMeasure,
  totalPackages: z.number().int().min(0).max(99_999_999),
  goodsItemCount: z.number().int().min(1).max(999),
};

type DeclarationFields = z.infer<z.ZodObject<typeof declarationShape>>;

/**
 * SAFE data set consistency: the totals on the declaration must equal the goods items (gross mass within
 * one part per million after converting units to kilograms, packages and item count exactly).
 */
function checkTotals(d: DeclarationFields, ctx: z.RefinementCtx): void {
  checkSequence(d.goodsItems, ctx, 'goodsItems');
  const params = codeParams('GNC_TOTALS_MISMATCH');
  if (d.goodsItemCount !== d.goodsItems.length) {
    ctx.addIssue({ code: 'custom', path: ['goodsItemCount'], params, input: d.goodsItemCount, message: `expected the number of goods items, ${d.goodsItems.length}` });
  }
  const packages = d.goodsItems.reduce((n, item) => n + item.packages.count, 0);
  if (d.totalPackages !== packages) {
    ctx.addIssue({ code: 'custom', path: ['totalPackages'], params, input: d.totalPackages, message: `expected the sum of the goods items' packages, ${packages}` });
  }
  const kg = d.goodsItems.reduce((n, item) => n + toKilograms(item.grossMass.value, item.grossMass.unit), 0);
  const totalKg = toKilograms(d.totalGrossMass.value, d.totalGrossMass.unit);
  if (Math.abs(totalKg - kg) > 1e-6 * Math.max(1, kg)) {
    const stated = +(kg / toKilograms(1, d.totalGrossMass.unit)).toFixed(6);
    ctx.addIssue({ code: 'custom', path: ['totalGrossMass', 'value'], params, input: d.totalGrossMass.value, message: `expected the sum of the goods items' gross mass, ${stated} ${d.totalGrossMass.unit}` });
  }
}

export const AciDeclaration = z.strictObject({ kind: z.literal('declaration'), ...declarationShape }).superRefine(checkTotals);
export type AciDeclaration = z.infer<typeof AciDeclaration>;

/** A full replacement of the declaration named by the envelope's `ref`; the receiver keeps the history. */
export const AciAmendment = z
  .strictObject({ kind: z.literal('amendment'), ...declarationShape, amendmentReason: text(512).optional() })
  .superRefine(checkTotals);
export type AciAmendment = z.infer<typeof AciAmendment>;

/** Withdraws the declaration named by the envelope's `ref`. */
export const AciCancellation = z.strictObject({
  kind: z.literal('cancellation'),
  /** Functional reference of the cancelled declaration, for the declarant's own matching. */
  functionalReference: identifier(35).optional(),
  reason: text(512),
});
export type AciCancellation = z.infer<typeof AciCancellation>;

export const AciBody = z.discriminatedUnion('kind', [AciDeclaration, AciAmendment, AciCancellation]);
export type AciBody = z.infer<typeof AciBody>;

/** Validates an ACI body; GNC_TOTALS_MISMATCH names the total that disagrees with the goods items. */
export function parseAciBody(input: unknown, opts?: ParseOptions): AciBody {
  return parseDocument(AciBody, input, 'aci message body', opts);
}

/** The UN numbers of a goods item in either form (none, `unNumber` or `unNumbers`), in the order declared. */
export function unNumbersOf(item: AciGoodsItem): string[] {
  return item.unNumbers ?? (item.unNumber === undefined ? [] : [item.unNumber]);
}

/** Kinds that carry a full declaration (declaration and amendment). */
export function isFullDeclaration(body: AciBody): body is AciDeclaration | AciAmendment {
  return body.kind !== 'cancellation';
}
