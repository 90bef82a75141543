/**
 * Adding a partner to the registry: verify the identity file against the out-of-band fingerprint, then store
 * the pinned root and its certificates in one transaction. Used by `gnc partner add` (the CLI only: it needs the
 * identity file and a fingerprint a person checked out of band). A partner already pinned may be added again (fresh certificates, e.g. after its key expired) with an identity
 * of its root in office: the pinned root, or the last successor of the chain it started (SPEC 9.4); so may a
 * partner removed (`removePartner`: `gnc partner remove`, `POST /v1/partners/{country}/remove`), which becomes a
 * partner again. Removing one ends the partnership and keeps its evidence. A partner removed whose root was lost is pinned again under a new, unrelated root only with
 * `replaceRoot` (`gnc partner add --replace-root`, SPEC 9.4): the old root is kept as replaced, trusted for nothing new.
 */
import { verifyPartnerIdentity } from '../certs/public-identity.js';
import type { PartnerRemoval } from '../protocol/api/schemas.js';
import { dirOption, GncError } from '../protocol/errors.js';
import type { NodeCertificatePayload } from '../protocol/certificate.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../protocol/jwk.js';
import { successionChain, verifyKeyNotice, type KeyNotice } from '../protocol/notice.js';
import type { AgreementRegistry } from './agreements/registry.js';
import { withdrawQueued } from './outbound/withdraw.js';
import { KeyNoticeRepo } from './store/key-notices.js';
import type { Remover } from './store/partners.js';
import type { Store } from './store/store.js';
import { rootChainFrom } from './trust.js';

export interface AddedPartner {
  country: string;
  name: string;
  fingerprint: string;
  addresses: string[];
  certificates: number;
  /** When it was removed, for a partner pinned again after `removePartner`; else null. */
  wasRemoved: string | null;
  /** Key notices of the identity file stored (revocations, root successions); ones held already are not counted. */
  notices: number;
  /** With `replaceRoot`: the fingerprint of the root replaced (pinned before); else null. */
  replacedRoot: string | null;
}

export interface AddPartnerOptions {
  /**
   * Pin a root outside the chain of the one pinned (`gnc partner add --replace-root`): allowed only for a partner
   * removed, whose root was lost. The root pinned before is kept as replaced (evidence, trusted for nothing new).
   */
  replaceRoot?: boolean;
  /** Called, inside the pinning transaction, when a root is replaced: the old root's and the new root's fingerprints. */
  onReplacedRoot?: (replaced: string, by: string, country: string) => void;
  /** The data dir of `gnc partner add`, which the commands its refusals suggest name, so that they can be pasted. */
  dir?: string;
}

/**
 * Keep a partner's node certificate. A node key and a libp2p peer id belong to one administration: a certificate
 * naming another country's key or peer id is refused. Otherwise one partner's root could certify another
 * partner's peer id (its connections would be taken for the first partner's, and its messages refused), or another
 * partner's public node key with its own peer id and addresses (the stored row, keyed by the key, would take them,
 * and messages for that partner would be dialed to this one).
 */
export function storeCertificate(store: Store, compact: string, payload: NodeCertificatePayload): void {
  const other = store.partners.claimedElsewhere(payload.country, payload.sub, payload.peerId);
  if (other) {
    throw new GncError('GNC_CERT_INVALID', other.kid === payload.sub
      ? `The certificate of ${payload.country} names node key ${payload.sub}, which ${other.country} certified: a node key belongs to one administration. ${payload.country} must certify a key of its own node.`
      : `The certificate of ${payload.country} names libp2p peer id ${payload.peerId}, which ${other.country}'s certificate names: a peer id belongs to one administration's node. ${payload.country} must certify its own node's peer id.`);
  }
  store.partners.addCertificate({
    kid: payload.sub,
    country: payload.country,
    peer_id: payload.peerId,
    compact,
    not_before: Date.parse(payload.nbf),
    not_after: Date.parse(payload.exp),
    added_at: new Date().toISOString(),
  });
}

