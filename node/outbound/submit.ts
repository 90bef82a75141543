/**
 * Submission of a business message by an integrator (HTTP API or CLI): validate the body against its type's
 * schema, apply the agreement in force (type, purpose, fields; minimisation), seal it with the node key, and
 * commit the message row and its outbox row in one transaction. Only then is the submission acknowledged
 * (202): an accepted submission cannot be lost, and nothing refused is signed or queued. With an idempotency
 * key (the API's `Idempotency-Key`), a repeated submission answers with the message the first one made.
 */
import { DEFAULT_MAX_MESSAGE_AGE_MS, PAYLOAD_VERSION } from '../../protocol/constants.js';
import { decodeNodeCertificate } from '../../protocol/certificate.js';
import { jwkThumbprint } from '../../protocol/jwk.js';
import { decodeKeyNotice } from '../../protocol/notice.js';
import { EnvelopePayload, type FlattenedJws } from '../../protocol/envelope/payload.js';
import { canonicalJson } from '../../protocol/envelope/canonical.js';
import { sealEnvelope, sha256Hex, type SealedEnvelope, type Signer } from '../../protocol/envelope/seal.js';
import { isSnapshotInParts, type AeoBody, type AeoSnapshotInParts } from '../../protocol/messages/aeo.js';
import type { ControlType } from '../../protocol/messages/control.js';
import { CONTROL_RETENTION_DAYS } from '../inbound/receiver.js';
import { GncError, isGncError, quoted } from '../../protocol/errors.js';
import { MAX_ENVELOPE_BYTES } from '../../protocol/wire.js';
import { parseFlattened, peekKid, peekPayload } from '../../protocol/envelope/open.js';
import { newMessageId } from '../../protocol/ids.js';
import { assertBusinessType, missingRef, needsRef, refIssue, originalMismatch, parseBody, refuseStrayRef, type BusinessType } from '../../protocol/messages/registry.js';
import type { Policy } from '../policy/policy.js';
import type { MessageRow } from '../store/messages.js';
import { queuePosition, type OutboxRow } from '../store/outbox.js';
import { storageError } from '../store/storage-error.js';
import type { Store } from '../store/store.js';
import { removedBy } from '../partners.js';
import type { TrustIndex } from '../trust.js';

export interface Submission {
  to: string;
  type: string;
  purpose?: string | undefined;
  ref?: string | undefined;
  body: unknown;
}

export interface SubmitResult {
  id: string;
  status: 'queued';
  to: string;
  type: BusinessType;
  agreement: string;
  sha256: string;
  /** Field paths removed by data minimisation under the agreement. */
  removed: string[];
}

/** What a submission returns: the answer for the integrator, and the row's seq for the node's own use. */
export interface Submitted {
  result: SubmitResult;
  seq: number;
  /** True when an idempotency key named a message an earlier submission made: nothing new was queued. */
  replayed: boolean;
}

/** A client's idempotency key, scoped to the API token that presents it. */
export interface IdempotencyKey {
  tokenId: string;
  key: string;
}

/** Key, scope and the SHA-256 of the submission it was first used for. */
interface KeyUse extends IdempotencyKey {
  request: string;
}

export interface SubmitDeps {
  self: string;
  signer: () => Signer;
  store: Store;
  trust: TrustIndex;
  policy: Policy;
  clock: () => number;
  maxAgeMs?: number;
  clockSkewMs: number;
  onQueued: (partner: string) => void;
  /**
   * Inside the transaction that queues row `seq`: the running node's dispatcher marks it as on its way when the partner's
   * queue is idle, and returns what to call once the commit has settled (Dispatcher.sendWithQueued). None in a CLI.
   */
  sendWithQueued?: (seq: number, partner: string) => ((committed: boolean) => void) | undefined;
  evidence?: (event: 'sent', messageId: string, peer: string, sha256: string) => void;
  /** This node's certificate of its key `kid` under its root in office, or under root `issuer` (Keyring.certificateOf). */
  certificateOf?: (kid: string, issuer?: string) => string | undefined;
  /** This node's keys that a revocation of its administration names, with its earliest `revokedAt` (Keyring.revokedKeys). */
  revokedKeys?: () => ReadonlyMap<string, number>;
}

