/**
 * AEO cross-check and registry over the wire: KZ sends its AEO snapshot, changes and declarations to KG;
 * KG's arrivals view carries the facilitation or risk indicator with the evidence, is recomputed when an AEO
 * message arrives after the declaration, and its registry answers "was X a valid AEO on D".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AeoList } from '../../../protocol/risk.js';
import { api } from '../../helpers/network.js';
import { example, road, snapshot, variant } from './fixtures.js';
import { aeoPages, arrival, codesOf, has, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
/** The first declaration, sent before any AEO data: the snapshot then recomputes it. */
let firstId: string;
beforeAll(async () => {
  net = await riskNetwork();
});
afterAll(async () => net?.close());

const REVOKED = 'KZAEO010240005678';
const SHYMKENT = 'KZAEO060140009876';

/** The road declaration with consignor and exporter being the KZ trader that holds another AEO id (KZAEO + its BIN). */
function declaredBy(aeoId: string, ref: string): Record<string, unknown> {
  return variant(road(), (d) => {
    d.functionalReference = ref;
    for (const p of [d.consignor, d.exporter]) Object.assign(p, { aeoId, id: aeoId.slice(5) });
    for (const it of d.goodsItems) delete it.ecooReference;
  });
}

describe('AEO cross-check between two nodes', () => {
  it('reports an AEO id as unverifiable while the partner has sent no AEO data', async () => {
    const id = await send(net.kz, 'aci', declaredBy('KZAEO981140001234', 'AEO-T-1'));
    const a = await arrival(net.kg, id, has('aeo-unverified'));
    expect(a.assessment.indicators.find((i: any) => i.code === 'aeo-unverified')).toMatchObject({ kind: 'info', weight: 0 });
    firstId = id;
  });

  it('recomputes to aeo-valid, a facilitation indicator, when the snapshot arrives after the declaration', async () => {
    const id = firstId;
    const snap = await send(net.kz, 'aeo', snapshot());
    const a = await arrival(net.kg, id, has('aeo-valid'));
    const ind = a.assessment.indicators.find((i: any) => i.code === 'aeo-valid');
    expect(ind).toMatchObject({ kind: 'facilitation', weight: -2 });
    expect(ind.evidence).toEqual(expect.arrayContaining([
      expect.objectContaining({ messageId: id, type: 'aci', path: '/consignor/aeoId', value: 'KZAEO981140001234' }),
      expect.objectContaining({ messageId: id, type: 'aci', path: '/exporter/aeoId' }),
      expect.objectContaining({ messageId: snap, type: 'aeo', path: '/operators/0/status', value: 'valid' }),
    ]));
    expect(a).toMatchObject({ level: 'low', score: -2 });
  });

  it('raises aeo-revoked and a high level for a consignor whose AEO status the partner revoked', async () => {
    const id = await send(net.kz, 'aci', declaredBy(REVOKED, 'AEO-T-2'));
    const a = await arrival(net.kg, id, has('aeo-revoked'));
    expect(a).toMatchObject({ level: 'high', score: 5 });
    expect(a.assessment.explanation).toContain('aeo-revoked +5');
    // the date is the arrival's, at which the register is read, not the date of the revocation
    const summary = a.assessment.indicators.find((i: any) => i.code === 'aeo-revoked').summary as string;
    expect(summary).toMatch(new RegExp(`^Consignor and exporter ${REVOKED} is an AEO whose status was revoked in the KZ register as it stands for the arrival date \\d{4}-\\d{2}-\\d{2}$`));
  });

  it('recomputes to aeo-suspended when the partner suspends the consignor after the declaration', async () => {
    const id = await send(net.kz, 'aci', declaredBy(SHYMKENT, 'AEO-T-3'));
    await arrival(net.kg, id, has('aeo-valid'));
    const change = await send(net.kz, 'aeo', example('aeo-kz-suspension.json'));
    const a = await arrival(net.kg, id, has('aeo-suspended'));
    expect(codesOf(a)).not.toContain('aeo-valid');
    expect(a.level).toBe('medium');
    expect(a.assessment.indicators[0].evidence).toEqual(expect.arrayContaining([expect.objectContaining({ messageId: change, path: '/operator/status', value: 'suspended' })]));
  });

  it('raises aeo-not-listed for an AEO id the partner registry does not contain', async () => {
    const id = await send(net.kz, 'aci', declaredBy('KZAEO999999999999', 'AEO-T-4'));
    const a = await arrival(net.kg, id, has('aeo-not-listed'));
    expect(a.level).toBe('medium');
  });

  it('raises aeo-not-listed, not aeo-valid, for a consignor quoting the AEO id the register lists for another trader', async () => {
    // the consignor, BIN 990140000001, quotes the AEO id of Almaty Flour Mill (BIN 981140001234), valid in the KZ register
    const borrowed = variant(road(), (d) => {
      d.functionalReference = 'AEO-T-6';
      d.consignor = { ...d.consignor, name: 'Steppe Grain Traders LLP', id: '990140000001' };
      delete d.exporter;
      for (const it of d.goodsItems) delete it.ecooReference;
    });
    const id = await send(net.kz, 'aci', borrowed);
    const a = await arrival(net.kg, id, has('aeo-not-listed'));
    expect(codesOf(a)).not.toContain('aeo-valid');
    const ind = a.assessment.indicators.find((i: any) => i.code === 'aeo-not-listed');
    expect(ind.summary).toContain('lists KZAEO981140001234 for another trader (national trader id 981140001234');
    expect(ind.evidence).toEqual(expect.arrayContaining([
      expect.objectContaining({ messageId: id, type: 'aci', path: '/consignor/id', value: '990140000001' }),
      expect.objectContaining({ type: 'aeo', path: '/operators/0/nationalTraderId', value: '981140001234' }),
    ]));
    expect(a.level).toBe('medium');
  });

  it('reassesses a consignor when the partner corrects the national trader id listed under its AEO id, status unchanged', async () => {
    const correct = (nationalTraderId: string): Record<string, unknown> => variant(example('aeo-kz-suspension.json'), (c) => {
      Object.assign(c.operator, { aeoId: 'KZAEO880140002222', nationalTraderId, legalName: 'Karaganda Coal Export LLP', status: 'valid', statusDate: '2025-02-01', validFrom: '2025-02-01' });
      delete c.reason;
    });
    await send(net.kz, 'aeo', correct('880140002221'));
    const id = await send(net.kz, 'aci', declaredBy('KZAEO880140002222', 'AEO-T-7'));
    await arrival(net.kg, id, has('aeo-not-listed'));
    await send(net.kz, 'aeo', correct('880140002222'));
    const a = await arrival(net.kg, id, has('aeo-valid'));
    expect(codesOf(a)).not.toContain('aeo-not-listed');
    expect(a.level).toBe('low');
  });

  it('raises aeo-expired for an authorisation whose validity ended before the expected arrival', async () => {
    const expiring = variant(example('aeo-kz-suspension.json'), (c) => {
      Object.assign(c.operator, { aeoId: 'KZAEO770140004321', nationalTraderId: '770140004321', legalName: 'Aktobe Chemicals LLP', status: 'valid', statusDate: '2021-03-01', validFrom: '2021-03-01', validUntil: '2026-03-01' });
      delete c.reason;
    });
    const change = await send(net.kz, 'aeo', expiring);
    const id = await send(net.kz, 'aci', declaredBy('KZAEO770140004321', 'AEO-T-5'));
    const a = await arrival(net.kg, id, has('aeo-expired'));
    const ind = a.assessment.indicators.find((i: any) => i.code === 'aeo-expired');
    expect(ind).toMatchObject({ kind: 'risk', weight: 3 });
    expect(ind.evidence).toEqual(expect.arrayContaining([expect.objectContaining({ messageId: change, type: 'aeo', path: '/operator/status' })]));
    expect(a.level).toBe('medium');
  });

  it('answers whether an operator was a valid AEO on a given date', async () => {
    const before = await api(net.kg, 'GET', `/v1/aeo/KZ/${REVOKED}?at=2026-01-15`);
    expect(before.status).toBe(200);
    expect(before.json.validity).toMatchObject({ valid: true, status: 'valid', basis: 'inferred' });
    const after = await api(net.kg, 'GET', `/v1/aeo/KZ/${REVOKED}?at=2026-06-01`);
    expect(after.json.validity).toMatchObject({ valid: false, status: 'revoked', basis: 'recorded' });
  });

  it('keeps the status history of an operator', async () => {
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${SHYMKENT}`);
    expect(r.json.history.map((h: any) => [h.effective, h.status, h.kind])).toEqual([['2023-09-01', 'valid', 'snapshot'], ['2026-11-23', 'suspended', 'change']]);
    expect(r.json).toMatchObject({ status: 'suspended', listed: true });
  });

  it('finds operators of a partner by national trader id', async () => {
    const r = await api(net.kg, 'GET', '/v1/aeo?partner=KZ&id=150940012345');
    expect(r.json.items.map((o: any) => o.aeoId)).toEqual(['KZAEO150940012345']);
  });

  it('pages through a partner registry larger than one page with nextCursor, each operator once, instead of cutting it off', async () => {
    const all = (await api(net.kg, 'GET', '/v1/aeo?partner=KZ')).json;
    expect(AeoList.parse(all).nextCursor).toBeNull();
    const ids = all.items.map((o: any) => o.aeoId) as string[];
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(await aeoPages(net.kg, 'partner=KZ', 2, ids.length + 1)).toEqual(ids);
    const bad = await api(net.kg, 'GET', '/v1/aeo?partner=KZ&cursor=bm90LWEtY3Vyc29y');
    expect(bad.status).toBe(422);
    expect(bad.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '/cursor' }] });
  });

  it('answers an unknown operator with 404 GNC_NOT_FOUND', async () => {
    const r = await api(net.kg, 'GET', '/v1/aeo/KZ/KZAEO123?at=2026-01-01');
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('GNC_NOT_FOUND');
  });

  it('refuses an invalid date with 422 GNC_SCHEMA_INVALID naming the parameter', async () => {
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${REVOKED}?at=yesterday`);
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('GNC_SCHEMA_INVALID');
    expect(r.json.issues[0].path).toBe('/at');
  });
});

