import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { b64u } from '../../../protocol/envelope/base64url.js';
import { keyObjectSigner, signJws } from '../../../protocol/envelope/seal.js';
import { CHECKPOINT_TYP, signCheckpoint } from '../../../protocol/evidence/checkpoint.js';
import { decodeExportStatement, envelopesDigest, EXPORT_STATEMENT_TYP, signExportStatement, type ExportStatementPayload } from '../../../protocol/evidence/statement.js';
import { verifyCompactWithNode } from '../../../protocol/evidence/compact-jws.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';
import { codeOf } from '../../helpers/errors.js';

function key() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwkOf(privateKey);
  return { jwk, signer: keyObjectSigner(jwkThumbprint(jwk), privateKey) };
}

/** SHA-256 of "a", "b" and "c" (FIPS 180-2 gives the first). */
const A = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
const B = '3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
const C = '2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6';

const payload: ExportStatementPayload = {
  v: 1, node: 'KZ', at: '2026-03-11T08:00:00.000Z', seq: 42, selection: { partner: 'KG', since: '2026-03-01T00:00:00.000Z' },
  envelopes: envelopesDigest([A, B, C]),
};

describe('export statements (SPEC 9.5.4)', () => {
  it('digests the distinct envelope hashes as `sort -u | sha256sum` does', () => {
    // computed independently: printf '%s\n' <the three hashes> | sort -u | sha256sum (and with Python's hashlib)
    const expected = { count: 3, digest: 'a8a97548991324f0f374f85a5c9ec0d73518791961724892bb71c886efdd5458' };
    expect(envelopesDigest([A, B, C])).toEqual(expected);
    expect(envelopesDigest([C, A, B, A])).toEqual(expected);
    expect(envelopesDigest([A, B]).digest).not.toBe(expected.digest);
  });

  it('signs with the node key under its own typ, and decodes to the same payload', () => {
    const k = key();
    const compact = signExportStatement(payload, k.signer);
    const decoded = decodeExportStatement(compact);
    expect(decoded.header).toEqual({ alg: 'EdDSA', kid: k.signer.kid, typ: EXPORT_STATEMENT_TYP });
    expect(decoded.payload).toEqual(payload);
    expect(verifyCompactWithNode(compact, k.jwk)).toBe(true);
    expect(verifyCompactWithNode(compact, key().jwk)).toBe(false);
  });

  it('is never read as a checkpoint, nor a checkpoint as a statement', () => {
    const k = key();
    const checkpoint = signCheckpoint({ v: 1, node: 'KZ', seq: 1, hash: A, at: payload.at }, k.signer);
    expect(codeOf(() => decodeExportStatement(checkpoint))).toBe('GNC_SCHEMA_INVALID');
    const other = signJws({ alg: 'EdDSA', kid: k.signer.kid, typ: CHECKPOINT_TYP }, Buffer.from(JSON.stringify(payload)), k.signer);
    expect(codeOf(() => decodeExportStatement(`${other.protected}.${other.payload}.${other.signature}`))).toBe('GNC_SCHEMA_INVALID');
  });

  it('refuses a payload that is not in RFC 8785 form, or has members the format does not name', () => {
    const k = key();
    const [h, , s] = signExportStatement(payload, k.signer).split('.');
    const spaced = `${h}.${b64u(JSON.stringify(payload, null, 1))}.${s}`;
    expect(() => decodeExportStatement(spaced)).toThrow(/RFC 8785 canonical form/);
    const extra = signJws({ alg: 'EdDSA', kid: k.signer.kid, typ: EXPORT_STATEMENT_TYP }, Buffer.from(JSON.stringify({ ...payload, note: 'x' })), k.signer);
    expect(codeOf(() => decodeExportStatement(`${extra.protected}.${extra.payload}.${extra.signature}`))).toBe('GNC_SCHEMA_INVALID');
  });
});
