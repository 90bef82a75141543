/**
 * What the retention purge keeps of a purged version of a consignment, and what it is for: no content, only its id,
 * its consignment, kind, created time and retention end (risk_purged_versions). An amendment received later whose `ref`
 * names the purged version goes into that consignment (or opens it again under its id when nothing of it is held)
 * instead of opening another; `GET /v1/arrivals/{id}` by the purged version's id answers 410 GNC_ARRIVAL_PURGED naming
 * the consignment; and a consignment whose amendment was purged before its declaration (under an agreement version
 * that shortened the retention) says in its view and its assessment that a newer version was purged. Real KZ and KG
 * nodes; the messages a purge takes end at its cut-off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrivalView } from '../../../protocol/risk.js';
import { occurrences } from '../../helpers/files.js';
import { api } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, mentions, riskNetwork, send, type RiskNetwork } from './network.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

let net: RiskNetwork;
/** P: its amendment purged, its declaration held. Q: all purged. */
const ids = { dp: '', ap1: '', ap2: '', dq: '', aq1: '', aq2: '' };

const TOMORROW = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** What only the purged amendment carries: a consignee's name, and a container number (a search key). */
const PURGED = 'Purged Newer Amendment Consignee';
const PURGED_CONTAINER = 'PURGAMND1';

function declaration(ref: string, kind = 'declaration', consignee = `${ref} Consignee LLC`): Record<string, unknown> {
  return variant(road(), (d) => {
    d.kind = kind;
    d.functionalReference = ref;
    d.expectedArrival = TOMORROW;
    d.consignee.name = consignee;
  });
}

const db = () => net.kg.node.parts.store.db;

/** Runs KG's retention job on exactly the messages `purged` (their retention ending first): returns the cut-off. */
function purgeOnly(...purged: string[]): number {
  const cutoff = Math.min(...db().prepare(`SELECT retain_until FROM (${MESSAGE_SELECT}) WHERE direction = 'in' AND jws IS NOT NULL`).pluck().all() as number[]) - 1;
  for (const id of purged) db().prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(cutoff, id);
  expect(net.kg.node.retention.purge(cutoff)).toBe(purged.length);
  return cutoff;
}

