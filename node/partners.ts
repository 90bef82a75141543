/**
 * Adding a partner to the registry: verify the identity file against the out-of-band fingerprint, then store
 * the pinned root and its certificates in one transaction. Used by `gnc partner add` and the admin API.
 */
import { verifyPartnerIdentity } from '../certs/public-identity.js';
import { GncError } from '../protocol/errors.js';
import type { NodeCertificatePayload } from '../protocol/certificate.js';
import type { Store } from './store/store.js';

export interface AddedPartner {
  country: string;
  name: string;
  fingerprint: string;
  addresses: string[];
  certificates: number;
}

export function storeCertificate(store: Store, compact: string, payload: NodeCertificatePayload): void {
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
  if (existing && existing.fingerprint !== identity.root.fingerprint) {
    throw new GncError('GNC_FINGERPRINT_MISMATCH', `${identity.country} is already pinned with root ${existing.fingerprint}; a different root needs a root-succession notice signed by the old root, not a new pin.`);
  }
  store.db.transaction(() => {
    store.partners.upsert({
      country: identity.country,
      name: identity.name,
      root_jwk: JSON.stringify(identity.root.jwk),
      fingerprint: identity.root.fingerprint,
      addresses: JSON.stringify(identity.addresses),
      identity: JSON.stringify(identity),
      added_at: existing?.added_at ?? new Date(now).toISOString(),
    });
    for (const c of certificates) storeCertificate(store, c.compact, c.payload);
  })();
  return { country: identity.country, name: identity.name, fingerprint: identity.root.fingerprint, addresses: identity.addresses, certificates: certificates.length };
}
