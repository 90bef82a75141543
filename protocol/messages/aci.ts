/** Advance cargo information (WCO DM declaration / SAFE data set). Deepened by the data-model work. */
import { z } from 'zod';
import { CountryCode } from '../codes/countries.js';

const Party = z.strictObject({ name: z.string().min(1).max(70), id: z.string().min(1).max(17).optional(), aeoId: z.string().max(17).optional(), country: CountryCode });
const Item = z.strictObject({ sequence: z.number().int().min(1), hsCode: z.string().regex(/^\d{6,10}$/), description: z.string().min(1).max(512), grossMassKg: z.number().positive(), originCountry: CountryCode });
export const AciDeclaration = z.strictObject({
  kind: z.literal('declaration'),
  functionalReference: z.string().min(1).max(35),
  declarationType: z.enum(['export', 'transit', 'pre-arrival']),
  consignor: Party,
  consignee: Party,
  expectedArrival: z.iso.datetime({ offset: true }),
  goodsItems: z.array(Item).min(1).max(999),
});
export const AciAmendment = AciDeclaration.extend({ kind: z.literal('amendment') });
export const AciCancellation = z.strictObject({ kind: z.literal('cancellation'), reason: z.string().min(1).max(512) });
export const AciBody = z.discriminatedUnion('kind', [AciDeclaration, AciAmendment, AciCancellation]);
export type AciBody = z.infer<typeof AciBody>;