/** Called, inside the pinning transaction, for each key notice of the identity file stored here for the first time. */
export type OnPinnedNotice = (compact: string, notice: KeyNotice) => void;

/** Called, inside the pinning transaction, for each node certificate of the identity file stored here for the first time. */
export type OnPinnedCertificate = (compact: string, payload: NodeCertificatePayload) => void;

export function addPartner(store: Store, selfCountry: string, identityFile: unknown, fingerprint: string, now = Date.now(), onNotice?: OnPinnedNotice, onCertificate?: OnPinnedCertificate, opts: AddPartnerOptions = {}): AddedPartner {
  const { identity, certificates, revocations, successions } = verifyPartnerIdentity(identityFile, fingerprint, now);
  if (identity.country === selfCountry) {
    throw new GncError('GNC_CONFIG_INVALID', `This identity is ${selfCountry}'s own: a node pins its partners, not itself.`);
  }
  const existing = store.partners.get(identity.country);
  // a replaced root's chain (it and the successors its successions named) is evidence only: the root lost is often
  // a successor, the one in office when it was lost, not the root first pinned
  const notices = new KeyNoticeRepo(store.db);
  /** The root successions of the country held here (verified when they were stored). */
  const heldSuccessions = notices.list('root-succession', [identity.country]);
  const replacedChains = store.partners.replacedRoots(identity.country);
  if (replacedChains.length > 0) {
    const hit = replacedChains.find((r) => rootChainFrom(JSON.parse(r.root_jwk) as Ed25519PublicJwk, heldSuccessions).some((k) => jwkThumbprint(k) === identity.root.fingerprint));
    if (hit !== undefined) {
      const of = hit.fingerprint === identity.root.fingerprint ? '' : ` (a successor of root ${hit.fingerprint})`;
      throw new GncError('GNC_FINGERPRINT_MISMATCH', `Root ${identity.root.fingerprint} of ${identity.country}${of} was replaced as lost (gnc partner add --replace-root) and is trusted for nothing new: pin ${identity.country}'s current root, whose fingerprint ${identity.country} gives you out of band.`);
    }
  }
  if (opts.replaceRoot) {
    if (existing === undefined) {
      throw new GncError('GNC_PARTNER_UNKNOWN', `${identity.country} is not pinned here, so it has no root to replace: pin it without --replace-root.`);
    }
    if (existing.removed_at === null) {
      throw new GncError('GNC_CONFLICT', `${identity.country} is a pinned partner (root ${existing.fingerprint}): a root is replaced only for a partner removed first. If ${identity.country}'s root was lost, run \`gnc partner remove ${dirOption(opts.dir)} ${identity.country} --reason TEXT\` (with --despite-agreement while an agreement binds it), then this command again.`);
    }
  }
  /** With `replaceRoot`, the partner whose root is replaced (its pinned root and chain are kept as evidence). */
  let replacing = false;
  /** The file's root successions that continue the chain of the root pinned before (none for a first pin). */
  const chained: { compact: string; notice: KeyNotice }[] = [];
  if (existing) {
    // pinning again is for fresh certificates, not a new trust anchor: the root must be the partner's root in office
    // (a root of the chain this node verified from its pin, with the successions the file carries), and the pin stays
    // where the chain starts, so that trust, agreements and exported bundles keep following the succession notices
    const roots = successionChain(JSON.parse(existing.root_jwk) as Ed25519PublicJwk, [...heldSuccessions.map((n) => n.compact), ...successions.map((n) => n.compact)], identity.country);
    const chain = roots.map((r) => jwkThumbprint(r));
    // a succession signed by a root of the chain must verify under it (a tampered one refuses the file); one signed by
    // a root before the pin is history this node does not need
    for (const n of successions) {
      const signer = roots[chain.indexOf(n.signer)];
      if (signer === undefined) continue;
      try {
        const notice = verifyKeyNotice(n.compact, signer, identity.country);
        if (notice.kind === 'root-succession' && chain.includes(jwkThumbprint(notice.newRoot))) chained.push({ compact: n.compact, notice });
      } catch (err) {
        const why = err instanceof GncError ? err.message : String(err);
        throw new GncError('GNC_SIGNATURE_INVALID', `Key notice ${(identity.notices ?? []).indexOf(n.compact) + 1} of ${identity.country}'s identity file is refused (${why}); nothing was pinned: ask ${identity.country}'s administration for a new identity export.`);
      }
    }
    const inOffice = chain.at(-1)!;
    // a partner removed already needs only --replace-root (sending its operator to remove it again goes in a circle)
    const lost = existing.removed_at === null
      ? `; if that root was lost, remove ${identity.country} (\`gnc partner remove ${dirOption(opts.dir)} ${identity.country} --reason TEXT\`) and pin this root with --replace-root, after confirming its fingerprint out of band`
      : `; if that root was lost, pin this root with --replace-root (${identity.country} was removed at ${existing.removed_at}), after confirming its fingerprint out of band`;
    if (identity.root.fingerprint !== inOffice) {
      if (chain.includes(identity.root.fingerprint)) {
        throw new GncError('GNC_FINGERPRINT_MISMATCH', `Root ${identity.root.fingerprint} of ${identity.country} was succeeded; its root in office is ${inOffice}, and only that root certifies node keys: ask ${identity.country} for a current identity export (\`gnc identity export\`) and pin it with --fingerprint ${inOffice}.`);
      }
      if (opts.replaceRoot) replacing = true;
      else if (chain.length === 1) {
        throw new GncError('GNC_FINGERPRINT_MISMATCH', `${identity.country} ${existing.removed_at === null ? 'is already pinned' : 'was pinned'} with root ${existing.fingerprint}; a different root needs a root-succession notice signed by the old root, not a new pin${lost}.`);
      } else {
        throw new GncError('GNC_FINGERPRINT_MISMATCH', `${identity.country} ${existing.removed_at === null ? 'is' : 'was'} pinned with root ${existing.fingerprint}, succeeded by ${chain.slice(1).join(', then ')} (root in office ${inOffice}); a root outside that chain needs a root-succession notice signed by the root in office, not a new pin${lost}.`);
      }
    } else if (opts.replaceRoot) {
      throw new GncError('GNC_CONFLICT', `Root ${inOffice} is ${identity.country}'s root in office here already: nothing to replace. Pin it again without --replace-root.`);
    }
  }
  if (replacing) chained.length = 0; // successions of the new root's file do not continue the replaced chain
  const pinned = existing && !replacing ? { root_jwk: existing.root_jwk, fingerprint: existing.fingerprint } : { root_jwk: JSON.stringify(identity.root.jwk), fingerprint: identity.root.fingerprint };
  let added = 0;
  store.db.transaction(() => {
    if (replacing && existing) {
      store.partners.recordReplacedRoot({ country: identity.country, fingerprint: existing.fingerprint, root_jwk: existing.root_jwk, identity: existing.identity, replaced_at: new Date(now).toISOString(), replaced_by: identity.root.fingerprint });
      opts.onReplacedRoot?.(existing.fingerprint, identity.root.fingerprint, identity.country);
    }
    store.partners.upsert({
      country: identity.country,
      name: identity.name,
      ...pinned,
      addresses: JSON.stringify(identity.addresses),
      identity: JSON.stringify(identity),
      added_at: existing?.added_at ?? new Date(now).toISOString(),
    });
    // one held already (pinned before, or announced over the wire) was recorded when it was stored: no second entry
    const held = new Set(store.partners.certificates(identity.country).map((c) => c.compact));
    for (const c of certificates) {
      storeCertificate(store, c.compact, c.payload);
      if (!held.has(c.compact)) onCertificate?.(c.compact, c.payload);
    }
    // as if they had come over the wire (SPEC 9.10): kept once, and a revocation marks the key it names
    for (const { compact, notice } of [...chained, ...revocations]) {
      if (notices.add(compact, notice, now)) {
        added++;
        onNotice?.(compact, notice);
      }
      if (notice.kind !== 'revocation') continue;
      const at = Date.parse(notice.revokedAt);
      const cert = store.partners.certificates(identity.country).find((c) => c.kid === notice.kid);
      if (cert && (cert.revoked_at === null || at < cert.revoked_at)) store.partners.revoke(cert.kid, at, compact);
    }
    // reads, then writes: the write lock from the start (group-commit.ts says why), also against the checkpoint worker
  }).immediate();
  return { country: identity.country, name: identity.name, fingerprint: identity.root.fingerprint, addresses: identity.addresses, certificates: certificates.length, notices: added, wasRemoved: existing?.removed_at ?? null, replacedRoot: replacing ? existing!.fingerprint : null };
}

