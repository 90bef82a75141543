/** The rules file is validated at its edge: a wrong field stops the node with GNC_CONFIG_INVALID naming it. */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEIGHTS, loadRules, type BorderZones } from '../../../node/risk/rules.js';
import { arrivalZone } from '../../../node/risk/declaration.js';
import { foldCode } from '../../../node/store/fold.js';
import { foldPlace } from '../../../node/store/name-keys.js';
import { road, tempDir, variant } from './fixtures.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(doc: unknown, name = 'rules.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

function failure(fn: () => unknown): { code: string; message: string; issues?: { path: string }[] } {
  try {
    fn();
  } catch (err) {
    return err as never;
  }
  throw new Error('expected a failure');
}

describe('risk rules file', () => {
  it('loads the documented example configuration', () => {
    const r = loadRules(new URL('../../../examples/risk/rules.json', import.meta.url).pathname);
    expect(r.rules.watch.hsPrefixes.length).toBeGreaterThan(0);
    expect(r.weights['ecoo-cancelled']).toBe(DEFAULT_WEIGHTS['ecoo-cancelled']);
  });

  it('weighs ecoo-partly-confirmed at half the facilitation of ecoo-confirmed, rounded toward less, unless the file sets it', () => {
    const partly = (weights: Record<string, number>): number => loadRules(file({ v: 1, weights })).weights['ecoo-partly-confirmed'];
    expect(partly({})).toBe(0);
    expect(partly({ 'ecoo-confirmed': -4 })).toBe(-2);
    expect(partly({ 'ecoo-confirmed': -3 })).toBe(-1);
    expect(Object.is(partly({ 'ecoo-confirmed': -1 }), 0)).toBe(true);
    expect(partly({ 'ecoo-confirmed': 2 })).toBe(0);
    expect(partly({ 'ecoo-confirmed': -4, 'ecoo-partly-confirmed': -3 })).toBe(-3);
  });

  it('refuses an invalid HS prefix with GNC_CONFIG_INVALID naming the field', () => {
    const e = failure(() => loadRules(file({ v: 1, watch: { hsPrefixes: [{ prefix: '84x', weight: 1 }] } })));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.issues?.[0]?.path).toBe('/watch/hsPrefixes/0/prefix');
  });

  it('refuses a weight for an unknown indicator with GNC_CONFIG_INVALID', () => {
    const e = failure(() => loadRules(file({ v: 1, weights: { 'aeo-fabulous': 3 } })));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.issues?.[0]?.path).toBe('/weights/aeo-fabulous');
    expect(e.message).toContain('aeo-fabulous');
  });

  it('refuses a border time zone Intl does not know, or an offset, naming border.timeZone and the form expected', () => {
    for (const timeZone of ['Asia/Almatty', '+05:00']) {
      const e = failure(() => loadRules(file({ v: 1, border: { timeZone } })));
      expect(e.code).toBe('GNC_CONFIG_INVALID');
      expect(e.issues?.[0]?.path).toBe('/border/timeZone');
      expect(e.message).toContain('expected an IANA time zone name');
    }
    expect(loadRules(file({ v: 1, border: { timeZone: 'Asia/Almaty' } })).rules.border).toEqual({ timeZone: 'Asia/Almaty' });
  });

  it('refuses an office time zone Intl does not know, or an offset, naming the office entry', () => {
    for (const zone of ['Asia/Hovdd', '+07:00']) {
      const e = failure(() => loadRules(file({ v: 1, border: { timeZone: 'Asia/Ulaanbaatar', offices: { 'MNZAM001': 'Asia/Ulaanbaatar', 'Bayan-Ölgii/Tsagaannuur': zone } } })));
      expect(e.code).toBe('GNC_CONFIG_INVALID');
      expect(e.issues?.[0]?.path).toBe('/border/offices/Bayan-Ölgii~1Tsagaannuur');
      expect(e.message).toContain('expected an IANA time zone name');
    }
  });

  it('refuses two entries of border.offices that are one office in another letter case, Unicode form or spacing with two zones, naming the second, and takes them with one', () => {
    const pairs: [string, string][] = [['Цагааннуур', 'ЦАГААННУУР'], ['MNBUL001', 'ｍｎｂｕｌ００１'], ['Майкапшагай', 'Майкапшагай'.normalize('NFD')], ['Zamyn-Üüd', 'ZAMYN UUD'], ['MNBUL001', 'MN BUL 001']];
    for (const [first, second] of pairs) {
      const e = failure(() => loadRules(file({ v: 1, border: { offices: { [first]: 'Asia/Hovd', [second]: 'Asia/Ulaanbaatar' } } })));
      expect(e.code).toBe('GNC_CONFIG_INVALID');
      expect(e.issues?.[0]?.path).toBe(`/border/offices/${second}`);
      expect(e.message).toContain(`expected each office with one zone`);
      expect(e.message).toContain(JSON.stringify(first));
      // the same zone under both names is one entry written twice (a file that covered spellings letter case did not fold)
      const { zones } = loadRules(file({ v: 1, border: { offices: { [first]: 'Asia/Hovd', [second]: 'Asia/Hovd' } } }));
      expect(arrivalZone(variant(road(), (d) => (d.officeOfEntry = { id: first, borderCrossingPoint: second })) as never, zones)).toBe('Asia/Hovd');
    }
  });

  it('refuses an office name no declaration can write, and a border with neither timeZone nor offices', () => {
    const e = failure(() => loadRules(file({ v: 1, border: { offices: { ' Bulgan': 'Asia/Hovd' } } })));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.issues?.[0]?.path).toBe('/border/offices/ Bulgan');
    expect(e.message).toContain('expected an office of entry id or a border crossing point');
    expect(e.message).toContain('received member name " Bulgan"');
    expect(failure(() => loadRules(file({ v: 1, border: {} }))).issues?.[0]?.path).toBe('/border');
  });

  it('gives an arrival the zone of its border crossing point, else of its office of entry, else border.timeZone', () => {
    const { zones } = loadRules(file({ v: 1, border: { timeZone: 'Asia/Ulaanbaatar', offices: { 'MNBUL001': 'Asia/Hovd', 'булган': 'Asia/Ulaanbaatar', 'ЦАГААННУУР': 'Asia/Hovd' } } }));
    const at = (officeOfEntry: { id: string; borderCrossingPoint?: string }) => arrivalZone(variant(road(), (d) => (d.officeOfEntry = officeOfEntry)) as never, zones);
    expect(at({ id: 'MNBUL001', borderCrossingPoint: 'Булган' })).toBe('Asia/Ulaanbaatar');
    expect(at({ id: 'mnbul001', borderCrossingPoint: 'Bulgan' })).toBe('Asia/Hovd');
    expect(at({ id: 'MNBUL001' })).toBe('Asia/Hovd');
    expect(at({ id: 'MNTSG001', borderCrossingPoint: 'Цагааннуур' })).toBe('Asia/Hovd');
    expect(at({ id: 'MNZAM001', borderCrossingPoint: 'Замын-Үүд' })).toBe('Asia/Ulaanbaatar');
    // each compared as the arrivals filter on it compares it: a crossing point as a place name, an office id as a code
    expect(at({ id: 'MN BUL 001' })).toBe('Asia/Hovd');
    expect(at({ id: 'MNTSG001', borderCrossingPoint: 'Tsagaannuur' })).toBe('Asia/Ulaanbaatar');
    const places = loadRules(file({ v: 1, border: { timeZone: 'Asia/Ulaanbaatar', offices: { 'Bayan-Ölgii Tsagaannuur': 'Asia/Hovd', 'ЦАГААННУУР': 'Asia/Hovd' } } })).zones;
    const atPlace = (borderCrossingPoint: string) => arrivalZone(variant(road(), (d) => (d.officeOfEntry = { id: 'MNTSG001', borderCrossingPoint })) as never, places);
    for (const written of ['bayan olgii  tsagaannuur', 'BAYAN-ÖLGII-TSAGAANNUUR', 'Цагааннуур', 'ЦAГAAННУУР']) expect(atPlace(written), written).toBe('Asia/Hovd');
    // offices alone: an office not listed keeps the date as written
    expect(arrivalZone(road() as never, loadRules(file({ v: 1, border: { offices: { 'MNBUL001': 'Asia/Hovd' } } })).zones)).toBeUndefined();
  });

  it("folds each watched route's office of entry and crossing point once, at load, as the arrivals filters fold them; a reload folds the new file's", () => {
    const path = file({ v: 1, watch: { routes: [{ borderCrossingPoint: 'AK ZHÖL', officeOfEntry: 'kg akz 001', weight: 1 }, { partner: 'KZ', weight: 1 }] } }, 'routes.json');
    expect(loadRules(path).routes).toEqual([
      { officeOfEntry: foldCode('kg akz 001'), borderCrossingPoint: [foldPlace('Ak-Zhol')] },
      { officeOfEntry: undefined, borderCrossingPoint: undefined },
    ]);
    file({ v: 1, watch: { routes: [{ borderCrossingPoint: 'Torugart', weight: 1 }] } }, 'routes.json');
    expect(loadRules(path).routes).toEqual([{ officeOfEntry: undefined, borderCrossingPoint: [foldPlace('TORUGART')] }]);
    // a crossing point with the Azerbaijani schwa by both its readings, one without by its own
    file({ v: 1, watch: { routes: [{ borderCrossingPoint: 'Biləsuvar', weight: 1 }, { borderCrossingPoint: 'Bilasuvar', weight: 1 }] } }, 'routes.json');
    expect(loadRules(path).routes.map((r) => r.borderCrossingPoint)).toEqual([['BILASUVAR', 'BILESUVAR'], ['BILASUVAR']]);
  });

  it('gives an arrival at a crossing point named with the Azerbaijani schwa the zone of either reading, and keeps "a" apart from "e"', () => {
    const zonesOf = (offices: Record<string, string>) => loadRules(file({ v: 1, border: { timeZone: 'Asia/Baku', offices } })).zones;
    const at = (zones: BorderZones, borderCrossingPoint: string) => arrivalZone(variant(road(), (d) => (d.officeOfEntry = { id: 'AZBIL001', borderCrossingPoint })) as never, zones);
    // the file with the schwa, declarations typed with "e" or "a"; and the file typed with "e", a declaration with the schwa
    const schwa = zonesOf({ 'Biləsuvar': 'Asia/Tehran' });
    for (const written of ['Bilesuvar', 'Bilasuvar', 'BİLƏSUVAR']) expect(at(schwa, written), written).toBe('Asia/Tehran');
    expect(at(zonesOf({ 'Bilesuvar': 'Asia/Tehran' }), 'Biləsuvar')).toBe('Asia/Tehran');
    // without a schwa, "a" is not "e"
    expect(at(zonesOf({ 'Bilasuvar': 'Asia/Tehran' }), 'Bilesuvar')).toBe('Asia/Baku');
    // the name with the schwa and its typed reading with two zones are one office with two: refused, naming the second
    const e = failure(() => loadRules(file({ v: 1, border: { offices: { 'Biləsuvar': 'Asia/Tehran', 'Bilesuvar': 'Asia/Baku' } } })));
    expect(e.issues?.[0]?.path).toBe('/border/offices/Bilesuvar');
  });

  it('refuses thresholds where medium is not below high', () => {
    const e = failure(() => loadRules(file({ v: 1, levels: { medium: 5, high: 5 } })));
    expect(e.issues?.[0]?.path).toBe('/levels');
  });

  it('refuses a value range whose min is above its max, naming the range', () => {
    const e = failure(() => loadRules(file({ v: 1, ranges: [{ hsHeading: '8471', customsValue: { min: 100, max: 10, currency: 'USD' }, weight: 2 }] })));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.issues?.[0]?.path).toBe('/ranges/0/customsValue');
  });

  it('refuses a range entry that compares nothing, since it could never match', () => {
    const e = failure(() => loadRules(file({ v: 1, ranges: [{ hsHeading: '8471', weight: 2 }] })));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.issues?.[0]?.path).toBe('/ranges/0');
  });

  it('refuses a webhook whose first retry waits longer than its longest one, naming initialBackoffMs', () => {
    const e = failure(() => loadRules(file({ v: 1, webhook: { url: 'http://127.0.0.1:9/hook', secretEnv: 'GNC_TEST_BACKOFF_SECRET', initialBackoffMs: 100_000, maxBackoffMs: 10 } }), { GNC_TEST_BACKOFF_SECRET: 'a-secret-of-32-characters-000000' }));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.issues?.map((i) => i.path)).toContain('/webhook/initialBackoffMs');
  });

  it('refuses a file that is not JSON with GNC_CONFIG_INVALID', () => {
    expect(failure(() => loadRules(file('{ v: 1,'))).code).toBe('GNC_CONFIG_INVALID');
  });

  it.each([
    ['a trailing comma in a list', '{\n  "v": 1,\n  "watch": {\n    "hsPrefixes": [\n      { "prefix": "2402", "weight": 2 },\n    ]\n  }\n}\n', 'line 6 column 5'],
    ['a missing comma', '{\n  "v": 1\n  "levels": { "medium": 2, "high": 5 }\n}\n', 'line 3 column 3'],
    ['a bare word', '{\n  "v": 1,\n  "weights": { "aeo-valid": minus2 }\n}\n', 'line 3 column 29'],
  ])('names the line and column of a JSON syntax error (%s)', (_what, text, where) => {
    const e = failure(() => loadRules(file(text)));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.message).toContain(`is not valid JSON at ${where}`);
  });

  it('refuses a webhook whose secret variable is not set, naming webhook.secretEnv', () => {
    const e = failure(() => loadRules(file({ v: 1, webhook: { url: 'http://127.0.0.1:9/hook', secretEnv: 'GNC_TEST_UNSET_SECRET' } }), {}));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.message).toContain('webhook.secretEnv');
  });

  it('refuses a webhook secret variable shorter than 16 characters without echoing it', () => {
    const e = failure(() => loadRules(file({ v: 1, webhook: { url: 'http://127.0.0.1:9/hook', secretEnv: 'GNC_TEST_SHORT_SECRET' } }), { GNC_TEST_SHORT_SECRET: 'short-secret' }));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.message).toContain('webhook.secretEnv');
    expect(e.message).not.toContain('short-secret');
  });

  it.each(['ftp://gnc:hunter2pw@risk.example/hook', 'https://gnc:hunter2pw@risk example/hook'])('refuses an invalid webhook url (%s) without echoing its password', (url) => {
    const e = failure(() => loadRules(file({ v: 1, webhook: { url, secretEnv: 'GNC_TEST_URL_SECRET' } }), { GNC_TEST_URL_SECRET: 'a-secret-of-32-characters-000000' }));
    expect(e.code).toBe('GNC_CONFIG_INVALID');
    expect(e.issues?.[0]?.path).toBe('/webhook/url');
    expect(e.message).toContain('/webhook/url');
    expect(JSON.stringify([e.message, e.issues])).not.toContain('hunter2pw');
  });

  it('reads the webhook secret from the environment without putting it in the loaded settings view', () => {
    const r = loadRules(file({ v: 1, webhook: { url: 'http://127.0.0.1:9/hook', secretEnv: 'GNC_TEST_SECRET' } }), { GNC_TEST_SECRET: 's3cr3t-s3cr3t-s3cr3t' });
    expect(r.webhook?.secret).toBe('s3cr3t-s3cr3t-s3cr3t');
    expect(JSON.stringify(r.rules)).not.toContain('s3cr3t');
  });
});
