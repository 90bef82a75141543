/**
 * The agreements this node knows, verified from the stored signed documents on every reload: only a
 * document whose signatures verify under known roots is ever consulted (per party, the root its document
 * names, from that country's chain: a partner's pinned root and the successors it named, or every root this
 * administration has had; see protocol/agreement/roots.ts), and only one signed by both administrations,
 * within its dates and not suspended or terminated, is in force. Every signed agreement and notice stored here
 * for the first time gets an `agreement` evidence entry in the transaction that stores it (SPEC 9.2).
 */
import {
  agreementInForce,
  agreementRef,
  agreementStatus,
  checkOverlap,
  verifyAgreement,
  verifyNotice,
  type AgreementDocument,
  type AgreementNotice,
  type AgreementStatus,
  signedAgreementText,
  type SignedAgreement,
} from '../../protocol/agreement/index.js';
import { sha256Ascii, sha256Hex } from '../../protocol/envelope/seal.js';
import { GncError } from '../../protocol/errors.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../../protocol/jwk.js';
import type { EvidenceLog } from '../store/evidence.js';
import type { Store } from '../store/store.js';
import type { TrustIndex } from '../trust.js';

export interface KnownAgreement {
  document: AgreementDocument;
  signed: SignedAgreement;
  signedBy: string[];
  complete: boolean;
  partner: string;
  origin: 'local' | 'partner';
  notices: { notice: AgreementNotice; compact: string }[];
}

/** The control envelope that carried a document: its sender and its id (`peer` and `messageId` of the entry). */
export interface Carrier {
  from: string;
  messageId: string;
}

interface AgreementRow {
  id: string;
  version: number;
  partner: string;
  signed: string;
  origin: 'local' | 'partner';
}

export class AgreementRegistry {
  private known: KnownAgreement[] = [];

  constructor(
    private readonly store: Store,
    private readonly trust: TrustIndex,
    /** This administration: its country and every root it has had, oldest first (Keyring.ownRoots). */
    private readonly self: { country: string; roots: () => readonly Ed25519PublicJwk[] },
    private readonly clock: () => number,
    private readonly evidence: Pick<EvidenceLog, 'append'>,
  ) {
    this.reload();
  }

  /**
   * Country -> root chain: each partner's pinned root and its successors, and this node's own roots. A removed
   * partner's chain too, so that the agreements held with it stay readable (as evidence, in `gnc agreement list`);
   * nothing new is verified under it (currentRoots).
   */
  roots(): Map<string, readonly Ed25519PublicJwk[]> {
    const m = new Map<string, readonly Ed25519PublicJwk[]>(this.trust.formerRoots());
    for (const country of this.trust.allRoots().keys()) m.set(country, this.trust.rootsOf(country));
    // a root replaced after it was lost (SPEC 9.4): what it signed stays readable; the current chain stays last
    for (const country of this.trust.replacedCountries()) m.set(country, [...this.trust.replacedRootsOf(country), ...(m.get(country) ?? [])]);
    m.set(this.self.country, this.self.roots());
    return m;
  }

  /**
   * Whether the partner signed `k` with a root it has since replaced as lost (`gnc partner add --replace-root`): such
   * an agreement stays readable as evidence but binds nothing (its status reads `terminated`), and blocks no new one.
   */
  underReplacedRoot(k: Pick<KnownAgreement, 'document' | 'partner'>): boolean {
    const replaced = this.trust.replacedRootsOf(k.partner).map((r) => jwkThumbprint(r));
    return k.document.parties.some((p) => p.country === k.partner && replaced.includes(p.rootFingerprint));
  }

  /** The agreements that may bind: all but those under a replaced root (`underReplacedRoot`). */
  private binding(): KnownAgreement[] {
    return this.known.filter((k) => !this.underReplacedRoot(k));
  }

  /**
   * Only the root in office per country (the newest of its chain). What is already stored keeps verifying under
   * the whole chain, but a NEW signature (an agreement or a notice arriving after a succession) must come from
   * the root in office: a succeeded root, possibly retired because it was exposed, can no longer commit its
   * administration.
   */
  currentRoots(): Map<string, readonly Ed25519PublicJwk[]> {
    const former = this.trust.formerRoots();
    return new Map([...this.roots()].flatMap(([c, chain]) => (chain.length > 0 && !former.has(c) ? [[c, [chain[chain.length - 1]!]] as const] : [])));
  }

  /** Fingerprints of every root this administration has had, oldest first. */
  ownRootFingerprints(): string[] {
    return this.self.roots().map(jwkThumbprint);
  }

  reload(): void {
    const roots = this.roots();
    const rows = this.store.db.prepare('SELECT id, version, partner, signed, origin FROM agreements ORDER BY id, version').all() as AgreementRow[];
    const noticeRows = this.store.db.prepare('SELECT compact FROM agreement_notices ORDER BY seq').all() as { compact: string }[];
    const notices = noticeRows.flatMap((r) => {
      try {
        return [{ notice: verifyNotice(r.compact, roots), compact: r.compact }];
      } catch {
        return [];
      }
    });
    this.known = rows.flatMap((r) => {
      try {
        const signed = JSON.parse(r.signed) as SignedAgreement;
        const v = verifyAgreement(signed, roots);
        const mine = notices.filter((n) => n.notice.agreementId === v.document.id && n.notice.version === v.document.version);
        return [{ document: v.document, signed, signedBy: v.signedBy, complete: v.complete, partner: r.partner, origin: r.origin, notices: mine }];
      } catch {
        return []; // names a root no longer known here (the partner was re-pinned with another root): ignored
      }
    });
  }

