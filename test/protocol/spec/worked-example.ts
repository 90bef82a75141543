/**
 * The worked example of protocol/SPEC.md section 11, computed by the code from published keys only:
 * KZ administration root = RFC 8032 TEST 3, KZ node signing key = RFC 8037 appendix A.1 (= RFC 8032 TEST 1),
 * KZ node libp2p key = RFC 8032 TEST 1024, KG node signing key = RFC 8032 TEST 2. Ed25519 is deterministic,
 * so anyone can recompute every byte; spec-example.test.ts holds SPEC.md to these values.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { issueNodeCertificate, type NodeCertificatePayload } from '../../../protocol/certificate.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import type { EnvelopePayload } from '../../../protocol/envelope/payload.js';
import { keyObjectSigner, sealEnvelope, type Signer } from '../../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';

interface Rfc8032Vector {
  name: string;
  secretKey: string;
  publicKey: string;
}

const rfc8032 = JSON.parse(readFileSync(new URL('../../vectors/rfc8032.json', import.meta.url), 'utf8')) as { vectors: Rfc8032Vector[] };

function vector(name: string): Rfc8032Vector {
  const v = rfc8032.vectors.find((x) => x.name === name);
  if (!v) throw new Error(`RFC 8032 vector ${name} missing`);
  return v;
}

function key(name: string): { privateKey: KeyObject; signer: Signer; kid: string } {
  const v = vector(name);
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(v.secretKey, 'hex').toString('base64url'), x: Buffer.from(v.publicKey, 'hex').toString('base64url') },
    format: 'jwk',
  });
  const kid = jwkThumbprint(publicJwkOf(privateKey));
  return { privateKey, signer: keyObjectSigner(kid, privateKey), kid };
}

export interface WorkedExample {
  certificateClaims: NodeCertificatePayload;
  certificate: string;
  payload: EnvelopePayload;
  canonicalPayload: string;
  protectedHeader: string;
  envelope: string;
  envelopeSha256: string;
  receiptPayload: EnvelopePayload;
  receipt: string;
  receiptSha256: string;
}

export function workedExample(): WorkedExample {
  const root = key('TEST 3');
  const kzNode = key('TEST 1');
  const kgNode = key('TEST 2');
  const libp2p = vector('TEST 1024');
  const peerId = peerIdFromPrivateKey(privateKeyFromRaw(Buffer.from(libp2p.secretKey + libp2p.publicKey, 'hex'))).toString();

  const certificateClaims: NodeCertificatePayload = {
    v: 1,
    iss: root.kid,
    sub: kzNode.kid,
    country: 'KZ',
    name: 'State Revenue Committee',
    jwk: publicJwkOf(kzNode.privateKey),
    peerId,
    addrs: ['/dns4/gnc.example.kz/tcp/4001'],
    iat: '2026-01-01T00:00:00.000Z',
    nbf: '2026-01-01T00:00:00.000Z',
    exp: '2027-01-01T00:00:00.000Z',
  };
  const certificate = issueNodeCertificate(certificateClaims, root.signer);

  const payload: EnvelopePayload = {
    v: 1,
    id: '019ab5d2-7c40-7a3e-9f21-4b8c0d1e2f30',
    type: 'aeo',
    from: 'KZ',
    to: 'KG',
    agreement: 'KZ-KG-MRA-2026@1',
    created: '2026-11-24T09:30:00.000Z',
    purpose: 'aeo-mra-benefits',
    body: {
      kind: 'change',
      operator: {
        aeoId: 'KZAEO060140009876',
        nationalTraderId: '060140009876',
        legalName: 'Shymkent Cotton Processing LLP',
        address: { line: 'Tauke Khan Ave 17', city: 'Shymkent', country: 'KZ' },
        programme: 'both',
        status: 'suspended',
        statusDate: '2026-11-23',
        validFrom: '2023-09-01',
      },
      reason: 'Suspended pending an investigation',
    },
  };
  const sealed = sealEnvelope(payload, kzNode.signer);

  const receiptPayload: EnvelopePayload = {
    v: 1,
    id: '019ab5d2-7d11-7b02-8c3d-5e6f708192a3',
    type: 'receipt',
    from: 'KG',
    to: 'KZ',
    agreement: 'KZ-KG-MRA-2026@1',
    created: '2026-11-24T09:30:00.250Z',
    ref: payload.id,
    body: { messageId: payload.id, sha256: sealed.sha256, status: 'accepted', received: '2026-11-24T09:30:00.250Z' },
  };
  const receipt = sealEnvelope(receiptPayload, kgNode.signer);

  const decoder = new TextDecoder();
  return {
    certificateClaims,
    certificate,
    payload,
    canonicalPayload: canonicalJson(payload),
    protectedHeader: decoder.decode(Buffer.from(sealed.jws.protected, 'base64url')),
    envelope: decoder.decode(sealed.bytes),
    envelopeSha256: sealed.sha256,
    receiptPayload,
    receipt: decoder.decode(receipt.bytes),
    receiptSha256: receipt.sha256,
  };
}
