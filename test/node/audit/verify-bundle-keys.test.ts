import { verify as nodeVerify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import '../../../node/audit/strict-ed25519.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { fromB64u } from '../../../protocol/envelope/base64url.js';
import { signKeyNotice } from '../../../protocol/notice.js';
import { asFile, certify, DAY, Exchange, iso, newKey, T0 } from './fixture.js';
import { failureAbout } from './helpers.js';
import { nonCanonicalRSigner, sPlusLSigner } from './malleable-signatures.js';

const HOUR = 3_600_000;

function revokeKz(x: Exchange, kid: string, at: number): void {
  x.revocations.push(signKeyNotice({ v: 1, kind: 'revocation', country: 'KZ', kid, reason: 'key compromised', revokedAt: iso(at) }, x.kz.root.signer));
}

function signedParts(x: Exchange, i: number): { signature: Uint8Array; input: Uint8Array } {
  const jws = x.sent[i]!.message.jws;
  return { signature: fromB64u(jws.signature, 'sig'), input: new TextEncoder().encode(`${jws.protected}.${jws.payload}`) };
}

describe('keys, certificates and revocations in the offline verifier', () => {
  it('reports GNC_CERT_INVALID for a certificate signed by a root the country never had', async () => {
    const x = new Exchange(1);
    x.certificates[1] = certify('KG', x.kg.node, newKey());
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.find((f) => f.check === 'certificates')?.code).toBe('GNC_CERT_INVALID');
    expect(failureAbout(report, 'envelope kg-receipt-kz-msg-0').map((f) => f.code)).toEqual(['GNC_CERT_INVALID']);
  });

  it("reports GNC_CERT_INVALID for a certificate signed by another country's root", async () => {
    const x = new Exchange(1);
    x.certificates[1] = certify('KG', x.kg.node, x.kz.root);
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.find((f) => f.check === 'certificates')?.code).toBe('GNC_CERT_INVALID');
  });

  it('reports GNC_KEY_REVOKED for a message signed after its key was revoked', async () => {
    const x = new Exchange(1);
    const old = x.rotateKz();
    revokeKz(x, old.signer.kid, T0 + HOUR);
    x.send({ created: T0 + 2 * HOUR, signer: old.signer });
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.map((f) => [f.code, f.subject])).toEqual([['GNC_KEY_REVOKED', 'envelope kz-msg-1']]);
  });

  it('keeps a message signed before its key was revoked as valid evidence', async () => {
    const x = new Exchange(1);
    const old = x.rotateKz();
    revokeKz(x, old.signer.kid, T0 + HOUR);
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures).toEqual([]);
    expect(report.counts.revocations).toBe(1);
  });

  it('ignores a revocation not signed by the root of the key', async () => {
    const x = new Exchange(1);
    x.revocations.push(signKeyNotice({ v: 1, kind: 'revocation', country: 'KZ', kid: x.kz.node.signer.kid, reason: 'forged', revokedAt: iso(T0 - DAY) }, x.kg.root.signer));
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.map((f) => [f.code, f.check])).toEqual([['GNC_CERT_INVALID', 'revocations']]);
  });

  it('reports GNC_KEY_EXPIRED for a message signed after its certificate expired', async () => {
    const x = new Exchange(1);
    x.certificates[0] = certify('KZ', x.kz.node, x.kz.root, { exp: T0 + HOUR });
    const old = x.rotateKz({ nbf: T0 });
    x.send({ created: T0 + 2 * HOUR, signer: old.signer });
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.map((f) => [f.code, f.subject])).toEqual([['GNC_KEY_EXPIRED', 'envelope kz-msg-1']]);
  });

  it('reports GNC_KEY_EXPIRED for a message signed before its certificate was valid', async () => {
    const x = new Exchange(0);
    x.send({ created: T0 - 2 * DAY });
    const report = await verifyBundle(asFile(x.bundle()));
    expect(failureAbout(report, 'envelope kz-msg-0').map((f) => f.code)).toEqual(['GNC_KEY_EXPIRED']);
  });

  it('reports GNC_KEY_UNKNOWN for a message signed by a key no certificate names', async () => {
    const x = new Exchange(0);
    x.send({ signer: newKey().signer });
    const report = await verifyBundle(asFile(x.bundle()));
    expect(failureAbout(report, 'envelope kz-msg-0').map((f) => f.code)).toEqual(['GNC_KEY_UNKNOWN']);
  });

  it('reports GNC_SENDER_MISMATCH for a KZ message signed with the KG node key', async () => {
    const x = new Exchange(0);
    x.send({ signer: x.kg.node.signer });
    const report = await verifyBundle(asFile(x.bundle()));
    expect(failureAbout(report, 'envelope kz-msg-0').map((f) => f.code)).toEqual(['GNC_SENDER_MISMATCH']);
  });
});

describe('strict RFC 8032 signatures in the offline verifier', () => {
  it('builds a non-canonical-R signature that noble accepts under ZIP-215 and refuses under RFC 8032', () => {
    const x = new Exchange(0);
    x.send({ signer: nonCanonicalRSigner(x.kz.node) });
    const { signature, input } = signedParts(x, 0);
    const pub = fromB64u(x.kz.node.jwk.x, 'x');
    expect(ed.verify(signature, input, pub, { zip215: true })).toBe(true);
    expect(ed.verify(signature, input, pub, { zip215: false })).toBe(false);
  });

  it('reports GNC_SIGNATURE_INVALID for a signature valid under ZIP-215 but not RFC 8032', async () => {
    const x = new Exchange(0);
    x.send({ signer: nonCanonicalRSigner(x.kz.node) });
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.map((f) => [f.code, f.subject])).toEqual([['GNC_SIGNATURE_INVALID', 'envelope kz-msg-0']]);
  });

  it('matches the node hot path, which also refuses the non-canonical-R signature', () => {
    const x = new Exchange(0);
    x.send({ signer: nonCanonicalRSigner(x.kz.node) });
    const { signature, input } = signedParts(x, 0);
    expect(nodeVerify(null, input, x.kz.node.privateKey, signature)).toBe(false);
  });

  it('reports GNC_SIGNATURE_INVALID for a signature whose S is not reduced below L', async () => {
    const x = new Exchange(0);
    x.send({ signer: sPlusLSigner(x.kz.node) });
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.map((f) => [f.code, f.subject])).toEqual([['GNC_SIGNATURE_INVALID', 'envelope kz-msg-0']]);
  });
});