  all(): KnownAgreement[] {
    return this.known;
  }

  get(id: string, version?: number): KnownAgreement | undefined {
    const matches = this.known.filter((k) => k.document.id === id && (version === undefined || k.document.version === version));
    return matches.sort((a, b) => b.document.version - a.document.version)[0];
  }

  require(id: string, version?: number): KnownAgreement {
    const k = this.get(id, version);
    if (!k) throw new GncError('GNC_NOT_FOUND', `No agreement ${id}${version ? ` version ${version}` : ''} on this node: see \`gnc agreement list\`.`);
    return k;
  }

  /** The agreement in force with a partner at `now`, if any. */
  inForce(partner: string, now = this.clock()): KnownAgreement | undefined {
    const doc = agreementInForce(
      this.binding().map((k) => ({ document: k.document, complete: k.complete, notices: k.notices.map((n) => n.notice) })),
      this.self.country,
      partner,
      now,
    );
    return doc ? this.get(doc.id, doc.version) : undefined;
  }

  statusOf(k: KnownAgreement, now = this.clock()): AgreementStatus | 'awaiting-signature' {
    if (!k.complete) return 'awaiting-signature';
    if (this.underReplacedRoot(k)) return 'terminated';
    const others = this.binding().filter((o) => o.complete && o !== k).map((o) => ({ document: o.document, notices: o.notices.map((n) => n.notice) }));
    return agreementStatus(k.document, k.notices.map((n) => n.notice), now, others);
  }

  /**
   * Verify and store a signed agreement (from a file, the CLI, or the wire). Returns what was stored. With `via`,
   * the partner's control envelope that carried it: it must be an agreement with that partner, carrying its
   * signature (each administration sends its own documents), or nothing is stored. A document new here gets an
   * `agreement` entry: `messageId` the envelope's id, or `agreement:<id>` for one signed here or imported from a
   * file; `peer` the sender, this administration for one it signed, the partner for an imported one.
   */
  save(input: unknown, origin: 'local' | 'partner', via?: Carrier): KnownAgreement {
    const text = signedAgreementText(input);
    const signed = JSON.parse(text) as SignedAgreement;
    const v = verifyAgreement(signed, this.holdsAgreement(text) ? this.roots() : this.currentRoots());
    const doc = v.document;
    const partner = doc.parties.map((p) => p.country).find((c) => c !== this.self.country);
    if (!partner || !doc.parties.some((p) => p.country === this.self.country)) {
      throw new GncError('GNC_AGREEMENT_INVALID', `Agreement ${doc.id} is between ${doc.parties.map((p) => p.country).join(' and ')}; this node is ${this.self.country}: it holds only agreements ${this.self.country} is a party to, so import or propose this one on a party's node.`);
    }
    const from = via?.from;
    if (from !== undefined && (partner !== from || !v.signedBy.includes(from))) {
      throw new GncError(
        'GNC_AGREEMENT_SIGNATURE',
        partner !== from
          ? `Agreement ${doc.id} between ${doc.parties.map((p) => p.country).join(' and ')} arrived from ${from}: each administration sends its own agreements.`
          : `Agreement ${doc.id} from ${from} does not carry ${from}'s signature.`,
      );
    }
    this.refuseOtherContent(doc, signed.payload);
    const existing = this.get(doc.id, doc.version);
    if (existing && existing.complete && !v.complete) {
      throw new GncError('GNC_CONFLICT', `Agreement ${doc.id} version ${doc.version} is already signed by both sides here; a partially signed copy cannot replace it.`);
    }
    const kept = existing === undefined ? { signed, ...v } : this.withHeldSignatures(existing, signed, v);
    if (kept.complete) {
      const others = this.binding().filter((k) => k.complete && !(k.document.id === doc.id && k.document.version === doc.version));
      // a terminated agreement no longer blocks a new one between the same administrations
      checkOverlap(others.map((k) => k.document), doc, others.flatMap((k) => k.notices.map((n) => n.notice)));
    }
    const keptText = kept.signed === signed ? text : signedAgreementText(kept.signed);
    const now = this.clock();
    this.store.db.transaction(() => {
      // asked again under the write lock: the CLI beside a running node may have stored the same document meanwhile
      const fresh = !this.holdsAgreement(text);
      this.store.db
        .prepare(`INSERT INTO agreements (id, version, partner, signed, signed_by, complete, valid_from, valid_until, origin, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT(id, version) DO UPDATE SET signed = excluded.signed, signed_by = excluded.signed_by, complete = excluded.complete, updated_at = excluded.updated_at`)
        .run(doc.id, doc.version, partner, keptText, JSON.stringify(kept.signedBy), kept.complete ? 1 : 0, doc.validFrom, doc.validUntil, existing?.origin ?? origin, now, now);
      const peer = from ?? (origin === 'local' ? this.self.country : partner);
      if (fresh) this.evidence.append('agreement', via?.messageId ?? `agreement:${doc.id}`, peer, sha256Hex(Buffer.from(text, 'utf8')));
    }).immediate();
    this.reload();
    return this.require(doc.id, doc.version);
  }

