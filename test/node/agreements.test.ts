/**
 * Bilateral agreements enforced by two real nodes over the wire: negotiation (proposal, countersignature),
 * refusal on send before anything is signed or queued, minimisation, signed negative receipts on receive,
 * suspension (queued messages expire), retention purge with a controlled clock, and refused documents.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sealEnvelope } from '../../protocol/envelope/seal.js';
import { newMessageId } from '../../protocol/ids.js';
import { signAgreement } from '../../protocol/agreement/index.js';
import { api, makeNetwork, openAgreementDraft, waitFor, type TestNode } from '../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const ecoo = JSON.parse(readFileSync(new URL('../../examples/messages/ecoo-kz-kg-preferential.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const risk = 'pre-arrival-risk-assessment';

let net: Awaited<ReturnType<typeof makeNetwork>> | undefined;
afterEach(async () => {
  await net?.close();
  net = undefined;
});

/** KZ->KG ACI only, with a field list (no exporter.id) and a chosen minimisation. */
function narrowDraft(minimise: boolean): Record<string, unknown> {
  const base = openAgreementDraft('KZ', 'KG');
  const fields = ['functionalReference', 'declarationId', 'declarationType', 'issueDateTime', 'ucr', 'declarationOffice', 'exporter.name', 'exporter.address', 'exporter.aeoId', 'consignor', 'consignee', 'carrier', 'notifyParty', 'borderTransportMeans', 'itinerary', 'officeOfExit', 'officeOfEntry', 'expectedArrival', 'containerised', 'transportEquipment', 'goodsItems', 'totalGrossMass', 'totalPackages', 'goodsItemCount', 'amendmentReason', 'reason'];
  return {
    ...base,
    id: `KZ-KG-NARROW-${minimise ? 'MIN' : 'STRICT'}`,
    directions: [{ from: 'KZ', to: 'KG', messages: [{ type: 'aci', fields, minimise, purposes: [risk], retentionDays: 30, onwardTransfer: false }] }],
  };
}

async function receiptFrom(from: TestNode, bytes: Uint8Array): Promise<{ status: string; code?: string }> {
  const answer = await from.node.session('KG').request(bytes);
  return JSON.parse(Buffer.from(JSON.parse(Buffer.from(answer).toString()).payload, 'base64url').toString()).body;
}

