/**
 * End to end over real libp2p (127.0.0.1) between two nodes with real SQLite stores: signed envelopes,
 * signed receipts, deduplication, and every refusal on the wire answered by a signed negative receipt.
 */
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { flattenedVerify, importJWK } from 'jose';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { multiaddr } from '@multiformats/multiaddr';
import { EXCHANGE_PROTOCOL } from '../../protocol/constants.js';
import { keyObjectSigner, sealEnvelope } from '../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf } from '../../protocol/jwk.js';
import { newMessageId } from '../../protocol/ids.js';
import { FrameDecoder, FRAME_ERROR } from '../../protocol/wire.js';
import { decodeNodeCertificate } from '../../protocol/certificate.js';
import { api, finalMessage, networkForFile } from '../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const ecoo = JSON.parse(readFileSync(new URL('../../examples/messages/ecoo-kz-kg-preferential.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

async function submitAci(): Promise<string> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  return r.json.id as string;
}

const delivered = (id: string): Promise<any> => finalMessage(kz, id);

/** An envelope sealed with KZ's real node key, with any payload the test wants. */
function sealAsKz(overrides: Record<string, unknown> = {}, signer = kz.node.parts.identity.node.signer) {
  return sealEnvelope(
    { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci, ...overrides } as never,
    signer,
  );
}

async function receiptFor(bytes: Uint8Array): Promise<{ status: string; code?: string; messageId: string }> {
  const answer = await kz.node.session('KG').request(bytes);
  const jws = JSON.parse(Buffer.from(answer).toString('utf8'));
  return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')).body;
}

