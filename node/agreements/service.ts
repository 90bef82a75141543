/**
 * Agreement operations shared by the CLI and the admin API: draft (validate a readable document and
 * resolve the root fingerprints), sign with this administration's root, propose to the partner over the
 * wire, return a countersigned copy, and suspend/terminate/resume with a root-signed notice that the
 * partner receives over the wire.
 */
import type { AgreementView } from '../../protocol/api/schemas.js';
import { checkNoticeHasEffect, checkTerminationTime, decodeAgreement, draftAgreement, resolveDraftPlaceholders, signAgreement, signNotice, type AgreementNotice, type SignedAgreement } from '../../protocol/agreement/index.js';
import { dirOption, GncError, shellWord } from '../../protocol/errors.js';
import { jwkThumbprint } from '../../protocol/jwk.js';
import type { NodeParts } from '../main.js';
import type { QueueIn, SubmitService } from '../outbound/submit.js';
import type { AgreementRegistry, KnownAgreement } from './registry.js';
import { removedBy } from '../partners.js';

export type NoticeAction = 'suspend' | 'terminate' | 'resume';

export class AgreementService {
  constructor(private readonly parts: NodeParts, private readonly registry: AgreementRegistry, private readonly submit: () => SubmitService) {}

  /** The current root of each administration: ours, and for a partner the newest successor of its pinned root. */
  private fingerprints(): Record<string, string> {
    const fp: Record<string, string> = { [this.parts.identity.country]: this.parts.identity.root.thumbprint };
    for (const p of this.parts.store.partners.pinned()) {
      const newest = this.parts.trust.rootsOf(p.country).at(-1);
      fp[p.country] = newest === undefined ? p.fingerprint : jwkThumbprint(newest);
    }
    return fp;
  }

  /** Validate a readable draft (placeholders like "@root:KG" resolved to each party's current root); unsigned. */
  draft(input: unknown): SignedAgreement {
    const doc = draftAgreement(resolveDraftPlaceholders(input, this.fingerprints()));
    if (!doc.parties.some((p) => p.country === this.parts.identity.country)) {
      throw new GncError('GNC_AGREEMENT_INVALID', `This node (${this.parts.identity.country}) is not a party to agreement ${doc.id}: a node drafts only agreements of its own administration, so name ${this.parts.identity.country} in "parties" (and its directions), or draft it on a party's node.`);
    }
    return signAgreement(doc, null);
  }

  /** Add this administration's root signature, store it, and return a countersigned copy to the proposer. */
  async sign(input: SignedAgreement | { id: string; version?: number }, opts: { returnToProposer?: boolean } = {}): Promise<KnownAgreement> {
    const signed = 'payload' in input ? input : this.registry.require(input.id, input.version).signed;
    const { country, root } = this.parts.identity;
    const named = decodeAgreement(signed).document.parties.find((p) => p.country === country)?.rootFingerprint;
    if (named !== undefined && named !== root.thumbprint && this.registry.ownRootFingerprints().includes(named)) {
      throw new GncError(
        'GNC_AGREEMENT_SIGNATURE',
        `This document names ${country}'s previous root ${named}; ${country} now signs with its successor root ${root.thumbprint}: draft the agreement again (gnc agreement draft fills in the current roots).`,
      );
    }
    const countersigned = signAgreement(signed, root.signer);
    const { document } = decodeAgreement(signed);
    // a partner's proposal signed here goes back countersigned, queued in the transaction that stores the signature:
    // kept without its copy (a crash, a failed queueing), the proposer would await the signature for good
    return this.storeQueuing(
      (queue) => {
        const k = this.registry.save(countersigned, 'local');
        if (k.complete && k.origin === 'partner' && opts.returnToProposer !== false) queue(k.partner, 'agreement', { action: 'countersigned', agreement: k.signed });
        return k;
      },
      (cause) => `Agreement ${document.id}@${document.version} was not signed: its countersigned copy could not be queued for the partner (${cause}), and the signature is stored only with it. Nothing was stored; run the command again, and if it fails again check the node's log and its data dir and report it.`,
    );
  }

  /** SubmitService.commitQueuing; the registry, which `work` updated in memory, read back when nothing committed. */
  private async storeQueuing<T>(work: (queue: QueueIn) => T, notStored: (cause: string) => string): Promise<T> {
    try {
      return await this.submit().commitQueuing(work, notStored);
    } catch (err) {
      this.registry.reload();
      throw err;
    }
  }

