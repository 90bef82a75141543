/**
 * Receiving side of the exchange: open (signature, certified key, sender, recipient, clock), refuse replays,
 * apply the agreement, validate the body against its type's schema, store, and only then seal the receipt.
 * The message row and the receipt row commit in one group-committed transaction before the receipt leaves,
 * so a receipt never promises a row a crash can lose. A duplicate (same id, same bytes) gets the stored
 * receipt again and no second row, also once its key has ended or it is past the maximum age (SPEC section 4, check 10,
 * which a key revoked at or before its `created` does not pass); the same id with other bytes is GNC_REPLAY. A refused envelope leaves only
 * a rejection record and a signed negative receipt. A failure of this node itself (GNC_STORAGE_FULL, any
 * unexpected error) is no verdict on the envelope: `handle` rejects, the transport answers with an error frame,
 * and the sender keeps the message queued and retries. So does an expired key of this node.
 */
import { openEnvelope, parseFlattened, peekPayload, type OpenedEnvelope, type VerificationKey } from '../../protocol/envelope/open.js';
import type { EnvelopePayload } from '../../protocol/envelope/payload.js';
import { sha256Hex, type Signer } from '../../protocol/envelope/seal.js';
import { GncError, isGncError } from '../../protocol/errors.js';
import { MESSAGE_ID_PATTERN } from '../../protocol/ids.js';
import { isSnapshotInParts, type AeoBody, type AeoSnapshotInParts } from '../../protocol/messages/aeo.js';
import { isBusinessType, missingRef, needsRef, originalMismatch, parseBody, refuseStrayRef, type BusinessBody, type BusinessType } from '../../protocol/messages/registry.js';
import type { ControlType } from '../../protocol/messages/control.js';
import { sealReceipt } from '../receipts.js';
import type { Policy } from '../policy/policy.js';
import type { Store } from '../store/store.js';
import type { TrustIndex } from '../trust.js';

/** Control envelopes are evidence of the relationship: kept for ten years, the customary customs record period. */
export const CONTROL_RETENTION_DAYS = 3650;

export interface AcceptedMessage {
  seq: number;
  opened: OpenedEnvelope;
  type: BusinessType;
  /** The body as validated and stored (the stored body is its JSON.stringify): read it, never change it. */
  body: BusinessBody;
}

export interface ReceiverDeps {
  self: string;
  signer: () => Signer;
  trust: TrustIndex;
  store: Store;
  policy: Policy;
  clock: () => number;
  clockSkewMs: number;
  maxAgeMs: number;
  /**
   * Control envelopes (agreement proposals and notices, key announcements): verified and applied inside the
   * transaction that stores the envelope, after its `received` entry, so that the document's own evidence entry
   * follows the entry of the envelope that carried it and commits with it (SPEC 9.2). Throws to refuse it. An answer
   * it queues for the partner is queued in that transaction too; it then returns what to call once the transaction's
   * unit has settled (`committed`: it committed), to tell the dispatcher.
   */
  control?: (opened: OpenedEnvelope, peerCountry: string) => void | ((committed: boolean) => void);
  /**
   * After a transaction that applied a control document failed to commit: read the trust and agreements back from
   * the store, since the handler updated them in memory before the commit.
   */
  controlRolledBack?: () => void;
  /** Called after an accepted message committed (risk recompute, live feeds). */
  onAccepted?: (m: AcceptedMessage) => void;
  /** Evidence log hook, called inside the storing transaction. */
  evidence?: (event: 'received' | 'receipt-sent', messageId: string, peer: string, sha256: string) => void;
}

export class Receiver {
  constructor(private readonly d: ReceiverDeps) {}