function sealAsKz(kz: TestNode, over: Record<string, unknown>) {
  return sealEnvelope({ v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-NARROW-STRICT@1', created: new Date().toISOString(), purpose: risk, body: aci, ...over } as never, kz.node.parts.identity.node.signer);
}

describe('agreements between two nodes', () => {
  it('refuses a submission when no agreement is in force, before anything is queued', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [] });
    const r = await api(net.nodes.KZ!, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('GNC_AGREEMENT_NONE');
    expect(net.nodes.KZ!.node.parts.store.messages.list({ limit: 10 })).toHaveLength(0);
  });

  it('negotiates an agreement over the wire: proposal, countersignature, then messages flow', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [] });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const created = await api(kz, 'POST', '/v1/agreements', { draft: openAgreementDraft('KZ', 'KG'), propose: true });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: 'awaiting-signature', signedBy: ['KZ'] });
    const atKg = await waitFor(async () => {
      const r = await api(kg, 'GET', '/v1/agreements/KZ-KG-test');
      return r.status === 200 ? r.json : undefined;
    });
    expect(atKg.signedBy).toEqual(['KZ']);
    expect((await api(kg, 'POST', '/v1/agreements/KZ-KG-test/sign')).json.status).toBe('active');
    await waitFor(async () => ((await api(kz, 'GET', '/v1/agreements/KZ-KG-test')).json.status === 'active' ? true : undefined));
    const sent = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(sent.status).toBe(202);
    expect(sent.json.agreement).toBe('KZ-KG-test@1');
  });

  it('refuses a message type the agreement does not allow in that direction (GNC_AGREEMENT_TYPE)', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft: narrowDraft(false) }] });
    const r = await api(net.nodes.KZ!, 'POST', '/v1/messages', { to: 'KG', type: 'ecoo', purpose: risk, body: ecoo });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('GNC_AGREEMENT_TYPE');
    const back = await api(net.nodes.KG!, 'POST', '/v1/messages', { to: 'KZ', type: 'aci', purpose: risk, body: aci });
    expect(back.json.code).toBe('GNC_AGREEMENT_TYPE');
  });

  it('refuses a purpose the agreement does not allow (GNC_AGREEMENT_PURPOSE)', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft: narrowDraft(false) }] });
    const r = await api(net.nodes.KZ!, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'statistics', body: aci });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('GNC_AGREEMENT_PURPOSE');
  });

  it('refuses a field outside the scope when the agreement does not minimise (GNC_AGREEMENT_FIELD)', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft: narrowDraft(false) }] });
    const r = await api(net.nodes.KZ!, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('GNC_AGREEMENT_FIELD');
    expect(r.json.detail).toContain('exporter.id');
  });

  it('strips fields outside the scope when the agreement minimises, and says which', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft: narrowDraft(true) }] });
    const r = await api(net.nodes.KZ!, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(r.status).toBe(202);
    expect(r.json.removed).toContain('exporter.id');
    const received = await waitFor(async () => {
      const m = await api(net!.nodes.KG!, 'GET', `/v1/messages/${r.json.id}`);
      return m.status === 200 ? m.json : undefined;
    });
    expect(received.body.exporter.id).toBeUndefined();
    expect(received.body.exporter.name).toBe((aci['exporter'] as { name: string }).name);
  });

  it('answers an out-of-scope envelope with a signed negative receipt and stores nothing of it', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft: narrowDraft(false) }] });
    const kz = net.nodes.KZ!;
    const field = sealAsKz(kz, {});
    expect(await receiptFrom(kz, field.bytes)).toMatchObject({ status: 'rejected', code: 'GNC_AGREEMENT_FIELD' });
    expect(await receiptFrom(kz, sealAsKz(kz, { type: 'ecoo', body: ecoo }).bytes)).toMatchObject({ status: 'rejected', code: 'GNC_AGREEMENT_TYPE' });
    expect(await receiptFrom(kz, sealAsKz(kz, { purpose: 'statistics' }).bytes)).toMatchObject({ status: 'rejected', code: 'GNC_AGREEMENT_PURPOSE' });
    expect(await receiptFrom(kz, sealAsKz(kz, { agreement: 'SOMETHING-ELSE@1' }).bytes)).toMatchObject({ status: 'rejected', code: 'GNC_AGREEMENT_NONE' });
    expect(net.nodes.KG!.node.parts.store.messages.list({ direction: 'in', limit: 10 })).toHaveLength(0);
    expect(net.nodes.KG!.node.parts.store.rejections.list().length).toBeGreaterThanOrEqual(4);
  });

  it('suspends an agreement with a notice the partner receives, and expires messages queued under it', async () => {
    net = await makeNetwork(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const s = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Data protection review' });
    expect(s.status).toBe(202);
    expect(s.json.status).toBe('suspended');
    await waitFor(async () => ((await api(kg, 'GET', '/v1/agreements/KZ-KG-test')).json.status === 'suspended' ? true : undefined));
    const refused = await api(kg, 'POST', '/v1/messages', { to: 'KZ', type: 'aci', purpose: risk, body: aci });
    expect(refused.json.code).toBe('GNC_AGREEMENT_NONE');
    expect(refused.json.detail).toContain('KZ-KG-test@1 is suspended');
    // resume, queue while KG is down, suspend again: the queued message must not be sent
    await api(kz, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'Review completed' });
    await waitFor(async () => ((await api(kg, 'GET', '/v1/agreements/KZ-KG-test')).json.status === 'active' ? true : undefined));
    await kg.node.stop();
    const queued = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(queued.status).toBe(202);
    await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Incident' });
    const m = await waitFor(async () => {
      const r = await api(kz, 'GET', `/v1/messages/${queued.json.id}`);
      return r.json.status === 'expired' ? r.json : undefined;
    }, 20_000);
    expect(m.error.code).toBe('GNC_AGREEMENT_NONE');
  });

  it('refuses a notice that changes nothing with 409 GNC_CONFLICT and sends nothing', async () => {
    net = await makeNetwork(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const r = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'Nothing was suspended' });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('GNC_CONFLICT');
    expect((await api(kz, 'GET', '/v1/messages?type=agreement')).json.items).toHaveLength(0);
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Review' })).status).toBe(202);
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Review again' })).json.code).toBe('GNC_CONFLICT');
    expect((await api(net.nodes.KG!, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'Not ours to lift' })).json.code).toBe('GNC_CONFLICT');
  });

  it('refuses a termination effective before the start of the agreement in force with 409 GNC_CONFLICT and sends nothing', async () => {
    net = await makeNetwork(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const r = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/terminate', { reason: 'Backdated', effective: '2025-12-01' });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('GNC_CONFLICT');
    expect(r.json.detail).toContain('2026-01-01T00:00:00Z');
    expect((await api(kz, 'GET', '/v1/messages?type=agreement')).json.items).toHaveLength(0);
    expect((await api(kz, 'GET', '/v1/agreements/KZ-KG-test')).json.status).toBe('active');
  });

  it('purges received content when its retention ends, keeping the audit metadata', async () => {
    let offset = 0;
    net = await makeNetwork(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft: narrowDraft(true) }], nodeOptions: () => ({ clock: () => Date.now() + offset }) });
    const r = await api(net.nodes.KZ!, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    const kg = net.nodes.KG!;
    await waitFor(() => kg.node.parts.store.messages.byKey('in', 'KZ', r.json.id));
    expect(kg.node.retention.purge()).toBe(0);
    offset = 31 * 86_400_000; // the narrow agreement keeps ACI 30 days
    expect(kg.node.retention.purge()).toBe(1);
    const row = kg.node.parts.store.messages.byKey('in', 'KZ', r.json.id)!;
    expect(row.body).toBeNull();
    expect(row.jws).toBeNull();
    expect(row.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(kg.node.parts.store.messages.receipt(row.seq)?.status).toBe('accepted');
  });

  it('refuses to import an agreement whose content changed after signing (GNC_AGREEMENT_SIGNATURE)', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [] });
    const kz = net.nodes.KZ!;
    const created = await api(kz, 'POST', '/v1/agreements', { draft: openAgreementDraft('KZ', 'KG') });
    const signed = created.json.signed as { payload: string; signatures: unknown[] };
    const doc = JSON.parse(Buffer.from(signed.payload, 'base64url').toString());
    const tampered = { ...signed, payload: Buffer.from(JSON.stringify({ ...doc, title: 'Changed' })).toString('base64url') };
    const r = await api(net.nodes.KG!, 'POST', '/v1/agreements/import', tampered);
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses an agreement signed by a key that is not the administration root (GNC_AGREEMENT_SIGNATURE)', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [] });
    const kz = net.nodes.KZ!;
    const draft = (await api(kz, 'POST', '/v1/agreements', { draft: openAgreementDraft('KZ', 'KG', { id: 'X-1' }) })).json.document;
    // signed with KZ's node key instead of its root: the kid is not the party's root fingerprint
    expect(() => signAgreement(draft, kz.node.parts.identity.node.signer)).toThrow(expect.objectContaining({ code: 'GNC_AGREEMENT_SIGNATURE' }));
  });

  it('refuses a second agreement whose dates overlap the one in force (GNC_AGREEMENT_OVERLAP)', async () => {
    net = await makeNetwork(['KZ', 'KG']);
    const r = await api(net.nodes.KZ!, 'POST', '/v1/agreements', { draft: openAgreementDraft('KZ', 'KG', { id: 'KZ-KG-OTHER' }) });
    expect(r.status).toBe(201); // one signature: not complete, so not yet an overlap
    const kgSigned = await api(net.nodes.KG!, 'POST', '/v1/agreements/import', r.json.signed);
    expect(kgSigned.status).toBe(201);
    const both = await api(net.nodes.KG!, 'POST', '/v1/agreements/KZ-KG-OTHER/sign');
    expect(both.status).toBe(409);
    expect(both.json.code).toBe('GNC_AGREEMENT_OVERLAP');
  });

  it('refuses a draft whose dates are in the wrong order (GNC_AGREEMENT_INVALID)', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [] });
    const r = await api(net.nodes.KZ!, 'POST', '/v1/agreements', { draft: openAgreementDraft('KZ', 'KG', { validFrom: '2027-01-01', validUntil: '2026-01-01' }) });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('GNC_AGREEMENT_INVALID');
    expect(r.json.issues.some((i: { path: string }) => i.path.endsWith('/validUntil'))).toBe(true);
  });
});
