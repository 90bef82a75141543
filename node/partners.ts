/**
 * Adding a partner to the registry: verify the identity file against the out-of-band fingerprint, then store
 * the pinned root and its certificates in one transaction. Used by `gnc partner add` and the admin API. A
 * partner already pinned may be added again (fresh certificates, e.g. after its key expired) with an identity
 * of its root in office: the pinned root, or the last successor of the chain it started (SPEC 9.4); so may a
 * partner removed (`removePartner`), which becomes a partner again. Removing one ends the partnership and keeps
 * its evidence.
 */
import { verifyPartnerIdentity } from '../certs/public-identity.js';
import { GncError } from '../protocol/errors.js';
import type { NodeCertificatePayload } from '../protocol/certificate.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../protocol/jwk.js';
import { successionChain } from '../protocol/notice.js';
import type { AgreementRegistry } from './agreements/registry.js';
import { withdrawQueued } from './outbound/withdraw.js';
import { KeyNoticeRepo } from './store/key-notices.js';
import type { Store } from './store/store.js';

export interface AddedPartner {
  country: string;
  name: string;
  fingerprint: string;
  addresses: string[];
  certificates: number;
  /** When it was removed, for a partner pinned again after `removePartner`; else null. */
  wasRemoved: string | null;
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

export function addPartner(store: Store, selfCountry: string, identityFile: unknown, fingerprint: string, now = Date.now()): AddedPartner {
  const { identity, certificates } = verifyPartnerIdentity(identityFile, fingerprint, now);
  if (identity.country === selfCountry) {
    throw new GncError('GNC_CONFIG_INVALID', `This identity is ${selfCountry}'s own: a node pins its partners, not itself.`);
  }
  const existing = store.partners.get(identity.country);
  if (existing) {
    // pinning again is for fresh certificates, not a new trust anchor: the root must be the partner's root in office
    // (a root of the chain this node verified from its pin), and the pin stays where the chain starts, so that
    // trust, agreements and exported bundles keep following the succession notices from it
    const successions = new KeyNoticeRepo(store.db).list('root-succession', [identity.country]).map((n) => n.compact);
    const chain = successionChain(JSON.parse(existing.root_jwk) as Ed25519PublicJwk, successions, identity.country).map((r) => jwkThumbprint(r));
    const inOffice = chain.at(-1)!;
    if (identity.root.fingerprint !== inOffice) {
      if (chain.includes(identity.root.fingerprint)) {
        throw new GncError('GNC_FINGERPRINT_MISMATCH', `Root ${identity.root.fingerprint} of ${identity.country} was succeeded; its root in office is ${inOffice}, and only that root certifies node keys: ask ${identity.country} for a current identity export (\`gnc identity export\`) and pin it with --fingerprint ${inOffice}.`);
      }
      if (chain.length === 1) {
        throw new GncError('GNC_FINGERPRINT_MISMATCH', `${identity.country} is already pinned with root ${existing.fingerprint}; a different root needs a root-succession notice signed by the old root, not a new pin.`);
      }
      throw new GncError('GNC_FINGERPRINT_MISMATCH', `${identity.country} is pinned with root ${existing.fingerprint}, succeeded by ${chain.slice(1).join(', then ')} (root in office ${inOffice}); a root outside that chain needs a root-succession notice signed by the root in office, not a new pin.`);
    }
  }
  const pinned = existing ? { root_jwk: existing.root_jwk, fingerprint: existing.fingerprint } : { root_jwk: JSON.stringify(identity.root.jwk), fingerprint: identity.root.fingerprint };
  store.db.transaction(() => {
    store.partners.upsert({
      country: identity.country,
      name: identity.name,
      ...pinned,
      addresses: JSON.stringify(identity.addresses),
      identity: JSON.stringify(identity),
      added_at: existing?.added_at ?? new Date(now).toISOString(),
    });
    for (const c of certificates) storeCertificate(store, c.compact, c.payload);
  })();
  return { country: identity.country, name: identity.name, fingerprint: identity.root.fingerprint, addresses: identity.addresses, certificates: certificates.length, wasRemoved: existing?.removed_at ?? null };
}

/** The agreement statuses that bind the administrations now or later: a partner under one is not removed. */
const BINDING = new Set(['active', 'suspended', 'not-yet-valid']);

export interface RemovedPartner {
  country: string;
  name: string;
  removedAt: string;
  /** Messages still queued for it, now withdrawn. */
  withdrawn: number;
  /** Agreements binding it that the removal went past (`despiteAgreement`), as `id@version (status)`. */
  agreements: string[];
}

/**
 * Ends a partnership (`gnc partner remove`): from the commit on the partner is trusted for nothing (a running node
 * sees it within EXTERNAL_CHANGE_POLL_MS, closes its connections and refuses its envelopes), and what is still queued
 * for it (queued or retrying, control envelopes included) is withdrawn. A message on the wire then is left to its
 * attempt (the dispatcher withdraws it after, unless its receipt came). Nothing is deleted: its root, certificates,
 * revocations, agreements and messages stay as evidence, and `addPartner` with its identity pins it again.
 *
 * Refused (GNC_CONFLICT) while an agreement with it is active, suspended or not yet valid, or an agreement notice
 * to it is still undelivered (the partner must get a termination while it is pinned), unless `despiteAgreement`.
 */
export async function removePartner(
  store: Store,
  agreements: Pick<AgreementRegistry, 'reload' | 'all' | 'statusOf'>,
  country: string,
  opts: { reason: string; despiteAgreement?: boolean },
  now: number,
): Promise<RemovedPartner> {
  return store.commits.run(() => {
    const p = store.partners.get(country);
    if (p === undefined) throw new GncError('GNC_PARTNER_UNKNOWN', `${country} is not a partner of this node: \`gnc partner list\` shows the partners (by ISO 3166-1 alpha-2 code, e.g. KG).`);
    if (p.removed_at !== null) throw new GncError('GNC_CONFLICT', `${country} was removed as a partner already, at ${p.removed_at}: nothing to do. To make it a partner again, pin its identity with \`gnc partner add\`.`);
    // read under the write lock: a running node may have stored an agreement or a notice meanwhile
    agreements.reload();
    const binding = agreements.all()
      .filter((k) => k.partner === country)
      .map((k) => ({ k, status: agreements.statusOf(k, now) }))
      .filter((x) => BINDING.has(x.status))
      .map((x) => `${x.k.document.id}@${x.k.document.version} (${x.status})`);
    const notices = store.outbox.waitingControl(country, 'agreement');
    if (!opts.despiteAgreement) {
      if (binding.length > 0) {
        throw new GncError('GNC_CONFLICT', `${country} is a party to ${binding.join(', ')}: terminate ${binding.length === 1 ? 'it' : 'them'} first (\`gnc agreement terminate --id ID --reason TEXT\`) and remove ${country} once the notice is delivered, so that ${country} learns of it; or add --despite-agreement to remove ${country} now without telling it.`);
      }
      if (notices.length > 0) {
        throw new GncError('GNC_CONFLICT', `An agreement notice to ${country} is not delivered yet (${notices.join(', ')}): remove ${country} once it is (\`gnc messages --partner ${country} --type agreement\`), so that ${country} learns of it; or add --despite-agreement to remove ${country} now and withdraw it.`);
      }
    }
    const removedAt = new Date(now).toISOString();
    store.partners.markRemoved(country, removedAt, opts.reason);
    const withdrawn = withdrawQueued(store, country, `${country} was removed as a partner (gnc partner remove): ${opts.reason}`, now);
    return { country, name: p.name, removedAt, withdrawn: withdrawn.length, agreements: binding };
  });
}
