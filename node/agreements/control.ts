/**
 * Agreement negotiation over the wire, so that neither side edits files by hand: a proposal (signed by the
 * proposer's root) arrives and waits for this administration's signature; once countersigned here it goes
 * back to the proposer ("countersigned"), and notices (suspend, terminate, resume) apply on arrival. Every
 * document is verified against the roots known for its parties (pinned roots and their successors) before it is
 * stored; the envelope only transports it, and the evidence entry of a document new here names it (SPEC 9.2).
 */
import type { OpenedEnvelope } from '../../protocol/envelope/open.js';
import { AgreementControlBody } from '../../protocol/messages/control.js';
import { parseWith } from '../../protocol/validate.js';
import type { SignedAgreement } from '../../protocol/agreement/index.js';
import type { AgreementRegistry } from './registry.js';
import { GncError, isGncError } from '../../protocol/errors.js';
import { storageError } from '../store/storage-error.js';

/**
 * Queues a countersigned copy for the partner inside the transaction that stores the proposal's envelope
 * (SubmitService.queueControlIn; AgreementService.sign does the same for one signed here): `settled` is to be
 * called once that transaction's unit has settled.
 */
export type ReturnCountersigned = (partner: string, signed: SignedAgreement) => { settled: (committed: boolean) => void };

export function agreementControl(registry: AgreementRegistry, log: (m: string) => void, returnCountersigned?: ReturnCountersigned) {
  return (opened: OpenedEnvelope, peer: string): void | ((committed: boolean) => void) => {
    const body = parseWith(AgreementControlBody, opened.payload.body, 'Agreement control body', '/body');
    const via = { from: peer, messageId: opened.payload.id };
    // the sender is checked before anything is stored: a refusal is a final verdict, so nothing of it may apply
    if (body.action === 'notice') {
      // a notice the partner sent again in a new envelope (re-sealed after its first grew too old, SPEC section 6)
      // is the same document: stored and applied once
      const held = registry.holdsNotice(body.notice);
      const n = registry.saveNotice(body.notice, via);
      log(`agreement ${n.agreementId}@${n.version}: ${n.action} by ${n.by}, effective ${n.effective}${held ? ' (held already: no change)' : ''}`);
      return;
    }
    const k = registry.save(body.agreement, 'partner', via);
    log(`agreement ${k.document.id}@${k.document.version} ${body.action} by ${peer}: ${k.complete ? 'signed by both, in force from ' + k.document.validFrom : 'awaiting our signature (gnc agreement sign)'}`);
    // a proposal of a document this administration had signed already (proposals that crossed, or one signed here
    // and not proposed): held with both signatures now, it goes back countersigned, as one signed after it would, so
    // that the proposer holds it complete too. Queued in the transaction that stores the proposal: both commit or
    // neither does, and a crash after that commit cannot leave the proposer without the copy
    if (body.action !== 'propose' || !k.complete || returnCountersigned === undefined) return undefined;
    const what = `agreement ${k.document.id}@${k.document.version}`;
    let queued: ReturnType<ReturnCountersigned>;
    try {
      queued = returnCountersigned(peer, k.signed);
    } catch (err) {
      // no verdict on the proposal (the partner would be told it is refused, finally): this node's own failure, on
      // which nothing of the proposal is stored and the partner sends it again
      const e = storageError(err);
      if (isGncError(e) && e.code === 'GNC_STORAGE_FULL') throw e;
      throw new GncError('GNC_INTERNAL', `The proposal of ${what} from ${peer} completes it here, but its countersigned copy could not be queued for ${peer} (${(err as Error).message}): nothing of the proposal was stored, and ${peer} sends it again. Check the node's log and its data dir, and report it if it persists.`, { cause: err });
    }
    return (committed) => {
      queued.settled(committed);
      if (committed) log(`${what}: signed here already, countersigned copy queued for ${peer}`);
    };
  };
}