/** A control envelope queued inside the caller's transaction (SubmitService.queueControlIn). */
export interface QueuedControl {
  id: string;
  sha256: string;
  /** To call once the caller's unit has settled: `committed` when it committed (the envelope is queued), else not. */
  settled: (committed: boolean) => void;
}

/** Queues a control envelope inside the unit of SubmitService.commitQueuing; returns its message id. */
export type QueueIn = (to: string, type: ControlType, body: Record<string, unknown>) => string;

/**
 * Queues a withdrawn control envelope again inside the unit of SubmitService.commitQueuing (queueAgainIn); returns the
 * new envelope's id, or undefined when it was queued again before.
 */
export type QueueAgainIn = (withdrawn: MessageRow) => string | undefined;

/** A control envelope sealed again (SubmitService.reseal). */
export interface Resealed {
  /** The new envelope's row and id. */
  seq: number;
  id: string;
  /** The announcement of its signing key queued ahead of it, if it needed one. */
  announced?: string;
  /** That announcement is one that was queued behind it (the rotation's), moved ahead. */
  announcementMoved?: boolean;
}

export class SubmitService {
  constructor(private readonly d: SubmitDeps) {}

  async submit(s: Submission, idempotency?: IdempotencyKey): Promise<Submitted> {
    const use = idempotency && { ...idempotency, request: requestHash(s) };
    if (use) {
      // a retry answers as the first submission did, even if the agreement or the partner changed since
      const earlier = this.earlier(use);
      if (earlier !== undefined) return this.replay(earlier);
    }
    const type = assertBusinessType(s.type);
    if (s.to === this.d.self) throw new GncError('GNC_PARTNER_UNKNOWN', `A node does not send messages to its own country (${s.to}): name a partner in "to".`);
    if (!this.d.trust.isPartner(s.to)) {
      // one removed says so: "add it" alone reads as if it had never been pinned
      const removedAt = this.d.store.partners.removedAt(s.to);
      if (removedAt !== undefined) throw removedPartner(this.d.store, s.to, removedAt);
      throw new GncError('GNC_PARTNER_UNKNOWN', `${JSON.stringify(s.to)} is not a partner of this node: add it with \`gnc partner add\` (see GET /v1/partners).`);
    }
    const body = parseBody(type, s.body);
    const kind = (body as { kind: string }).kind;
    refuseStrayRef(type, body, s.ref);
    if (needsRef(type, body)) {
      if (s.ref === undefined) throw missingRef(type, body);
      const orig = this.d.store.messages.byKey('out', s.to, s.ref);
      const mismatch = orig && originalMismatch(type, body, orig);
      if (!orig || mismatch) {
        const issue = refIssue(`the id of an ${type} message this node sent to ${s.to}`, `string ${quoted(s.ref)}`);
        throw new GncError('GNC_ORIGINAL_UNKNOWN', `${type} ${kind} refers to ${s.ref}, which is ${mismatch ?? `not an ${type} message this node sent to ${s.to}`}: check "ref".`, { issues: [issue] });
      }
      if (orig.status === 'withdrawn') {
        // the partner never got it (SPEC section 6): it would refuse this one as GNC_ORIGINAL_UNKNOWN, finally
        throw new GncError('GNC_ORIGINAL_UNKNOWN', `${type} ${kind} refers to ${s.ref}, which was withdrawn before ${s.to} got it: submit a new message in its place instead.`);
      }
      // sent to the node of a root replaced since (SPEC section 2): the partner's node under its new root, a new data
      // dir, does not hold it and would refuse this one as GNC_ORIGINAL_UNKNOWN, finally
      const replaced = this.d.store.partners.replacedRoots(s.to).findLast((r) => Date.parse(r.replaced_at) > orig.stored_at);
      if (replaced !== undefined) {
        throw new GncError('GNC_ORIGINAL_UNKNOWN', `${type} ${kind} refers to ${s.ref}, which was sent to ${s.to}'s node under its root ${replaced.fingerprint}, replaced as lost at ${replaced.replaced_at}: ${s.to}'s node under its new root does not hold it and would refuse this message. Submit a new message in its place instead, and tell ${s.to} by another channel what it replaces.`);
      }
    }
    const now = this.d.clock();
    const decision = this.d.policy.onSend(s.to, type, s.purpose, body as Record<string, unknown>, now);
    const id = newMessageId(now);
    const created = new Date(now).toISOString();
    const payload: EnvelopePayload = {
      v: PAYLOAD_VERSION, id, type, from: this.d.self, to: s.to, agreement: decision.agreement, created,
      ...(s.ref !== undefined ? { ref: s.ref } : {}), ...(s.purpose !== undefined ? { purpose: s.purpose } : {}),
      body: decision.body,
    };
    const part = type === 'aeo' && isSnapshotInParts(decision.body as AeoBody) ? (decision.body as AeoSnapshotInParts) : undefined;
    // before signing; checked again in the storing transaction, against parts submitted at the same time
    if (part) this.d.store.aeoParts.admit('out', s.to, part);
    const sealed = this.enqueue(payload, kind, decision.removed, decision.retentionDays, now, use, part);
    const { seq, replayed } = await sealed.committed;
    // two submissions with one key at once: the later found the earlier's message in its transaction
    if (replayed) return this.replay(seq);
    this.d.onQueued(s.to);
    return { result: { id, status: 'queued', to: s.to, type, agreement: decision.agreement, sha256: sealed.sha256, removed: decision.removed }, seq, replayed: false };
  }

