/**
 * Node certificates (protocol/certificate.ts, protocol/SPEC.md "Node certificate"): a compact JWS by the
 * administration root binding country, name, node JWK, peer id, addresses and validity. Keys come from the
 * published vectors: the KZ root is RFC 8032 TEST 3, the KZ node key RFC 8037 A.1, another root RFC 8032 TEST 2.
 */
import { describe, expect, it } from 'vitest';
import { CERTIFICATE_TYP } from '../../protocol/constants.js';
import { canonicalJson } from '../../protocol/envelope/canonical.js';
import { issueNodeCertificate, decodeNodeCertificate, verifyNodeCertificate, type NodeCertificatePayload } from '../../protocol/certificate.js';
import { jwkThumbprint, publicJwkOf } from '../../protocol/jwk.js';
import { KG, KZ, STRANGER, codeOf } from './envelope/fixtures.js';

/** The identity point (y = 1), of order 1: with R = identity and S = 0 OpenSSL verifies any message under it. */
const IDENTITY_POINT = Buffer.from('01'.padEnd(64, '0'), 'hex').toString('base64url');
const TRIVIAL_SIGNATURE = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0));

const ROOT = STRANGER; // RFC 8032 TEST 3, standing in as the KZ administration root
const ROOT_JWK = publicJwkOf(ROOT.publicKey);
const OTHER_ROOT_JWK = publicJwkOf(KG.publicKey);