  /** Handle one envelope from a connected partner; resolves to the signed receipt bytes to answer with. */
  async handle(input: Uint8Array, peerCountry: string): Promise<Uint8Array> {
    // this node's own key has expired (GNC_KEY_EXPIRED): no receipt it could sign would verify. That is no verdict
    // on the envelope either: the error frame keeps it queued with the sender until this node has a new key
    this.d.signer();
    const bytes = new Uint8Array(input);
    let opened: OpenedEnvelope | undefined;
    try {
      const now = this.d.clock();
      const resolveKey = (kid: string): VerificationKey | undefined => this.d.trust.resolveKey(kid) ?? this.announcedKey(bytes, kid, peerCountry);
      // SPEC section 4, check 10: exactly the bytes of a message accepted from this partner get its stored receipt,
      // even once their key has ended or they are too old: nothing is stored, logged or processed again
      let stored: Uint8Array | undefined;
      const held = (p: EnvelopePayload, hash: string): boolean => p.from === peerCountry && (stored = this.heldReceipt(p.from, p.id, hash)) !== undefined;
      opened = openEnvelope(bytes, { resolveKey, self: this.d.self, now, clockSkewMs: this.d.clockSkewMs, maxAgeMs: this.d.maxAgeMs, held });
      if (opened.held && stored) return stored;
      const p = opened.payload;
      if (p.from !== peerCountry) {
        throw new GncError('GNC_SENDER_MISMATCH', `Envelope from ${p.from} arrived over ${peerCountry}'s connection: each administration sends its own messages.`);
      }
      if (p.type === 'agreement' || p.type === 'key') {
        if (!this.d.control) throw new GncError('GNC_UNKNOWN_TYPE', `This node does not accept ${p.type} envelopes.`);
        // a control envelope is under no agreement (SPEC section 3): one that claims an agreement or a purpose would be
        // stored and shown as accepted under it, and its receipt would echo the claim
        if (p.agreement !== null || p.purpose !== undefined) {
          throw new GncError('GNC_ENVELOPE_MALFORMED', `A ${p.type} control envelope carries "agreement": null and no "purpose" (it needs no agreement in force): seal it again without them.`);
        }
        return await this.store(opened, p.type, now);
      }
      if (!isBusinessType(p.type)) throw new GncError('GNC_UNKNOWN_TYPE', `Envelope type "${p.type}" cannot be sent to a node: use aci, ecoo or aeo.`);
      return await this.store(opened, p.type, now);
    } catch (err) {
      // a failure of this node itself (a full disk, an unexpected error) is no verdict on the envelope: no signed,
      // final negative receipt, but an error frame, on which the sender keeps the message queued and retries
      if (!isVerdict(err)) throw ownFailure(err, peerCountry);
      // the hash of the bytes as opening took it (of the same bytes), computed here only for bytes that did not open
      return this.reject(err, bytes, opened?.sha256 ?? sha256Hex(bytes), peerCountry, opened);
    }
  }

  /**
   * A key this node does not know, certified by the envelope itself: only a `key` `announce` envelope from the
   * connection's country whose certificate certifies exactly its signing key under that country's root in office, or a
   * `root-succession` one whose notice that root signed and whose certificate certifies exactly its signing key under
   * the root the notice names (SPEC section 4, check 5). The payload is read before its signature is checked, but only to find the certificate:
   * opening then verifies the signature under the key it certifies, so a payload that says otherwise cannot pass.
   */
  private announcedKey(bytes: Uint8Array, kid: string, peerCountry: string): VerificationKey | undefined {
    let p: Partial<EnvelopePayload> | undefined;
    try {
      p = peekPayload(parseFlattened(bytes));
    } catch {
      return undefined;
    }
    const body = p?.body;
    if (p?.type !== 'key' || p.from !== peerCountry || typeof body?.['certificate'] !== 'string') return undefined;
    const created = typeof p.created === 'string' ? Date.parse(p.created) : Number.NaN;
    if (Number.isNaN(created)) return undefined;
    if (body['action'] === 'announce') return this.d.trust.announcedKey(kid, body['certificate'], peerCountry, created);
    // a root succession carrying the certificate of its signing key by the root it names
    if (body['action'] === 'root-succession' && typeof body['notice'] === 'string') return this.d.trust.successionKey(kid, body['notice'], body['certificate'], peerCountry, created);
    return undefined;
  }

