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
import type { AgreementRegistry } from './registry.js';

export function agreementControl(registry: AgreementRegistry, log: (m: string) => void) {
  return (opened: OpenedEnvelope, peer: string): void => {
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
  };
}
