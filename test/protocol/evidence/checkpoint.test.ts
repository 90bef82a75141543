import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { b64u } from '../../../protocol/envelope/base64url.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { keyObjectSigner, signJws } from '../../../protocol/envelope/seal.js';
import { CHECKPOINT_TYP, decodeCheckpoint, signCheckpoint, verifyCheckpoint, type CheckpointPayload } from '../../../protocol/evidence/checkpoint.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';
import { codeOf } from '../../helpers/errors.js';

function key() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwkOf(privateKey);
  return { jwk, signer: keyObjectSigner(jwkThumbprint(jwk), privateKey) };
}

const payload: CheckpointPayload = { v: 1, node: 'KZ', seq: 42, hash: 'ab'.repeat(32), at: '2026-03-01T09:00:00.000Z' };


describe('checkpoints', () => {
  it('verifies under the node key that signed it', () => {
    const k = key();
    expect(verifyCheckpoint(signCheckpoint(payload, k.signer), k.jwk)).toEqual(payload);
  });

  it('names the node key thumbprint and the checkpoint typ in its header', () => {
    const k = key();
    expect(decodeCheckpoint(signCheckpoint(payload, k.signer)).header).toEqual({ alg: 'EdDSA', kid: k.signer.kid, typ: CHECKPOINT_TYP });
  });

  it('fails with GNC_SIGNATURE_INVALID under another key', () => {
    const compact = signCheckpoint(payload, key().signer);
    expect(codeOf(() => verifyCheckpoint(compact, key().jwk))).toBe('GNC_SIGNATURE_INVALID');
  });

  it('fails with GNC_SIGNATURE_INVALID when the pinned hash was edited', () => {
    const k = key();
    const [h, , s] = signCheckpoint(payload, k.signer).split('.');
    const edited = `${h}.${b64u(canonicalJson({ ...payload, hash: 'cd'.repeat(32) }))}.${s}`;
    expect(codeOf(() => verifyCheckpoint(edited, k.jwk))).toBe('GNC_SIGNATURE_INVALID');
  });

  it('refuses a JWS of another typ with GNC_SCHEMA_INVALID', () => {
    const k = key();
    const jws = signJws({ alg: 'EdDSA', kid: k.signer.kid, typ: 'gnc+jws' }, new TextEncoder().encode(JSON.stringify(payload)), k.signer);
    expect(codeOf(() => decodeCheckpoint(`${jws.protected}.${jws.payload}.${jws.signature}`))).toBe('GNC_SCHEMA_INVALID');
  });

  it('refuses a payload that is not in RFC 8785 form with GNC_SCHEMA_INVALID', () => {
    const k = key();
    const jws = signJws({ alg: 'EdDSA', kid: k.signer.kid, typ: CHECKPOINT_TYP }, new TextEncoder().encode(JSON.stringify(payload, null, 1)), k.signer);
    expect(codeOf(() => decodeCheckpoint(`${jws.protected}.${jws.payload}.${jws.signature}`))).toBe('GNC_SCHEMA_INVALID');
  });
});
