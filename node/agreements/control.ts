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

/** Queues a countersigned copy for the partner (AgreementService.sign does the same for one signed here). */
export type ReturnCountersigned = (partner: string, signed: SignedAgreement) => Promise<unknown>;

export function agreementControl(registry: AgreementRegistry, log: (m: string) => void, returnCountersigned?: ReturnCountersigned) {
  return (opened: OpenedEnvelope, peer: string): void | (() => void) => {
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
    // that the proposer holds it complete too; once the envelope that carried the proposal has committed
    if (body.action === 'propose' && k.complete && returnCountersigned !== undefined) {
      return () => {
        returnCountersigned(peer, k.signed).then(
          () => log(`agreement ${k.document.id}@${k.document.version}: signed here already, countersigned copy queued for ${peer}`),
          (err: unknown) => log(`agreement ${k.document.id}@${k.document.version}: could not queue the countersigned copy for ${peer} (${(err as Error).message}); send it with gnc agreement propose --id ${k.document.id} --version ${k.document.version}`),
        );
      };
    }
    return undefined;
  };
}
