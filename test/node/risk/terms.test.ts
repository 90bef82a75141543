/**
 * The terms received data is held under reach the national systems that read it: real KZ and KG nodes under an
 * agreement that forbids onward transfer of ACI (kept 400 days) and allows it for AEO data (kept 30 days). KG's message
 * view and list, arrivals view, list and exports, event stream, webhook and AEO registry each say, for what they hand
 * out, the agreement version, purpose, retention end and whether it may go to third parties; an arrival combines the
 * terms of the messages it comes from (the AEO message its assessment quotes ends its retention first).
 */
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineEngine } from '../../../node/risk/engine.js';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { Store } from '../../../node/store/store.js';
import { api, openAgreementDraft, tempDir, waitFor } from '../../helpers/network.js';
import { road, snapshot } from './fixtures.js';
import { arrival, readEvents, riskNetwork, send, webhookReceiver, type RiskNetwork } from './network.js';

const DAY = 86_400_000;
const SECRET = 'terms-test-secret-0123456789abcdef';
const hooks: any[] = [];
let server: Server;
let net: RiskNetwork;

/** ACI: no onward transfer, 400 days; AEO: onward transfer allowed, 30 days; e-CoO as openAgreementDraft has it. */
function draft(): Record<string, unknown> {
  const d = openAgreementDraft('KZ', 'KG');
  for (const dir of d['directions'] as { messages: { type: string; onwardTransfer: boolean; retentionDays: number }[] }[]) {
    for (const m of dir.messages) {
      if (m.type === 'aci') Object.assign(m, { onwardTransfer: false, retentionDays: 400 });
      if (m.type === 'aeo') Object.assign(m, { onwardTransfer: true, retentionDays: 30 });
    }
  }
  return d;
}
const AGREEMENT = 'KZ-KG-test@1';

let aeoMessage = '';
let declaration = '';

beforeAll(async () => {
  let url: string;
  ({ server, url } = await webhookReceiver((_req, body) => {
    hooks.push(JSON.parse(body));
    return 204;
  }));
  process.env.GNC_TEST_TERMS_SECRET = SECRET;
  net = await riskNetwork({ agreement: draft(), rules: { v: 1, webhook: { url, secretEnv: 'GNC_TEST_TERMS_SECRET', initialBackoffMs: 50, maxBackoffMs: 200, maxAttempts: 5 } } });
  aeoMessage = await send(net.kz, 'aeo', snapshot());
  declaration = await send(net.kz, 'aci', road());
}, 90_000);
afterAll(async () => {
  await net?.close();
  await new Promise((r) => server.close(r));
  delete process.env.GNC_TEST_TERMS_SECRET;
});

/** KG's view of a received message, and its retention end as days after KG's receipt (the same instant stores both). */
async function received(id: string): Promise<{ view: any; days: number }> {
  const r = await api(net.kg, 'GET', `/v1/messages/${id}?direction=in`);
  expect(r.status, r.text).toBe(200);
  return { view: r.json, days: (Date.parse(r.json.terms.retainUntil) - Date.parse(r.json.receipt.at)) / DAY };
}

