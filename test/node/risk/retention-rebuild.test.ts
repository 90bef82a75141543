/**
 * The retention purge and a consignment of several messages: each message's retention ends on its own (an amendment
 * or cancellation received later ends later), so when some of a consignment's messages are purged and others are
 * held, KG builds the consignment again from those it holds, as if only they had arrived, and keeps nothing derived
 * from the purged ones (view, search keys, assessment, feed events, bytes in the database files). When all are purged,
 * or only a cancellation is left, it goes. Real KZ and KG nodes; each purge takes everything received up to one
 * message (its own retain_until as the cut-off).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { occurrences } from '../../helpers/files.js';
import { api } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, assessedAs, mentions as mentionsIn, readEvents, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
/** Consignments 1 (original purged, amendment held), 2 (all purged), 3 (original purged, amendment and cancellation held), 4 (only the cancellation held). */
const ids = { d2: '', a2: '', d1: '', d3: '', d4: '', a1: '', a3: '', c3: '', c4: '' };

/** Tomorrow: inside the recompute horizon whatever the date of the run. */
const TOMORROW = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** What only the purged originals carry: a consignee's name, and a container number (a search key). */
const ORIGINAL = 'Purged Original Consignee Partnership';
const ORIGINAL_CONTAINER = 'PURG0RIG1';
/** What the amendments carry instead. */
const AMENDED = (n: number): string => `Held Amendment Consignee ${n} LLC`;

function declaration(ref: string): Record<string, unknown> {
  return variant(road(), (d) => {
    d.functionalReference = ref;
    d.expectedArrival = TOMORROW;
    d.consignee.name = ORIGINAL;
    d.transportEquipment[0].id = ORIGINAL_CONTAINER;
  });
}

function amendment(ref: string, n: number): Record<string, unknown> {
  return variant(road(), (d) => {
    d.kind = 'amendment';
    d.functionalReference = ref;
    d.expectedArrival = TOMORROW;
    d.consignee.name = AMENDED(n);
  });
}

const cancellation = { kind: 'cancellation', reason: 'Withdrawn by the exporter' };

function retainUntil(id: string): number {
  return net.kg.node.parts.store.db.prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(id) as number;
}

/** Runs KG's retention job with the cut-off of message `id`. */
function purgeUpTo(id: string): number {
  return net.kg.node.retention.purge(retainUntil(id));
}

/** Every row of KG's risk tables and feed that mentions `text`. */
const mentions = (text: string): string[] => mentionsIn(net.kg.node.parts.store.db, text);

const versionsOf = (id: string): string[] =>
  net.kg.node.parts.store.db.prepare('SELECT v.message_id FROM risk_versions v JOIN risk_consignments c ON c.cid = v.cid WHERE c.root_id = ? ORDER BY v.seq').pluck().all(id) as string[];

beforeAll(async () => {
  net = await riskNetwork();
  // the order matters: the first purge takes everything up to d4, the second everything up to c4
  ids.d2 = await send(net.kz, 'aci', declaration('REBUILD-2'));
  ids.a2 = await send(net.kz, 'aci', amendment('REBUILD-2', 2), ids.d2);
  ids.d1 = await send(net.kz, 'aci', declaration('REBUILD-1'));
  ids.d3 = await send(net.kz, 'aci', declaration('REBUILD-3'));
  ids.d4 = await send(net.kz, 'aci', declaration('REBUILD-4'));
  ids.a1 = await send(net.kz, 'aci', amendment('REBUILD-1', 1), ids.d1);
  ids.a3 = await send(net.kz, 'aci', amendment('REBUILD-3', 3), ids.d3);
  ids.c3 = await send(net.kz, 'aci', cancellation, ids.d3);
  ids.c4 = await send(net.kz, 'aci', cancellation, ids.d4);
  await arrival(net.kg, ids.d1, (a) => assessedAs(a, ids.a1));
  await arrival(net.kg, ids.d3, (a) => a.status === 'cancelled');
  await arrival(net.kg, ids.d4, (a) => a.status === 'cancelled');
}, 60_000);
afterAll(async () => net?.close());

