/**
 * Adding a partner to the registry: verify the identity file against the out-of-band fingerprint, then store
 * the pinned root and its certificates in one transaction. Used by `gnc partner add` and the admin API. A
 * partner already pinned may be added again (fresh certificates, e.g. after its key expired) with an identity
 * of its root in office: the pinned root, or the last successor of the chain it started (SPEC 9.4).
 */
import { verifyPartnerIdentity } from '../certs/public-identity.js';
import { GncError } from '../protocol/errors.js';
import type { NodeCertificatePayload } from '../protocol/certificate.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../protocol/jwk.js';
import { successionChain } from '../protocol/notice.js';
import { KeyNoticeRepo } from './store/key-notices.js';
import type { Store } from './store/store.js';

export interface AddedPartner {
  country: string;
  name: string;
  fingerprint: string;
  addresses: string[];
  certificates: number;
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
  return { country: identity.country, name: identity.name, fingerprint: identity.root.fingerprint, addresses: identity.addresses, certificates: certificates.length };
}
