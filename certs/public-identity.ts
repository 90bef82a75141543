/**
 * Export and pinning of public identities. Export writes what a partner needs (root public key, fingerprint,
 * certificates, addresses). Pinning accepts a partner's identity only when its root's RFC 7638 fingerprint
 * equals the one communicated out of band, and its certificate verifies under that root.
 */
import { MAX_IDENTITY_CERTIFICATES, MAX_IDENTITY_NOTICES, PublicIdentity } from '../protocol/identity.js';
import { decodeNodeCertificate, verifyNodeCertificate, type NodeCertificatePayload } from '../protocol/certificate.js';
import { parseSignedJson } from '../protocol/envelope/signed-json.js';
import { GncError } from '../protocol/errors.js';
import { jwkThumbprint } from '../protocol/jwk.js';
import { decodeKeyNotice, verifyKeyNotice, type KeyNotice, type RevocationNotice, type RootSuccessionNotice } from '../protocol/notice.js';
import { parseWith } from '../protocol/validate.js';
import type { LocalIdentity } from './identity.js';

export interface ExportOptions {
  now?: number;
  /** Every node certificate this administration holds (ownCertificates): those still valid go in after the current. */
  held?: readonly string[];
  /** When a revocation by this administration takes effect for node key `kid`, if one does. */
  revokedAt?: (kid: string) => number | undefined;
  /** This administration's key notices held (compact JWS, oldest first): those relevant to the file go in. */
  notices?: readonly string[];
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
  const notices = relevantNotices(id, kids, opts.notices ?? []);
  return {
    v: 1,
    format: 'gnc-identity',
    country: id.country,
    name: id.name,
    root: { jwk: id.root.jwk, fingerprint: id.root.thumbprint },
    certificates,
    addresses: id.certPayload.addrs,
    exported: new Date(now).toISOString(),
    ...(notices.length > 0 ? { notices } : {}),
  };
}

/**
 * The notices a partner pinning from the file should hold (SPEC section 2): the root successions of this
 * administration (a partner pinned with an earlier root follows them to `root`), then every revocation signed by
 * `root` of a key the file certifies (during a rotation, the old key's retirement at the end of the overlap, which the
 * partner would otherwise never get). Revocations of keys the file does not carry are sent over the wire instead.
 */
function relevantNotices(id: LocalIdentity, kids: ReadonlySet<string>, held: readonly string[]): string[] {
  const successions: string[] = [];
  const revocations: string[] = [];
  for (const compact of held) {
    const n = decodeKeyNotice(compact).payload;
    if (n.country !== id.country) continue;
    if (n.kind === 'root-succession') successions.push(compact);
    else if (kids.has(n.kid) && signedBy(compact, id)) revocations.push(compact);
  }
  return [...successions, ...revocations].slice(-MAX_IDENTITY_NOTICES);
}

function signedBy(compact: string, id: LocalIdentity): boolean {
  try {
    verifyKeyNotice(compact, id.root.jwk, id.country);
    return true;
  } catch {
    return false;
  }
}

export interface VerifiedPartnerIdentity {
  identity: PublicIdentity;
  certificates: { compact: string; payload: NodeCertificatePayload }[];
  /** The file's revocations, each verified under its root, of keys its certificates certify. */
  revocations: { compact: string; notice: RevocationNotice }[];
  /**
   * The file's root successions, decoded only: signed by earlier roots, they verify (or not) under the chain of the
   * root a partner pinned before (node/partners.ts), and mean nothing to a partner pinning `root` first.
   */
  successions: { compact: string; notice: RootSuccessionNotice; signer: string }[];
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
  const revocations: VerifiedPartnerIdentity['revocations'] = [];
  const successions: VerifiedPartnerIdentity['successions'] = [];
  for (const [i, compact] of (identity.notices ?? []).entries()) {
    const refuse = (err: unknown): never => {
      const why = err instanceof GncError ? err.message : String(err);
      throw new GncError(err instanceof GncError ? err.code : 'GNC_CERT_INVALID', `Key notice ${i + 1} of ${identity.country}'s identity file is refused (${why}); nothing was pinned: ask ${identity.country}'s administration for a new identity export.`);
    };
    let decoded: { header: { kid: string }; payload: KeyNotice };
    try {
      decoded = decodeKeyNotice(compact);
    } catch (err) {
      return refuse(err);
    }
    const n = decoded.payload;
    if (n.country !== identity.country) refuse(new GncError('GNC_CERT_INVALID', `it names ${n.country}`));
    if (n.kind === 'root-succession') {
      successions.push({ compact, notice: n, signer: decoded.header.kid });
      continue;
    }
    try {
      verifyKeyNotice(compact, identity.root.jwk, identity.country);
    } catch (err) {
      refuse(err);
    }
    if (!certificates.some((c) => c.payload.sub === n.kid)) refuse(new GncError('GNC_CERT_INVALID', `it revokes key ${n.kid}, which no certificate of the file certifies`));
    revocations.push({ compact, notice: n });
  }
  return { identity, certificates, revocations, successions };
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
  // read as every document carrying signed JSON is (signed-json.ts): another reader must not take another certificate
  return parseSignedJson(text, { what: path, code: 'GNC_SCHEMA_INVALID', notJson: `${path} is not JSON: pass the file written by \`gnc identity export\`.`, notJsonCode: 'GNC_INVALID_JSON' });
}
