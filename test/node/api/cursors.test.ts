/**
 * Paging every list (GET /v1/messages, /v1/arrivals, /v1/aeo) as an integrator does, over real HTTP on real nodes (KZ
 * sends, KG receives): a cursor belongs to the query that gave it (another list, other filters or another partner are
 * refused with 422 on /cursor, not answered with a page that skips rows or repeats them as if it were the next); a
 * tampered, cut short or oversized cursor is a 422, never a 500; and a client paging with random page sizes while the
 * node keeps receiving declarations and amendments sees every row once, in order, also where many rows share their
 * expected arrival and a page boundary falls inside the run (seeded, bounded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../../examples/risk/traffic.js';
import { api } from '../../helpers/network.js';
import { road, variant } from '../risk/fixtures.js';
import { arrival, getOk, riskNetwork, send, type RiskNetwork } from '../risk/network.js';

const SEED = Number(process.env['GNC_CURSOR_SEED'] ?? 20261124);
/** The expected arrival most consignments share: every page boundary of the test falls inside one run of equal keys. */
const SAME = '2026-11-26T09:00:00+06:00';

let net: RiskNetwork;
/** The consignments held before the paging starts: [id, expected arrival]. */
const held: string[] = [];

const declaration = (n: number, at: string = SAME, change: (d: any) => void = () => undefined) =>
  variant(road(), (d) => {
    d.functionalReference = `CUR-${n}`;
    d.borderTransportMeans.id = 'CUR01';
    d.expectedArrival = at;
    change(d);
  });

beforeAll(async () => {
  net = await riskNetwork();
  for (let n = 0; n < 24; n++) held.push(await send(net.kz, 'aci', declaration(n, n === 3 ? '2026-11-26T08:00:00+06:00' : n === 9 ? '2026-11-26T10:00:00+06:00' : SAME)));
  for (const id of held) await arrival(net.kg, id);
}, 120_000);
afterAll(async () => net?.close());

const get = (path: string): Promise<any> => getOk(net.kg, path);

const refusedCursor = async (path: string): Promise<Record<string, any>> => {
  const r = await api(net.kg, 'GET', path);
  expect(r.status, `${path}: ${r.text}`).toBe(422);
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  expect(r.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '/cursor' }] });
  return r.json;
};

describe('a cursor of another query', () => {
  it('of the arrivals of another partner or other filters is refused with 422 on /cursor, not read as a position in this one', async () => {
    const kz = await get('/v1/arrivals?partner=KZ&transportMeans=CUR01&limit=2');
    expect(kz.nextCursor).toEqual(expect.any(String));
    // the same filters go on, a spelling of them that folds the same too
    expect((await get(`/v1/arrivals?partner=KZ&transportMeans=cur01&limit=2&cursor=${kz.nextCursor}`)).items).toHaveLength(2);
    for (const other of ['partner=CN&transportMeans=CUR01', 'transportMeans=CUR01', 'partner=KZ&transportMeans=CUR01&level=high', 'partner=KZ&transportMeans=CUR01&includeCancelled=true']) {
      const p = await refusedCursor(`/v1/arrivals?${other}&limit=2&cursor=${kz.nextCursor}`);
      expect(p.detail, other).toContain('with other filters');
      expect(p.detail).toContain('leave cursor out to start at the first page');
    }
  });

  it('of the messages list with other filters is refused, not read as a seq of this one', async () => {
    const messages = await get('/v1/messages?direction=in&type=aci&limit=1');
    expect(messages.nextCursor).toEqual(expect.any(String));
    expect((await get(`/v1/messages?direction=in&type=aci&limit=1&cursor=${messages.nextCursor}`)).items).toHaveLength(1);
    await refusedCursor(`/v1/messages?direction=in&type=aeo&limit=1&cursor=${messages.nextCursor}`);
    await refusedCursor(`/v1/messages?limit=1&cursor=${messages.nextCursor}`);
    await refusedCursor(`/v1/messages?direction=in&type=aci&since=2026-01-01T00:00:00Z&limit=1&cursor=${messages.nextCursor}`);
  });

  it('of another list is refused naming the list it came from', async () => {
    const kz = await get('/v1/arrivals?partner=KZ&transportMeans=CUR01&limit=2');
    const messages = await get('/v1/messages?direction=in&type=aci&limit=1');
    expect((await refusedCursor(`/v1/arrivals?cursor=${messages.nextCursor}`)).detail).toContain('received a cursor of GET /v1/messages');
    expect((await refusedCursor(`/v1/messages?cursor=${kz.nextCursor}`)).detail).toContain('received a cursor of GET /v1/arrivals');
    expect((await refusedCursor(`/v1/aeo?cursor=${kz.nextCursor}`)).detail).toContain('received a cursor of GET /v1/arrivals');
    expect((await refusedCursor(`/v1/aeo?name=silk&cursor=${messages.nextCursor}`)).detail).toContain('received a cursor of GET /v1/messages');
  });

  it('tampered, cut short or oversized is a 422 on /cursor, never a 500 nor another page', async () => {
    const { nextCursor } = await get('/v1/arrivals?transportMeans=CUR01&limit=3');
    const { nextCursor: msg } = await get('/v1/messages?limit=1');
    const decoded = (c: string): string => Buffer.from(c, 'base64url').toString('utf8');
    const encode = (s: string): string => Buffer.from(s).toString('base64url');
    const rnd = prng(SEED);
    const tampered = [
      nextCursor.slice(0, -3), nextCursor.slice(0, 5), `${nextCursor}AA`, 'A'.repeat(128), 'A'.repeat(129), 'x'.repeat(10_000),
      encode(decoded(nextCursor).replace(/\.\d+$/, '.99999999999999999999')), encode(decoded(nextCursor).replace(/\.(-?\d+)\.(\d+)$/, '.-1e9.1')),
      encode(decoded(nextCursor).replace(/^arrivals\.[^.]+/, 'arrivals.AAAAAAAAAAA')), encode(decoded(msg).replace(/\.\d+$/, '.9999999999999999')),
      encode(`messages.${decoded(msg).split('.')[1]}.-1`), encode('constructor.AAAAAAAAAAA.1'), encode('\u0000'.repeat(40)), '%2F', '',
    ];
    for (let n = 0; n < 30; n++) {
      const chars = [...nextCursor];
      chars[Math.floor(rnd() * chars.length)] = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[Math.floor(rnd() * 64)]!;
      if (chars.join('') !== nextCursor) tampered.push(chars.join(''));
    }
    for (const c of tampered) {
      for (const path of ['/v1/arrivals?transportMeans=CUR01&limit=3', '/v1/messages?limit=1', '/v1/aeo?limit=1']) {
        const r = await api(net.kg, 'GET', `${path}&cursor=${c}`);
        // a flipped character may leave a cursor that still decodes to this query's: then it is a page of this query
        if (r.status === 200) continue;
        expect(r.status, `${path} ${c.slice(0, 40)}: ${r.text}`).toBe(422);
        expect(r.json.code).toBe('GNC_SCHEMA_INVALID');
        expect(r.json.detail).not.toMatch(/function|undefined|NaN|Infinity/);
      }
    }
  });
});

