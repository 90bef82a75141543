/** AEO status records under an MRA: snapshots and changes. Deepened by the data-model work. */
import { z } from 'zod';

export const AeoRecord = z.strictObject({ aeoId: z.string().min(3).max(17), legalName: z.string().min(1).max(70), status: z.enum(['valid', 'suspended', 'revoked']) });
export const AeoSnapshot = z.strictObject({ kind: z.literal('snapshot'), asOf: z.iso.datetime({ offset: true }), operators: z.array(AeoRecord) });
export const AeoChange = z.strictObject({ kind: z.literal('change'), operator: AeoRecord });
export const AeoBody = z.discriminatedUnion('kind', [AeoSnapshot, AeoChange]);
export type AeoBody = z.infer<typeof AeoBody>;
