/** Electronic certificate of origin and its status changes. Deepened by the data-model work. */
import { z } from 'zod';
import { CountryCode } from '../codes/countries.js';

export const EcooCertificate = z.strictObject({
  kind: z.literal('certificate'),
  certificateNumber: z.string().min(1).max(35),
  issuingCountry: CountryCode,
  exporter: z.strictObject({ name: z.string().min(1), country: CountryCode }),
  goodsItems: z.array(z.strictObject({ hsCode: z.string().regex(/^\d{6,10}$/), description: z.string().min(1), originCountry: CountryCode })).min(1),
  issueDate: z.iso.date(),
});
export const EcooStatus = z.strictObject({ kind: z.literal('status'), certificateNumber: z.string().min(1).max(35), status: z.enum(['issued', 'replaced', 'cancelled']) });
export const EcooBody = z.discriminatedUnion('kind', [EcooCertificate, EcooStatus]);
export type EcooBody = z.infer<typeof EcooBody>;