/** The agreement statuses that bind the administrations now or later: a partner under one is not removed. */
const BINDING = new Set(['active', 'suspended', 'not-yet-valid']);

/** Who removes a partner: the words its refusals use for the ways out, and what the withdrawn messages' reason names. */
const REMOVERS = {
  cli: {
    by: () => 'gnc partner remove',
    // each command whole, with the data dir and the agreement, so that it can be pasted
    terminate: (dir: string | undefined, k: readonly { id: string; version: number }[]) => k.map((a) => `\`gnc agreement terminate ${dirOption(dir)} --id ${a.id} --version ${a.version} --reason TEXT\``).join(', '),
    despite: 'add --despite-agreement',
    notices: (dir: string | undefined, c: string) => `\`gnc messages ${dirOption(dir)} --partner ${c} --type agreement\``,
    list: (dir: string | undefined) => `\`gnc partner list ${dirOption(dir)}\``,
    add: (dir: string | undefined) => `\`gnc partner add ${dirOption(dir)} FILE --fingerprint FINGERPRINT\``,
  },
  api: {
    by: (c: string) => `POST /v1/partners/${c}/remove`,
    // each request whole, with the agreement's id in the path and its version in the body
    terminate: (_dir: string | undefined, k: readonly { id: string; version: number }[]) => k.map((a) => `POST /v1/agreements/${a.id}/terminate with {"version": ${a.version}, "reason": "..."}`).join(', '),
    despite: 'send "despiteAgreement": true',
    notices: (_dir: string | undefined, c: string) => `GET /v1/messages?partner=${c}&type=agreement`,
    list: () => 'GET /v1/partners',
    add: () => '`gnc partner add`',
  },
} as const satisfies Record<Remover, object>;