describe('terms of received data', () => {
  it('a received message carries the terms of the agreement version it was accepted under, in its view and in the list; a sent one none', async () => {
    const aci = await received(declaration);
    expect(aci.view.terms).toMatchObject({ agreement: AGREEMENT, purpose: 'pre-arrival-risk-assessment', onwardTransfer: false });
    expect(aci.days).toBe(400);
    const aeo = await received(aeoMessage);
    expect(aeo.view.terms).toMatchObject({ agreement: AGREEMENT, purpose: 'aeo-mra-benefits', onwardTransfer: true });
    expect(aeo.days).toBe(30);
    const list = (await api(net.kg, 'GET', '/v1/messages?direction=in')).json.items as any[];
    expect(list.find((m) => m.id === declaration).terms).toEqual(aci.view.terms);
    expect(list.find((m) => m.id === aeoMessage).terms).toEqual(aeo.view.terms);
    // the sender's copy: the node that sent it is not bound as a receiver
    expect((await api(net.kz, 'GET', `/v1/messages/${declaration}`)).json.terms).toBeNull();
  });

  it('an arrival carries the combined terms: the declaration\'s agreement and purpose, no onward transfer, the earliest retention end of the messages it quotes', async () => {
    const a = await arrival(net.kg, declaration, (x) => x.assessment.indicators.some((i: any) => i.code === 'aeo-valid'));
    const aeo = (await received(aeoMessage)).view.terms;
    const expected = { agreement: AGREEMENT, purpose: 'pre-arrival-risk-assessment', retainUntil: aeo.retainUntil, onwardTransfer: false };
    expect(a.terms).toEqual(expected);
    const listed = (await api(net.kg, 'GET', '/v1/arrivals')).json.items.find((x: any) => x.id === declaration);
    expect(listed.terms).toEqual(expected);
    const jsonl = (await api(net.kg, 'GET', '/v1/arrivals/export?format=jsonl')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(jsonl.find((x) => x.id === declaration).terms).toEqual(expected);
    const csv = (await api(net.kg, 'GET', '/v1/arrivals/export?format=csv')).text.trim().split(/\r?\n/);
    // the terms, then purgedVersions (empty: none purged) and unNumbers (empty: no dangerous goods), appended after them
    expect(csv[0]!.split(',').slice(-6)).toEqual(['agreement', 'purpose', 'retainUntil', 'onwardTransfer', 'purgedVersions', 'unNumbers']);
    expect(csv.find((l) => l.startsWith(`${declaration},`))!.split(',').slice(-6)).toEqual([AGREEMENT, 'pre-arrival-risk-assessment', aeo.retainUntil, 'false', '', '']);
  });

  it('the event stream and the webhook carry the terms with the arrival', async () => {
    await arrival(net.kg, declaration, (x) => x.assessment.indicators.some((i: any) => i.code === 'aeo-valid'));
    const res = await fetch(`${net.kg.url}/v1/arrivals/stream?after=0`, { headers: { authorization: `Bearer ${net.kg.token}` }, signal: AbortSignal.timeout(15_000) });
    const mine = (e: any): boolean => e.data.arrival?.id === declaration;
    const events = (await readEvents(res, (e) => e.some(mine))).filter(mine);
    for (const e of events) expect(e.data.arrival.terms).toMatchObject({ agreement: AGREEMENT, purpose: 'pre-arrival-risk-assessment', onwardTransfer: false });
    const hook = await waitFor(async () => hooks.find((h) => h.arrival?.id === declaration), 10_000, 'webhook event');
    expect(hook.arrival.terms).toMatchObject({ agreement: AGREEMENT, purpose: 'pre-arrival-risk-assessment', onwardTransfer: false });
  });

  it('an AEO record carries the terms of the AEO messages it comes from', async () => {
    const aeo = (await received(aeoMessage)).view.terms;
    const record = await waitFor(async () => {
      const r = await api(net.kg, 'GET', '/v1/aeo/KZ/KZAEO981140001234');
      return r.status === 200 ? r.json : undefined;
    }, 10_000, 'AEO record');
    expect(record.terms).toEqual({ agreement: AGREEMENT, purpose: 'aeo-mra-benefits', retainUntil: aeo.retainUntil, onwardTransfer: true });
    const found = (await api(net.kg, 'GET', '/v1/aeo?partner=KZ&id=KZAEO981140001234')).json.items[0];
    expect(found.terms).toEqual(record.terms);
  });

  it('adds the terms once to the arrival views a node stored before views carried them, without a new assessment or event', async () => {
    const before = await arrival(net.kg, declaration, (x) => x.assessment.indicators.some((i: any) => i.code === 'aeo-valid'));
    const store = net.kg.node.parts.store;
    const events = (): number => store.db.prepare('SELECT COUNT(*) FROM risk_events').pluck().get() as number;
    const eventsBefore = events();
    // a view as an earlier version stored it, then the upgrade's migration
    store.db.prepare(`UPDATE risk_consignments SET view = json_remove(view, '$.terms') WHERE root_id = ?`).run(declaration);
    expect((await api(net.kg, 'GET', `/v1/arrivals/${declaration}`)).json.terms).toBeNull();
    store.db.exec(MIGRATIONS[26]!);
    store.db.transaction(() => offlineEngine(store).step()).immediate();
    const after = (await api(net.kg, 'GET', `/v1/arrivals/${declaration}`)).json;
    expect(after.terms).toEqual(before.terms);
    expect(after.assessment.revision).toBe(before.assessment.revision);
    expect(events()).toBe(eventsBefore);
    expect(store.db.prepare(`SELECT COUNT(*) FROM risk_state WHERE key = 'terms-backfill'`).pluck().get()).toBe(0);
  });

  it('gives a stored message the terms of an agreement version imported after its terms were first read as none (no restart)', () => {
    const kg = net.kg.node.parts.store.db;
    const dir = tempDir('gnc-terms-later-');
    const store = Store.open(dir);
    try {
      // a restored or bulk-loaded row under a version this node does not hold yet
      const row = { direction: 'in', partner: 'KZ', type: 'aci', agreement: AGREEMENT, purpose: 'pre-arrival-risk-assessment', retain_until: Date.now() + DAY } as const;
      expect(store.terms.of(row)).toBeNull();
      // then the version comes (as an import writes it): the same process reads its terms now
      const held = kg.prepare('SELECT * FROM agreements WHERE id = ? AND version = ?').get(...AGREEMENT.split('@').map((x, i) => (i ? Number(x) : x))) as Record<string, unknown>;
      const columns = Object.keys(held);
      store.db.prepare(`INSERT INTO agreements (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(held);
      expect(store.terms.of(row)).toEqual({ agreement: AGREEMENT, purpose: 'pre-arrival-risk-assessment', retainUntil: new Date(row.retain_until).toISOString(), onwardTransfer: false });
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