describe('AEO registry when a partner lists an operator again', () => {
  let relist: RiskNetwork;
  beforeAll(async () => {
    relist = await riskNetwork();
  });
  afterAll(async () => relist?.close());

  const B = 'KZAEO981140001234';
  const snapshotOn = (date: string, listsB: boolean): Record<string, unknown> => ({
    kind: 'snapshot',
    asOf: `${date}T06:00:00+05:00`,
    operators: listsB ? [{ ...snapshot()['operators'][0], status: 'valid', statusDate: '2024-01-01', validFrom: '2024-01-01' }] : [],
  });

  it('treats an operator removed by one snapshot and listed by a later one as a valid AEO', async () => {
    for (const [date, listsB] of [['2026-11-01', true], ['2026-11-10', false], ['2026-11-20', true]] as const) await send(relist.kz, 'aeo', snapshotOn(date, listsB));
    const r = await api(relist.kg, 'GET', `/v1/aeo/KZ/${B}?at=2026-11-25`);
    expect(r.json).toMatchObject({ status: 'valid', listed: true, validity: { valid: true, status: 'valid', basis: 'recorded' } });
    expect(r.json.history.map((h: any) => [h.effective, h.status])).toEqual([['2024-01-01', 'valid'], ['2026-11-10', 'removed'], ['2026-11-20', 'valid']]);
    const id = await send(relist.kz, 'aci', declaredBy(B, 'AEO-R-1'));
    const a = await arrival(relist.kg, id, has('aeo-valid'));
    expect(codesOf(a)).not.toContain('aeo-not-listed');
    expect(a.level).toBe('low');
  });
});
