/**
 * A message held (SPEC section 4, check 10), on two real nodes: KG answers exactly the bytes of a message it accepted
 * from KZ with the receipt it stored then, also once the key that signed them has ended or they are older than the
 * maximum age, and stores, logs and feeds nothing for it. Other bytes under the same id, and a duplicate under a key
 * revoked at or before its `created`, are refused as before. KG's clock is moved ahead to end the key.
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
import { networkForFile, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const HOUR = 3_600_000;
/** Added to KG's clock: past the end of a key certified for an hour, or past the maximum message age. */
let kgAhead = 0;

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KG' ? { clock: () => Date.now() + kgAhead } : {}) });

/** A new node key of KZ, certified by KZ's root until an hour from now, and announced to KG. */
async function shortKey(): Promise<Signer> {
  const { privateKey } = generateKeyPairSync('ed25519') as { privateKey: KeyObject };
  const jwk = publicJwkOf(privateKey);
  const signer = keyObjectSigner(jwkThumbprint(jwk), privateKey);
  const root = loadRootKey(kz.dir, kz.node.parts.identity.root.thumbprint).signer;
  const current = decodeNodeCertificate(kz.node.parts.identity.certificate);
  const certificate = issueNodeCertificate({ ...current, iss: root.kid, sub: signer.kid, jwk, iat: new Date().toISOString(), exp: new Date(Date.now() + HOUR).toISOString() } as never, root);
  expect(await receiptFor(seal(signer, 'key', { action: 'announce', certificate }))).toMatchObject({ status: 'accepted' });
  return signer;
}

function seal(signer: Signer, type: string, body: Record<string, unknown>, id = newMessageId()): Uint8Array {
  const agreement = type === 'key' ? null : 'KZ-KG-test@1';
  const purpose = type === 'key' ? {} : { purpose: 'pre-arrival-risk-assessment' };
  return sealEnvelope({ v: 1, id, type, from: 'KZ', to: 'KG', agreement, created: new Date().toISOString(), ...purpose, body } as never, signer).bytes;
}

async function answer(bytes: Uint8Array): Promise<Buffer> {
  return Buffer.from(await kz.node.session('KG').request(bytes));
}

async function receiptFor(bytes: Uint8Array): Promise<{ status: string; code?: string }> {
  const jws = JSON.parse((await answer(bytes)).toString('utf8'));
  return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')).body;
}

/** What KG holds and has logged: a duplicate answered from the store changes none of it. */
function counts(): { messages: number; receipts: number; evidence: number; rejections: number; riskEvents: number } {
  const count = (table: string): number => kg.node.parts.store.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
  return { messages: count('messages'), receipts: count('receipts'), evidence: count('evidence'), rejections: count('rejections'), riskEvents: count('risk_events') };
}

async function ahead(ms: number, run: () => Promise<void>): Promise<void> {
  kgAhead = ms;
  try {
    await run();
  } finally {
    kgAhead = 0;
  }
}

describe('exactly the bytes of a message KG holds', () => {
  it('get the stored receipt after their key ended and past the maximum age, and change nothing at KG', async () => {
    const key = await shortKey();
    const id = newMessageId();
    const bytes = seal(key, 'aci', aci, id);
    const first = await answer(bytes);
    expect(JSON.parse(Buffer.from(JSON.parse(first.toString()).payload, 'base64url').toString()).body).toMatchObject({ status: 'accepted', messageId: id });
    // the arrival is assessed and fed: wait for that, so that nothing of it comes after the counts
    await waitFor(() => (counts().riskEvents > 0 ? true : undefined), 10_000, 'the risk event of the arrival');
    await new Promise((r) => setTimeout(r, 300));
    const before = counts();

    for (const [what, ms] of [['the key ended', 2 * HOUR], ['older than the maximum age', kg.node.parts.config.maxMessageAgeHours * HOUR + 2 * HOUR]] as const) {
      await ahead(ms, async () => {
        // the key is refused for anything new
        expect(await receiptFor(seal(key, 'aci', aci)), what).toMatchObject({ status: 'rejected', code: 'GNC_KEY_EXPIRED' });
        const counted = counts();
        expect((await answer(bytes)).equals(first), what).toBe(true);
        await new Promise((r) => setTimeout(r, 300));
        expect(counts(), what).toEqual(counted);
      });
    }
    // the two refusals above are all that changed (a rejection and its receipt-sent entry each)
    expect(counts()).toEqual({ ...before, rejections: before.rejections + 2, evidence: before.evidence + 2 });
    expect(kg.node.parts.store.messages.byId(id)).toHaveLength(1);
  }, 30_000);

  it('are refused as before when other bytes carry the id, under the ended key (GNC_KEY_EXPIRED)', async () => {
    const key = await shortKey();
    const id = newMessageId();
    expect(await receiptFor(seal(key, 'aci', aci, id))).toMatchObject({ status: 'accepted' });
    await ahead(2 * HOUR, async () => {
      const other = seal(key, 'aci', { ...aci, functionalReference: 'OTHER-BYTES-1' }, id);
      expect(await receiptFor(other)).toMatchObject({ status: 'rejected', code: 'GNC_KEY_EXPIRED' });
    });
    // and, while the key counts, GNC_REPLAY
    expect(await receiptFor(seal(key, 'aci', { ...aci, functionalReference: 'OTHER-BYTES-2' }, id))).toMatchObject({ status: 'rejected', code: 'GNC_REPLAY' });
  }, 30_000);

  it('are refused as before once KZ revoked their key at or before their created (GNC_KEY_REVOKED)', async () => {
    const key = await shortKey();
    const bytes = seal(key, 'aci', aci);
    const created = Date.parse(JSON.parse(Buffer.from(JSON.parse(Buffer.from(bytes).toString()).payload, 'base64url').toString()).created);
    expect(await receiptFor(bytes)).toMatchObject({ status: 'accepted' });
    // the key was compromised from before the message was sealed: KG learns that after it accepted the message
    const root = loadRootKey(kz.dir, kz.node.parts.identity.root.thumbprint).signer;
    const notice = signKeyNotice({ v: 1, kind: 'revocation', country: 'KZ', kid: key.kid, reason: 'compromised', revokedAt: new Date(created).toISOString() }, root);
    expect(await receiptFor(seal(kz.node.parts.signer(), 'key', { action: 'revoke', notice }))).toMatchObject({ status: 'accepted' });
    expect(await receiptFor(bytes)).toMatchObject({ status: 'rejected', code: 'GNC_KEY_REVOKED' });
    // also once the key has ended
    await ahead(2 * HOUR, async () => {
      expect(await receiptFor(bytes)).toMatchObject({ status: 'rejected', code: 'GNC_KEY_REVOKED' });
    });
  }, 30_000);
});
