/**
 * Taking back outbound messages before the partner has them: one message an integrator or operator queued by
 * mistake (`POST /v1/messages/{id}/withdraw`, `gnc messages withdraw`), or everything still queued for a partner
 * that was removed (`gnc partner remove`). A withdrawn message is final (status `withdrawn`, with when and why) and
 * leaves the outbox; its row, envelope and `sent` evidence entry stay, since the node did seal it. Only what the
 * partner cannot hold is withdrawn one by one: a message on the wire, or that an earlier attempt handed over without
 * a receipt coming back, may be at the partner, and only its receipt can tell. These functions run inside the
 * caller's transaction (a group commit), so the check and the change see the same rows: the dispatcher marks a row
 * 'sending' only if it is still queued or retrying at its own commit, and hands it over only once that commit is done.
 * A row marked earlier in the same commit (by a pump, or by the submission that queues it) has not left yet, so either
 * withdrawal takes it back as one still waiting (OutboxRepo.markedNow), and the dispatcher does not hand it over
 * (OutboxRepo.takenBack); only a 'sending' row whose mark has committed is on the wire.
 */
import { GncError } from '../../protocol/errors.js';
import { isControlType } from '../../protocol/messages/control.js';
import type { MessageRow } from '../store/messages.js';
import type { Store } from '../store/store.js';

/** What an operator does instead of withdrawing a message the partner has (or may have), by message type. */
function undoHint(m: MessageRow): string {
  if (m.type === 'aci') return `submit a cancellation (or an amendment) of it with "ref": "${m.id}"`;
  if (m.type === 'ecoo') return `submit an e-CoO status change of the certificate with "ref": "${m.id}"`;
  return 'submit a change that corrects it';
}

/**
 * Withdraws the outbound message `id`, if the partner cannot have it (queued or retrying, or marked 'sending' in this
 * same commit; never handed over), and answers it as it stands after. One withdrawn already is answered as it is
 * (`already`), whatever `reason` says now.
 */
export function withdrawMessage(store: Store, id: string, reason: string, now: number): { message: MessageRow; already: boolean } {
  const rows = store.messages.byId(id);
  const m = rows.find((r) => r.direction === 'out');
  if (m === undefined) {
    if (rows.length > 0) {
      throw new GncError('GNC_CONFLICT', `Message ${id} was received from ${rows[0]!.partner}, not sent by this node: only a message this node queued for a partner can be withdrawn.`);
    }
    throw new GncError('GNC_NOT_FOUND', `No message with id ${id} on this node: check the id (GET /v1/messages or \`gnc messages --direction out\` lists them).`);
  }
  const to = m.partner;
  if (m.status === 'withdrawn') return { message: m, already: true };
  if (isControlType(m.type) || m.status === 'resealed') {
    throw new GncError('GNC_CONFLICT', `Message ${id} is a control message (${m.type} ${m.kind ?? 'notice'}): it carries a document this node has already applied (an agreement, a notice, a key), which ${to} must receive to stay in step, so it cannot be withdrawn. To stop all traffic with ${to} for good, end the partnership with \`gnc partner remove\`.`);
  }
  // marked 'sending' in this commit (OutboxRepo.markedNow): `sent` as before the mark, which did not hand it over
  const marked = m.status === 'sending' ? store.outbox.markedNow(m.seq) : undefined;
  switch (m.status) {
    case 'sending':
      if (marked !== undefined) break;
      throw new GncError('GNC_CONFLICT', `Message ${id} is being handed to ${to} now (an attempt in progress), so ${to} may hold it: it cannot be withdrawn now. Its status tells how the attempt ends (GET /v1/messages/${id}?wait=30 waits for a final one): retrying, withdraw it again; delivered, ${undoHint(m)}.`);
    case 'delivered':
      throw new GncError('GNC_CONFLICT', `Message ${id} was delivered: ${to} holds it and signed its receipt, so it cannot be withdrawn. To undo it, ${undoHint(m)}.`);
    case 'rejected':
      throw new GncError('GNC_CONFLICT', `Message ${id} was rejected by ${to} (${m.error_code ?? 'negative receipt'}): it is final, and ${to} did not accept it, so there is nothing to withdraw.`);
    case 'expired':
      throw new GncError('GNC_CONFLICT', `Message ${id} expired undelivered (${m.error_code ?? 'GNC_DELIVERY_EXPIRED'}): it is final and will not be sent, so there is nothing to withdraw.`);
    case 'accepted':
      throw new GncError('GNC_CONFLICT', `Message ${id} was received, not sent by this node: only a message this node queued for a partner can be withdrawn.`);
    default:
      break; // queued or retrying
  }
  if (marked === undefined ? store.outbox.mayHold(m.seq) === true : marked === 1) {
    throw new GncError('GNC_CONFLICT', `Message ${id} was handed to ${to} by an earlier attempt and no receipt came back, so ${to} may hold it: it cannot be withdrawn, and it is sent again (the same bytes) until its receipt tells. Once it is delivered, ${undoHint(m)}.`);
  }
  const waiting = store.outbox.referringTo(to, id);
  if (waiting.length > 0) {
    throw new GncError('GNC_CONFLICT', `Message ${id} has ${waiting.length === 1 ? 'a message' : `${waiting.length} messages`} queued that refer to it (${waiting.join(', ')}), which ${to} would refuse without it: withdraw ${waiting.length === 1 ? 'that one' : 'those'} first, then this one.`);
  }
  store.messages.setWithdrawn(m.seq, reason, now);
  store.outbox.remove(m.seq);
  return { message: store.messages.bySeq(m.seq)!, already: false };
}

/**
 * Withdraws every message queued or retrying for `partner`, control envelopes included (a partner that was removed
 * gets nothing more; a control envelope would otherwise be sealed again forever), and every one the dispatcher marked
 * 'sending' in this same group commit (it hands it over only once the commit is done, and then does not), leaving out
 * `skip` (rows the dispatcher holds on the wire now). Returns the messages withdrawn. A row an earlier attempt handed
 * over says so in its reason: the partner may hold it, without this node ever learning.
 */
export function withdrawQueued(store: Store, partner: string, reason: string, now: number, skip: ReadonlySet<number> = new Set()): { seq: number; id: string }[] {
  const done: { seq: number; id: string }[] = [];
  for (const r of store.outbox.waiting(partner)) {
    if (skip.has(r.seq)) continue;
    const held = r.sent === 1 ? ` An earlier attempt handed it to ${partner}'s node and no receipt came back: ${partner} may hold it.` : '';
    store.messages.setWithdrawn(r.seq, `${reason}${held}`, now);
    store.outbox.remove(r.seq);
    done.push({ seq: r.seq, id: r.id });
  }
  return done;
}
