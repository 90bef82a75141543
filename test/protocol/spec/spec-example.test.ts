/**
 * protocol/SPEC.md section 11 (worked example): every block marked `<!-- vector: name -->` is recomputed by the
 * code from the published keys (worked-example.ts) and must match byte for byte; the envelope and receipt must
 * also open under the section 4 checks, verify with jose, and the certificate under its root.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flattenedVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyNodeCertificate } from '../../../protocol/certificate.js';
import { openEnvelope, type VerificationKey } from '../../../protocol/envelope/open.js';
import type { FlattenedJws } from '../../../protocol/envelope/payload.js';
import { ReceiptBody } from '../../../protocol/messages/receipt.js';
import { parseBody } from '../../../protocol/messages/registry.js';
import { jwkThumbprint, publicKeyFromJwk } from '../../../protocol/jwk.js';
import { workedExample } from './worked-example.js';

const specPath = fileURLToPath(new URL('../../../protocol/SPEC.md', import.meta.url));
const spec = readFileSync(specPath, 'utf8');
const section = spec.slice(spec.indexOf('\n## 11. Worked example'));
const vectors = new Map([...section.matchAll(/<!-- vector: ([a-z0-9-]+) -->\n```[a-z]*\n([\s\S]*?)\n```/g)].map((m) => [m[1]!, m[2]!]));
const ex = workedExample();

function vector(name: string): string {
  const v = vectors.get(name);
  if (v === undefined) throw new Error(`protocol/SPEC.md section 11 has no block <!-- vector: ${name} -->`);
  return v;
}

const KZ_ROOT_FINGERPRINT = ex.certificateClaims.iss;

describe('protocol/SPEC.md section 11: worked example', () => {
  it('has every block of the example', () => {
    expect([...vectors.keys()].sort()).toEqual(
      ['canonical-payload', 'certificate', 'certificate-claims', 'envelope', 'envelope-sha256', 'payload', 'protected-header', 'receipt', 'receipt-payload', 'receipt-sha256'].sort(),
    );
  });

  it('uses the RFC 8037 key as the KZ node key', () => {
    expect(ex.certificateClaims.sub).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
    expect(section).toContain('| KZ node signing key | RFC 8037 appendix A.1 (= RFC 8032 TEST 1) | `kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k` |');
    expect(section).toContain(`| KZ administration root | RFC 8032 section 7.1 TEST 3 | \`${KZ_ROOT_FINGERPRINT}\` |`);
    expect(section).toContain(`peer id \`${ex.certificateClaims.peerId}\``);
  });

  it('certificate: the claims and the compact JWS are what issueNodeCertificate writes', () => {
    expect(JSON.parse(vector('certificate-claims'))).toStrictEqual(ex.certificateClaims);
    expect(vector('certificate')).toBe(ex.certificate);
  });

  it('certificate: verifies under the KZ root', () => {
    const [h] = ex.certificate.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString('utf8'))).toStrictEqual({ alg: 'EdDSA', kid: KZ_ROOT_FINGERPRINT, typ: 'gnc-cert+jws' });
    const rootJwk = { kty: 'OKP' as const, crv: 'Ed25519' as const, x: Buffer.from('fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'hex').toString('base64url') };
    expect(jwkThumbprint(rootJwk)).toBe(KZ_ROOT_FINGERPRINT);
    expect(verifyNodeCertificate(vector('certificate'), rootJwk)).toStrictEqual(ex.certificateClaims);
  });

  it('envelope: payload, canonical payload, protected header, bytes and SHA-256 are what sealEnvelope writes', () => {
    expect(JSON.parse(vector('payload'))).toStrictEqual(ex.payload);
    expect(vector('canonical-payload')).toBe(ex.canonicalPayload);
    expect(vector('protected-header')).toBe(ex.protectedHeader);
    expect(vector('envelope')).toBe(ex.envelope);
    expect(vector('envelope-sha256')).toBe(ex.envelopeSha256);
    expect(createHash('sha256').update(vector('envelope'), 'utf8').digest('hex')).toBe(vector('envelope-sha256'));
  });

  it('envelope: the payload member decodes to the canonical payload and the body is a valid AEO change', () => {
    const jws = JSON.parse(vector('envelope')) as FlattenedJws;
    expect(Buffer.from(jws.payload, 'base64url').toString('utf8')).toBe(vector('canonical-payload'));
    expect(parseBody('aeo', ex.payload.body)).toStrictEqual(ex.payload.body);
  });

  it('receipt: payload, bytes and SHA-256 are what sealEnvelope writes, and it names the envelope SHA-256', () => {
    expect(JSON.parse(vector('receipt-payload'))).toStrictEqual(ex.receiptPayload);
    expect(vector('receipt')).toBe(ex.receipt);
    expect(vector('receipt-sha256')).toBe(ex.receiptSha256);
    expect(ReceiptBody.parse(ex.receiptPayload.body)).toStrictEqual({ messageId: ex.payload.id, sha256: vector('envelope-sha256'), status: 'accepted', received: '2026-11-24T09:30:00.250Z' });
  });

  it('envelope and receipt open under every check of section 4 at the example time', () => {
    const kzKey: VerificationKey = { kid: ex.certificateClaims.sub, publicKey: publicKeyFromJwk(ex.certificateClaims.jwk), country: 'KZ', notBefore: Date.parse(ex.certificateClaims.nbf), notAfter: Date.parse(ex.certificateClaims.exp) };
    const kgJwk = { kty: 'OKP' as const, crv: 'Ed25519' as const, x: 'PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw' };
    const kgKey: VerificationKey = { kid: jwkThumbprint(kgJwk), publicKey: publicKeyFromJwk(kgJwk), country: 'KG', notBefore: kzKey.notBefore, notAfter: kzKey.notAfter };
    expect(kgKey.kid).toBe('FtIu-VbGrfe_KB6CH7GNwODB72MNxj_ml11dEvO-7kk');
    const common = { now: Date.parse('2026-11-24T09:30:01.000Z'), clockSkewMs: 300_000, maxAgeMs: 7 * 86_400_000 };
    const opened = openEnvelope(new TextEncoder().encode(vector('envelope')), { ...common, self: 'KG', resolveKey: (kid) => (kid === kzKey.kid ? kzKey : undefined) });
    expect(opened.payload).toStrictEqual(ex.payload);
    expect(opened.sha256).toBe(vector('envelope-sha256'));
    const receipt = openEnvelope(new TextEncoder().encode(vector('receipt')), { ...common, self: 'KZ', resolveKey: (kid) => (kid === kgKey.kid ? kgKey : undefined) });
    expect(receipt.payload).toStrictEqual(ex.receiptPayload);
  });

  it('jose verifies the envelope with the certified node JWK, without extensions', async () => {
    const key = await importJWK(ex.certificateClaims.jwk, 'EdDSA');
    const r = await flattenedVerify(JSON.parse(vector('envelope')) as FlattenedJws, key, { algorithms: ['EdDSA'] });
    expect(new TextDecoder().decode(r.payload)).toBe(vector('canonical-payload'));
  });
});
