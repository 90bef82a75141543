/**
 * GET /v1/arrivals over real HTTP on the receiving node (KG), fed by declarations KZ sent over the wire, for the
 * names of the whole region: the office filters fold as names do (a crossing point typed without its accents or
 * letters, with Cyrillic twins or other spacing; an office code in any case and spacing), and the list shows the UN
 * numbers of the dangerous goods, in JSON, the export (CSV and JSON lines), the event stream and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, readEvents, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
/**
 * Declarations through Zamyn-Üüd (Latin, with its accents), Замын-Үүд (Cyrillic) and Astara, by truck CAREC*; and
 * through Biləsuvar written with its Azerbaijani schwa, as a plain Latin keyboard types it (Bilesuvar), and a
 * "Bilasuvar" without a schwa (the reading of the schwa as "a", as passports write it).
 */
const ids: Record<'latin' | 'cyrillic' | 'astara' | 'schwa' | 'typed' | 'plain', string> = { latin: '', cyrillic: '', astara: '', schwa: '', typed: '', plain: '' };

beforeAll(async () => {
  net = await riskNetwork();
  const truck = (n: number, office: string, bcp: string, change: (d: any) => void = () => undefined) =>
    variant(road(), (d) => {
      d.functionalReference = `CAREC-${n}`;
      d.borderTransportMeans.id = `CAREC${n}`;
      d.expectedArrival = `2026-11-25T1${n}:00:00+06:00`;
      d.officeOfEntry = { id: office, borderCrossingPoint: bcp };
      change(d);
    });
  ids.latin = await send(net.kz, 'aci', truck(1, 'MNZAM001', 'Zamyn-Üüd'));
  ids.cyrillic = await send(net.kz, 'aci', truck(2, 'MNZAM002', 'Замын-Үүд'));
  // two goods items of dangerous goods: one UN number, and two of which one repeats the first item's
  ids.astara = await send(net.kz, 'aci', truck(3, 'AZAST001', 'Astara', (d) => {
    const item = d.goodsItems[0];
    d.goodsItems = [
      { ...item, unNumber: '1202' },
      { ...item, sequence: 2, unNumbers: ['1993', '1202'] },
    ];
    d.goodsItemCount = 2;
    d.totalPackages = item.packages.count * 2;
    d.totalGrossMass = { ...item.grossMass, value: item.grossMass.value * 2 };
  }));
  ids.schwa = await send(net.kz, 'aci', truck(4, 'AZBIL001', 'Biləsuvar'));
  ids.typed = await send(net.kz, 'aci', truck(5, 'AZBIL001', 'Bilesuvar'));
  ids.plain = await send(net.kz, 'aci', truck(6, 'AZBIL001', 'Bilasuvar'));
  for (const id of Object.values(ids)) await arrival(net.kg, id);
});
afterAll(async () => net?.close());

const found = async (qs: string): Promise<string[]> => {
  const r = await api(net.kg, 'GET', `/v1/arrivals?${qs}`);
  expect(r.status, r.text).toBe(200);
  return r.json.items.map((a: any) => a.id);
};

