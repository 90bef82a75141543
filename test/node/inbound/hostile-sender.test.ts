/**
 * A partner that breaks the rules on purpose or by a bug, talking to a real KG node over real libp2p: the envelopes are
 * sealed here with KZ's real node key (so they pass the key and signature checks) and put on the wire through KZ's
 * session, which sends whatever bytes it is given, so only KG's receiver stands between them and its store. Each
 * refusal must be a signed negative receipt, store nothing of the message, keep no more of the refused content than
 * the receipt states, and leave the node serving the next message.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_REASON_CHARS } from '../../../protocol/constants.js';
import { signNotice } from '../../../protocol/agreement/index.js';
import { signKeyNotice } from '../../../protocol/notice.js';
import type { Signer } from '../../../protocol/envelope/seal.js';
import { sealEnvelope } from '../../../protocol/envelope/seal.js';
import { newMessageId } from '../../../protocol/ids.js';
import { api, networkForFile, openAgreementDraft, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const SECRET = 'Secret Trader Name That Must Not Outlive Its Retention';

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

/** Envelope bytes whose payload part is exactly `payload`, signed with KZ's real node key (sealEnvelope would refuse it). */
function signedAsKz(payload: string): Uint8Array {
  const signer = kz.node.parts.identity.node.signer;
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: signer.kid, typ: 'gnc+jws' })).toString('base64url');
  const part = Buffer.from(payload).toString('base64url');
  const signature = Buffer.from(signer.sign(Buffer.from(`${header}.${part}`, 'ascii'))).toString('base64url');
  return Buffer.from(JSON.stringify({ protected: header, payload: part, signature }));
}

/** The canonical payload text of an ACI from KZ with `body` spliced in as raw JSON text. */
function payloadWithBody(body: string): string {
  const text = JSON.stringify({ agreement: 'KZ-KG-test@1', body: { x: 0 }, created: new Date().toISOString(), from: 'KZ', id: newMessageId(), purpose: 'pre-arrival-risk-assessment', to: 'KG', type: 'aci', v: 1 });
  return text.replace('{"x":0}', body);
}

/** An envelope sealed with KZ's real node key, with any payload the test wants (no check of KZ's node applies). */
function sealAsKz(overrides: Record<string, unknown> = {}) {
  return sealEnvelope(
    { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci, ...overrides } as never,
    kz.node.parts.identity.node.signer,
  );
}

interface Receipt { messageId: string; status: string; code?: string; reason?: string }

async function receiptFor(bytes: Uint8Array): Promise<Receipt> {
  const answer = JSON.parse(Buffer.from(await kz.node.session('KG').request(bytes)).toString('utf8'));
  return JSON.parse(Buffer.from(answer.payload, 'base64url').toString('utf8')).body;
}

function rejectionOf(sha256: string): { message_id: string | null; code: string; reason: string } {
  return kg.node.parts.store.db.prepare('SELECT message_id, code, reason FROM rejections WHERE sha256 = ?').get(sha256) as never;
}

async function stillServes(): Promise<void> {
  expect(await receiptFor(sealAsKz().bytes)).toMatchObject({ status: 'accepted' });
}