  private async store(opened: OpenedEnvelope, type: BusinessType | ControlType, now: number): Promise<Uint8Array> {
    const { payload: p, sha256 } = opened;
    const existing = this.duplicate(p.from, p.id, sha256);
    if (existing) return existing;
    let body: Record<string, unknown>;
    let kind: string;
    let retentionDays: number;
    let part: AeoSnapshotInParts | undefined;
    const control = type === 'agreement' || type === 'key';
    if (control) {
      // control documents carry their own root signatures; the handler verifies and applies them in the transaction
      body = p.body;
      kind = String(p.body['action']);
      retentionDays = CONTROL_RETENTION_DAYS;
    } else {
      ({ retentionDays } = this.d.policy.onReceive(p.from, type, p.purpose, p.agreement, p.body, now));
      body = parseBody(type, p.body) as Record<string, unknown>;
      kind = String(body['kind']);
      refuseStrayRef(type, body as BusinessBody, p.ref);
      if (type === 'aeo' && isSnapshotInParts(body as AeoBody)) part = body as AeoSnapshotInParts;
      if (needsRef(type, body as BusinessBody) && p.ref === undefined) throw missingRef(type, body as BusinessBody, 'received');
    }
    const receipt = this.receipt(p.from, p.id, sha256, p.agreement, { status: 'accepted' });
    let settled: ((committed: boolean) => void) | undefined;
    const seq = await this.d.store.commits.run(() => {
      // re-check inside the transaction: two copies may arrive in the same batch
      const again = this.d.store.messages.byKey('in', p.from, p.id);
      if (again) return -again.seq;
      if (p.ref !== undefined && isBusinessType(type) && needsRef(type, body as BusinessBody)) {
        const original = this.d.store.messages.byKey('in', p.from, p.ref);
        if (!original) throw new GncError('GNC_ORIGINAL_UNKNOWN', `${type} ${kind} refers to message ${p.ref}, which this node never received from ${p.from}: send the original first.`);
        // a ref to another type's message, or to another certificate, would attach to nothing, or to the wrong one
        const mismatch = originalMismatch(type, body as BusinessBody, original);
        if (mismatch) throw new GncError('GNC_ORIGINAL_UNKNOWN', `${type} ${kind} refers to message ${p.ref}, which is ${mismatch}: name the message it is about in "ref".`);
      }
      // a part of a snapshot sent in parts must agree with the parts of it held (SPEC 7.5)
      const admitted = part && { part, digest: this.d.store.aeoParts.admit('in', p.from, part) };
      const s = this.d.store.messages.insert({
        id: p.id, direction: 'in', partner: p.from, type, kind, ref: p.ref ?? null, purpose: p.purpose ?? null, agreement: p.agreement,
        created: p.created, status: 'accepted', jws: opened.bytes, sha256, body: JSON.stringify(body), removed: null,
        retainUntil: now + retentionDays * 86_400_000,
      }, now);
      if (admitted) this.d.store.aeoParts.add('in', p.from, s, admitted.part, admitted.digest);
      this.d.store.messages.saveReceipt({ message_seq: s, receipt_id: receipt.id, status: 'accepted', code: null, reason: null, jws: receipt.bytes, sha256: receipt.sha256, at: now });
      this.d.evidence?.('received', p.id, p.from, sha256);
      // the document's `key`/`agreement` entry after the `received` entry of its envelope; a refusal rolls back both
      if (control) settled = this.d.control!(opened, p.from) ?? undefined;
      this.d.evidence?.('receipt-sent', receipt.id, p.from, receipt.sha256);
      return s;
    }).catch((err: unknown) => {
      if (control) {
        settled?.(false);
        this.d.controlRolledBack?.();
      }
      throw err;
    });
    settled?.(true);
    if (seq < 0) return this.duplicate(p.from, p.id, sha256) ?? receipt.bytes;
    if (isBusinessType(type)) this.d.onAccepted?.({ seq, opened, type, body: body as BusinessBody });
    return receipt.bytes;
  }

