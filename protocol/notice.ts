/**
 * Root-signed key notices (issue 6, protocol/SPEC.md section 9.4): a compact JWS signed by an
 * administration ROOT key, typ NOTICE_TYP, that either revokes one of its node keys from a point in time or
 * names a new root (signed by the old one). Partners enforce them at once; the offline auditor uses them to
 * decide which signatures remain valid evidence: a signature made before `revokedAt` stays valid.
 * Named `KeyNotice` because agreements have notices of their own (suspend, terminate, resume).
 */
import { z } from 'zod';
import { JWS_ALG, NOTICE_TYP } from './constants.js';
import { CountryCode } from './codes/countries.js';
import { GncError } from './errors.js';
import { canonicalBytes } from './envelope/canonical.js';
import { UtcTimestamp } from './envelope/payload.js';
import { signJws, type Signer } from './envelope/seal.js';
import { Ed25519PublicJwk, jwkThumbprint } from './jwk.js';
import { decodeCompactJws, verifyCompactWithNode, type DecodedCompactJws } from './evidence/compact-jws.js';

const Thumbprint = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected an RFC 7638 thumbprint (43 base64url characters)');

export const RevocationNotice = z.strictObject({
  v: z.literal(1),
  kind: z.literal('revocation'),
  /** The administration whose root signs, and whose node key is revoked. */
  country: CountryCode,
  /** Thumbprint of the revoked node key (the `sub` of its certificate, the `kid` of its envelopes). */
  kid: Thumbprint,
  reason: z.string().min(1).max(500),
  /** Signatures made at or after this instant are refused; earlier ones remain valid evidence. */
  revokedAt: UtcTimestamp,
});
export type RevocationNotice = z.infer<typeof RevocationNotice>;

export const RootSuccessionNotice = z.strictObject({
  v: z.literal(1),
  kind: z.literal('root-succession'),
  country: CountryCode,
  /** The successor root; the notice is signed by the root it replaces. */
  newRoot: Ed25519PublicJwk,
  /** From this instant the new root certifies; certificates the old root issues later are refused. */
  effective: UtcTimestamp,
});
export type RootSuccessionNotice = z.infer<typeof RootSuccessionNotice>;

export const KeyNotice = z.discriminatedUnion('kind', [RevocationNotice, RootSuccessionNotice]);
export type KeyNotice = z.infer<typeof KeyNotice>;

/** Sign with a root key; header `kid` is the root's fingerprint (RFC 7638 thumbprint). */
export function signKeyNotice(notice: KeyNotice, root: Signer): string {
  if (notice.kind === 'root-succession' && jwkThumbprint(notice.newRoot) === root.kid) {
    throw new TypeError('a root cannot name itself as its successor');
  }
  const jws = signJws({ alg: JWS_ALG, kid: root.kid, typ: NOTICE_TYP }, canonicalBytes(notice), root);
  return `${jws.protected}.${jws.payload}.${jws.signature}`;
}

/** Decode without checking the signature (GNC_SCHEMA_INVALID when malformed); never use for trust alone. */
export function decodeKeyNotice(compact: string): DecodedCompactJws<KeyNotice> {
  return decodeCompactJws(compact, { typ: NOTICE_TYP, schema: KeyNotice, what: 'Key notice', code: 'GNC_SCHEMA_INVALID', canonical: true });
}

/**
 * Verify with node:crypto against the root pinned for the notice's country (the running node's path).
 * Throws GNC_CERT_INVALID when the signer is not that root, GNC_SIGNATURE_INVALID when the signature fails.
 */
export function verifyKeyNotice(compact: string, rootJwk: Ed25519PublicJwk, country: string): KeyNotice {
  const decoded = decodeKeyNotice(compact);
  const fp = jwkThumbprint(rootJwk);
  if (decoded.payload.country !== country || decoded.header.kid !== fp) {
    throw new GncError('GNC_CERT_INVALID', `Key notice for ${decoded.payload.country} is signed by ${decoded.header.kid}; only the root ${fp} of ${country} may issue it.`);
  }
  if (!verifyCompactWithNode(compact, rootJwk)) {
    throw new GncError('GNC_SIGNATURE_INVALID', `Key notice signature does not verify under root ${fp}: the notice was altered.`);
  }
  return decoded.payload;
}

/**
 * The chain of roots that starts at `first` (SPEC 9.4), oldest first: each successor named by one of the
 * root-succession notices (compact JWS) verified under the root before it. The last one is the root in office.
 * Notices signed by another root, or by the same root twice, are passed over.
 */
export function successionChain(first: Ed25519PublicJwk, notices: readonly string[], country: string): Ed25519PublicJwk[] {
  const chain = [first];
  const seen = new Set([jwkThumbprint(first)]);
  for (let tail = first; ; ) {
    const next = notices.flatMap((compact) => {
      try {
        const notice = verifyKeyNotice(compact, tail, country);
        return notice.kind === 'root-succession' && !seen.has(jwkThumbprint(notice.newRoot)) ? [notice.newRoot] : [];
      } catch {
        return []; // signed by another root of the chain
      }
    })[0];
    if (next === undefined) return chain;
    chain.push(next);
    seen.add(jwkThumbprint(next));
    tail = next;
  }
}
