/**
 * The terms received partner data is held under (protocol/SPEC.md section 8.1, "Terms of received data"): what the
 * agreement version a message was accepted under says about it, for the national systems that read it from this node
 * (local API, stream, webhook, export). The node enforces purpose, fields and retention itself; it never passes
 * received data to a third party, so `onwardTransfer` binds only those readers, and these terms are how they learn it.
 *
 * A view built from several received messages (an arrival: its declaration's versions and the messages its assessment
 * quotes; an AEO record: the messages of its history) carries their combination (combineTerms): the agreement and
 * purpose of the message it is built on, the earliest retention end, and onward transfer only if every one allows it.
 */
import { z } from 'zod';
import { UtcTimestamp } from '../envelope/payload.js';
import { agreementRef, AgreementPurpose, type AgreementDocument } from './document.js';
import { scopeFor } from './scope.js';

export const DataTerms = z.object({
  agreement: z.string().describe('the agreement version the data was accepted under, as envelopes name it: `id@version`'),
  purpose: AgreementPurpose.describe('the purpose the partner declared, one the agreement allows for this type: use the data for this purpose only'),
  retainUntil: UtcTimestamp.describe('the end of the retention period under that agreement: from then on this node treats the content as purged, and so must every copy a reader made'),
  onwardTransfer: z.boolean().describe('whether the agreement allows passing the data to third parties (other authorities, other countries); false: keep it within this administration'),
}).describe('the terms of the agreement the data was received under, for the systems that read it: this node cannot enforce them beyond telling them');
export type DataTerms = z.infer<typeof DataTerms>;

/**
 * The terms of a message received from `from` under `doc` (the version it names), or undefined when the document
 * allows no such type from `from` (never for a message it accepted) or the purpose is not one of the vocabulary.
 */
export function termsOf(doc: AgreementDocument, from: string, type: string, purpose: string | null, retainUntil: number): DataTerms | undefined {
  const to = doc.parties.find((p) => p.country !== from)?.country;
  const scope = to === undefined ? undefined : scopeFor(doc, from, to, type);
  const p = AgreementPurpose.safeParse(purpose);
  if (!scope || !p.success) return undefined;
  return { agreement: agreementRef(doc), purpose: p.data, retainUntil: new Date(retainUntil).toISOString(), onwardTransfer: scope.onwardTransfer };
}

/**
 * The terms of data combined from several messages: `main`'s agreement and purpose (the message the view is built on),
 * the earliest retention end of all, onward transfer only if all allow it. Null when the terms of any of them are not
 * known: a reader cannot be told what holds for the whole.
 */
export function combineTerms(main: DataTerms | null, others: readonly (DataTerms | null)[]): DataTerms | null {
  return others.reduce<DataTerms | null>(
    (acc, t) => acc && t && { ...acc, retainUntil: t.retainUntil < acc.retainUntil ? t.retainUntil : acc.retainUntil, onwardTransfer: acc.onwardTransfer && t.onwardTransfer },
    main,
  );
}
