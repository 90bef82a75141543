/**
 * Export and pinning of public identities. Export writes what a partner needs (root public key, fingerprint,
 * certificates, addresses). Pinning accepts a partner's identity only when its root's RFC 7638 fingerprint
 * equals the one communicated out of band, and its certificate verifies under that root.
 */
import { MAX_IDENTITY_CERTIFICATES, PublicIdentity } from '../protocol/identity.js';
import { decodeNodeCertificate, verifyNodeCertificate, type NodeCertificatePayload } from '../protocol/certificate.js';
import { GncError } from '../protocol/errors.js';
import { jwkThumbprint } from '../protocol/jwk.js';
import { parseWith } from '../protocol/validate.js';
import type { LocalIdentity } from './identity.js';

export interface ExportOptions {
  now?: number;
  /** Every node certificate this administration holds (ownCertificates): those still valid go in after the current. */
  held?: readonly string[];
  /** When a revocation by this administration takes effect for node key `kid`, if one does. */
  revokedAt?: (kid: string) => number | undefined;
}

/**
 * The identity file for partners. It carries every node certificate of this administration that a partner pinning
 * from it may need to verify what the node signs: the current one first, then each other one issued by the current
 * root that has not expired and whose key no revocation has retired yet. During a key rotation that is the old key,
 * which still signs until every partner has the new one (SPEC 9.10), and whose envelopes sealed before the switch may
 * still be on their way.
 */
export function exportIdentity(id: LocalIdentity, opts: ExportOptions = {}): PublicIdentity {
  const now = opts.now ?? Date.now();
  const certificates = [id.certificate];
  const kids = new Set([id.node.thumbprint]);
  for (const compact of opts.held ?? []) {
    const p = decodeNodeCertificate(compact);
    const revoked = opts.revokedAt?.(p.sub);
    const retired = Date.parse(p.exp) <= now || (revoked !== undefined && revoked <= now);
    if (kids.has(p.sub) || p.iss !== id.root.thumbprint || retired) continue;
    if (certificates.length === MAX_IDENTITY_CERTIFICATES) break;
    certificates.push(compact);
    kids.add(p.sub);
  }
  return {
    v: 1,
    format: 'gnc-identity',
    country: id.country,
    name: id.name,
    root: { jwk: id.root.jwk, fingerprint: id.root.thumbprint },
    certificates,
    addresses: id.certPayload.addrs,
    exported: new Date(now).toISOString(),
  };
}

export interface VerifiedPartnerIdentity {
  identity: PublicIdentity;
  certificates: { compact: string; payload: NodeCertificatePayload }[];
}

/** Normalise a fingerprint as people type it: strip whitespace and optional "sha256:" prefix. */
export function normaliseFingerprint(text: string): string {
  return text.trim().replace(/^sha-?256:/i, '').replace(/\s+/g, '');
}

export function verifyPartnerIdentity(input: unknown, expectedFingerprint: string, now = Date.now()): VerifiedPartnerIdentity {
  const identity = identityDocument(input);
  const actual = jwkThumbprint(identity.root.jwk);
  const expected = normaliseFingerprint(expectedFingerprint);
  if (actual !== expected) {
    throw new GncError('GNC_FINGERPRINT_MISMATCH', `The root key in this identity file has fingerprint ${actual}, not ${expected}: do not trust it; check the fingerprint with ${identity.country}'s administration by another channel.`);
  }
  if (identity.root.fingerprint !== actual) {
    throw new GncError('GNC_CERT_INVALID', 'The identity file states a fingerprint that is not the thumbprint of its own root key: the file is corrupt.');
  }
  const certificates = identity.certificates.map((compact) => ({ compact, payload: verifyNodeCertificate(compact, identity.root.jwk) }));
  for (const c of certificates) {
    if (c.payload.country !== identity.country) {
      throw new GncError('GNC_CERT_INVALID', `A certificate in the identity file names ${c.payload.country}, but the file is ${identity.country}'s.`);
    }
  }
  if (!certificates.some((c) => Date.parse(c.payload.exp) > now)) {
    throw new GncError('GNC_KEY_EXPIRED', `Every node certificate in ${identity.country}'s identity file has expired: ask for a current identity export.`);
  }
  return { identity, certificates };
}

/**
 * The identity file's document. One of another shape is bad input (GNC_SCHEMA_INVALID, CLI exit 2), not a trust
 * refusal: nothing in it was verified yet, and the fix is to pass the partner's export as it came.
 */
function identityDocument(input: unknown): PublicIdentity {
  try {
    return parseWith(PublicIdentity, input, 'Identity file', '');
  } catch (err) {
    const issues = (err as GncError).issues;
    const first = issues?.[0]?.message ?? 'not a JSON object';
    const more = issues !== undefined && issues.length > 1 ? ', among other problems' : '';
    throw new GncError('GNC_SCHEMA_INVALID', `The identity file is not one that \`gnc identity export\` writes: ${first}${more}. Pass the partner's file as it came, or ask the partner for a new export.`, { issues });
  }
}

/** The JSON of an identity file read from `path` (the CLI reads it, as every file a user names). */
export function parseIdentityFile(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GncError('GNC_INVALID_JSON', `${path} is not JSON: pass the file written by \`gnc identity export\`.`);
  }
}
