/**
 * AEO records (`aeo`) exchanged under a mutual recognition arrangement (WCO SAFE Framework, Part 5): who holds
 * Authorized Economic Operator status with the sending administration. A `snapshot` is the full list and
 * replaces everything the receiver holds from that partner; a `change` updates one operator (grant,
 * suspension, revocation, renewal). Identity fields follow the WCO guidance for MRA data exchange: AEO id
 * (country-prefixed, at most 17 characters), national trader id, legal name and address.
 *
 * A register too large for one message travels as a snapshot in parts (`part: {number, of}`, SPEC 7.5): each part
 * is an ordinary message, and the snapshot is the parts of one `asOf` together. What a part says about the other
 * parts (the same `of`, each AEO id in one part only) can only be checked against them, by the node that holds them.
 */
import { z } from 'zod';
import { MAX_AEO_SNAPSHOT_OPERATORS, MAX_AEO_SNAPSHOT_PARTS } from '../constants.js';
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

const partCount = z.number().int().min(1).max(MAX_AEO_SNAPSHOT_PARTS);

/** Where a part stands in a snapshot sent in parts: part `number` of `of` (1 <= number <= of <= 100). */
export const AeoSnapshotPart = z
  .strictObject({ number: partCount, of: partCount })
  .superRefine((p, ctx) => {
    if (p.number > p.of) ctx.addIssue({ code: 'custom', path: ['number'], input: p.number, message: `expected a part number from 1 to ${p.of} (of)` });
  });
export type AeoSnapshotPart = z.infer<typeof AeoSnapshotPart>;

export const AeoSnapshot = z
  .strictObject({
    kind: z.literal('snapshot'),
    /** Moment the list was extracted from the national AEO register; every part of one snapshot carries the same. */
    asOf: DateTime,
    /** Present when the snapshot is sent in parts; without it the message is the whole snapshot (one part of one). */
    part: AeoSnapshotPart.optional(),
    operators: z.array(AeoOperator).max(MAX_AEO_SNAPSHOT_OPERATORS),
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

/** A snapshot sent in more than one part; one without `part`, or of one part, is complete by itself. */
export type AeoSnapshotInParts = AeoSnapshot & { part: AeoSnapshotPart };

export function isSnapshotInParts(body: AeoBody): body is AeoSnapshotInParts {
  return body.kind === 'snapshot' && body.part !== undefined && body.part.of > 1;
}

export function parseAeoBody(input: unknown, opts?: ParseOptions): AeoBody {
  return parseDocument(AeoBody, input, 'aeo message body', opts);
}
