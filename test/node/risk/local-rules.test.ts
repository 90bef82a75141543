/**
 * Local rules from KG's rules file over the wire: every watch list and range raises its own indicator,
 * named by the rule's place in the file, with the fields that matched; the level is the documented sum; an
 * edited rules file recomputes the upcoming consignments.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { road, variant } from './fixtures.js';
import { arrival, codesOf, has, riskNetwork, send, type RiskNetwork } from './network.js';

const RULES = {
  v: 1,
  levels: { medium: 3, high: 6 },
  watch: {
    hsPrefixes: [{ prefix: '1512', weight: 1, note: 'vegetable oils' }],
    originCountries: [{ country: 'AF', weight: 2 }],
    traders: [{ id: '150940012345', weight: 2, note: 'carrier under audit' }],
    routes: [
      { partner: 'KZ', borderCrossingPoint: 'ak-zhol', transportMode: '3', weight: 1 },
      // Biləsuvar with its Azerbaijani schwa, as a plain Latin keyboard types it, and a "Bilasuvar" without one
      { borderCrossingPoint: 'Biləsuvar', weight: 1 },
      { borderCrossingPoint: 'Bilesuvar', weight: 1 },
      { borderCrossingPoint: 'Bilasuvar', weight: 1 },
    ],
  },
  ranges: [
    { hsHeading: '1101', grossMassKg: { max: 10000 }, weight: 1 },
    { hsHeading: '1902', valuePerKg: { min: 1, currency: 'USD' }, weight: 2, note: 'pasta below 1 USD/kg' },
  ],
};

let net: RiskNetwork;
let id: string;
let a: any;
/** The road declaration without certificate references (only the local rules speak). */
const plain = (change: (d: any) => void = () => undefined) =>
  variant(road(), (d) => {
    for (const it of d.goodsItems) delete it.ecooReference;
    change(d);
  });
const rule = (name: string): any => a.assessment.indicators.find((i: any) => i.rule === name);

beforeAll(async () => {
  net = await riskNetwork({ rules: RULES });
  id = await send(net.kz, 'aci', plain());
  a = await arrival(net.kg, id, has('local-value-range'));
});
afterAll(async () => net?.close());

describe('local rules between two nodes', () => {
  it('raises local-hs-prefix for items under a watched HS prefix', () => {
    expect(rule('watch.hsPrefixes[0]')).toMatchObject({ code: 'local-hs-prefix', weight: 1, kind: 'risk' });
    expect(rule('watch.hsPrefixes[0]').evidence.map((e: any) => [e.path, e.value])).toEqual([['/goodsItems/2/hsCode', '1512191000']]);
  });

  it('raises local-trader for a watched trader in any party role', () => {
    expect(rule('watch.traders[0]')).toMatchObject({ code: 'local-trader', weight: 2 });
    expect(rule('watch.traders[0]').evidence.map((e: any) => e.path)).toEqual(['/carrier/id']);
  });

  it('raises local-route when every criterion of a watched route matches', () => {
    expect(rule('watch.routes[0]')).toMatchObject({ code: 'local-route', weight: 1, kind: 'risk' });
    expect(rule('watch.routes[0]').evidence.map((e: any) => e.path)).toEqual(['', '/officeOfEntry/borderCrossingPoint', '/borderTransportMeans/mode']);
  });

  it('raises local-mass-range for an item heavier than its heading allows', () => {
    expect(rule('ranges[0]')).toMatchObject({ code: 'local-mass-range', weight: 1 });
    expect(rule('ranges[0]').evidence.map((e: any) => [e.path, e.value])).toEqual([['/goodsItems/0/grossMass/value', 15060]]);
  });

  it('raises local-value-range for an item below the value per kilogram of its heading', () => {
    expect(rule('ranges[1]')).toMatchObject({ code: 'local-value-range', weight: 2 });
    expect(rule('ranges[1]').evidence.map((e: any) => e.path)).toEqual(['/goodsItems/1/customsValue/amount']);
  });

  it('computes the level as the sum of the weights against the configured thresholds', () => {
    expect(a).toMatchObject({ score: 7, level: 'high' });
    expect(a.assessment.thresholds).toEqual({ medium: 3, high: 6 });
    expect(a.assessment.explanation).toBe('score 7 = watch.traders[0] +2 ranges[1] +2 watch.hsPrefixes[0] +1 ranges[0] +1 watch.routes[0] +1; low below 3, medium from 3, high from 6: high');
  });

  it('matches a watched route whose crossing point the declaration writes otherwise (spacing, accents), as the arrivals filters do', async () => {
    const other = await send(net.kz, 'aci', plain((d) => (d.officeOfEntry.borderCrossingPoint = 'AK ZHÖL')));
    const b = await arrival(net.kg, other, has('local-value-range'));
    expect(b.assessment.indicators.find((i: any) => i.rule === 'watch.routes[0]')?.evidence.map((e: any) => [e.path, e.value])).toContainEqual(['/officeOfEntry/borderCrossingPoint', 'AK ZHÖL']);
  });

  it('matches a watched crossing point named with the Azerbaijani schwa by either reading, and no "a" by an "e"', async () => {
    const routes = async (bcp: string): Promise<string[]> => {
      const other = await send(net.kz, 'aci', plain((d) => (d.officeOfEntry.borderCrossingPoint = bcp)));
      const b = await arrival(net.kg, other, has('local-value-range'));
      return b.assessment.indicators.filter((i: any) => i.code === 'local-route').map((i: any) => i.rule).sort();
    };
    expect(await routes('Biləsuvar')).toEqual(['watch.routes[1]', 'watch.routes[2]', 'watch.routes[3]']);
    expect(await routes('Bilesuvar')).toEqual(['watch.routes[1]', 'watch.routes[2]']);
    expect(await routes('Bilasuvar')).toEqual(['watch.routes[1]', 'watch.routes[3]']);
  });

  it('raises local-origin for goods of a watched origin country', async () => {
    const other = await send(net.kz, 'aci', plain((d) => (d.goodsItems[2].originCountry = 'AF')));
    const b = await arrival(net.kg, other, has('local-origin'));
    expect(b.assessment.indicators.find((i: any) => i.code === 'local-origin').evidence.map((e: any) => [e.path, e.value])).toEqual([['/goodsItems/2/originCountry', 'AF']]);
  });

  it('recomputes upcoming consignments when the rules file changes', async () => {
    const file = join(net.kg.dir, 'risk-rules.json');
    const rules = JSON.parse(readFileSync(file, 'utf8'));
    rules.watch.hsPrefixes = [];
    writeFileSync(file, JSON.stringify(rules));
    const b = await arrival(net.kg, id, (x) => !codesOf(x).includes('local-hs-prefix'));
    expect(b.score).toBe(6);
  });

  it('matches the watched routes of the rules file in force: a route moved to another crossing point by a reload no longer matches', async () => {
    expect(codesOf(await arrival(net.kg, id, () => true))).toContain('local-route');
    const file = join(net.kg.dir, 'risk-rules.json');
    const rules = JSON.parse(readFileSync(file, 'utf8'));
    rules.watch.routes[0].borderCrossingPoint = 'Torugart';
    writeFileSync(file, JSON.stringify(rules));
    const b = await arrival(net.kg, id, (x) => !codesOf(x).includes('local-route'));
    expect(b.assessment.indicators.map((i: any) => i.rule)).not.toContain('watch.routes[0]');
  });
});
