/**
 * The partner AEO registry found by legal name over the wire: KZ sends KG a snapshot whose names are written in
 * several scripts and forms, then a suspension and a snapshot that leaves one out; KG's `GET /v1/aeo?name=` finds
 * them by a word prefix in any case and Unicode form, with their current status, a page at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AeoList } from '../../../protocol/risk.js';
import { api, waitFor } from '../../helpers/network.js';
import { snapshot, variant } from './fixtures.js';
import { aeoPages, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;

const NAMES: Record<string, string> = {
  KZAEO100000000001: 'ТОО «Шёлковый Путь Логистикс»',
  KZAEO100000000002: 'OOO Silk Road Logistics',
  KZAEO100000000003: '丝绸之路物流有限公司',
  KZAEO100000000004: 'ＡＳＴＡＮＡ ＴＲＡＤＥ ＬＬＰ',
  KZAEO100000000005: 'Öskemen Çelik Sanayi LLP'.normalize('NFD'),
  KZAEO100000000006: 'Silk Road Trading 1 LLC',
  KZAEO100000000007: 'Silk Road Trading 2 LLC',
  KZAEO100000000008: 'Silk-Road Trading 3 LLC',
  KZAEO100000000009: 'Great Silk Road Transit JSC',
  KZAEO100000000010: 'ТОО «Айсберг Транс»',
  KZAEO100000000011: 'ТОО «Аисберг»',
  KZAEO100000000012: 'OZBEK SAVDO LLP',
};
const SUSPENDED = 'KZAEO100000000002';
const REMOVED = 'KZAEO100000000005';

function operators(leaveOut?: string): Record<string, unknown>[] {
  const template = snapshot()['operators'][0] as Record<string, unknown>;
  return Object.entries(NAMES)
    .filter(([aeoId]) => aeoId !== leaveOut)
    .map(([aeoId, legalName]) => ({ ...template, aeoId, nationalTraderId: aeoId.slice(5), legalName, status: 'valid', statusDate: '2024-01-01', validFrom: '2024-01-01' }));
}

beforeAll(async () => {
  net = await riskNetwork();
  await send(net.kz, 'aeo', { kind: 'snapshot', asOf: '2026-11-01T06:00:00+05:00', operators: operators() });
  const [suspended] = operators().filter((o) => o['aeoId'] === SUSPENDED);
  await send(net.kz, 'aeo', { kind: 'change', operator: { ...suspended, status: 'suspended', statusDate: '2026-11-05' }, reason: 'Under investigation' });
  await send(net.kz, 'aeo', { kind: 'snapshot', asOf: '2026-11-10T06:00:00+05:00', operators: operators(REMOVED).map((o) => (o['aeoId'] === SUSPENDED ? { ...o, status: 'suspended', statusDate: '2026-11-05' } : o)) });
  // the registry is projected after the receipt: wait for the last snapshot to show
  await waitFor(async () => ((await api(net.kg, 'GET', `/v1/aeo/KZ/${REMOVED}`)).json?.listed === false ? true : undefined), 10_000, 'the second snapshot');
});
afterAll(async () => net?.close());

async function byName(query: string): Promise<string[]> {
  const r = await api(net.kg, 'GET', `/v1/aeo?name=${encodeURIComponent(query)}`);
  expect(r.status, r.text).toBe(200);
  return AeoList.parse(r.json).items.map((o) => o.aeoId);
}

describe('AEO registry by legal name', () => {
  it('finds an operator by a word prefix of its Cyrillic name in another letter case, quotes and legal form left out', async () => {
    expect(await byName('шёлковый путь')).toEqual(['KZAEO100000000001']);
    expect(await byName('ПУТЬ ЛОГ')).toEqual(['KZAEO100000000001']);
    expect(await byName('«Шёлковый»')).toEqual(['KZAEO100000000001']);
  });

  it('finds a Chinese name by any of its characters on, without its legal form', async () => {
    expect(await byName('物流')).toEqual(['KZAEO100000000003']);
    expect(await byName('丝绸之路')).toEqual(['KZAEO100000000003']);
    expect(await byName('丝绸之路物流有限公司')).toEqual(['KZAEO100000000003']);
  });

  it('compares full-width and decomposed letters as the letters they are', async () => {
    expect(await byName('astana trade')).toEqual(['KZAEO100000000004']);
    expect(await byName('ＳＩＬＫ ＲＯＡＤ ＬＯＧ')).toEqual([SUSPENDED]);
    expect(await byName('öskemen ÇELIK')).toEqual([REMOVED]);
  });

  it('finds a name written with accents by a query without them, and the other way round', async () => {
    expect(await byName('Oskemen Celik')).toEqual([REMOVED]);
    expect(await byName('Шелковый путь')).toEqual(['KZAEO100000000001']);
    expect(await byName('Sïlk Röad Lógistics')).toEqual([SUSPENDED]);
  });

  it('tells й from и, in the name and in the query, while ё is е and Latin accents go', async () => {
    expect(await byName('Айсберг')).toEqual(['KZAEO100000000010']);
    expect(await byName('АИСБЕРГ')).toEqual(['KZAEO100000000011']);
    expect(await byName('аи\u0306сберг транс')).toEqual(['KZAEO100000000010']);
    expect(await byName('Шелковый')).toEqual(['KZAEO100000000001']);
    expect(await byName('Özbek')).toEqual(['KZAEO100000000012']);
  });

  it('reads punctuation as a word break and leaves legal forms out, of the name and of the query', async () => {
    expect(await byName('SILK-ROAD LOGISTICS')).toEqual([SUSPENDED]);
    expect(await byName('too silk road logistics llc')).toEqual([SUSPENDED]);
    expect(await byName('silk road trading 3')).toEqual(['KZAEO100000000008']);
  });

  it('lists every operator whose name has the words from any word on, in the order of the matched words', async () => {
    // "Silk Road Logistics" (after OOO), "Silk Road Trading 1/2/3", "Silk Road Transit" (after "Great")
    expect(await byName('silk road')).toEqual([SUSPENDED, 'KZAEO100000000006', 'KZAEO100000000007', 'KZAEO100000000008', 'KZAEO100000000009']);
  });

  it('shows a suspended and a removed operator with their current status, as the id lookup does', async () => {
    for (const [aeoId, query] of [[SUSPENDED, 'silk road logistics'], [REMOVED, 'Öskemen']] as const) {
      const found = (await api(net.kg, 'GET', `/v1/aeo?name=${encodeURIComponent(query)}`)).json.items;
      const one = (await api(net.kg, 'GET', `/v1/aeo/KZ/${aeoId}`)).json;
      expect(found).toEqual([one]);
    }
    const [suspended] = (await api(net.kg, 'GET', '/v1/aeo?name=silk%20road%20logistics')).json.items;
    expect(suspended).toMatchObject({ status: 'suspended', listed: true });
    const [removed] = (await api(net.kg, 'GET', '/v1/aeo?name=%C3%B6skemen')).json.items;
    expect(removed).toMatchObject({ listed: false });
  });

  it('searches one partner with partner, and finds nothing of a partner that sent no such name', async () => {
    expect((await api(net.kg, 'GET', '/v1/aeo?partner=KZ&name=astana')).json.items.map((o: any) => o.aeoId)).toEqual(['KZAEO100000000004']);
    expect((await api(net.kg, 'GET', '/v1/aeo?partner=CN&name=astana')).json).toEqual({ items: [], nextCursor: null });
  });

  it('pages through the operators a name matches with nextCursor, each once and in order', async () => {
    for (const partner of ['', 'partner=KZ&']) {
      const all = await byName('silk road');
      expect(await aeoPages(net.kg, `${partner}name=silk+road`, 2, all.length + 1)).toEqual(all);
    }
  });

  it('refuses a name with fewer than 3 letters or digits besides punctuation and legal forms with 422 naming the parameter', async () => {
    for (const query of ['si', 'LLP', 'OOO', '有限公司', '物', ' - ']) {
      const r = await api(net.kg, 'GET', `/v1/aeo?name=${encodeURIComponent(query)}`);
      expect(r.status, query).toBe(422);
      expect(r.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '/name' }] });
      expect(r.json.detail).toContain('at least 3 letters or digits');
    }
  });

  it('refuses a name with an id, and a cursor of another kind of search, with 422', async () => {
    const both = await api(net.kg, 'GET', `/v1/aeo?name=silk&id=${SUSPENDED}`);
    expect(both.status).toBe(422);
    expect(both.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '/id' }] });
    const idCursor = (await api(net.kg, 'GET', '/v1/aeo?partner=KZ&limit=1')).json.nextCursor as string;
    const mixed = await api(net.kg, 'GET', `/v1/aeo?name=silk&cursor=${idCursor}`);
    expect(mixed.status).toBe(422);
    expect(mixed.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '/cursor' }] });
    const nameCursor = (await api(net.kg, 'GET', '/v1/aeo?name=silk&limit=1')).json.nextCursor as string;
    const back = await api(net.kg, 'GET', `/v1/aeo?cursor=${nameCursor}`);
    expect(back.status).toBe(422);
    expect(back.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '/cursor' }] });
  });

  it('refuses the cursor of a search by another name instead of answering an empty or the first page as the next one', async () => {
    const silk = (await api(net.kg, 'GET', '/v1/aeo?name=silk+road&limit=1')).json;
    expect(silk.items.map((o: any) => o.aeoId)).toEqual([SUSPENDED]);
    for (const name of ['astana', 'great+silk', 'silk+road+trading']) {
      const r = await api(net.kg, 'GET', `/v1/aeo?name=${name}&cursor=${silk.nextCursor}`);
      expect(r.status, name).toBe(422);
      expect(r.json, name).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '/cursor' }] });
    }
    // a cursor belongs to its search (node/api/cursor.ts): a shorter name the operator is found by too is another
    // order, whose matches before it the page would skip; the same search goes on after it
    for (const other of ['name=silk', 'name=silk+road&partner=KZ']) {
      expect((await api(net.kg, 'GET', `/v1/aeo?${other}&cursor=${silk.nextCursor}`)).status, other).toBe(422);
    }
    const on = await api(net.kg, 'GET', `/v1/aeo?name=SILK+Road&cursor=${silk.nextCursor}`);
    expect(on.status, on.text).toBe(200);
    expect(on.json.items.map((o: any) => o.aeoId)).not.toContain(SUSPENDED);
    expect(on.json.items.length).toBeGreaterThan(0);
  });

  it('documents name beside id in the OpenAPI document', async () => {
    const doc = (await api(net.kg, 'GET', '/v1/openapi.json')).json;
    const params = doc.paths['/v1/aeo'].get.parameters as { name: string; schema: { description?: string } }[];
    expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(['partner', 'id', 'name', 'limit', 'cursor']));
    expect(params.find((p) => p.name === 'name')?.schema.description).toMatch(/legal name.*at least 3 letters or digits.*not with id/);
  });

  it('finds an operator by its new name once the partner renames it, and no more by the old one', async () => {
    const [renamed] = operators().filter((o) => o['aeoId'] === 'KZAEO100000000009');
    await send(net.kz, 'aeo', { kind: 'change', operator: variant(renamed, (o) => { o.legalName = 'Caravanserai Transit JSC'; o.statusDate = '2026-11-12'; }) });
    await waitFor(async () => ((await byName('caravanserai')).length > 0 ? true : undefined), 10_000, 'the renamed operator');
    expect(await byName('caravanserai transit')).toEqual(['KZAEO100000000009']);
    expect(await byName('great silk')).toEqual([]);
  });
});
