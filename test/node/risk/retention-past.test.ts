/**
 * The retention purge and consignments that have already arrived (expected before the recompute horizon, which
 * otherwise keep the assessment they had when they crossed): an assessment that quoted a purged certificate or AEO
 * snapshot must not keep quoting it, nor may the feed events that carried it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/network.js';
import { certificate, road, snapshot, variant } from './fixtures.js';
import { arrival, codesOf, has, mentions as mentionsIn, readEvents, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
const ids = { s1: '', cert: '', d1: '' };
/** The exporter id only the certificate carries (the declaration names another): what the mismatch quotes. */
const CERT_EXPORTER_ID = '981140009999';

function retainUntil(id: string): number {
  return net.kg.node.parts.store.db.prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(id) as number;
}

/** Every row of KG's risk tables (and the feed) that mentions `text`. */
const mentions = (text: string): string[] => mentionsIn(net.kg.node.parts.store.db, text);

beforeAll(async () => {
  net = await riskNetwork();
  ids.s1 = await send(net.kz, 'aeo', snapshot());
  ids.cert = await send(net.kz, 'ecoo', variant(certificate(), (c) => (c.exporter.id = CERT_EXPORTER_ID)));
  // a consignment that arrived 40 days ago: outside the 30-day recompute horizon
  ids.d1 = await send(net.kz, 'aci', variant(road(), (d) => {
    d.functionalReference = 'RET-PAST-1';
    d.expectedArrival = new Date(Date.now() - 40 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }));
  await arrival(net.kg, ids.d1, has('ecoo-exporter-mismatch'));
});
afterAll(async () => net?.close());

describe('the retention purge and a consignment outside the recompute horizon', () => {
  it('quotes the certificate and the AEO snapshot before the purge', () => {
    expect(mentions(CERT_EXPORTER_ID).length).toBeGreaterThan(0);
    expect(mentions(ids.cert).length).toBeGreaterThan(0);
    expect(mentions(ids.s1).length).toBeGreaterThan(0);
  });

  it('keeps no quote of a purged certificate or snapshot in the assessment or the feed of a held consignment', async () => {
    // the snapshot and the certificate, not the declaration
    expect(net.kg.node.retention.purge(retainUntil(ids.cert))).toBe(2);
    const a = await arrival(net.kg, ids.d1, (x) => !codesOf(x).includes('ecoo-exporter-mismatch'));
    expect(codesOf(a)).toContain('preferential-origin-without-ecoo');
    expect(codesOf(a)).toContain('aeo-unverified');
    expect(mentions(CERT_EXPORTER_ID)).toEqual([]);
    expect(mentions(ids.cert)).toEqual([]);
    expect(mentions(ids.s1)).toEqual([]);
    expect((await api(net.kg, 'GET', `/v1/arrivals/${ids.d1}`)).status).toBe(200);
  });

  it('tells a stream that replays from the start that events were deleted, then gives the reassessment', async () => {
    const res = await fetch(`${net.kg.url}/v1/arrivals/stream?after=0`, { headers: { authorization: `Bearer ${net.kg.token}` }, signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    const events = await readEvents(res, (es) => es.some((e) => e.event === 'assessment' && e.data.arrival.id === ids.d1));
    expect(events[0].event).toBe('gap');
    const d1 = events.filter((e) => e.event === 'assessment' && e.data.arrival.id === ids.d1);
    expect(d1.map((e) => codesOf(e.data.assessment))).toEqual([expect.arrayContaining(['preferential-origin-without-ecoo', 'aeo-unverified'])]);
  });
});