  /** The message a key was first used for; GNC_IDEMPOTENCY_KEY_REUSED when that was another submission. */
  private earlier(use: KeyUse): number | undefined {
    const r = this.d.store.idempotency.get(use.tokenId, use.key);
    if (!r) return undefined;
    if (r.request !== use.request) {
      throw new GncError('GNC_IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${JSON.stringify(use.key)} was already used for another submission: use a new key for a new message (a retry must repeat the same to, type, purpose, ref and body).`);
    }
    return r.message_seq;
  }

  /** The answer the first submission got, rebuilt from its stored message. */
  private replay(seq: number): Submitted {
    const m = this.d.store.messages.bySeq(seq);
    if (!m) throw new GncError('GNC_INTERNAL', `The message of an idempotency key (row ${seq}) is missing from the store: report it.`);
    const result: SubmitResult = {
      id: m.id, status: 'queued', to: m.partner, type: assertBusinessType(m.type), agreement: m.agreement ?? '', sha256: m.sha256,
      removed: m.removed ? (JSON.parse(m.removed) as string[]) : [],
    };
    return { result, seq, replayed: true };
  }

  /** Queue a control envelope (agreement or key management) for a partner; no agreement is needed. */
  async queueControl(to: string, type: ControlType, body: Record<string, unknown>): Promise<{ id: string; sha256: string }> {
    const now = this.d.clock();
    const payload = this.controlPayload(to, type, body, now);
    const sealed = this.enqueue(payload, String(body['action']), [], CONTROL_RETENTION_DAYS, now, undefined);
    await sealed.committed;
    this.d.onQueued(to);
    return { id: payload.id, sha256: sealed.sha256 };
  }

  /**
   * queueControl inside the caller's transaction, a unit of the group commit (the receiver's, storing the envelope
   * this one answers): sealed now (the signer is synchronous), its message row, outbox row and `sent` entry commit
   * with the rest of that unit, or none of them does. The caller calls `settled` once the unit has settled
   * (`committed`: its promise resolved), which tells the dispatcher, as queueControl does after its own commit.
   */
  queueControlIn(to: string, type: ControlType, body: Record<string, unknown>): QueuedControl {
    const now = this.d.clock();
    const payload = this.controlPayload(to, type, body, now);
    const sealed = this.seal(payload);
    const { handOver } = this.insertQueued(payload, sealed, String(body['action']), [], CONTROL_RETENTION_DAYS, now, undefined);
    return {
      id: payload.id,
      sha256: sealed.sha256,
      settled: (committed) => {
        handOver?.(committed);
        if (committed) this.d.onQueued(to);
      },
    };
  }

  /**
   * A change this node stores (a signature, a notice, a revocation) and the control envelopes that tell partners of
   * it, in one group-commit unit: `work` stores the change and queues each envelope with `queue` (queueControlIn),
   * or a withdrawn one again with `queueAgain` (queueAgainIn), and both commit or neither does, so that neither a crash
   * nor a failed queueing can keep the change and lose what tells the partner. `work` runs inside the unit (what it
   * updates in memory is its caller's to read back when this throws). A failure is a GncError (one of `work`'s own,
   * GNC_STORAGE_FULL) or GNC_INTERNAL, whose sentence is `notStored` of the cause: nothing was stored, and the same
   * command run again does it all.
   */
  async commitQueuing<T>(work: (queue: QueueIn, queueAgain: QueueAgainIn) => T, notStored: (cause: string) => string): Promise<T> {
    const queued: Pick<QueuedControl, 'settled'>[] = [];
    const queue: QueueIn = (to, type, body) => {
      const q = this.queueControlIn(to, type, body);
      queued.push(q);
      return q.id;
    };
    const queueAgain: QueueAgainIn = (withdrawn) => {
      const id = this.queueAgainIn(withdrawn);
      if (id !== undefined) queued.push({
        settled: (committed) => {
          if (committed) this.d.onQueued(withdrawn.partner);
        },
      });
      return id;
    };
    let result: T;
    try {
      result = await this.d.store.commits.run(() => work(queue, queueAgain));
    } catch (err) {
      for (const q of queued) q.settled(false);
      const e = storageError(err);
      if (isGncError(e)) throw e;
      throw new GncError('GNC_INTERNAL', notStored((err as Error).message ?? String(err)), { cause: err });
    }
    for (const q of queued) q.settled(true);
    return result;
  }

  /** The payload of a control envelope to partner `to`, under no agreement. */
  private controlPayload(to: string, type: ControlType, body: Record<string, unknown>, now: number): EnvelopePayload {
    if (!this.d.trust.isPartner(to)) throw new GncError('GNC_PARTNER_UNKNOWN', `${to} is not a partner of this node: add it with \`gnc partner add\`.`);
    return { v: PAYLOAD_VERSION, id: newMessageId(now), type, from: this.d.self, to, agreement: null, created: new Date(now).toISOString(), body };
  }

  /**
   * Seal a control envelope's body again (SPEC section 6), when its envelope is about to be too old for the partner
   * and it was not delivered, or its key has ended or is revoked from before it was sealed: a new id, `created` now, signed by the key this node signs with now. The new message
   * row takes over the outbox row, with its place in the partner's order; the old one is final, `resealed`, naming
   * the new id, and both stay as evidence (the new one gets its `sent` entry here). Runs inside the caller's
   * transaction. Sealed by another key than the first envelope (a rotation switched keys meanwhile), it goes behind
   * an announcement of that key (`announced`, see announceAhead).
   */
  reseal(row: OutboxRow, now: number): Resealed {
    const old = this.storedOut(row.seq, row.id);
    const first = parseFlattened(old.jws!);
    const sent = EnvelopePayload.parse(peekPayload(first));
    const signer = this.d.signer();
    // sealed again by a key revoked by now, the body would be refused as the first envelope is (SPEC section 4, check 9)
    const revokedAt = this.d.revokedKeys?.().get(signer.kid);
    if (revokedAt !== undefined && revokedAt <= now) {
      throw new GncError('GNC_KEY_REVOKED', `This node's signing key ${signer.kid} is revoked from ${new Date(revokedAt).toISOString()}: partners refuse what it seals, so ${row.id} stays queued. Certify a new key with \`gnc keys rotate\` (it needs the root key); the message is sealed again with it.`);
    }
    const payload = this.ownCertificateIn(sent, signer);
    const announced = this.announceAhead(row, first, payload, signer, now);
    const { seq, id } = this.sealAgain(old, payload, signer, now);
    this.d.store.messages.setResealed(old.seq, id, now);
    this.d.store.outbox.moveTo(old.seq, seq, now, this.expiresAt(now));
    if (announced === undefined) return { seq, id };
    return { seq, id, announced: announced.id, ...(announced.moved ? { announcementMoved: true } : {}) };
  }

  /**
   * Queue the body of withdrawn control envelope `withdrawn` to its partner again, in a new envelope (a new id, `created`
   * now, signed by the key this node signs with now) at the end of the partner's queue, when the partner is pinned
   * again after the removal that withdrew it (node/agreements/requeue.ts). The withdrawn row stays `withdrawn` and
   * names the new one (`resealed_as`), in the same transaction, so a body is queued again once. Runs inside the
   * caller's transaction (the unit of commitQueuing, whose `queueAgain` tells the dispatcher after the commit, together
   * with the pin that makes the partner one again). Returns the new id, or undefined when another process queued it
   * again meanwhile.
   */
  queueAgainIn(withdrawn: MessageRow): string | undefined {
    const now = this.d.clock();
    const old = this.storedOut(withdrawn.seq, withdrawn.id);
    if (old.status !== 'withdrawn' || old.resealed_as !== null) return undefined;
    const removedAt = this.d.store.partners.removedAt(old.partner);
    if (removedAt !== undefined) throw removedPartner(this.d.store, old.partner, removedAt);
    const sent = EnvelopePayload.parse(peekPayload(parseFlattened(old.jws!)));
    const next = this.sealAgain(old, sent, this.d.signer(), now);
    this.d.store.outbox.add(next.seq, old.partner, now, this.expiresAt(now), old.type);
    this.d.store.messages.setCarriedOn(old.seq, next.id, now);
    return next.id;
  }

  /** Outbound message `seq` with its stored envelope (one purged by retention has none: GNC_INTERNAL). */
  private storedOut(seq: number, id: string): MessageRow {
    const old = this.d.store.messages.bySeq(seq);
    if (!old?.jws) throw new GncError('GNC_INTERNAL', `Queued message ${id} (row ${seq}) has no stored envelope: the store is inconsistent; report it.`);
    return old;
  }

  /**
   * The body of `old` (whose envelope carried payload `sent`) in a new envelope: a new id, `created` now, sealed by
   * `signer`; its message row (queued) and its `sent` entry, inside the caller's transaction. No outbox row.
   */
  private sealAgain(old: MessageRow, sent: EnvelopePayload, signer: Signer, now: number): { seq: number; id: string } {
    const id = newMessageId(now);
    const payload: EnvelopePayload = { ...sent, id, created: new Date(now).toISOString() };
    const sealed = sealEnvelope(payload, signer);
    const seq = this.d.store.messages.insert({
      id, direction: 'out', partner: old.partner, type: old.type, kind: old.kind, ref: old.ref, purpose: old.purpose, agreement: old.agreement,
      created: payload.created, status: 'queued', jws: sealed.bytes, sha256: sealed.sha256, body: JSON.stringify(payload.body), removed: old.removed,
      retainUntil: now + CONTROL_RETENTION_DAYS * 86_400_000,
    }, now);
    this.d.evidence?.('sent', id, old.partner, sealed.sha256);
    return { seq, id };
  }

  /**
   * A control envelope sealed again by another key than the one that sealed it first (a rotation's overlap ended while
   * the partner was away) may reach a partner that does not know that key: the announcement of it was queued behind
   * this envelope, and the partner refuses a notice, a proposal or an announcement of another key signed by a key
   * it does not know (GNC_KEY_UNKNOWN, final), so the notice would be lost. An announcement of the signing key goes
   * ahead of it (its position just before, which no other control envelope of the partner has, as this one is the
   * first): it announces its own signing key, which the partner accepts (SPEC section 4, check 5), or one it holds
   * already, which changes nothing. One per key and partner: a partner that has an announcement of that certificate
   * delivered gets none, and one queued behind this envelope that the partner has not been sent (the rotation's own)
   * moves to that position instead of a new one going ahead of it (it goes on from there as any control envelope: sealed
   * again when it is too old). Returns the announcement's id, and whether it is one that was moved.
   */
  private announceAhead(row: OutboxRow, first: FlattenedJws, sent: EnvelopePayload, signer: Signer, now: number): { id: string; moved: boolean } | undefined {
    if (peekKid(first.protected) === signer.kid || announces(sent) === signer.kid) return undefined;
    const certificate = this.d.certificateOf?.(signer.kid);
    if (certificate === undefined) return undefined;
    const { messages, outbox } = this.d.store;
    // the partner knows the key once it has any announcement of it (a certificate by another root of the chain too)
    const told = messages.outControls(row.partner, 'key', 'announce', (b) => certifies(b) === signer.kid);
    if (told.some((m) => m.status === 'delivered' || (m.seq !== row.seq && (outbox.row(m.seq)?.position ?? row.position) < row.position))) return undefined;
    const behind = messages.outControls(row.partner, 'key', 'announce', (b) => b['certificate'] === certificate).find((m) => m.seq !== row.seq && outbox.mayHold(m.seq) === false);
    if (behind !== undefined) {
      outbox.moveAhead(behind.seq, row.position - 1);
      return { id: behind.id, moved: true };
    }
    const id = newMessageId(now);
    const body = { action: 'announce', certificate };
    const payload: EnvelopePayload = { v: PAYLOAD_VERSION, id, type: 'key', from: this.d.self, to: row.partner, agreement: null, created: new Date(now).toISOString(), body };
    const sealed = sealEnvelope(payload, signer);
    const seq = messages.insert({
      id, direction: 'out', partner: row.partner, type: 'key', kind: 'announce', ref: null, purpose: null, agreement: null,
      created: payload.created, status: 'queued', jws: sealed.bytes, sha256: sealed.sha256, body: JSON.stringify(body), removed: null,
      retainUntil: now + CONTROL_RETENTION_DAYS * 86_400_000,
    }, now);
    // just ahead of a key envelope; in the key lane, ahead of every other row, for an agreement notice (queuePosition)
    outbox.add(seq, row.partner, now, this.expiresAt(now), 'key', Math.min(row.position - 1, queuePosition(seq, 'key')));
    this.d.evidence?.('sent', id, row.partner, sealed.sha256);
    return { id, moved: false };
  }

  /**
   * A root succession sealed again by another key than the one whose certificate (by the root it names) it carries: it
   * carries the certificate of the key that seals it by that root instead, when there is one (a rotation after the
   * succession), and so announces its own signing key (SPEC section 4, a key announcing itself). A partner away through
   * both learns the new root and the new key from it: no announcement of that key could go ahead of it, since the
   * partner verifies one under the root it knows, which did not certify the key. Any other body goes on as it is.
   */
  private ownCertificateIn(sent: EnvelopePayload, signer: Signer): EnvelopePayload {
    const { body } = sent;
    if (sent.type !== 'key' || body['action'] !== 'root-succession' || typeof body['notice'] !== 'string' || certifies(body) === signer.kid) return sent;
    const notice = decodeKeyNotice(body['notice']).payload;
    const certificate = notice.kind === 'root-succession' ? this.d.certificateOf?.(signer.kid, jwkThumbprint(notice.newRoot)) : undefined;
    return certificate === undefined ? sent : { ...sent, body: { ...body, certificate } };
  }

  /** The receiver refuses envelopes older than its max age: stop retrying (or seal again) a little before that. */
  private expiresAt(now: number): number {
    return now + (this.d.maxAgeMs ?? DEFAULT_MAX_MESSAGE_AGE_MS) - this.d.clockSkewMs;
  }

  /**
   * Seal, then commit the message row and its outbox row in one transaction (with the idempotency key, if
   * any, unless the key already names a message by then: that one is the answer, and nothing is queued). A part
   * of an AEO snapshot sent in parts must agree with the parts of it sent to the partner before (SPEC 7.5), checked
   * in the same transaction so that parts submitted together are checked against each other.
   */
  private enqueue(
    payload: EnvelopePayload, kind: string, removed: string[], retentionDays: number, now: number, use: KeyUse | undefined, part?: AeoSnapshotInParts,
  ): { sha256: string; committed: Promise<{ seq: number; replayed: boolean }> } {
    const sealed = this.seal(payload);
    let handOver: ((committed: boolean) => void) | undefined;
    const committed = this.d.store.commits.run(() => {
      const earlier = use && this.earlier(use);
      if (earlier !== undefined) return { seq: earlier, replayed: true };
      const queued = this.insertQueued(payload, sealed, kind, removed, retentionDays, now, use, part);
      handOver = queued.handOver;
      return { seq: queued.seq, replayed: false };
    });
    // before the submitter hears of the commit: the frame leaves as early as it can
    committed.then(() => handOver?.(true), () => handOver?.(false));
    return { sha256: sealed.sha256, committed };
  }

  /** Seal `payload` with the node key; never what no frame can carry. */
  private seal(payload: EnvelopePayload): SealedEnvelope {
    const sealed = sealEnvelope(payload, this.d.signer());
    // never queue what no frame can carry (it would be retried until expiry): the API's body limit keeps its
    // submissions far below this; the guard is for every other way in
    if (sealed.bytes.byteLength > MAX_ENVELOPE_BYTES) {
      throw new GncError('GNC_BODY_TOO_LARGE', `The signed message would be ${sealed.bytes.byteLength} bytes, over the ${MAX_ENVELOPE_BYTES}-byte limit of a wire frame: split the consignment into several messages.`);
    }
    return sealed;
  }

  /**
   * Inside the caller's transaction: the message row of `sealed`, its outbox row (with the idempotency key and the AEO
   * part, if any) and its `sent` entry, then the dispatcher's mark; `handOver` is to be called once the unit settled.
   */
  private insertQueued(
    payload: EnvelopePayload, sealed: SealedEnvelope, kind: string, removed: string[], retentionDays: number, now: number, use: KeyUse | undefined, part?: AeoSnapshotInParts,
  ): { seq: number; handOver: ((committed: boolean) => void) | undefined } {
    // the trust index learns of a `gnc partner remove` run beside the node a moment later: read in the transaction
    // that queues, a removal committed first refuses the message, which the removal would have withdrawn
    const removedAt = this.d.store.partners.removedAt(payload.to);
    if (removedAt !== undefined) throw removedPartner(this.d.store, payload.to, removedAt);
    const admitted = part && { part, digest: this.d.store.aeoParts.admit('out', payload.to, part) };
    const seq = this.d.store.messages.insert({
      id: payload.id, direction: 'out', partner: payload.to, type: payload.type, kind, ref: payload.ref ?? null, purpose: payload.purpose ?? null,
      agreement: payload.agreement, created: payload.created, status: 'queued', jws: sealed.bytes, sha256: sealed.sha256,
      body: JSON.stringify(payload.body), removed: removed.length ? JSON.stringify(removed) : null, retainUntil: now + retentionDays * 86_400_000,
    }, now);
    if (admitted) this.d.store.aeoParts.add('out', payload.to, seq, admitted.part, admitted.digest);
    this.d.store.outbox.add(seq, payload.to, now, this.expiresAt(now), payload.type);
    if (use) this.d.store.idempotency.add(use.tokenId, use.key, use.request, seq, now);
    this.d.evidence?.('sent', payload.id, payload.to, sealed.sha256);
    // last: nothing after it may fail the unit, whose rollback would take the mark back with the row
    return { seq, handOver: this.d.sendWithQueued?.(seq, payload.to) };
  }
}

/** A submission to a partner removed (`gnc partner remove` or the API's: removedBy). */
function removedPartner(store: Store, country: string, at: string): GncError {
  return new GncError('GNC_PARTNER_UNKNOWN', `${country} was removed as a partner of this node at ${at} (${removedBy(store, country)}): nothing is sent to it. Pin it again with \`gnc partner add\` if the partnership resumes.`);
}

/**
 * The node key a `key` payload announces, if it is one: an `announce`, or a `root-succession` (whose certificate, when it
 * is of the key that seals it, announces that key: SPEC section 4).
 */
function announces(p: EnvelopePayload): string | undefined {
  return p.type === 'key' && (p.body['action'] === 'announce' || p.body['action'] === 'root-succession') ? certifies(p.body) : undefined;
}

/** The node key the certificate of a `key` body certifies, if it has one. */
function certifies(body: Record<string, unknown>): string | undefined {
  const certificate = body['certificate'];
  if (typeof certificate !== 'string') return undefined;
  try {
    return decodeNodeCertificate(certificate).sub;
  } catch {
    return undefined;
  }
}

/** What a retry must repeat: the SHA-256 of the submission's canonical JSON (addressing and body as sent). */
function requestHash(s: Submission): string {
  const request = { to: s.to, type: s.type, body: s.body, ...(s.purpose !== undefined ? { purpose: s.purpose } : {}), ...(s.ref !== undefined ? { ref: s.ref } : {}) };
  return sha256Hex(new TextEncoder().encode(canonicalJson(request)));
}