describe('paging while the node receives', () => {
  it('sees every consignment held at the start once, in order, with random page sizes while declarations and amendments arrive (a run of equal arrivals split anywhere)', async () => {
    const rnd = prng(SEED);
    const order = (await get('/v1/arrivals?transportMeans=CUR01&includeCancelled=true&limit=500')).items.map((a: any) => a.id);
    expect(new Set(order)).toEqual(new Set(held));
    const seen: string[] = [];
    const arrivals: string[] = [];
    let cursor: string | null = null;
    let added = 100;
    let amended = 0;
    for (let page = 0; page < 60; page++) {
      const limit = 1 + Math.floor(rnd() * 3);
      const r: any = await get(`/v1/arrivals?transportMeans=CUR01&includeCancelled=true&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.items.length).toBeLessThanOrEqual(limit);
      seen.push(...r.items.map((a: any) => a.id));
      arrivals.push(...r.items.map((a: any) => a.expectedArrival));
      cursor = r.nextCursor;
      if (cursor === null) break;
      // between pages: a new declaration with the shared arrival (ahead of the cursor or behind it), an amendment of a
      // consignment already listed or still to come that keeps its arrival, or nothing
      const what = rnd();
      if (what < 0.5) {
        const id = await send(net.kz, 'aci', declaration(added++, rnd() < 0.7 ? SAME : '2026-11-26T07:00:00+06:00'));
        await arrival(net.kg, id);
      } else if (what < 0.9) {
        const target = held[Math.floor(rnd() * held.length)]!;
        const before = (await arrival(net.kg, target)).version as number;
        const at = (await arrival(net.kg, target)).expectedArrival as string;
        await send(net.kz, 'aci', declaration(0, at, (d) => {
          d.kind = 'amendment';
          d.amendmentReason = `page ${page}`;
        }), target);
        await arrival(net.kg, target, (a) => a.version === before + 1);
        amended++;
      }
    }
    expect(cursor, 'paged to the end within 60 pages').toBeNull();
    expect(added + amended, 'writes between pages').toBeGreaterThanOrEqual(110);
    // every consignment held at the start exactly once, and nothing twice
    for (const id of held) expect(seen.filter((s) => s === id), id).toHaveLength(1);
    expect(new Set(seen).size).toBe(seen.length);
    // in expected-arrival order throughout
    const times = arrivals.map((a) => Date.parse(a));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  }, 120_000);

  it('sees every message held at the start once, newest first, with random page sizes while messages arrive', async () => {
    const rnd = prng(SEED + 1);
    const start = (await get('/v1/messages?direction=in&limit=500')).items.map((m: any) => `${m.partner}/${m.id}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    let added = 200;
    for (let page = 0; page < 80; page++) {
      const limit = 1 + Math.floor(rnd() * 5);
      const r: any = await get(`/v1/messages?direction=in&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...r.items.map((m: any) => `${m.partner}/${m.id}`));
      cursor = r.nextCursor;
      if (cursor === null) break;
      if (rnd() < 0.7) await send(net.kz, 'aci', declaration(added++));
    }
    expect(cursor, 'paged to the end within 80 pages').toBeNull();
    expect(added, 'messages received between pages').toBeGreaterThanOrEqual(205);
    // messages arriving during the pass are newer than the cursor: the pass shows exactly those held at its start
    expect(seen).toEqual(start);
  }, 120_000);
});