const created = (id: string): string => db().prepare(`SELECT created FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(id) as string;
/** Consignment `id`'s row of the CSV export, by column name. */
async function csvRow(id: string): Promise<Record<string, string>> {
  const r = await api(net.kg, 'GET', '/v1/arrivals/export?format=csv&partner=KZ&includeCancelled=true');
  expect(r.status, r.text).toBe(200);
  const [header, ...rows] = r.text.split('\r\n').filter(Boolean).map((l) => l.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/));
  // appended after onwardTransfer (and unNumbers after it): the columns before it keep their positions
  expect(header!.slice(-3)).toEqual(['onwardTransfer', 'purgedVersions', 'unNumbers']);
  const row = rows.find((cells) => cells[0] === id);
  expect(row, `no CSV row for ${id}`).toBeDefined();
  return Object.fromEntries(header!.map((c, i) => [c, row![i]!]));
}

const listed = async (): Promise<any[]> => (await api(net.kg, 'GET', '/v1/arrivals?partner=KZ&includeCancelled=true&limit=100')).json.items;

let cutP = 0;
let cutQ = 0;

beforeAll(async () => {
  net = await riskNetwork();
  ids.dp = await send(net.kz, 'aci', declaration('TOMB-P'));
  ids.ap1 = await send(net.kz, 'aci', variant(declaration('TOMB-P', 'amendment', PURGED), (d) => (d.transportEquipment[0].id = PURGED_CONTAINER)), ids.dp);
  ids.dq = await send(net.kz, 'aci', declaration('TOMB-Q'));
  ids.aq1 = await send(net.kz, 'aci', declaration('TOMB-Q', 'amendment'), ids.dq);
  await arrival(net.kg, ids.dp, (a) => a.currentMessageId === ids.ap1 && a.consignee.name === PURGED);
  await arrival(net.kg, ids.dq, (a) => a.currentMessageId === ids.aq1);
  // P's amendment ends before its declaration, as under an agreement version that shortened the retention
  cutP = purgeOnly(ids.ap1);
  cutQ = purgeOnly(ids.dq, ids.aq1);
}, 60_000);
afterAll(async () => net?.close());

describe('a consignment whose newer version the retention purge took before its declaration', () => {
  it('says in its view, listed and alone, which newer version was purged, and when', async () => {
    const p = await arrival(net.kg, ids.dp);
    const purged = [{ messageId: ids.ap1, kind: 'amendment', created: created(ids.ap1), purgedAt: new Date(cutP).toISOString() }];
    expect(p).toMatchObject({ currentMessageId: ids.dp, version: 1, consignee: { name: 'TOMB-P Consignee LLC' }, purgedVersions: purged });
    const item = (await listed()).find((x) => x.id === ids.dp);
    expect(ArrivalView.parse(item).purgedVersions).toEqual(purged);
  });

  it('says so in the CSV export too, in its purgedVersions column', async () => {
    await arrival(net.kg, ids.dp, (a) => a.purgedVersions !== undefined);
    expect((await csvRow(ids.dp))['purgedVersions']).toBe(`amendment ${ids.ap1} created ${created(ids.ap1)} purged ${new Date(cutP).toISOString()}`);
  });

  it('says in its assessment that it was made on an older version', async () => {
    const p = await arrival(net.kg, ids.dp);
    expect(p.assessment.explanation).toContain(`assessed on an older version: the retention purge took the content of the newer amendment ${ids.ap1}`);
  });

  it("answers its purged version's id with 410 GNC_ARRIVAL_PURGED naming the consignment", async () => {
    const r = await api(net.kg, 'GET', `/v1/arrivals/${ids.ap1}`);
    expect(r.status).toBe(410);
    expect(r.json).toMatchObject({ code: 'GNC_ARRIVAL_PURGED', status: 410 });
    expect(r.json.detail).toContain(`amendment ${ids.ap1}`);
    expect(r.json.detail).toContain(new Date(cutP).toISOString());
    expect(r.json.detail).toContain(`GET /v1/arrivals/${ids.dp}`);
  });

  it('keeps nothing of the purged content: the row kept holds ids, kind and times only, the files none of it', async () => {
    expect(db().prepare('SELECT * FROM risk_purged_versions WHERE message_id = ?').get(ids.ap1)).toEqual({
      message_id: ids.ap1, partner: 'KZ', root_id: ids.dp, kind: 'amendment', created: created(ids.ap1), purged_at: cutP,
    });
    expect(mentions(db(), PURGED)).toEqual([]);
    expect(mentions(db(), PURGED_CONTAINER)).toEqual([]);
    expect(occurrences(net.kg.dir, 'gnc.sqlite', PURGED)).toEqual({});
    expect(occurrences(net.kg.dir, 'gnc.sqlite', PURGED_CONTAINER)).toEqual({});
  });

  it('takes an amendment whose ref names the purged version into the same consignment, which then shows it as current', async () => {
    ids.ap2 = await send(net.kz, 'aci', declaration('TOMB-P', 'amendment', 'Later Amendment Consignee LLC'), ids.ap1);
    const p = await arrival(net.kg, ids.dp, (a) => a.currentMessageId === ids.ap2);
    expect(p.history.map((h: any) => h.messageId)).toEqual([ids.dp, ids.ap2]);
    // the version in force is newer than the purged one: nothing to warn of any more
    expect(p.purgedVersions).toBeUndefined();
    expect(p.assessment.explanation).not.toContain('older version');
    expect((await csvRow(ids.dp))['purgedVersions']).toBe('');
    expect((await listed()).map((x) => x.id).filter((id) => [ids.dp, ids.ap1, ids.ap2].includes(id))).toEqual([ids.dp]);
  });
});

describe('a consignment all of whose versions the retention purge took', () => {
  it('answers the id of each of them with 410 GNC_ARRIVAL_PURGED, saying the consignment is no longer held', async () => {
    for (const [id, kind] of [[ids.dq, 'declaration'], [ids.aq1, 'amendment']] as const) {
      const r = await api(net.kg, 'GET', `/v1/arrivals/${id}`);
      expect(r.status).toBe(410);
      expect(r.json.code).toBe('GNC_ARRIVAL_PURGED');
      expect(r.json.detail).toContain(`content of ${kind} ${id} (from KZ) was purged at its retention end, ${new Date(cutQ).toISOString()}`);
      expect(r.json.detail).toContain(`version of consignment ${ids.dq}, of which no declaration or amendment is held any more`);
    }
  });

  it("opens it again under its own id for an amendment whose ref names its purged amendment", async () => {
    ids.aq2 = await send(net.kz, 'aci', declaration('TOMB-Q', 'amendment', 'Reopened Consignee LLC'), ids.aq1);
    const q = await arrival(net.kg, ids.dq, (a) => a.currentMessageId === ids.aq2);
    expect(q).toMatchObject({ id: ids.dq, version: 1, consignee: { name: 'Reopened Consignee LLC' } });
    expect((await listed()).map((x) => x.id).filter((id) => [ids.dq, ids.aq1, ids.aq2].includes(id))).toEqual([ids.dq]);
    const r = await api(net.kg, 'GET', `/v1/arrivals/${ids.aq1}`);
    expect(r.status).toBe(410);
    expect(r.json.detail).toContain(`GET /v1/arrivals/${ids.dq}`);
  });
});

describe('a consignment whose cancellation the retention purge took before its declaration', () => {
  /** R: cancelled, its cancellation purged, then amended. S: cancelled, amended after it, then its cancellation purged. */
  const c = { dr: '', cr: '', ar: '', ds: '', cs: '', as: '' };
  const cancellation = { kind: 'cancellation', reason: 'Withdrawn by the exporter' };
  let cutR = 0;
  let cutS = 0;

  beforeAll(async () => {
    c.dr = await send(net.kz, 'aci', declaration('TOMB-R'));
    c.cr = await send(net.kz, 'aci', cancellation, c.dr);
    c.ds = await send(net.kz, 'aci', declaration('TOMB-S'));
    c.cs = await send(net.kz, 'aci', cancellation, c.ds);
    c.as = await send(net.kz, 'aci', declaration('TOMB-S', 'amendment', 'Amended After Cancellation LLC'), c.ds);
    await arrival(net.kg, c.dr, (a) => a.status === 'cancelled');
    await arrival(net.kg, c.ds, (a) => a.status === 'cancelled' && a.currentMessageId === c.as);
    cutR = purgeOnly(c.cr);
    cutS = purgeOnly(c.cs);
  }, 60_000);

  const note = (id: string) => `cancellation ${id}`;
  const purgedCancellation = (id: string, cut: number) => [{ messageId: id, kind: 'cancellation', created: created(id), purgedAt: new Date(cut).toISOString() }];

  it('shows it active again and says a cancellation was purged', async () => {
    const r = await arrival(net.kg, c.dr, (a) => a.assessment.revision >= 1);
    expect(r).toMatchObject({ status: 'active', currentMessageId: c.dr, purgedVersions: purgedCancellation(c.cr, cutR), cancellation: null });
    expect(r.assessment.explanation).toContain(note(c.cr));
  });

  it('keeps saying so once an amendment newer than the purged cancellation is in force (a held cancellation would keep it cancelled)', async () => {
    c.ar = await send(net.kz, 'aci', declaration('TOMB-R', 'amendment', 'Amended After Purge LLC'), c.dr);
    const r = await arrival(net.kg, c.dr, (a) => a.currentMessageId === c.ar && a.assessment.explanation !== 'not assessed yet');
    expect(r).toMatchObject({ status: 'active', purgedVersions: purgedCancellation(c.cr, cutR) });
    expect(r.assessment.explanation).toContain(note(c.cr));
    const item = (await listed()).find((x) => x.id === c.dr);
    expect(ArrivalView.parse(item).purgedVersions).toEqual(purgedCancellation(c.cr, cutR));
    const jsonl = await api(net.kg, 'GET', '/v1/arrivals/export?format=jsonl&partner=KZ&includeCancelled=true');
    const line = jsonl.text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((x) => x.id === c.dr);
    expect(line.purgedVersions).toEqual(purgedCancellation(c.cr, cutR));
    expect((await csvRow(c.dr))['purgedVersions']).toBe(`cancellation ${c.cr} created ${created(c.cr)} purged ${new Date(cutR).toISOString()}`);
  });

  it('says so when the purged cancellation is older than the amendment in force', async () => {
    const s = await arrival(net.kg, c.ds, (a) => a.assessment.revision >= 1);
    expect(s).toMatchObject({ status: 'active', currentMessageId: c.as, purgedVersions: purgedCancellation(c.cs, cutS) });
    expect(s.assessment.explanation).toContain(note(c.cs));
  });
});