/**
 * What removed partner `country` (removed now), in the words the reason of a message withdrawn for it names: the
 * node's own API or `gnc partner remove` (PartnerRepo.removedBy; a removal made before migration 35 kept what made it
 * reads as the CLI's, the only way to remove a partner then).
 */
export function removedBy(store: Store, country: string): string {
  return REMOVERS[store.partners.removedBy(country) ?? 'cli'].by(country);
}

export interface RemovePartnerOptions {
  reason: string;
  despiteAgreement?: boolean;
  /**
   * `gnc partner remove` (the default) or `POST /v1/partners/{country}/remove`. The API answers a partner removed
   * already as that removal left it (`already`, nothing done), since its callers retry after a lost answer, and an
   * unknown one GNC_NOT_FOUND (the resource of its path); the CLI refuses both (GNC_CONFLICT, GNC_PARTNER_UNKNOWN).
   */
  via?: Remover;
  /** The data dir of `gnc partner remove`, which the commands its refusals suggest name, so that they can be pasted. */
  dir?: string;
}

/**
 * Ends a partnership (`gnc partner remove`, `POST /v1/partners/{country}/remove`): from the commit on the partner is
 * trusted for nothing, and what is still queued for it (queued or retrying, control envelopes included) is withdrawn.
 * A running node sees the CLI's commit within EXTERNAL_CHANGE_POLL_MS; the API applies its own at once
 * (GncNode.applyStoreChanges): either way the node closes the partner's connections and refuses its envelopes. A
 * message on the wire then is left to its attempt (the dispatcher withdraws it after, unless its receipt came). Nothing
 * is deleted: its root, certificates, revocations, agreements and messages stay as evidence, and `addPartner` with its
 * identity pins it again.
 *
 * Refused (GNC_CONFLICT) while an agreement with it is active, suspended or not yet valid, or an agreement notice
 * to it is still undelivered (the partner must get a termination while it is pinned), unless `despiteAgreement`.
 */