describe('exchange between two nodes', () => {
  it('delivers a submitted ACI and records the partner signed accepted receipt', async () => {
    const id = await submitAci();
    const m = await delivered(id);
    expect(m.status).toBe('delivered');
    expect(m.receipt.status).toBe('accepted');
    const inbound = await api(kg, 'GET', `/v1/messages/${id}`);
    expect(inbound.json.direction).toBe('in');
    expect(inbound.json.body.functionalReference).toBe(aci['functionalReference']);
  });

  it('keeps envelopes that a standard JOSE library verifies under the certified keys', async () => {
    const id = await submitAci();
    const m = await delivered(id);
    const kzCert = decodeNodeCertificate(kz.node.parts.identity.certificate);
    const kgCert = decodeNodeCertificate(kg.node.parts.identity.certificate);
    const env = await flattenedVerify(m.envelope, await importJWK(kzCert.jwk, 'EdDSA'));
    expect(env.protectedHeader).toEqual({ alg: 'EdDSA', kid: kzCert.sub, typ: 'gnc+jws' });
    const rec = await flattenedVerify(m.receipt.envelope, await importJWK(kgCert.jwk, 'EdDSA'));
    const body = JSON.parse(new TextDecoder().decode(rec.payload)).body;
    expect(body.sha256).toBe(m.sha256);
  });

  it('answers a duplicate of the same envelope with the same receipt and stores one row', async () => {
    const sealed = sealAsKz();
    const first = await kz.node.session('KG').request(sealed.bytes);
    const second = await kz.node.session('KG').request(sealed.bytes);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    const id = JSON.parse(Buffer.from(sealed.jws.payload, 'base64url').toString()).id;
    expect(kg.node.parts.store.messages.byId(id)).toHaveLength(1);
  });

  it('stores the received row before the receipt leaves', async () => {
    const sealed = sealAsKz();
    const receipt = await receiptFor(sealed.bytes);
    expect(receipt.status).toBe('accepted');
    // a second connection to the same file sees the committed row
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(`${kg.dir}/gnc.sqlite`, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM messages WHERE id = ?').get(receipt.messageId)).toEqual({ n: 1 });
    db.close();
  });

  it('rejects a replayed id with different content (GNC_REPLAY)', async () => {
    const id = newMessageId();
    expect((await receiptFor(sealAsKz({ id }).bytes)).status).toBe('accepted');
    const r = await receiptFor(sealAsKz({ id, body: { ...aci, functionalReference: 'OTHER-REF-1' } }).bytes);
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_REPLAY', messageId: id });
    expect(kg.node.parts.store.messages.byId(id)).toHaveLength(1);
  });

  it('rejects an envelope with a bad signature (GNC_SIGNATURE_INVALID)', async () => {
    const sealed = sealAsKz();
    const sig = Buffer.from(sealed.jws.signature, 'base64url');
    sig[5]! ^= 0x01;
    const bad = Buffer.from(JSON.stringify({ ...sealed.jws, signature: sig.toString('base64url') }));
    expect(await receiptFor(bad)).toMatchObject({ status: 'rejected', code: 'GNC_SIGNATURE_INVALID' });
  });

  it('rejects an envelope signed by an uncertified key (GNC_KEY_UNKNOWN)', async () => {
    const k = generateKeyPairSync('ed25519').privateKey;
    const rogue = keyObjectSigner(jwkThumbprint(publicJwkOf(k)), k);
    expect(await receiptFor(sealAsKz({}, rogue).bytes)).toMatchObject({ status: 'rejected', code: 'GNC_KEY_UNKNOWN' });
  });

  it('rejects an envelope whose from is not the certified country (GNC_SENDER_MISMATCH)', async () => {
    expect(await receiptFor(sealAsKz({ from: 'CN' }).bytes)).toMatchObject({ status: 'rejected', code: 'GNC_SENDER_MISMATCH' });
  });

  it('rejects an envelope addressed to another country (GNC_WRONG_RECIPIENT)', async () => {
    expect(await receiptFor(sealAsKz({ to: 'CN' }).bytes)).toMatchObject({ status: 'rejected', code: 'GNC_WRONG_RECIPIENT' });
  });

  it('rejects an envelope created far in the future (GNC_CLOCK_SKEW)', async () => {
    const created = new Date(Date.now() + 3_600_000).toISOString();
    expect(await receiptFor(sealAsKz({ created }).bytes)).toMatchObject({ status: 'rejected', code: 'GNC_CLOCK_SKEW' });
  });

  it('rejects a body that violates its schema with the field path (GNC_SCHEMA_INVALID)', async () => {
    const r = await receiptFor(sealAsKz({ body: { ...aci, goodsItems: 'none' } }).bytes);
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_SCHEMA_INVALID' });
    expect((r as { reason?: string }).reason).toContain('/body/goodsItems');
  });

  it('rejects a declaration that names an earlier message in ref, instead of grafting it onto that consignment (GNC_SCHEMA_INVALID)', async () => {
    const id = await submitAci();
    await delivered(id);
    const r = await receiptFor(sealAsKz({ ref: id }).bytes);
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_SCHEMA_INVALID' });
  });

  it('rejects an amendment whose ref names a message of another type (GNC_ORIGINAL_UNKNOWN), and stores nothing of it', async () => {
    const certificate = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'ecoo', purpose: 'origin-verification', body: ecoo });
    expect(certificate.status, certificate.text).toBe(202);
    expect((await delivered(certificate.json.id)).status).toBe('delivered');
    const amendment = sealAsKz({ ref: certificate.json.id, body: { ...aci, kind: 'amendment', amendmentReason: 'Corrected gross mass' } });
    const r = await receiptFor(amendment.bytes);
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_ORIGINAL_UNKNOWN' });
    expect((r as { reason?: string }).reason).toContain('an ecoo message, not an aci one');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', JSON.parse(Buffer.from(amendment.jws.payload, 'base64url').toString()).id)).toBeUndefined();
  });

  it('rejects an e-CoO status whose ref names the message of another certificate (GNC_ORIGINAL_UNKNOWN)', async () => {
    const certificate = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'ecoo', purpose: 'origin-verification', body: ecoo });
    expect((await delivered(certificate.json.id)).status).toBe('delivered');
    const status = { kind: 'status', certificateNumber: 'KZ-ST1-2026-0047990', status: 'cancelled', statusDate: '2026-11-23' };
    const r = await receiptFor(sealAsKz({ type: 'ecoo', purpose: 'origin-verification', ref: certificate.json.id, body: status }).bytes);
    expect(r).toMatchObject({ status: 'rejected', code: 'GNC_ORIGINAL_UNKNOWN' });
    expect((r as { reason?: string }).reason).toContain(`certificate ${ecoo['certificateNumber']}, not KZ-ST1-2026-0047990`);
  });

  it('keeps only a rejection record for a refused envelope, never its content', async () => {
    const sealed = sealAsKz({ to: 'CN' });
    await receiptFor(sealed.bytes);
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', JSON.parse(Buffer.from(sealed.jws.payload, 'base64url').toString()).id)).toBeUndefined();
    expect(kg.node.parts.store.rejections.list(50).some((r) => r.sha256 === sealed.sha256 && r.code === 'GNC_WRONG_RECIPIENT')).toBe(true);
  });

  it('answers a frame over the size limit with a GNC_FRAME_TOO_LARGE error frame', async () => {
    const kgCert = decodeNodeCertificate(kg.node.parts.identity.certificate);
    const stream = await kz.node.host!.dialProtocol(multiaddr(`${kgCert.addrs[0]}/p2p/${kgCert.peerId}`), EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000) });
    const frames: { kind: number; payload: Uint8Array }[] = [];
    const decoder = new FrameDecoder();
    const got = new Promise<void>((resolve) => {
      stream.addEventListener('message', (e) => {
        const data = e.data instanceof Uint8Array ? e.data : e.data.subarray();
        for (const f of decoder.push(data)) frames.push(f);
        if (frames.length) resolve();
      });
      stream.addEventListener('close', () => resolve());
    });
    // varint of 3 MiB: the receiver must refuse it from the prefix alone
    stream.send(Uint8Array.from([0x80, 0x80, 0xc0, 0x01]));
    await got;
    expect(frames[0]?.kind).toBe(FRAME_ERROR);
    expect(JSON.parse(Buffer.from(frames[0]!.payload).toString()).code).toBe('GNC_FRAME_TOO_LARGE');
  });

  it('refuses a libp2p peer that no trusted certificate names', async () => {
    const stranger = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    await stranger.start();
    try {
      const kgCert = decodeNodeCertificate(kg.node.parts.identity.certificate);
      await expect(stranger.dialProtocol(multiaddr(`${kgCert.addrs[0]}/p2p/${kgCert.peerId}`), EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    } finally {
      await stranger.stop();
    }
  });

  it('refuses requests beyond 64 in flight on one stream unprocessed (GNC_TOO_MANY_IN_FLIGHT), and serves the stream on', async () => {
    const session = kz.node.session('KG');
    expect((await receiptFor(new TextEncoder().encode('{}'))).code).toBe('GNC_ENVELOPE_MALFORMED'); // the stream is open
    const refusedBefore = kg.node.parts.store.db.prepare('SELECT COUNT(*) FROM rejections').pluck().get() as number;
    // 200 requests written in one turn leave in one frame batch; the partner reads them in one go
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => session.request(new TextEncoder().encode('{}'))));
    const answered = results.filter((r) => r.status === 'fulfilled').length;
    const excess = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'GNC_TOO_MANY_IN_FLIGHT').length;
    expect([answered, excess]).toEqual([64, 136]);
    // only the 64 were processed (each refused envelope leaves a rejection record)
    expect(kg.node.parts.store.db.prepare('SELECT COUNT(*) FROM rejections').pluck().get()).toBe(refusedBefore + 64);
    // the stream stays usable: a real message still goes through on it
    const id = await submitAci();
    expect((await delivered(id)).status).toBe('delivered');
  });
});
