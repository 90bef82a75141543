/**
 * AEO records (`aeo`) exchanged under a mutual recognition arrangement (WCO SAFE Framework, Part 5): who holds
 * Authorized Economic Operator status with the sending administration. A `snapshot` is the full list and
 * replaces everything the receiver holds from that partner; a `change` updates one operator (grant,
 * suspension, revocation, renewal). Identity fields follow the WCO guidance for MRA data exchange: AEO id
 * (country-prefixed, at most 17 characters), national trader id, legal name and address.
 */
import { z } from 'zod';
import { Address, AeoId, DateTime, identifier, IsoDate, parseDocument, text, type ParseOptions } from './common.js';

export const AeoOperator = z
  .strictObject({
    aeoId: AeoId,
    /** Trader identification number in the granting country (BIN, INN, TIN ...). */
    nationalTraderId: identifier(17),
    legalName: text(256),
    address: Address,
    /** AEO security and safety (AEOS), customs simplifications (AEOC), or both (AEOF). */
    programme: z.enum(['security', 'simplifications', 'both']),
    status: z.enum(['valid', 'suspended', 'revoked']),
    /** Date the current status took effect. */
    statusDate: IsoDate,
    validFrom: IsoDate,
    /** End of validity when the authorisation is time-limited. */
    validUntil: IsoDate.optional(),
  })
  .superRefine((o, ctx) => {
    if (o.validUntil !== undefined && o.validUntil < o.validFrom) {
      ctx.addIssue({ code: 'custom', path: ['validUntil'], input: o.validUntil, message: `expected a date on or after validFrom (${o.validFrom})` });
    }
    if (o.statusDate < o.validFrom) {
      ctx.addIssue({ code: 'custom', path: ['statusDate'], input: o.statusDate, message: `expected a date on or after validFrom (${o.validFrom})` });
    }
  });
export type AeoOperator = z.infer<typeof AeoOperator>;

export const AeoSnapshot = z
  .strictObject({
    kind: z.literal('snapshot'),
    /** Moment the list was extracted from the national AEO register. */
    asOf: DateTime,
    operators: z.array(AeoOperator).max(10_000),
  })
  .superRefine((s, ctx) => {
    const seen = new Map<string, number>();
    s.operators.forEach((o, i) => {
      const first = seen.get(o.aeoId);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['operators', i, 'aeoId'], input: o.aeoId, message: `expected each AEO id once; ${o.aeoId} is also operator ${first}` });
      } else seen.set(o.aeoId, i);
    });
  });
export type AeoSnapshot = z.infer<typeof AeoSnapshot>;

export const AeoChange = z.strictObject({
  kind: z.literal('change'),
  operator: AeoOperator,
  /** Why the status changed, where the administration may say so. */
  reason: text(512).optional(),
});
export type AeoChange = z.infer<typeof AeoChange>;

export const AeoBody = z.discriminatedUnion('kind', [AeoSnapshot, AeoChange]);
export type AeoBody = z.infer<typeof AeoBody>;

export function parseAeoBody(input: unknown, opts?: ParseOptions): AeoBody {
  return parseDocument(AeoBody, input, 'aeo message body', opts);
}
