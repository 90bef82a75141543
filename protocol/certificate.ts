/**
 * Node certificate (contract "Node certificate"): a compact JWS signed by the administration's root key that
 * binds the country, the administration's name, the node's public signing JWK, its libp2p peer id, its
 * addresses and a validity period. Partners trust a node only through a certificate that verifies under a
 * root they pinned by fingerprint.
 */
import { z } from 'zod';
import { CERTIFICATE_TYP } from './constants.js';
import { CountryCode } from './codes/countries.js';
import { GncError } from './errors.js';
import { Ed25519PublicJwk, jwkThumbprint, publicKeyFromJwk, weakPublicKey } from './jwk.js';
import { canonicalJson } from './envelope/canonical.js';
import { fromB64u } from './envelope/base64url.js';
import { parseSignedPart } from './envelope/signed-json.js';
import { UtcTimestamp } from './envelope/payload.js';
import { signJws, verifyJwsSignature, type Signer } from './envelope/index.js';

export const NodeCertificatePayload = z.strictObject({
  v: z.literal(1),
  /** Fingerprint (RFC 7638 thumbprint) of the issuing administration root. */
  iss: z.string().min(43).max(43),
  /** Thumbprint of the node key: the `kid` of every envelope the node signs. */
  sub: z.string().min(43).max(43),
  country: CountryCode,
  name: z.string().min(1).max(200),
  jwk: Ed25519PublicJwk,
  peerId: z.string().min(10).max(128),
  addrs: z.array(z.string().min(1).max(256)).max(16),
  iat: UtcTimestamp,
  nbf: UtcTimestamp,
  exp: UtcTimestamp,
});
export type NodeCertificatePayload = z.infer<typeof NodeCertificatePayload>;

const CertHeader = z.strictObject({ alg: z.literal('EdDSA'), kid: z.string(), typ: z.literal(CERTIFICATE_TYP) });

export function issueNodeCertificate(payload: NodeCertificatePayload, root: Signer): string {
  if (payload.sub !== jwkThumbprint(payload.jwk)) throw new TypeError('certificate sub must be the thumbprint of jwk');
  const jws = signJws({ alg: 'EdDSA', kid: root.kid, typ: CERTIFICATE_TYP }, new TextEncoder().encode(canonicalJson(payload)), root);
  return `${jws.protected}.${jws.payload}.${jws.signature}`;
}

/** A part of a certificate as every reader reads it (signed-json.ts); any defect is GNC_CERT_INVALID. */
function certificatePart(part: string, what: string, notJson: string): unknown {
  return parseSignedPart(part, { what, code: 'GNC_CERT_INVALID', notJson }).value;
}

/** Decode without verifying (to show or route); never use the result for trust. */
export function decodeNodeCertificate(compact: string): NodeCertificatePayload {
  const parts = compact.split('.');
  if (parts.length !== 3) throw new GncError('GNC_CERT_INVALID', 'Node certificate must be a compact JWS (three base64url parts separated by dots).');
  // one code for every defect of a certificate, as for the header below (not GNC_ENVELOPE_MALFORMED)
  const raw = certificatePart(parts[1]!, 'Node certificate payload', 'Node certificate payload is not base64url (RFC 7515) of UTF-8 JSON.');
  const parsed = NodeCertificatePayload.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new GncError('GNC_CERT_INVALID', `Node certificate member /${first?.path.join('/') ?? ''} is invalid: ${first?.message ?? 'unknown'}.`);
  }
  return parsed.data;
}

/**
 * Verify a certificate against a pinned root JWK. Checks header allowlist, signature, issuer fingerprint and
 * subject thumbprint; validity dates are checked by the caller against the time that matters (now for
 * connections, signing time for evidence).
 */
export function verifyNodeCertificate(compact: string, rootJwk: Ed25519PublicJwk): NodeCertificatePayload {
  const payload = decodeNodeCertificate(compact);
  const [h, p, s] = compact.split('.') as [string, string, string];
  const header = certificatePart(h, 'Node certificate header', 'Node certificate header is not JSON.');
  const rootFp = jwkThumbprint(rootJwk);
  const hdr = CertHeader.safeParse(header);
  if (!hdr.success || hdr.data.kid !== rootFp) {
    throw new GncError('GNC_CERT_INVALID', `Node certificate header must be {"alg":"EdDSA","kid":"${rootFp}","typ":"${CERTIFICATE_TYP}"}.`);
  }
  if (!verifyJwsSignature({ protected: h, payload: p, signature: s }, publicKeyFromJwk(rootJwk))) {
    throw new GncError('GNC_CERT_INVALID', `Node certificate for ${payload.country} is not signed by the pinned root ${rootFp}: obtain the certificate from the partner's identity file again.`);
  }
  if (payload.iss !== rootFp) throw new GncError('GNC_CERT_INVALID', `Node certificate names issuer ${payload.iss}, but it verifies under root ${rootFp}.`);
  if (payload.sub !== jwkThumbprint(payload.jwk)) throw new GncError('GNC_CERT_INVALID', 'Node certificate subject is not the thumbprint of its key.');
  // a key under which forged signatures verify must never enter the trust store (node:crypto would accept them)
  const weak = weakPublicKey(fromB64u(payload.jwk.x, 'Node key x'));
  if (weak !== undefined) {
    throw new GncError('GNC_CERT_INVALID', `Node certificate for ${payload.country} certifies key ${payload.sub}, which cannot verify signatures: ${weak} (strict RFC 8032, SPEC 9.7). Ask ${payload.country}'s administration for a certificate of a new node key.`);
  }
  if (Date.parse(payload.nbf) >= Date.parse(payload.exp)) throw new GncError('GNC_CERT_INVALID', 'Node certificate validity ends before it starts.');
  return payload;
}