  /** Stored receipt for a duplicate; GNC_REPLAY when the id was used for other content. */
  private duplicate(from: string, id: string, sha256: string): Uint8Array | undefined {
    const row = this.d.store.messages.byKey('in', from, id);
    if (!row) return undefined;
    if (row.sha256 !== sha256) {
      throw new GncError('GNC_REPLAY', `Message id ${id} from ${from} was already received with other content: use a new id for a new message (amendments carry their own id and "ref").`);
    }
    return this.storedReceipt(row.seq, from, id);
  }

  /** Stored receipt of the message accepted from `from` as `id` with exactly the bytes of hash `sha256`, if there is one. */
  private heldReceipt(from: string, id: string, sha256: string): Uint8Array | undefined {
    const row = this.d.store.messages.byKey('in', from, id);
    return row?.sha256 === sha256 ? this.storedReceipt(row.seq, from, id) : undefined;
  }

  private storedReceipt(seq: number, from: string, id: string): Uint8Array {
    const r = this.d.store.messages.receipt(seq);
    if (!r) throw new GncError('GNC_INTERNAL', `Stored message ${id} from ${from} has no receipt row: the store is inconsistent; check the data dir (restore it from a backup) and report it.`);
    return new Uint8Array(r.jws);
  }

  private receipt(to: string, messageId: string | undefined, sha256: string, agreement: string | null, outcome: Parameters<typeof sealReceipt>[1]['outcome']) {
    // the time first, then the key that signs at that time: the other order could seal with a key retired (its
    // rotation's overlap ended) between the two, at or after its retirement, which the partner refuses
    const now = this.d.clock();
    const { sealed, id, body } = sealReceipt(this.d.signer(), { self: this.d.self, to, messageId, sha256, agreement, outcome, now });
    return { bytes: sealed.bytes, sha256: sealed.sha256, id, body };
  }

  private async reject(e: GncError, bytes: Uint8Array, sha256: string, peerCountry: string, opened: OpenedEnvelope | undefined): Promise<Uint8Array> {
    let claimed: string | undefined = opened?.payload.id;
    if (claimed === undefined) {
      try {
        const id = peekPayload(parseFlattened(bytes))?.id;
        // an id that is no message id is refused content (the receipt names it "unknown"): the record, whose id
        // outlives its reason (REJECTION_RETENTION_DAYS), keeps none of it
        claimed = typeof id === 'string' && MESSAGE_ID_PATTERN.test(id) ? id : undefined;
      } catch {
        claimed = undefined;
      }
    }
    const agreement = opened?.payload.agreement ?? null;
    const r = this.receipt(peerCountry, claimed, sha256, agreement, { status: 'rejected', code: e.code, reason: e.message });
    // the reason as the receipt states it (at most MAX_REASON_CHARS): an error may quote a refused value of any size
    const reason = r.body.reason ?? e.message;
    await this.d.store.commits.run(() => {
      this.d.store.rejections.add({ partner: peerCountry, message_id: claimed ?? null, sha256, code: e.code, reason, receipt: r.bytes, at: this.d.clock() });
      this.d.evidence?.('receipt-sent', r.id, peerCountry, r.sha256);
    });
    return r.bytes;
  }
}

/** A refusal of the envelope for what it is or says; anything else is this node's own failure. */
function isVerdict(err: unknown): err is GncError {
  return isGncError(err) && err.code !== 'GNC_STORAGE_FULL' && err.code !== 'GNC_INTERNAL';
}

/** The node's own failure, for its operator's log (the partner is told only its class, by the error frame). */
function ownFailure(err: unknown, peerCountry: string): GncError {
  if (isGncError(err)) return err;
  const what = err instanceof Error ? err.message : String(err);
  return new GncError('GNC_INTERNAL', `An envelope from ${peerCountry} could not be processed (${what}); nothing of it was stored and ${peerCountry} will send it again. Check the node's log and its data dir, and report it if it persists.`, { cause: err });
}
