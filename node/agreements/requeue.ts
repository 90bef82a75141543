/**
 * A partner pinned again (`gnc partner add`) after `gnc partner remove --despite-agreement` withdrew agreement envelopes
 * queued for it: what it still needs to know is queued again, so that it learns of a termination (or a suspension, a
 * proposal, a countersignature) the removal kept from it. Each withdrawn envelope is judged once its partner is back:
 *
 * - not queued again when the agreement version it carries or names is not held here any more, was signed under a
 *   root of the partner replaced as lost (its node under the new root does not hold it), has ended by its own dates
 *   (`expired`: both sides see that) or was replaced by a newer version in force (`superseded`);
 * - a proposal, only while that version still awaits the partner's signature and no newer version of the agreement is
 *   held here (a newer proposal supersedes it);
 * - a countersignature, always otherwise (the partner proposed it and does not know it is signed);
 * - a termination, always otherwise; a suspension or resume, unless the agreement is terminated here (a termination
 *   supersedes them: the partner learns it from the termination, queued again too if the removal withdrew it).
 *
 * What is queued again goes in a new envelope, in the order the first ones were queued, behind this node's key state
 * (key envelopes go first: node/store/outbox.ts KEY_LANE); the withdrawn envelope stays `withdrawn` and names the new
 * one (`resealedAs`). One judged not relevant stays as it is, and is judged again at the next `gnc partner add`. All of
 * it happens inside the unit that pins the partner (SubmitService.commitQueuing: `queueAgain`), so that a pin is never
 * kept without what it queues again.
 */
import { agreementPeriod, decodeAgreement } from '../../protocol/agreement/index.js';
import { AgreementControlBody } from '../../protocol/messages/control.js';
import type { QueueAgainIn } from '../outbound/submit.js';
import type { MessageRow } from '../store/messages.js';
import type { Store } from '../store/store.js';
import type { AgreementRegistry, KnownAgreement } from './registry.js';

export interface QueuedAgain {
  /** Ids of the new envelopes, in order, each with the id of the withdrawn one it carries on. */
  queued: { id: string; withdrawn: string }[];
  /** Withdrawn envelopes left as they are, with why. */
  left: { withdrawn: string; why: string }[];
}

export function queueWithdrawnAgreementsAgain(
  d: { store: Store; registry: AgreementRegistry; clock: () => number },
  partner: string,
  queueAgain: QueueAgainIn,
): QueuedAgain {
  const out: QueuedAgain = { queued: [], left: [] };
  d.registry.reload();
  for (const m of d.store.messages.withdrawnOut(partner, 'agreement')) {
    const why = notRelevant(d.registry, m, d.clock());
    if (why !== undefined) {
      out.left.push({ withdrawn: m.id, why });
      continue;
    }
    const id = queueAgain(m);
    if (id !== undefined) out.queued.push({ id, withdrawn: m.id });
  }
  return out;
}

/** Why withdrawn agreement envelope `m` is not queued again, or undefined when it is (see the module comment). */
function notRelevant(registry: AgreementRegistry, m: MessageRow, now: number): string | undefined {
  const parsed = m.jws === null || m.body === null ? undefined : AgreementControlBody.safeParse(JSON.parse(m.body));
  if (parsed === undefined || !parsed.success) return 'its content was purged (retention)';
  const body = parsed.data;
  let k: KnownAgreement | undefined;
  if (body.action === 'notice') k = registry.all().find((a) => a.notices.some((n) => n.compact === body.notice));
  else {
    const { document } = decodeAgreement(body.agreement);
    k = registry.get(document.id, document.version);
  }
  if (k === undefined) return 'the agreement it is about is not held here';
  const ref = `${k.document.id}@${k.document.version}`;
  if (registry.underReplacedRoot(k)) return `${ref} was signed under a root of ${k.partner} replaced since`;
  if (now >= agreementPeriod(k.document).end) return `${ref} has ended (valid until ${k.document.validUntil})`;
  const status = registry.statusOf(k, now);
  if (status === 'superseded') return `${ref} is superseded by a newer version`;
  if (body.action === 'propose') {
    if (k.complete) return `${ref} is signed by both already`;
    const newest = registry.get(k.document.id);
    if (newest !== undefined && newest.document.version > k.document.version) return `a newer version of ${k.document.id} is held (${newest.document.version})`;
    return undefined;
  }
  if (body.action === 'notice' && status === 'terminated') {
    const notice = k.notices.find((n) => n.compact === body.notice)!.notice;
    if (notice.action !== 'terminate') return `${ref} is terminated, which supersedes this ${notice.action}`;
  }
  return undefined;
}