export async function removePartner(
  store: Store,
  agreements: Pick<AgreementRegistry, 'reload' | 'all' | 'statusOf'>,
  country: string,
  opts: RemovePartnerOptions,
  now: number,
): Promise<PartnerRemoval> {
  const api = opts.via === 'api';
  const words = REMOVERS[opts.via ?? 'cli'];
  return store.commits.run(() => {
    const p = store.partners.get(country);
    if (p === undefined) {
      throw api
        ? new GncError('GNC_NOT_FOUND', `${country} is not a partner of this node: GET /v1/partners lists the partners (by ISO 3166-1 alpha-2 code, e.g. KG).`)
        : new GncError('GNC_PARTNER_UNKNOWN', `${country} is not a partner of this node: ${words.list(opts.dir)} shows the partners (by ISO 3166-1 alpha-2 code, e.g. KG).`);
    }
    if (p.removed_at !== null) {
      if (api) return { country, name: p.name, removedAt: p.removed_at, reason: p.removal_reason, already: true, withdrawn: [], agreements: [] };
      throw new GncError('GNC_CONFLICT', `${country} was removed as a partner already, at ${p.removed_at}: nothing to do. To make it a partner again, pin its identity with ${words.add(opts.dir)}.`);
    }
    // read under the write lock: a running node may have stored an agreement or a notice meanwhile
    agreements.reload();
    const bound = agreements.all()
      .filter((k) => k.partner === country)
      .map((k) => ({ k, status: agreements.statusOf(k, now) }))
      .filter((x) => BINDING.has(x.status));
    const binding = bound.map((x) => `${x.k.document.id}@${x.k.document.version} (${x.status})`);
    const notices = store.outbox.waitingControl(country, 'agreement');
    if (!opts.despiteAgreement) {
      if (binding.length > 0) {
        throw new GncError('GNC_CONFLICT', `${country} is a party to ${binding.join(', ')}: terminate ${binding.length === 1 ? 'it' : 'them'} first (${words.terminate(opts.dir, bound.map((x) => x.k.document))}) and remove ${country} once the notice is delivered, so that ${country} learns of it; or ${words.despite} to remove ${country} now without telling it.`);
      }
      if (notices.length > 0) {
        throw new GncError('GNC_CONFLICT', `An agreement notice to ${country} is not delivered yet (${notices.join(', ')}): remove ${country} once it is (${words.notices(opts.dir, country)}), so that ${country} learns of it; or ${words.despite} to remove ${country} now and withdraw it.`);
      }
    }
    const removedAt = new Date(now).toISOString();
    store.partners.markRemoved(country, removedAt, opts.reason, opts.via);
    const withdrawn = withdrawQueued(store, country, `${country} was removed as a partner (${words.by(country)}): ${opts.reason}`, now);
    return { country, name: p.name, removedAt, reason: opts.reason, already: false, withdrawn: withdrawn.map((m) => m.id), agreements: binding };
  });
}
