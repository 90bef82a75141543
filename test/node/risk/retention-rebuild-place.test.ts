/**
 * What a consignment rebuilt by the retention purge (retention-rebuild.test.ts) keeps of the one it replaces: its place
 * in the arrivals list (a client paging across the purge sees it once), its id also when the amendment it is rebuilt
 * from names an earlier amendment in `ref` (later amendments naming the original still find it), terms of the messages
 * held only, and an assessment made once the registries are as the purge leaves them (none of it quotes an AEO
 * snapshot or certificate purged with its original). Real KZ and KG nodes; the messages a purge takes end at its
 * cut-off, as under an agreement that shortened their retention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/network.js';
import { certificateFor, road, snapshot, variant } from './fixtures.js';
import { arrival, assessedAs, codesOf, riskNetwork, send, type RiskNetwork } from './network.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

let net: RiskNetwork;
/** X and Y expected at the same time (X listed first); Z amended twice, the second amendment naming the first. */
const ids = { s1: '', cert: '', dx: '', dy: '', ax: '', dz: '', az1: '', az2: '' };

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** X and Y: in two days, alone at that time. Z: tomorrow. Inside the recompute horizon whatever the date of the run. */
const LATER = iso(Date.now() + 2 * 86_400_000);
const TOMORROW = iso(Date.now() + 86_400_000);
const WINDOW = `from=${encodeURIComponent(LATER)}&to=${encodeURIComponent(iso(Date.parse(LATER) + 1000))}`;

function declaration(ref: string, expectedArrival: string, kind = 'declaration'): Record<string, unknown> {
  return variant(road(), (d) => {
    d.kind = kind;
    d.functionalReference = ref;
    d.expectedArrival = expectedArrival;
  });
}

const db = () => net.kg.node.parts.store.db;
const retainUntil = (id: string): number => db().prepare(`SELECT retain_until FROM (${MESSAGE_SELECT}) WHERE id = ? AND direction = 'in'`).pluck().get(id) as number;

/** Runs KG's retention job on exactly the messages `purged` (their retention ending first): returns how many it purged. */
function purgeOnly(...purged: string[]): number {
  const cutoff = Math.min(...db().prepare(`SELECT retain_until FROM (${MESSAGE_SELECT}) WHERE direction = 'in' AND jws IS NOT NULL`).pluck().all() as number[]) - 1;
  for (const id of purged) db().prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(cutoff, id);
  return net.kg.node.retention.purge(cutoff);
}

const page = async (query: string): Promise<{ ids: string[]; nextCursor: string | null }> => {
  const r = await api(net.kg, 'GET', `/v1/arrivals?partner=KZ&${query}`);
  expect(r.status, r.text).toBe(200);
  return { ids: r.json.items.map((x: any) => x.id), nextCursor: r.json.nextCursor };
};

/** X's stored assessment, as the purge left it. */
const assessmentOf = (root: string): string =>
  db().prepare('SELECT a.assessment FROM risk_assessments a JOIN risk_consignments c ON c.cid = a.cid WHERE c.root_id = ?').pluck().get(root) as string;

let firstPage: { ids: string[]; nextCursor: string | null };

beforeAll(async () => {
  net = await riskNetwork();
  ids.s1 = await send(net.kz, 'aeo', snapshot());
  ids.cert = await send(net.kz, 'ecoo', certificateFor(LATER));
  ids.dx = await send(net.kz, 'aci', declaration('PLACE-X', LATER));
  ids.dy = await send(net.kz, 'aci', declaration('PLACE-Y', LATER));
  ids.ax = await send(net.kz, 'aci', declaration('PLACE-X', LATER, 'amendment'), ids.dx);
  ids.dz = await send(net.kz, 'aci', declaration('PLACE-Z', TOMORROW));
  ids.az1 = await send(net.kz, 'aci', declaration('PLACE-Z', TOMORROW, 'amendment'), ids.dz);
  // names the first amendment, not the original: the receiver takes it (any ACI message of the partner)
  ids.az2 = await send(net.kz, 'aci', declaration('PLACE-Z', TOMORROW, 'amendment'), ids.az1);
  await arrival(net.kg, ids.dx, (a) => assessedAs(a, ids.ax));
  await arrival(net.kg, ids.dy, (a) => codesOf(a.assessment).includes('aeo-valid'));
  await arrival(net.kg, ids.dz, (a) => a.currentMessageId === ids.az2 && a.version === 3);
}, 60_000);
afterAll(async () => net?.close());

describe('a consignment the retention purge rebuilt', () => {
  it('quotes the AEO snapshot and the certificate before the purge', async () => {
    const x = await arrival(net.kg, ids.dx);
    expect(codesOf(x.assessment)).toContain('aeo-valid');
    expect(assessmentOf(ids.dx)).toContain(ids.s1);
    expect(assessmentOf(ids.dx)).toContain(ids.cert);
    firstPage = await page(`${WINDOW}&limit=1`);
    expect(firstPage.ids).toEqual([ids.dx]);
  });

  it('is assessed once the AEO registry and the e-CoO index lost what the same purge took', async () => {
    expect(purgeOnly(ids.s1, ids.cert, ids.dx, ids.dz)).toBe(4);
    // as the purge's transaction left it, before any step of the node
    const stored = assessmentOf(ids.dx);
    expect(stored).not.toContain(ids.s1);
    expect(stored).not.toContain(ids.cert);
    const x = await arrival(net.kg, ids.dx);
    expect(x).toMatchObject({ currentMessageId: ids.ax, version: 1, assessment: { revision: 1 } });
    expect(codesOf(x.assessment)).toEqual(expect.arrayContaining(['aeo-unverified', 'preferential-origin-without-ecoo']));
  });

  it('carries the terms of the messages held only', async () => {
    const x = await arrival(net.kg, ids.dx);
    expect(x.terms.retainUntil).toBe(new Date(retainUntil(ids.ax)).toISOString());
  });

  it('keeps its place in the list: a client paging across the purge sees it once', async () => {
    expect(await page(`${WINDOW}&limit=10`)).toEqual({ ids: [ids.dx, ids.dy], nextCursor: null });
    expect(await page(`${WINDOW}&limit=1&cursor=${firstPage.nextCursor}`)).toMatchObject({ ids: [ids.dy] });
  });

  it('keeps its id when the amendment it is rebuilt from names an earlier amendment, and takes later amendments of the original', async () => {
    expect(purgeOnly(ids.az1)).toBe(1);
    const z = await arrival(net.kg, ids.dz, (a) => a.version === 1);
    expect(z).toMatchObject({ id: ids.dz, currentMessageId: ids.az2 });
    const az3 = await send(net.kz, 'aci', declaration('PLACE-Z', TOMORROW, 'amendment'), ids.dz);
    const later = await arrival(net.kg, ids.dz, (a) => a.currentMessageId === az3);
    expect(later.history.map((h: any) => h.messageId)).toEqual([ids.az2, az3]);
    expect((await page(`limit=100`)).ids.filter((id) => id === ids.dz || id === ids.az1)).toEqual([ids.dz]);
  });
});