describe('a consignment some of whose messages the retention purge took', () => {
  it('holds the originals before the purge', () => {
    expect(mentions(ORIGINAL).length).toBeGreaterThan(0);
    expect(Object.keys(occurrences(net.kg.dir, 'gnc.sqlite', ORIGINAL)).length).toBeGreaterThan(0);
  });

  it("lists a consignment whose original is purged with its held amendment's content", async () => {
    expect(purgeUpTo(ids.d4)).toBe(5);
    // assessed in the purge's transaction: never listed unassessed, nothing left in the queue
    const db = net.kg.node.parts.store.db;
    expect(db.prepare('SELECT revision FROM risk_consignments WHERE root_id = ?').pluck().all(ids.d1)).toEqual([1]);
    expect(db.prepare('SELECT COUNT(*) FROM risk_pending').pluck().get()).toBe(0);
    const a = await arrival(net.kg, ids.d1, (x) => x.assessment.revision >= 1);
    expect(a).toMatchObject({ id: ids.d1, status: 'active', version: 1, currentMessageId: ids.a1, consignee: { name: AMENDED(1) }, containers: ['4512AB02'] });
    expect(a.history.map((h: any) => h.messageId)).toEqual([ids.a1]);
    const list = await api(net.kg, 'GET', '/v1/arrivals?partner=KZ&limit=100');
    expect(list.json.items.find((x: any) => x.id === ids.d1)).toMatchObject({ currentMessageId: ids.a1, consignee: { name: AMENDED(1) } });
    expect(versionsOf(ids.d1)).toEqual([ids.a1]);
  });

  it('keeps a consignment cancelled when its amendment and cancellation are held', async () => {
    const a = await arrival(net.kg, ids.d3, (x) => x.assessment.revision >= 1);
    expect(a).toMatchObject({ status: 'cancelled', version: 2, currentMessageId: ids.a3, consignee: { name: AMENDED(3) }, cancellation: { messageId: ids.c3, reason: cancellation.reason } });
    const listed = await api(net.kg, 'GET', '/v1/arrivals?partner=KZ&includeCancelled=true&limit=100');
    expect(listed.json.items.map((x: any) => x.id)).toContain(ids.d3);
    expect((await api(net.kg, 'GET', '/v1/arrivals?partner=KZ&limit=100')).json.items.map((x: any) => x.id)).not.toContain(ids.d3);
  });

  it('drops a consignment whose messages are all purged, or of which only a cancellation is held', async () => {
    for (const id of [ids.d2, ids.d4]) {
      // its purged original's id: gone, and said so (retention-purged-versions.test.ts)
      const one = await api(net.kg, 'GET', `/v1/arrivals/${id}`);
      expect(one.status).toBe(410);
      expect(one.json.code).toBe('GNC_ARRIVAL_PURGED');
      expect(versionsOf(id)).toEqual([]);
    }
    // the held cancellation of a consignment no longer held names nothing to show
    expect((await api(net.kg, 'GET', `/v1/arrivals/${ids.c4}`)).json.code).toBe('GNC_NOT_FOUND');
    expect((await api(net.kg, 'GET', '/v1/arrivals?partner=KZ&includeCancelled=true&limit=100')).json.items.map((x: any) => x.id).sort()).toEqual([ids.d1, ids.d3].sort());
  });

  it("keeps nothing of the purged originals: view, search keys, assessment, feed events, the database's bytes", async () => {
    expect(mentions(ORIGINAL)).toEqual([]);
    expect(mentions(ORIGINAL_CONTAINER)).toEqual([]);
    expect((await api(net.kg, 'GET', `/v1/arrivals?container=${ORIGINAL_CONTAINER}&includeCancelled=true`)).json.items).toEqual([]);
    expect(occurrences(net.kg.dir, 'gnc.sqlite', ORIGINAL)).toEqual({});
    expect(occurrences(net.kg.dir, 'gnc.sqlite', ORIGINAL_CONTAINER)).toEqual({});
  });

  it('tells a stream that replays from the start that events were deleted, then gives the rebuilt consignments as new', async () => {
    const res = await fetch(`${net.kg.url}/v1/arrivals/stream?after=0`, { headers: { authorization: `Bearer ${net.kg.token}` }, signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    const rebuilt = (e: any): boolean => e.event === 'assessment' && [ids.d1, ids.d3].includes(e.data.arrival.id);
    const events = await readEvents(res, (es) => es.filter(rebuilt).length === 2);
    expect(events[0].event).toBe('gap');
    expect(events.filter((e) => e.event === 'assessment').map((e) => [e.data.arrival.id, e.data.change, e.data.arrival.consignee.name])).toEqual([
      [ids.d1, 'new', AMENDED(1)],
      [ids.d3, 'new', AMENDED(3)],
    ]);
  });

  it('adds an amendment received after the rebuild to the rebuilt consignment', async () => {
    const later = await send(net.kz, 'aci', amendment('REBUILD-1', 11), ids.d1);
    const a = await arrival(net.kg, ids.d1, (x) => assessedAs(x, later));
    expect(a).toMatchObject({ version: 2, consignee: { name: AMENDED(11) } });
    expect(versionsOf(ids.d1)).toEqual([ids.a1, later]);
  });

  it('rebuilds again from what is left when the next messages are purged, and drops what has nothing left', async () => {
    expect(purgeUpTo(ids.c4)).toBe(4);
    const a = await arrival(net.kg, ids.d1, (x) => x.version === 1);
    expect(a).toMatchObject({ status: 'active', consignee: { name: AMENDED(11) } });
    expect(a.history).toHaveLength(1);
    expect((await api(net.kg, 'GET', `/v1/arrivals/${ids.d3}`)).status).toBe(410);
    expect(mentions(AMENDED(1))).toEqual([]);
    expect(mentions(AMENDED(3))).toEqual([]);
  });
});
