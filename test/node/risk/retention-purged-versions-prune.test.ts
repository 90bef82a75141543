/**
 * How long the record of a purged version of a consignment (risk_purged_versions) is kept: while a declaration or
 * amendment of its consignment is held, and then until PURGED_VERSION_RECORD_MS (thirty days, the largest maximum
 * message age) after the retention end of the last of its versions, when the retention job prunes the records of the
 * consignment together. Until then GET /v1/arrivals/{id} by a purged version's id answers 410 GNC_ARRIVAL_PURGED; after,
 * 404 GNC_NOT_FOUND, and an amendment whose ref names it opens a consignment under that id. Real KZ and KG nodes, the
 * real retention job run at chosen times on KG's real database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURGED_VERSION_RECORD_MS } from '../../../node/retention.js';
import { api } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, riskNetwork, send, type RiskNetwork } from './network.js';

const DAY = 86_400_000;
let net: RiskNetwork;
/** P: its amendment purged, its declaration held. Q: all purged, its amendment a day before its declaration. */
const ids = { dp: '', ap: '', dq: '', aq: '', aq2: '' };
/** Retention ends, in the future of the nodes' clocks (their own sweeps reach none of them). */
const END = Date.now() + 100 * DAY;
const HELD = Date.now() + 3650 * DAY;

const TOMORROW = new Date(Date.now() + DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
function declaration(ref: string, kind = 'declaration'): Record<string, unknown> {
  return variant(road(), (d) => {
    d.kind = kind;
    d.functionalReference = ref;
    d.expectedArrival = TOMORROW;
  });
}

const db = () => net.kg.node.parts.store.db;
const records = () => db().prepare('SELECT message_id FROM risk_purged_versions ORDER BY message_id').pluck().all() as string[];
/** KG's retention job at `now`: how many messages it purged. */
const purgeAt = (now: number): number => net.kg.node.retention.purge(now);

beforeAll(async () => {
  net = await riskNetwork();
  ids.dp = await send(net.kz, 'aci', declaration('PRUNE-P'));
  ids.ap = await send(net.kz, 'aci', declaration('PRUNE-P', 'amendment'), ids.dp);
  ids.dq = await send(net.kz, 'aci', declaration('PRUNE-Q'));
  ids.aq = await send(net.kz, 'aci', declaration('PRUNE-Q', 'amendment'), ids.dq);
  await arrival(net.kg, ids.dp, (a) => a.currentMessageId === ids.ap);
  await arrival(net.kg, ids.dq, (a) => a.currentMessageId === ids.aq);
  const until = db().prepare(`UPDATE messages SET retain_until = ? WHERE direction = 'in' AND id = ?`);
  db().prepare(`UPDATE messages SET retain_until = ? WHERE direction = 'in' AND seq IN (SELECT seq FROM message_content)`).run(HELD);
  until.run(END, ids.ap);
  until.run(END - DAY, ids.aq);
  until.run(END, ids.dq);
  expect(purgeAt(END)).toBe(3);
}, 60_000);
afterAll(async () => net?.close());

const get = (id: string) => api(net.kg, 'GET', `/v1/arrivals/${id}`);

describe('the records of purged versions', () => {
  it('are kept until thirty days after the last retention end of a consignment no longer held, also the older ones of it', async () => {
    expect(PURGED_VERSION_RECORD_MS).toBe(30 * DAY);
    expect(records()).toEqual([ids.ap, ids.aq, ids.dq].sort());
    // Q's amendment's retention ended a day before its declaration's: past the bound for it alone, kept with the consignment
    expect(purgeAt(END + PURGED_VERSION_RECORD_MS - 1)).toBe(0);
    expect(records()).toEqual([ids.ap, ids.aq, ids.dq].sort());
    for (const id of [ids.dq, ids.aq]) {
      const r = await get(id);
      expect(r.status, r.text).toBe(410);
      expect(r.json.code).toBe('GNC_ARRIVAL_PURGED');
    }
  });

  it('of a consignment no longer held are pruned together once the bound passed: their ids are answered 404', async () => {
    expect(purgeAt(END + PURGED_VERSION_RECORD_MS)).toBe(0);
    // P's declaration is held: its view still lists the purged amendment
    expect(records()).toEqual([ids.ap]);
    for (const id of [ids.dq, ids.aq]) {
      const r = await get(id);
      expect(r.status, r.text).toBe(404);
      expect(r.json.code).toBe('GNC_NOT_FOUND');
    }
    const ap = await get(ids.ap);
    expect(ap.status, ap.text).toBe(410);
    expect(ap.json.detail).toContain(`GET /v1/arrivals/${ids.dp}`);
  });

  it('of a consignment still held stay, however long ago their retention ended', async () => {
    expect(purgeAt(HELD - 1)).toBe(0);
    expect(records()).toEqual([ids.ap]);
    const p = await arrival(net.kg, ids.dp);
    expect(p.purgedVersions?.map((v: { messageId: string }) => v.messageId)).toEqual([ids.ap]);
  });

  it('once pruned, no longer place an amendment whose ref names one: it opens a consignment under that id', async () => {
    ids.aq2 = await send(net.kz, 'aci', declaration('PRUNE-Q', 'amendment'), ids.aq);
    const q = await arrival(net.kg, ids.aq, (a) => a.currentMessageId === ids.aq2);
    expect(q.id).toBe(ids.aq);
    expect((await get(ids.dq)).status).toBe(404);
  });
});