  async propose(id: string, version?: number): Promise<{ messageId: string; agreement: KnownAgreement }> {
    const k = this.registry.require(id, version);
    if (!k.signedBy.includes(this.parts.identity.country)) {
      throw new GncError('GNC_AGREEMENT_SIGNATURE', `Agreement ${id}@${k.document.version} is not signed by ${this.parts.identity.country} yet: sign and propose it with \`gnc agreement sign ${dirOption(this.parts.dir)} --id ${shellWord(id)} --version ${k.document.version} --propose\` (through the API: POST /v1/agreements/${encodeURIComponent(id)}/sign?version=${k.document.version}, then this request again).`);
    }
    const r = await this.submit().queueControl(k.partner, 'agreement', { action: k.complete ? 'countersigned' : 'propose', agreement: k.signed });
    return { messageId: r.id, agreement: k };
  }

  import(input: unknown): KnownAgreement {
    return this.registry.save(input, 'partner');
  }

  /**
   * The version a notice is about when none is named: the one of this id in force or suspended now. The newest
   * version held may be a renewal both signed in advance (a notice about it leaves the version in force running)
   * or a proposal awaiting the partner's signature (nothing to notify); failing a current one, the newest version
   * both signed, else the newest held, which notice() then refuses as never signed.
   */
  private noticeTarget(id: string, version: number | undefined): KnownAgreement {
    if (version !== undefined) return this.registry.require(id, version);
    const complete = this.registry
      .all()
      .filter((k) => k.document.id === id && k.complete)
      .sort((a, b) => b.document.version - a.document.version);
    const current = complete.find((k) => {
      const status = this.registry.statusOf(k);
      return status === 'active' || status === 'suspended';
    });
    return current ?? complete[0] ?? this.registry.require(id);
  }

  async notice(id: string, action: NoticeAction, reason: string, effective?: string, version?: number): Promise<{ messageId: string; agreement: KnownAgreement }> {
    const k = this.noticeTarget(id, version);
    if (!k.complete) throw new GncError('GNC_AGREEMENT_INVALID', `Agreement ${id} was never signed by both sides; there is nothing to ${action}.`);
    // it binds nothing already (terminated), and the partner's node under its new root does not hold it: a notice
    // would be signed, applied and logged here for nothing, and refused by the partner
    if (this.registry.underReplacedRoot(k)) {
      const party = k.document.parties.find((p) => p.country === k.partner)?.rootFingerprint;
      throw new GncError('GNC_CONFLICT', `Agreement ${k.document.id}@${k.document.version} was signed under ${k.partner}'s root ${party}, replaced as lost (gnc partner add --replace-root): it is terminated here and binds nothing, and ${k.partner}'s node under its new root does not hold it, so no ${action} notice was signed. Negotiate a new agreement with ${k.partner} instead.`);
    }
    // a notice applies here when it is stored, and only its envelope tells the partner: refused before anything is
    // signed or stored when no envelope can reach the partner (removed by `gnc partner remove` or the API's), rather than applied
    // here while the command fails
    if (!this.parts.trust.isPartner(k.partner)) {
      const removed = this.parts.store.partners.get(k.partner)?.removed_at;
      throw new GncError('GNC_PARTNER_UNKNOWN', `${k.partner} ${removed ? `was removed as a partner at ${removed} (${removedBy(this.parts.store, k.partner)})` : 'is not a partner of this node'}: a ${action} notice cannot reach it, so none was signed and agreement ${id} stays as it is here. To ${action} it, pin ${k.partner} again (\`gnc partner add\`), then send the notice.`);
    }
    const notice: AgreementNotice = {
      v: 1, agreementId: k.document.id, version: k.document.version, action,
      effective: effective ?? new Date(this.parts.clock()).toISOString(), reason, by: this.parts.identity.country,
    };
    checkNoticeHasEffect(k.document, k.notices.map((n) => n.notice), notice);
    checkTerminationTime(k.document, notice, this.parts.clock());
    const compact = signNotice(notice, this.parts.identity.root.signer);
    // applied here and queued for the partner in one transaction: a notice kept without its envelope would leave the
    // partner applying the agreement as before, and the same notice cannot be signed twice (checkNoticeHasEffect)
    const messageId = await this.storeQueuing(
      (queue) => {
        this.registry.saveNotice(compact);
        return queue(k.partner, 'agreement', { action: 'notice', notice: compact });
      },
      (cause) => `The ${action} notice of agreement ${k.document.id}@${k.document.version} could not be queued for ${k.partner} (${cause}), and it applies here only with its envelope: nothing was stored and the agreement stays as it is here. Run the command again, and if it fails again check the node's log and its data dir and report it.`,
    );
    return { messageId, agreement: this.registry.require(k.document.id, k.document.version) };
  }

  view(k: KnownAgreement): AgreementView {
    return {
      id: k.document.id,
      version: k.document.version,
      partner: k.partner,
      status: this.registry.statusOf(k),
      signedBy: k.signedBy,
      complete: k.complete,
      validFrom: k.document.validFrom,
      validUntil: k.document.validUntil,
      title: k.document.title,
      notices: k.notices.map((n) => n.notice),
      document: k.document,
      signed: k.signed,
    };
  }
}
