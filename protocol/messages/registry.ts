/**
 * The business message types a partner may exchange (`aci`, `ecoo`, `aeo`) and the schema of each body.
 * The envelope type names the family; the body's `kind` names the variant (declaration, amendment, ...).
 * Variants that are about an earlier message (amendment, cancellation, status change) must carry `ref`.
 */
import { z } from 'zod';
import { GncError, quoted, type ErrorIssue } from '../errors.js';
import { AciBody } from './aci.js';
import { AeoBody } from './aeo.js';
import { certificateKey, EcooBody } from './ecoo.js';
import { parseDocument } from './common.js';

export const BUSINESS_TYPES = ['aci', 'ecoo', 'aeo'] as const;
export const BusinessType = z.enum(BUSINESS_TYPES);
export type BusinessType = z.infer<typeof BusinessType>;

export const BODY_SCHEMAS = { aci: AciBody, ecoo: EcooBody, aeo: AeoBody } as const;

export type BusinessBody = { aci: AciBody; ecoo: EcooBody; aeo: AeoBody }[BusinessType];

/** Body kinds that refer to an earlier message through the envelope's `ref`. */
export const REF_KINDS: Readonly<Record<BusinessType, readonly string[]>> = {
  aci: ['amendment', 'cancellation'],
  ecoo: ['status'],
  aeo: [],
};

export function isBusinessType(type: string): type is BusinessType {
  return (BUSINESS_TYPES as readonly string[]).includes(type);
}

export function assertBusinessType(type: unknown): BusinessType {
  if (typeof type === 'string' && isBusinessType(type)) return type;
  throw new GncError('GNC_UNKNOWN_TYPE', `Message type ${JSON.stringify(type)} is unknown: use one of ${BUSINESS_TYPES.join(', ')}.`);
}

/** Validates a body against its type's schema; errors name the field as a JSON pointer under /body. */
export function parseBody(type: BusinessType, body: unknown): BusinessBody {
  // parseDocument keeps a refinement's own code (GNC_TOTALS_MISMATCH) instead of the generic one
  return parseDocument(BODY_SCHEMAS[type], body, `${type} message body`, { prefix: '/body' }) as BusinessBody;
}

export function needsRef(type: BusinessType, body: BusinessBody): boolean {
  return REF_KINDS[type].includes((body as { kind: string }).kind);
}

/**
 * A `ref` on a kind that refers to nothing (a declaration, a certificate, any AEO body) is refused (SPEC 7):
 * read as "about that message", it would graft a new consignment onto another one.
 */
export function refuseStrayRef(type: BusinessType, body: BusinessBody, ref: string | undefined): void {
  if (ref === undefined || needsRef(type, body)) return;
  const kinds = REF_KINDS[type];
  const issue = refIssue('no "ref" on this kind', `string ${quoted(ref)}`);
  throw new GncError('GNC_SCHEMA_INVALID', `An ${type} ${(body as { kind: string }).kind} refers to no earlier message: remove "ref" (${kinds.length ? `only ${kinds.join(' and ')} of ${type} carry one` : `no ${type} message carries one`}).`, { issues: [issue] });
}

/** The issue of a submission's `ref`: the field named as the other refusals of a submission name theirs. */
export function refIssue(expected: string, received: string): ErrorIssue {
  return { path: '/ref', expected, received, message: `/ref: expected ${expected}, received ${received}` };
}

/**
 * The refusal of an amendment, cancellation or status change without `ref`, naming the field (`/ref`, as zod's
 * refusals name theirs, and as refuseStrayRef names it): `submitted` here, saying where each way of submitting gives
 * it, or `received` from a partner in an envelope (the receiver's negative receipt states it).
 */
export function missingRef(type: BusinessType, body: BusinessBody, how: 'submitted' | 'received' = 'submitted'): GncError {
  const issue = refIssue('the id of the message it refers to', 'nothing (missing)');
  const kind = (body as { kind: string }).kind;
  const message = how === 'received'
    ? `An ${type} ${kind} must name the message it refers to in "ref".`
    : `An ${type} ${kind} must name the original message id in "ref": add "ref" with the id POST /v1/messages answered for the original (for an XML body ?ref=ID, with gnc send --ref ID) and submit again.`;
  return new GncError('GNC_SCHEMA_INVALID', message, { issues: [issue] });
}

/** An earlier message as a node holds it: its body may be gone (retention). */
export interface HeldOriginal {
  type: string;
  kind: string | null;
  body: string | null;
}

/**
 * Why `original` cannot be the message a body's `ref` names (undefined when it can), checked alike by the sender
 * before it queues and by the receiver before it stores (SPEC section 4): the original of an ACI amendment or
 * cancellation is an ACI message; the message of an e-CoO status is its certificate, with the same number
 * (certificateKey). With the original's body gone, only its type and kind are compared.
 */
export function originalMismatch(type: BusinessType, body: BusinessBody, original: HeldOriginal): string | undefined {
  if (original.type !== type) return `an ${original.type} message, not an ${type} one`;
  if (type !== 'ecoo' || body.kind !== 'status') return undefined;
  if (original.kind !== 'certificate') return `an e-CoO ${original.kind ?? 'message'}, not a certificate`;
  if (original.body === null) return undefined;
  const number = (JSON.parse(original.body) as { certificateNumber: string }).certificateNumber;
  return certificateKey(number) === certificateKey(body.certificateNumber) ? undefined : `certificate ${number}, not ${body.certificateNumber}`;
}