  /**
   * The copy to store when `held` (same payload, refuseOtherContent) is replaced by `incoming`, verified as `v`:
   * the signatures of both, held ones first. A copy signed by one side only never takes away the other side's
   * signature held here: when both administrations signed the same document independently (proposals that crossed,
   * or one signed here before the partner proposed the same), the document is signed by both, and each node that
   * holds both signatures holds it complete (SPEC section 8.3).
   */
  private withHeldSignatures(held: KnownAgreement, incoming: SignedAgreement, v: Pick<KnownAgreement, 'complete' | 'signedBy'>): Pick<KnownAgreement, 'signed' | 'complete' | 'signedBy'> {
    if (held.signedBy.every((c) => v.signedBy.includes(c))) return { signed: incoming, complete: v.complete, signedBy: v.signedBy };
    const added = incoming.signatures.filter((s) => !held.signed.signatures.some((h) => h.protected === s.protected));
    const merged: SignedAgreement = { payload: incoming.payload, signatures: [...held.signed.signatures, ...added] };
    const both = verifyAgreement(merged, this.roots());
    return { signed: merged, complete: both.complete, signedBy: both.signedBy };
  }

  /**
   * One id@version names one document on this node: envelopes, notices and the operator name an agreement by
   * nothing else, and the store keeps one row per id and version. A document with the id and version of one held
   * (with any partner, signed by one side or both) but other content is refused (SPEC section 8.4: a changed
   * document needs a new version), never written over the one held. The payload is canonical, so the same
   * document has the same payload text; a copy with more signatures is the same document.
   */
  private refuseOtherContent(doc: AgreementDocument, payload: string): void {
    const row = this.store.db.prepare('SELECT partner, signed, complete FROM agreements WHERE id = ? AND version = ?').get(doc.id, doc.version) as
      | { partner: string; signed: string; complete: number }
      | undefined;
    if (!row || (JSON.parse(row.signed) as SignedAgreement).payload === payload) return;
    const ref = agreementRef(doc);
    const partner = doc.parties.map((p) => p.country).find((c) => c !== this.self.country);
    throw new GncError(
      'GNC_AGREEMENT_OVERLAP',
      row.partner !== partner
        ? `Agreement ${ref} is already held here for ${row.partner}: an agreement id and version name one agreement on this node, so the one with ${partner} needs another id (like ${this.self.country}-${partner}-...); draft it again under that id.`
        : `Agreement ${ref} differs from the ${ref} already held here (${row.complete ? 'signed by both' : 'awaiting a signature'}): a changed document needs a higher version: draft it again with a "version" above ${doc.version} that is not held yet.`,
    );
  }

  /** Whether the signed agreement with this text (signedAgreementText) is held here already. */
  private holdsAgreement(text: string): boolean {
    return this.store.db.prepare('SELECT 1 FROM agreements WHERE signed = ?').get(text) !== undefined;
  }

  /** Whether notice `compact` is held here already (a notice is one document, however many envelopes carry it). */
  holdsNotice(compact: string): boolean {
    return this.store.db.prepare('SELECT 1 FROM agreement_notices WHERE compact = ?').get(compact) !== undefined;
  }

  /**
   * Verify and store a suspend/terminate/resume notice signed by one of the parties' roots. With `via`, the
   * partner's control envelope that carried it: the notice must be that partner's own, or nothing is stored. A
   * notice new here gets an `agreement` entry: `messageId` the envelope's id, or `agreement:<id>` for one signed here;
   * `peer` the notifying administration.
   */
  saveNotice(compact: string, via?: Carrier): AgreementNotice {
    const known = this.holdsNotice(compact);
    // a new notice must be signed by the root in office; the agreement it is about may name an earlier root
    const unverified = verifyNotice(compact, known ? this.roots() : this.currentRoots());
    if (via !== undefined && unverified.by !== via.from) {
      throw new GncError('GNC_AGREEMENT_SIGNATURE', `Notice signed by ${unverified.by} arrived from ${via.from}: each administration sends its own notices.`);
    }
    const k = this.require(unverified.agreementId, unverified.version);
    const notice = verifyNotice(compact, this.roots(), k.document); // and that the signer is a party to it
    this.store.db.transaction(() => {
      const stored = this.store.db
        .prepare('INSERT OR IGNORE INTO agreement_notices (agreement_id, version, action, effective, by_country, compact, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(notice.agreementId, notice.version, notice.action, notice.effective, notice.by, compact, this.clock());
      // ignored: held already, under its first entry
      if (stored.changes === 1) this.evidence.append('agreement', via?.messageId ?? `agreement:${notice.agreementId}`, notice.by, sha256Ascii(compact));
    }).immediate();
    this.reload();
    return notice;
  }
}
