/**
 * Which root keys may stand for an administration in agreements and agreement notices. An administration's
 * root can be succeeded (section 9.4, root succession): a partner knows the root it pinned and every successor
 * a verified succession notice named; a node knows its own current root and every previous one. Agreements
 * signed before a succession stay valid, and new ones are signed by the new root, so a verifier is given, per
 * country, the whole chain and picks the root by the fingerprint the document (or notice header) names.
 */
import { jwkThumbprint, type Ed25519PublicJwk } from '../jwk.js';

/**
 * Country -> its roots, oldest first (pinned or original root, then each successor). A single JWK is a chain
 * of one (a node that never saw a succession).
 */
export type AgreementRoots = ReadonlyMap<string, Ed25519PublicJwk | readonly Ed25519PublicJwk[]>;

/** Every root known for `country`, oldest first; empty when none is pinned. */
export function rootChain(roots: AgreementRoots, country: string): readonly Ed25519PublicJwk[] {
  const entry = roots.get(country);
  if (entry === undefined) return [];
  return 'kty' in entry ? [entry] : entry;
}

/** The root of `country`'s chain whose RFC 7638 thumbprint is `fingerprint`, if there is one. */
export function rootByFingerprint(roots: AgreementRoots, country: string, fingerprint: string): Ed25519PublicJwk | undefined {
  return rootChain(roots, country).find((r) => jwkThumbprint(r) === fingerprint);
}

/** For error messages: the chain's fingerprints, oldest (pinned) first. */
export function describeChain(chain: readonly Ed25519PublicJwk[]): string {
  return chain.map(jwkThumbprint).join(', ');
}
