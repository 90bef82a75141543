/**
 * Paging across the retention purge, over real HTTP on real nodes (KZ sends, KG receives): an integrator pages
 * GET /v1/arrivals and GET /v1/messages while the purge removes consignments behind its cursor, on the page it holds
 * and ahead of it. Every page still answers 200, no row comes twice, a purged consignment ahead of the cursor is not
 * served, every other one is; the messages list keeps the purged messages' rows (metadata and receipt stay, SPEC) and
 * marks them purged when the page reaches them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/network.js';
import { road, variant } from '../risk/fixtures.js';
import { arrival, getOk, riskNetwork, send, type RiskNetwork } from '../risk/network.js';

const N = 9;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const FIRST = Date.now() + 86_400_000;

let net: RiskNetwork;
/** The consignments in the order of their expected arrival (one hour apart). */
const ids: string[] = [];

beforeAll(async () => {
  net = await riskNetwork();
  for (let n = 0; n < N; n++) {
    ids.push(await send(net.kz, 'aci', variant(road(), (d) => {
      d.functionalReference = `PAGE-PURGE-${n}`;
      d.borderTransportMeans.id = 'PGPURGE1';
      d.expectedArrival = iso(FIRST + n * 3_600_000);
    })));
  }
  for (const id of ids) await arrival(net.kg, id);
}, 120_000);
afterAll(async () => net?.close());

const get = (path: string): Promise<any> => getOk(net.kg, path);

/** Purges the received messages `which` on KG now: their retention made to end at once, then the sweep run. */
function purge(which: string[]): void {
  const db = net.kg.node.parts.store.db;
  const now = Date.now();
  const end = db.prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`);
  for (const id of which) end.run(now - 1, id);
  expect(net.kg.node.retention.purge(now)).toBe(which.length);
}

describe('paging across the retention purge', () => {
  it('pages the arrivals on: a purged consignment behind the cursor, on the page held or ahead of it never breaks the cursor, and those ahead are not served', async () => {
    const first = await get('/v1/arrivals?transportMeans=PGPURGE1&limit=3');
    expect(first.items.map((a: any) => a.id)).toEqual(ids.slice(0, 3));
    // behind the cursor (0), its own position (2, the last row of the page held) and ahead (4, 5)
    purge([ids[0]!, ids[2]!, ids[4]!, ids[5]!]);
    const seen: string[] = first.items.map((a: any) => a.id);
    let cursor: string | null = first.nextCursor;
    for (let page = 0; cursor !== null; page++) {
      expect(page, 'pages never end').toBeLessThan(N);
      const r = await get(`/v1/arrivals?transportMeans=PGPURGE1&limit=2&cursor=${cursor}`);
      seen.push(...r.items.map((a: any) => a.id));
      cursor = r.nextCursor;
    }
    expect(seen).toEqual([ids[0], ids[1], ids[2], ids[3], ids[6], ids[7], ids[8]]);
    expect((await api(net.kg, 'GET', `/v1/arrivals/${ids[4]}`)).status).toBe(410);
  });

  it('pages the messages on: every received message once, in order, the purged ones marked when the page reaches them', async () => {
    const all = ids.slice().reverse(); // newest first
    const first = await get('/v1/messages?direction=in&type=aci&limit=2');
    expect(first.items.map((m: any) => m.id)).toEqual(all.slice(0, 2));
    // one on the page held (ids[8] = all[0]) and two ahead
    purge([ids[8]!, ids[3]!, ids[1]!]);
    const items: any[] = [...first.items];
    let cursor: string | null = first.nextCursor;
    for (let page = 0; cursor !== null; page++) {
      expect(page, 'pages never end').toBeLessThan(N);
      const r = await get(`/v1/messages?direction=in&type=aci&limit=3&cursor=${cursor}`);
      items.push(...r.items);
      cursor = r.nextCursor;
    }
    expect(items.map((m) => m.id)).toEqual(all);
    const purged = new Set([ids[0], ids[2], ids[4], ids[5], ids[3], ids[1]]);
    for (const m of items.slice(2)) expect(m.purged !== null, m.id).toBe(purged.has(m.id));
  });
});
