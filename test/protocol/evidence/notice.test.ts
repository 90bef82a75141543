/** Tests of protocol/notice.ts (root-signed key notices), kept with the evidence formats they feed. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NOTICE_TYP } from '../../../protocol/constants.js';
import { keyObjectSigner, signJws } from '../../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';
import { decodeKeyNotice, signKeyNotice, verifyKeyNotice, type KeyNotice } from '../../../protocol/notice.js';
import { codeOf } from '../../helpers/errors.js';

function key() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwkOf(privateKey);
  return { jwk, signer: keyObjectSigner(jwkThumbprint(jwk), privateKey) };
}


const revocation = (kid: string): KeyNotice => ({ v: 1, kind: 'revocation', country: 'KZ', kid, reason: 'key compromised', revokedAt: '2026-03-01T10:00:00.000Z' });

describe('root-signed key notices', () => {
  it('verifies a revocation under the root that signed it', () => {
    const root = key();
    const notice = revocation(key().signer.kid);
    expect(verifyKeyNotice(signKeyNotice(notice, root.signer), root.jwk, 'KZ')).toEqual(notice);
  });

  it('verifies a root succession signed by the old root', () => {
    const oldRoot = key();
    const notice: KeyNotice = { v: 1, kind: 'root-succession', country: 'KZ', newRoot: key().jwk, effective: '2026-04-01T00:00:00.000Z' };
    expect(verifyKeyNotice(signKeyNotice(notice, oldRoot.signer), oldRoot.jwk, 'KZ')).toEqual(notice);
  });

  it('refuses to sign a succession that names the signing root itself', () => {
    const root = key();
    expect(() => signKeyNotice({ v: 1, kind: 'root-succession', country: 'KZ', newRoot: root.jwk, effective: '2026-04-01T00:00:00.000Z' }, root.signer)).toThrow(TypeError);
  });

  it('fails with GNC_CERT_INVALID when another root signed it', () => {
    const compact = signKeyNotice(revocation(key().signer.kid), key().signer);
    expect(codeOf(() => verifyKeyNotice(compact, key().jwk, 'KZ'))).toBe('GNC_CERT_INVALID');
  });

  it("fails with GNC_CERT_INVALID for a notice about another country than the root's", () => {
    const root = key();
    expect(codeOf(() => verifyKeyNotice(signKeyNotice(revocation(key().signer.kid), root.signer), root.jwk, 'KG'))).toBe('GNC_CERT_INVALID');
  });

  it('fails with GNC_SIGNATURE_INVALID when the signature was altered', () => {
    const root = key();
    const compact = signKeyNotice(revocation(key().signer.kid), root.signer);
    const altered = compact.slice(0, -6) + (compact.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
    expect(codeOf(() => verifyKeyNotice(altered, root.jwk, 'KZ'))).toBe('GNC_SIGNATURE_INVALID');
  });

  it('refuses a header with members outside the allowlist with GNC_SCHEMA_INVALID', () => {
    const root = key();
    const jws = signJws({ alg: 'EdDSA', kid: root.signer.kid, typ: NOTICE_TYP, jku: 'https://evil.example/keys' }, new TextEncoder().encode(JSON.stringify(revocation(root.signer.kid))), root.signer);
    expect(codeOf(() => decodeKeyNotice(`${jws.protected}.${jws.payload}.${jws.signature}`))).toBe('GNC_SCHEMA_INVALID');
  });

  it('refuses an unknown notice kind with GNC_SCHEMA_INVALID', () => {
    const root = key();
    const jws = signJws({ alg: 'EdDSA', kid: root.signer.kid, typ: NOTICE_TYP }, new TextEncoder().encode('{"country":"KZ","kind":"suspend","v":1}'), root.signer);
    expect(codeOf(() => decodeKeyNotice(`${jws.protected}.${jws.payload}.${jws.signature}`))).toBe('GNC_SCHEMA_INVALID');
  });
});