describe('arrivals across the region', () => {
  it('finds a border crossing point typed without its accents or letters, with Cyrillic twins, or spaced otherwise', async () => {
    const latin = ['zamyn uud', 'ZAMYN-UUD', 'Zamyn  Üüd', 'zamyn-üüd'];
    // "Замын Ууд" as a Russian keyboard types it; "ЗAMЫН" with a Latin A and M from a mixed layout
    const cyrillic = ['Замын Ууд', 'ЗАМЫН-ҮҮД', 'ЗAMЫН-УУД', 'замын—үүд'];
    for (const q of latin) expect(await found(`borderCrossingPoint=${encodeURIComponent(q)}`), q).toEqual([ids.latin]);
    for (const q of cyrillic) expect(await found(`borderCrossingPoint=${encodeURIComponent(q)}`), q).toEqual([ids.cyrillic]);
    // a transliteration is another name, not a fold
    expect(await found(`borderCrossingPoint=${encodeURIComponent('Zamiin Uud')}`)).toEqual([]);
  });

  it('finds a crossing point named with the Azerbaijani schwa by its reading with "e" and with "a", and no "a" by an "e"', async () => {
    const place = (q: string) => found(`borderCrossingPoint=${encodeURIComponent(q)}`);
    // as a plain Latin keyboard types it: the name with the schwa and the one typed so, not "Bilasuvar"
    for (const q of ['Bilesuvar', 'BILESUVAR', 'bilesuvar']) expect(await place(q), q).toEqual([ids.schwa, ids.typed]);
    // with the schwa (in either case, or the turned e some keyboards give): each of its readings
    for (const q of ['Biləsuvar', 'BİLƏSUVAR', 'Bilǝsuvar']) expect(await place(q), q).toEqual([ids.schwa, ids.typed, ids.plain]);
    // without one, as before: the schwa read "a", never an "e"
    expect(await place('Bilasuvar')).toEqual([ids.schwa, ids.plain]);
    expect(await place('Bilosuvar')).toEqual([]);
  });

  it('pages a crossing point with a schwa in arrival order across both readings, each consignment once', async () => {
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await api(net.kg, 'GET', `/v1/arrivals?borderCrossingPoint=${encodeURIComponent('Biləsuvar')}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status, r.text).toBe(200);
      pages.push(...r.json.items.map((a: any) => a.id));
      cursor = r.json.nextCursor;
    } while (cursor !== null);
    expect(pages).toEqual([ids.schwa, ids.typed, ids.plain]);
    // a cursor is of its filter: that of "Biləsuvar" (two readings) is not that of "Bilasuvar" (one)
    const first = await api(net.kg, 'GET', `/v1/arrivals?borderCrossingPoint=${encodeURIComponent('Biləsuvar')}&limit=1`);
    const other = await api(net.kg, 'GET', `/v1/arrivals?borderCrossingPoint=Bilasuvar&limit=1&cursor=${first.json.nextCursor}`);
    expect(other.status, other.text).toBe(422);
    expect(other.json.code).toBe('GNC_SCHEMA_INVALID');
  });

  it('finds an office of entry code in any letter case and spacing, and no other code', async () => {
    expect(await found(`officeOfEntry=${encodeURIComponent('mn zam 001')}`)).toEqual([ids.latin]);
    expect(await found(`officeOfEntry=${encodeURIComponent(' MNZAM002 ')}`)).toEqual([ids.cyrillic]);
    // a code is compared letter for letter: a Cyrillic "М" is another code
    expect(await found(`officeOfEntry=${encodeURIComponent('МNZAM001')}`)).toEqual([]);
  });

  it('shows the UN numbers of the dangerous goods, each once in the order declared, in the list, the detail and the event', async () => {
    const events = readEvents(
      await fetch(`${net.kg.url}/v1/arrivals/stream?after=0`, { headers: { authorization: `Bearer ${net.kg.token}` }, signal: AbortSignal.timeout(15_000) }),
      (e) => e.some((x: any) => x.data.arrival?.id === ids.astara),
    );
    const r = await api(net.kg, 'GET', `/v1/arrivals?transportMeans=CAREC3`);
    expect(r.json.items[0].goods.unNumbers).toEqual(['1202', '1993']);
    expect((await api(net.kg, 'GET', `/v1/arrivals/${ids.latin}`)).json.goods.unNumbers).toEqual([]);
    expect((await arrival(net.kg, ids.astara)).goods.unNumbers).toEqual(['1202', '1993']);
    const event = (await events).find((x: any) => x.data.arrival?.id === ids.astara);
    expect(event.data.arrival.goods.unNumbers).toEqual(['1202', '1993']);
  });

  it('exports the UN numbers as the last CSV column and in the JSON lines', async () => {
    const csv = await api(net.kg, 'GET', '/v1/arrivals/export?format=csv&officeOfEntry=AZAST001');
    const [header, row] = csv.text.trim().split('\r\n');
    expect(header!.split(',').at(-1)).toBe('unNumbers');
    expect(row!.split(',').at(-1)).toBe('1202 1993');
    const jsonl = await api(net.kg, 'GET', '/v1/arrivals/export?format=jsonl&officeOfEntry=AZAST001');
    expect(JSON.parse(jsonl.text.trim()).goods.unNumbers).toEqual(['1202', '1993']);
  });

  it('documents the UN numbers and the office filters in the OpenAPI document', async () => {
    const doc = (await api(net.kg, 'GET', '/v1/openapi.json')).json;
    const goods = doc.components.schemas.ArrivalView.properties.goods;
    expect(goods.required).toContain('unNumbers');
    expect(goods.properties.unNumbers.description).toMatch(/UN numbers of the dangerous goods/);
    const query = doc.paths['/v1/arrivals'].get.parameters;
    expect(query.find((p: any) => p.name === 'borderCrossingPoint').schema.description).toMatch(/read as AEO legal names are/);
    expect(query.find((p: any) => p.name === 'officeOfEntry').schema.description).toMatch(/spaces left out/);
    expect(doc.paths['/v1/arrivals/export'].get.responses['200'].content['text/csv'].schema.description).toMatch(/the last, unNumbers, holds goods.unNumbers/);
  });
});