describe('a sender that breaks the rules', () => {
  it('keeps no claimed id that is not a message id in the rejection record: the receipt names it "unknown", and the record outlives the reason', async () => {
    // refused content in the id: not a message id (spaces, 100 kB); the code and the id of a record stay for good
    const sealed = sealAsKz({ id: `${SECRET} ${'x'.repeat(100_000)}` });
    const r = await receiptFor(sealed.bytes);
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_ENVELOPE_MALFORMED', messageId: 'unknown' });
    const record = rejectionOf(sealed.sha256);
    expect(record.code).toBe('GNC_ENVELOPE_MALFORMED');
    expect(record.message_id).toBeNull();
    await stillServes();
  });

  it('keeps the id a refused envelope claims when it is a message id', async () => {
    const id = newMessageId();
    const sealed = sealAsKz({ id, to: 'CN' });
    expect(await receiptFor(sealed.bytes)).toMatchObject({ status: 'rejected', code: 'GNC_WRONG_RECIPIENT', messageId: id });
    expect(rejectionOf(sealed.sha256).message_id).toBe(id);
  });

  it('keeps the reason the negative receipt states, at most MAX_REASON_CHARS, not a reason quoting a 500 kB member name', async () => {
    const sealed = sealAsKz({ body: { ...aci, [`${SECRET}${'k'.repeat(500_000)}`]: 1 } });
    const r = await receiptFor(sealed.bytes);
    expect(r).toMatchObject({ status: 'rejected' });
    expect(r.reason!.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    const kept = rejectionOf(sealed.sha256).reason;
    expect(kept.length).toBeLessThanOrEqual(MAX_REASON_CHARS); // not toBe: a failure would print half a megabyte
    expect(kept === r.reason).toBe(true);
    await stillServes();
  });

  it('refuses a control envelope that claims an agreement or a purpose (GNC_ENVELOPE_MALFORMED), and stores nothing of it', async () => {
    // a key announcement needs no agreement (SPEC section 3: `agreement` null); claimed, it would be stored and shown
    // as if the envelope had been accepted under that agreement, and the receipt would echo it
    const announce = { type: 'key', purpose: undefined, agreement: null, body: { action: 'announce', certificate: kz.node.parts.identity.certificate } };
    for (const claim of [{ agreement: 'KZ-KG-test@1' }, { purpose: 'statistics' }]) {
      const sealed = sealAsKz({ ...announce, ...claim });
      const r = await receiptFor(sealed.bytes);
      expect(r, JSON.stringify(claim)).toMatchObject({ status: 'rejected', code: 'GNC_ENVELOPE_MALFORMED' });
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', r.messageId)).toBeUndefined();
    }
    // the same announcement as the SPEC writes it is taken (KG holds the certificate already: no change)
    expect(await receiptFor(sealAsKz(announce).bytes)).toMatchObject({ status: 'accepted' });
    await stillServes();
  });

  it('refuses a signed payload that has no canonical form, nested 300,000 deep or holding a lone surrogate, as not canonical (GNC_ENVELOPE_MALFORMED, SPEC section 4 check 8)', async () => {
    for (const body of [`{"x":${'['.repeat(300_000)}${']'.repeat(300_000)}}`, '{"x":"\\ud800"}']) {
      const r = await receiptFor(signedAsKz(payloadWithBody(body)));
      expect(r, body.slice(0, 20)).toMatchObject({ status: 'rejected', code: 'GNC_ENVELOPE_MALFORMED' });
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', r.messageId)).toBeUndefined();
    }
    await stillServes();
  });

  it('refuses a signed payload with a duplicate member inside the body (GNC_ENVELOPE_MALFORMED), whichever copy a reader would take', async () => {
    const text = payloadWithBody(JSON.stringify(aci)).replace('"body":{', '"body":{"consignee":{"name":"Someone else"},');
    const r = await receiptFor(signedAsKz(text));
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_ENVELOPE_MALFORMED' });
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', r.messageId)).toBeUndefined();
  });

  it('refuses a message under a version that is not yet in force, signed by both in advance (GNC_AGREEMENT_NONE)', async () => {
    const renewal = openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01T00:00:00Z', validUntil: '2031-12-31T23:59:59Z' });
    expect((await api(kz, 'POST', '/v1/agreements', { draft: renewal, propose: true })).status).toBe(201);
    await waitFor(async () => ((await api(kg, 'GET', '/v1/agreements/KZ-KG-test?version=2')).status === 200 ? true : undefined));
    expect((await api(kg, 'POST', '/v1/agreements/KZ-KG-test/sign?version=2')).json.status).toBe('not-yet-valid');
    const sealed = sealAsKz({ agreement: 'KZ-KG-test@2' });
    const r = await receiptFor(sealed.bytes);
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_AGREEMENT_NONE' });
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', r.messageId)).toBeUndefined();
    await stillServes();
  });

  it('refuses a message under the version in force while the partner has suspended it, and takes it again once resumed (GNC_AGREEMENT_NONE)', async () => {
    expect((await api(kg, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Data protection review' })).status).toBe(202);
    const r = await receiptFor(sealAsKz().bytes);
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_AGREEMENT_NONE' });
    expect(r.reason).toContain('suspended');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', r.messageId)).toBeUndefined();
    expect((await api(kg, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'Review completed' })).status).toBe(202);
    await stillServes();
  });

  it("refuses control documents signed by KZ's node key under its root's kid, and applies none of them", async () => {
    const node = kz.node.parts.identity.node.signer;
    // the node key, presenting itself as KZ's root: only the root commits KZ to a notice or retires a key
    const posing: Signer = { kid: kz.node.parts.identity.root.thumbprint, sign: (data) => node.sign(data) };
    const notice = signNotice({ v: 1, agreementId: 'KZ-KG-test', version: 1, action: 'terminate', effective: new Date().toISOString(), reason: 'Signed by a node key', by: 'KZ' }, posing);
    const terminate = await receiptFor(sealAsKz({ type: 'agreement', purpose: undefined, agreement: null, body: { action: 'notice', notice } }).bytes);
    expect(terminate).toMatchObject({ status: 'rejected', code: 'GNC_AGREEMENT_SIGNATURE' });
    expect((await api(kg, 'GET', '/v1/agreements/KZ-KG-test?version=1')).json.status).toBe('active');
    const revocation = signKeyNotice({ v: 1, kind: 'revocation', country: 'KZ', kid: node.kid, reason: 'Signed by a node key', revokedAt: new Date(Date.now() - 60_000).toISOString() }, posing);
    const revoke = await receiptFor(sealAsKz({ type: 'key', purpose: undefined, agreement: null, body: { action: 'revoke', notice: revocation } }).bytes);
    expect(revoke).toMatchObject({ status: 'rejected' });
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', revoke.messageId)).toBeUndefined();
    // KZ's key still signs for KZ at KG
    await stillServes();
  });
});
