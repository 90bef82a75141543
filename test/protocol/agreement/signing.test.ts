/** Signed agreements: one JWS (general JSON serialization) carrying both administrations' root signatures. */
import { generalVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeAgreement, signAgreement, verifyAgreement, type SignedAgreement } from '../../../protocol/agreement/index.js';
import { b64u } from '../../../protocol/envelope/base64url.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { keyObjectSigner } from '../../../protocol/envelope/seal.js';
import { publicKeyFromJwk } from '../../../protocol/jwk.js';
import { generateKeyPairSync } from 'node:crypto';
import { admin, CN, draft, gncError, KG, KZ, ROOTS, rootsOf, signedBy } from './helpers.js';

const doc = draft('kz-kg-mra');

function payloadOf(signed: SignedAgreement): Record<string, any> {
  return JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8')) as Record<string, any>;
}

describe('signed agreement', () => {
  it('verifies an agreement signed by both roots as complete', () => {
    const v = verifyAgreement(signedBy(doc, KZ, KG), ROOTS);
    expect(v).toMatchObject({ signedBy: ['KZ', 'KG'], complete: true });
    expect(v.document).toEqual(doc);
  });

  it('verifies an agreement with one signature but reports it as not complete', () => {
    expect(verifyAgreement(signedBy(doc, KG), ROOTS)).toMatchObject({ signedBy: ['KG'], complete: false });
  });

  it('signs the RFC 8785 canonical JSON of the document as the payload', () => {
    expect(signedBy(doc, KZ).payload).toBe(b64u(canonicalJson(doc)));
  });

  it('keeps the payload and the first signature byte for byte when the second party signs', () => {
    const first = signedBy(doc, KZ);
    const both = signAgreement(first, KG.signer);
    expect(both.payload).toBe(first.payload);
    expect(both.signatures[0]).toEqual(first.signatures[0]);
  });

  it('writes each protected header as canonical {"alg":"EdDSA","kid":<root fingerprint>,"typ":"gnc-agreement+jws"}', () => {
    const header = Buffer.from(signedBy(doc, KZ).signatures[0]!.protected, 'base64url').toString('utf8');
    expect(header).toBe(`{"alg":"EdDSA","kid":"${KZ.fingerprint}","typ":"gnc-agreement+jws"}`);
  });

  it('refuses to sign with a key that is not either party\'s root', () => {
    expect(gncError(() => signAgreement(doc, CN.signer)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses to sign twice for the same administration', () => {
    expect(gncError(() => signAgreement(signedBy(doc, KZ), KZ.signer)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses to sign a document whose field paths do not exist', () => {
    const bad = structuredClone(doc);
    bad.directions[0]!.messages[0]!.fields = ['consignor.shoeSize'];
    expect(gncError(() => signAgreement(bad, KZ.signer)).code).toBe('GNC_AGREEMENT_INVALID');
  });

  it('refuses an unsigned draft as an agreement', () => {
    expect(gncError(() => verifyAgreement(signAgreement(doc, null), ROOTS)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses a signature by a key that is not the administration\'s root, even under its fingerprint', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const impostor = keyObjectSigner(KG.fingerprint, privateKey);
    const forged = signAgreement(signedBy(doc, KZ), impostor);
    const err = gncError(() => verifyAgreement(forged, ROOTS));
    expect(err.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect(err.message).toContain('does not verify under KG');
  });

  it('refuses a signature by a key no party names', () => {
    const signed = signedBy(doc, KZ);
    const other = signedBy(draft('cn-kz-aci'), CN).signatures[0]!;
    const err = gncError(() => verifyAgreement({ ...signed, signatures: [...signed.signatures, other] }, ROOTS));
    expect(err.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect(err.message).toContain('not the root of KZ or KG');
  });

  it('refuses content changed after signing', () => {
    const signed = signedBy(doc, KZ, KG);
    const changed = payloadOf(signed);
    changed.directions[0].messages[0].retentionDays = 3650;
    const err = gncError(() => verifyAgreement({ ...signed, payload: b64u(canonicalJson(changed)) }, ROOTS));
    expect(err.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect(err.message).toContain('changed after signing');
  });

  it('refuses two signatures by the same administration', () => {
    const signed = signedBy(doc, KZ);
    const err = gncError(() => verifyAgreement({ ...signed, signatures: [signed.signatures[0]!, signed.signatures[0]!] }, ROOTS));
    expect(err.code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses an agreement naming a root other than the one pinned for that country (or a successor of it)', () => {
    const otherKg = admin('KG');
    const err = gncError(() => verifyAgreement(signedBy(doc, KZ), rootsOf(KZ, otherKg)));
    expect(err.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect(err.message).toContain(`not a root of KG known here (pinned root first, then successors: ${otherKg.fingerprint})`);
  });

  it('refuses a signature whose signer\'s root is not pinned', () => {
    expect(gncError(() => verifyAgreement(signedBy(doc, KZ, KG), rootsOf(KZ))).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses a payload that is not in canonical form', () => {
    const signed = signedBy(doc, KZ);
    const pretty = { ...signed, payload: b64u(JSON.stringify(doc, null, 2)) };
    expect(gncError(() => verifyAgreement(pretty, ROOTS)).code).toBe('GNC_AGREEMENT_INVALID');
  });

  it('refuses an unprotected header member', () => {
    const signed = signedBy(doc, KZ);
    const withHeader = { ...signed, signatures: [{ ...signed.signatures[0]!, header: { kid: KG.fingerprint } }] };
    expect(gncError(() => verifyAgreement(withHeader, ROOTS)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('decodes a signed agreement without verifying it', () => {
    expect(decodeAgreement(signedBy(doc, KZ)).document).toEqual(doc);
  });

  it('verifies with jose\'s generalVerify under each root (interoperability)', async () => {
    const signed = signedBy(doc, KZ, KG);
    for (const a of [KZ, KG]) {
      const r = await generalVerify(signed, publicKeyFromJwk(a.jwk), { algorithms: ['EdDSA'] });
      expect(r.protectedHeader).toMatchObject({ kid: a.fingerprint, typ: 'gnc-agreement+jws' });
      expect(new TextDecoder().decode(r.payload)).toBe(canonicalJson(doc));
    }
  });
});
