/**
 * Submission of a business message by an integrator (HTTP API or CLI): validate the body against its type's
 * schema, apply the agreement in force (type, purpose, fields; minimisation), seal it with the node key, and
 * commit the message row and its outbox row in one transaction. Only then is the submission acknowledged
 * (202): an accepted submission cannot be lost, and nothing refused is signed or queued.
 */
import { DEFAULT_MAX_MESSAGE_AGE_MS, PAYLOAD_VERSION } from '../../protocol/constants.js';
import type { EnvelopePayload } from '../../protocol/envelope/payload.js';
import { sealEnvelope, type Signer } from '../../protocol/envelope/seal.js';
import type { ControlType } from '../../protocol/messages/control.js';
import { CONTROL_RETENTION_DAYS } from '../inbound/receiver.js';
import { GncError } from '../../protocol/errors.js';
import { newMessageId } from '../../protocol/ids.js';
import { assertBusinessType, needsRef, parseBody, type BusinessType } from '../../protocol/messages/registry.js';
import type { Policy } from '../policy/policy.js';
import type { Store } from '../store/store.js';
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
  evidence?: (event: 'sent', messageId: string, peer: string, sha256: string) => void;
}

export class SubmitService {
  constructor(private readonly d: SubmitDeps) {}

  async submit(s: Submission): Promise<Submitted> {
    const type = assertBusinessType(s.type);
    if (s.to === this.d.self) throw new GncError('GNC_PARTNER_UNKNOWN', `A node does not send messages to its own country (${s.to}): name a partner in "to".`);
    if (!this.d.trust.isPartner(s.to)) {
      throw new GncError('GNC_PARTNER_UNKNOWN', `${JSON.stringify(s.to)} is not a partner of this node: add it with \`gnc partner add\` (see GET /v1/partners).`);
    }
    const body = parseBody(type, s.body);
    const kind = (body as { kind: string }).kind;
    if (needsRef(type, body)) {
      if (s.ref === undefined) throw new GncError('GNC_SCHEMA_INVALID', `A ${type} ${kind} must name the original message id in "ref".`);
      const orig = this.d.store.messages.byKey('out', s.to, s.ref);
      if (!orig || orig.type !== type) {
        throw new GncError('GNC_ORIGINAL_UNKNOWN', `${type} ${kind} refers to ${s.ref}, which is not a ${type} message this node sent to ${s.to}: check "ref".`);
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
    const sealed = this.enqueue(payload, kind, decision.removed, decision.retentionDays, now);
    const seq = await sealed.committed;
    this.d.onQueued(s.to);
    return { result: { id, status: 'queued', to: s.to, type, agreement: decision.agreement, sha256: sealed.sha256, removed: decision.removed }, seq };
  }

  /** Queue a control envelope (agreement or key management) for a partner; no agreement is needed. */
  async queueControl(to: string, type: ControlType, body: Record<string, unknown>): Promise<{ id: string; sha256: string }> {
    if (!this.d.trust.isPartner(to)) throw new GncError('GNC_PARTNER_UNKNOWN', `${to} is not a partner of this node: add it with \`gnc partner add\`.`);
    const now = this.d.clock();
    const id = newMessageId(now);
    const payload = { v: PAYLOAD_VERSION, id, type, from: this.d.self, to, agreement: null, created: new Date(now).toISOString(), body };
    const sealed = this.enqueue(payload, String(body['action']), [], CONTROL_RETENTION_DAYS, now);
    await sealed.committed;
    this.d.onQueued(to);
    return { id, sha256: sealed.sha256 };
  }

  /** Seal, then commit the message row and its outbox row in one transaction. */
  private enqueue(payload: EnvelopePayload, kind: string, removed: string[], retentionDays: number, now: number): { sha256: string; committed: Promise<number> } {
    const sealed = sealEnvelope(payload, this.d.signer());
    // the receiver refuses envelopes older than its max age: stop retrying a little before that
    const expiresAt = now + (this.d.maxAgeMs ?? DEFAULT_MAX_MESSAGE_AGE_MS) - this.d.clockSkewMs;
    const committed = this.d.store.commits.run(() => {
      const seq = this.d.store.messages.insert({
        id: payload.id, direction: 'out', partner: payload.to, type: payload.type, kind, ref: payload.ref ?? null, purpose: payload.purpose ?? null,
        agreement: payload.agreement, created: payload.created, status: 'queued', jws: sealed.bytes, sha256: sealed.sha256,
        body: JSON.stringify(payload.body), removed: removed.length ? JSON.stringify(removed) : null, retainUntil: now + retentionDays * 86_400_000,
      }, now);
      this.d.store.outbox.add(seq, payload.to, now, expiresAt);
      this.d.evidence?.('sent', payload.id, payload.to, sealed.sha256);
      return seq;
    });
    return { sha256: sealed.sha256, committed };
  }
}
