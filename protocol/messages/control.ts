/**
 * Bodies of control envelopes, which travel like messages (signed, receipted, outbox-delivered) but manage
 * the relationship instead of carrying customs data. They need no agreement in force (an agreement is what
 * they may be negotiating), and every document inside them carries its own root signature.
 *   type "agreement": propose a signed agreement, return it countersigned, or deliver a suspend/terminate/resume notice
 *   type "key": announce a new node certificate (rotation), a root-signed revocation, or a root succession
 */
import { z } from 'zod';

const GeneralJws = z.strictObject({
  payload: z.string().min(1),
  // unprotected headers are refused: every member that matters is in the signed protected header
  signatures: z.array(z.strictObject({ protected: z.string().min(1), signature: z.string().min(1) })).min(1).max(2),
});

export const AgreementControlBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('propose'), agreement: GeneralJws }),
  z.strictObject({ action: z.literal('countersigned'), agreement: GeneralJws }),
  z.strictObject({ action: z.literal('notice'), notice: z.string().min(1) }),
]);
export type AgreementControlBody = z.infer<typeof AgreementControlBody>;

export const KeyControlBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('announce'), certificate: z.string().min(1) }),
  z.strictObject({ action: z.literal('revoke'), notice: z.string().min(1) }),
  z.strictObject({ action: z.literal('root-succession'), notice: z.string().min(1), certificate: z.string().min(1) }),
]);
export type KeyControlBody = z.infer<typeof KeyControlBody>;

export const CONTROL_TYPES = ['agreement', 'key'] as const;
export type ControlType = (typeof CONTROL_TYPES)[number];

export function isControlType(type: string): type is ControlType {
  return (CONTROL_TYPES as readonly string[]).includes(type);
}