function claims(overrides: Partial<NodeCertificatePayload> = {}): NodeCertificatePayload {
  const jwk = publicJwkOf(KZ.publicKey);
  return {
    v: 1,
    iss: jwkThumbprint(ROOT_JWK),
    sub: jwkThumbprint(jwk),
    country: 'KZ',
    name: 'State Revenue Committee',
    jwk,
    peerId: '12D3KooWExamplePeerIdOfTheKzNode',
    addrs: ['/ip4/127.0.0.1/tcp/4001'],
    iat: '2026-01-01T00:00:00.000Z',
    nbf: '2026-01-01T00:00:00.000Z',
    exp: '2027-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A compact JWS over any header and claims, signed by any signer (to build certificates the issuer refuses to). */
function compact(header: unknown, body: unknown, sign = ROOT.signer.sign): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(canonicalJson(body)).toString('base64url');
  return `${h}.${p}.${Buffer.from(sign(new TextEncoder().encode(`${h}.${p}`))).toString('base64url')}`;
}

const rootHeader = { alg: 'EdDSA', kid: jwkThumbprint(ROOT_JWK), typ: CERTIFICATE_TYP };

describe('node certificate', () => {
  it('is a compact JWS whose header is the canonical {"alg":"EdDSA","kid":<root fingerprint>,"typ":"gnc-cert+jws"}', () => {
    const cert = issueNodeCertificate(claims(), ROOT.signer);
    const [h, p, s] = cert.split('.');
    expect(Buffer.from(h!, 'base64url').toString()).toBe(`{"alg":"EdDSA","kid":"${jwkThumbprint(ROOT_JWK)}","typ":"gnc-cert+jws"}`);
    expect(Buffer.from(p!, 'base64url').toString()).toBe(canonicalJson(claims()));
    expect(Buffer.from(s!, 'base64url').byteLength).toBe(64);
  });

  it('verifies under the root that signed it and returns the claims', () => {
    expect(verifyNodeCertificate(issueNodeCertificate(claims(), ROOT.signer), ROOT_JWK)).toStrictEqual(claims());
  });

  it('is deterministic: issuing the same claims twice gives the same string', () => {
    expect(issueNodeCertificate(claims(), ROOT.signer)).toBe(issueNodeCertificate(claims(), ROOT.signer));
  });

  it('is refused under another pinned root: GNC_CERT_INVALID', () => {
    expect(codeOf(() => verifyNodeCertificate(issueNodeCertificate(claims(), ROOT.signer), OTHER_ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('is refused when another root signs it but names the pinned root as kid and iss: GNC_CERT_INVALID', () => {
    const forged = compact(rootHeader, claims(), KG.signer.sign);
    expect(codeOf(() => verifyNodeCertificate(forged, ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('is refused when a claim was changed after signing: GNC_CERT_INVALID', () => {
    const [h, , s] = issueNodeCertificate(claims(), ROOT.signer).split('.');
    const p = Buffer.from(canonicalJson(claims({ country: 'KG' }))).toString('base64url');
    expect(codeOf(() => verifyNodeCertificate(`${h}.${p}.${s}`, ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('is refused with the envelope typ gnc+jws, so an envelope can never pass as a certificate: GNC_CERT_INVALID', () => {
    expect(codeOf(() => verifyNodeCertificate(compact({ ...rootHeader, typ: 'gnc+jws' }, claims()), ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('is refused when iss is not the fingerprint of the verifying root: GNC_CERT_INVALID', () => {
    const c = compact(rootHeader, claims({ iss: jwkThumbprint(OTHER_ROOT_JWK) }));
    expect(codeOf(() => verifyNodeCertificate(c, ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('is refused when sub is not the thumbprint of jwk: GNC_CERT_INVALID (and the issuer refuses to sign it)', () => {
    const bad = claims({ sub: jwkThumbprint(publicJwkOf(KG.publicKey)) });
    expect(codeOf(() => verifyNodeCertificate(compact(rootHeader, bad), ROOT_JWK))).toBe('GNC_CERT_INVALID');
    expect(() => issueNodeCertificate(bad, ROOT.signer)).toThrow(TypeError);
  });

  it('validity window: nbf at or after exp is refused: GNC_CERT_INVALID', () => {
    expect(codeOf(() => verifyNodeCertificate(issueNodeCertificate(claims({ nbf: '2027-01-01T00:00:00.000Z' }), ROOT.signer), ROOT_JWK))).toBe('GNC_CERT_INVALID');
    expect(codeOf(() => verifyNodeCertificate(issueNodeCertificate(claims({ exp: '2025-12-31T23:59:59.999Z' }), ROOT.signer), ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('validity window: verification returns nbf and exp exactly, for the caller to check against the time that matters', () => {
    const p = verifyNodeCertificate(issueNodeCertificate(claims({ nbf: '2026-03-01T00:00:00.000Z', exp: '2026-03-01T00:00:00.001Z' }), ROOT.signer), ROOT_JWK);
    expect([p.nbf, p.exp]).toEqual(['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.001Z']);
  });

  it('is refused when a claim is missing, unknown or malformed: GNC_CERT_INVALID', () => {
    const { peerId: _omitted, ...missing } = claims();
    expect(codeOf(() => verifyNodeCertificate(compact(rootHeader, missing), ROOT_JWK))).toBe('GNC_CERT_INVALID');
    expect(codeOf(() => verifyNodeCertificate(compact(rootHeader, { ...claims(), extra: true }), ROOT_JWK))).toBe('GNC_CERT_INVALID');
    expect(codeOf(() => verifyNodeCertificate(compact(rootHeader, claims({ nbf: '2026-01-01' })), ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('is refused when it is not three base64url parts: GNC_CERT_INVALID', () => {
    const cert = issueNodeCertificate(claims(), ROOT.signer);
    expect(codeOf(() => verifyNodeCertificate(cert.split('.').slice(0, 2).join('.'), ROOT_JWK))).toBe('GNC_CERT_INVALID');
    expect(codeOf(() => verifyNodeCertificate(`${cert}.x`, ROOT_JWK))).toBe('GNC_CERT_INVALID');
    expect(codeOf(() => decodeNodeCertificate('a.b=.c'))).toBe('GNC_CERT_INVALID');
    expect(codeOf(() => verifyNodeCertificate(`${cert.split('.')[0]!}.bm90IGpzb24.${cert.split('.')[2]!}`, ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('is refused under a small-order root, whose signature R = identity, S = 0 anyone can make for any claims: GNC_CERT_INVALID', () => {
    const weakRoot = { kty: 'OKP', crv: 'Ed25519', x: IDENTITY_POINT } as const;
    const fp = jwkThumbprint(weakRoot);
    const forged = compact({ alg: 'EdDSA', kid: fp, typ: CERTIFICATE_TYP }, claims({ iss: fp }), () => TRIVIAL_SIGNATURE);
    expect(codeOf(() => verifyNodeCertificate(forged, weakRoot))).toBe('GNC_CERT_INVALID');
  });

  it('is refused when the root certifies a small-order node key, under which anyone could sign envelopes: GNC_CERT_INVALID', () => {
    const weakNode = { kty: 'OKP', crv: 'Ed25519', x: IDENTITY_POINT } as const;
    const cert = issueNodeCertificate(claims({ jwk: weakNode, sub: jwkThumbprint(weakNode) }), ROOT.signer);
    expect(codeOf(() => verifyNodeCertificate(cert, ROOT_JWK))).toBe('GNC_CERT_INVALID');
  });

  it('decodeNodeCertificate reads the claims without verifying (for display only)', () => {
    const forged = compact(rootHeader, claims(), KG.signer.sign);
    expect(decodeNodeCertificate(forged)).toStrictEqual(claims());
  });
});
