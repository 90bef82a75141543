/**
 * A key announcement signed by the key it announces (SPEC sections 4 and 9.10), on two real nodes: KG accepts an
 * envelope by a key it does not know only when that envelope is a `key` `announce` of the root-signed certificate of
 * exactly its signing key, from KZ's root in office; then the key signs like any other. Every other envelope by an
 * unknown key is refused as before (GNC_KEY_UNKNOWN), also an announcement of another key or under another root.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadRootKey } from '../../../certs/identity.js';
import { decodeNodeCertificate, issueNodeCertificate } from '../../../protocol/certificate.js';
import { keyObjectSigner, sealEnvelope, type Signer } from '../../../protocol/envelope/seal.js';
import { newMessageId } from '../../../protocol/ids.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';
import { signKeyNotice } from '../../../protocol/notice.js';
import { networkForFile } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

/** A fresh node key, not known to KG. */
function newKey(): { signer: Signer; privateKey: KeyObject } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { signer: keyObjectSigner(jwkThumbprint(publicJwkOf(privateKey)), privateKey), privateKey };
}

/** A certificate of `key` like KZ's current one, signed by `root` (default: KZ's root), with `over` claims changed. */
function certify(key: { privateKey: KeyObject }, over: Record<string, unknown> = {}, root: Signer = loadRootKey(kz.dir, kz.node.parts.identity.root.thumbprint).signer): string {
  const jwk = publicJwkOf(key.privateKey);
  const current = decodeNodeCertificate(kz.node.parts.identity.certificate);
  return issueNodeCertificate({ ...current, iss: root.kid, sub: jwkThumbprint(jwk), jwk, iat: new Date().toISOString(), ...over } as never, root);
}

function seal(signer: Signer, type: string, body: Record<string, unknown>): Uint8Array {
  const agreement = type === 'key' ? null : 'KZ-KG-test@1';
  const purpose = type === 'key' ? {} : { purpose: 'pre-arrival-risk-assessment' };
  return sealEnvelope({ v: 1, id: newMessageId(), type, from: 'KZ', to: 'KG', agreement, created: new Date().toISOString(), ...purpose, body } as never, signer).bytes;
}

async function receiptFor(bytes: Uint8Array): Promise<{ status: string; code?: string }> {
  const answer = await kz.node.session('KG').request(bytes);
  const jws = JSON.parse(Buffer.from(answer).toString('utf8'));
  return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')).body;
}

describe('an envelope signed by a key the receiver does not know', () => {
  it('is accepted when it announces the root-signed certificate of its own signing key, which then signs like any other', async () => {
    const key = newKey();
    expect(await receiptFor(seal(key.signer, 'key', { action: 'announce', certificate: certify(key) }))).toMatchObject({ status: 'accepted' });
    expect(kg.node.parts.trust.resolveKey(key.signer.kid)?.country).toBe('KZ');
    expect(await receiptFor(seal(key.signer, 'aci', aci))).toMatchObject({ status: 'accepted' });
  });

  it('is refused as before when it is anything else (GNC_KEY_UNKNOWN)', async () => {
    const key = newKey();
    const own = certify(key);
    const other = newKey();
    const foreignRoot = newKey().signer;
    const cases: [string, Uint8Array][] = [
      ['a business message', seal(key.signer, 'aci', aci)],
      ["an announcement of KZ's current key", seal(key.signer, 'key', { action: 'announce', certificate: kz.node.parts.identity.certificate })],
      ['an announcement of another new key', seal(key.signer, 'key', { action: 'announce', certificate: certify(other) })],
      ['an announcement under a root KG never pinned', seal(key.signer, 'key', { action: 'announce', certificate: certify(key, {}, foreignRoot) })],
      ['an announcement of a key certified for another country', seal(key.signer, 'key', { action: 'announce', certificate: certify(key, { country: 'UZ' }) })],
      ['an announcement whose certificate ended', seal(key.signer, 'key', { action: 'announce', certificate: certify(key, { nbf: '2020-01-01T00:00:00Z', exp: '2021-01-01T00:00:00Z' }) })],
      ['a revocation carrying the certificate', seal(key.signer, 'key', { action: 'revoke', notice: own, certificate: own })],
    ];
    for (const [what, bytes] of cases) expect(await receiptFor(bytes), what).toMatchObject({ status: 'rejected', code: 'GNC_KEY_UNKNOWN' });
    expect(kg.node.parts.trust.resolveKey(key.signer.kid)).toBeUndefined();
  });

  it('is refused as before when KZ revoked that key before the envelope was created (GNC_KEY_UNKNOWN)', async () => {
    const key = newKey();
    const root = loadRootKey(kz.dir, kz.node.parts.identity.root.thumbprint).signer;
    const notice = signKeyNotice({ v: 1, kind: 'revocation', country: 'KZ', kid: key.signer.kid, reason: 'compromised', revokedAt: new Date(Date.now() - 60_000).toISOString() }, root);
    expect(await receiptFor(seal(kz.node.parts.signer(), 'key', { action: 'revoke', notice }))).toMatchObject({ status: 'accepted' });
    expect(await receiptFor(seal(key.signer, 'key', { action: 'announce', certificate: certify(key) }))).toMatchObject({ status: 'rejected', code: 'GNC_KEY_UNKNOWN' });
    expect(kg.node.parts.trust.resolveKey(key.signer.kid)).toBeUndefined();
  });
});
