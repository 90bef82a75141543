/**
 * Electronic certificate of origin (`ecoo`) and its status changes. The content follows what the CIS FTA
 * (2011) form ST-1, the EUR.1 and the non-preferential certificate forms of the CAREC members have in common:
 * exporter, producer, consignee, transport and route, invoices, goods with HS code, quantity and origin
 * criterion, the issuing authority and its signatory. A `status` message refers to an earlier certificate by
 * number (the envelope `ref` names the certificate's message id): issued, replaced (optionally naming the
 * replacement) or cancelled.
 */
import { z } from 'zod';
import { CountryCode } from '../codes/countries.js';
import { TransportMode } from '../codes/transport-modes.js';
import { checkSequence, HsCode, identifier, IsoDate, MassMeasure, Packages, parseDocument, Party, Quantity, text, type ParseOptions } from './common.js';

export const EcooGoodsItem = z.strictObject({
  sequence: z.number().int().min(1).max(999),
  hsCode: HsCode,
  description: text(512),
  quantity: Quantity,
  grossMass: MassMeasure.optional(),
  packages: Packages.optional(),
  /** Origin criterion as the arrangement writes it on the certificate (e.g. "WO" wholly obtained, "PSR"). */
  originCriterion: text(35),
  originCountry: CountryCode,
  /** Number of the invoice (from `invoices`) this item is billed on. */
  invoiceNumber: identifier(35).optional(),
});
export type EcooGoodsItem = z.infer<typeof EcooGoodsItem>;

export const EcooCertificate = z
  .strictObject({
    kind: z.literal('certificate'),
    certificateNumber: identifier(35),
    issueDate: IsoDate,
    issuingCountry: CountryCode,
    /** Chamber of commerce or ministry authorised to issue certificates of origin. */
    issuingAuthority: z.strictObject({ name: text(140), id: identifier(17).optional() }),
    /** Preferential (under a trade arrangement) or non-preferential origin. */
    preference: z.enum(['preferential', 'non-preferential']),
    /** The arrangement conferring preference, like "CIS FTA 2011"; required when preferential. */
    arrangement: text(70).optional(),
    /** Certificate form, like "ST-1" (CIS FTA) or "EUR.1". */
    certificateForm: identifier(17).optional(),
    exporter: Party,
    producer: Party.optional(),
    consignee: Party,
    transport: z.strictObject({
      mode: TransportMode,
      meansId: identifier(35).optional(),
      /** Route as far as known, like "Almaty - Korday/Ak-Zhol - Bishkek". */
      route: text(256).optional(),
      departureDate: IsoDate.optional(),
    }),
    invoices: z.array(z.strictObject({ number: identifier(35), date: IsoDate })).min(1).max(99),
    goodsItems: z.array(EcooGoodsItem).min(1).max(999),
    signatory: z.strictObject({ name: text(70), position: text(70).optional(), place: text(35) }),
    remarks: text(512).optional(),
  })
  .superRefine((c, ctx) => {
    checkSequence(c.goodsItems, ctx, 'goodsItems');
    if (c.preference === 'preferential' && c.arrangement === undefined) {
      ctx.addIssue({ code: 'custom', path: ['arrangement'], input: undefined, message: 'expected the preferential arrangement, like "CIS FTA 2011"' });
    }
    if (c.preference === 'non-preferential' && c.arrangement !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['arrangement'], input: c.arrangement, message: 'expected no arrangement on a non-preferential certificate' });
    }
    const invoices = new Set(c.invoices.map((i) => i.number));
    c.goodsItems.forEach((item, i) => {
      if (item.invoiceNumber !== undefined && !invoices.has(item.invoiceNumber)) {
        ctx.addIssue({ code: 'custom', path: ['goodsItems', i, 'invoiceNumber'], input: item.invoiceNumber, message: `expected one of the certificate's invoice numbers (${[...invoices].join(', ')})` });
      }
    });
  });
export type EcooCertificate = z.infer<typeof EcooCertificate>;

export const EcooStatus = z
  .strictObject({
    kind: z.literal('status'),
    certificateNumber: identifier(35),
    status: z.enum(['issued', 'replaced', 'cancelled']),
    statusDate: IsoDate,
    /** The certificate that replaces this one (status `replaced` only). */
    replacementCertificateNumber: identifier(35).optional(),
    reason: text(512).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.replacementCertificateNumber !== undefined && s.status !== 'replaced') {
      ctx.addIssue({ code: 'custom', path: ['replacementCertificateNumber'], input: s.replacementCertificateNumber, message: 'expected a replacement certificate number only with status "replaced"' });
    }
  });
export type EcooStatus = z.infer<typeof EcooStatus>;

/**
 * Certificate numbers are compared upper-case, like the other ids of the arrivals view: a declarant who types
 * "kz-st1-2026-0099002" names certificate KZ-ST1-2026-0099002, and so does a status naming it.
 */
export function certificateKey(number: string): string {
  return number.toUpperCase();
}

export const EcooBody = z.discriminatedUnion('kind', [EcooCertificate, EcooStatus]);
export type EcooBody = z.infer<typeof EcooBody>;

export function parseEcooBody(input: unknown, opts?: ParseOptions): EcooBody {
  return parseDocument(EcooBody, input, 'ecoo message body', opts);
}
