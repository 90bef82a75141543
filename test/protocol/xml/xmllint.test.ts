/**
 * The XML this node writes must validate against the published schemas: the WCO DM declaration schema (CDS
 * profile) in ../shared/reference/wco-dm for ACI, and protocol/xml/schemas for the e-CoO and AEO forms. Runs
 * xmllint (libxml2-utils); the test fails, never skips, when xmllint is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bodyToXml, bodyTypeOf, parseXmlBody } from '../../../protocol/xml/index.js';
import { EXAMPLE_NAMES, example, exampleXml, gncError, REPO_ROOT } from '../messages/fixtures.js';

const WCO_XSD = resolve(REPO_ROOT, '../shared/reference/wco-dm/WCO_DEC_2_DMS.xsd');
const OWN_XSD = { ecoo: resolve(REPO_ROOT, 'protocol/xml/schemas/gnc-ecoo-1.xsd'), aeo: resolve(REPO_ROOT, 'protocol/xml/schemas/gnc-aeo-1.xsd') };
const dir = mkdtempSync(join(tmpdir(), 'gnc-xmllint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function xmllint(xml: string, xsd: string): { ok: boolean; output: string } {
  const file = join(dir, `doc-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const run = spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' });
  if (run.error) throw new Error(`xmllint could not run (${run.error.message}): install libxml2-utils`);
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

function schemaFor(type: 'aci' | 'ecoo' | 'aeo'): string {
  return type === 'aci' ? WCO_XSD : OWN_XSD[type];
}

describe('xmllint validation', () => {
  it('finds xmllint installed', () => {
    const run = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
    expect(run.error, 'xmllint is missing: install libxml2-utils').toBeUndefined();
    expect(run.stderr + run.stdout).toContain('libxml');
  });

  it.each(EXAMPLE_NAMES)('validates the XML written for %s', (name) => {
    const body = example(name);
    const type = bodyTypeOf(body);
    const result = xmllint(bodyToXml(type, body), schemaFor(type));
    expect(result.output).toContain('validates');
    expect(result.ok).toBe(true);
  });

  // the examples/messages XML files are what integrators copy: each must validate and read as its JSON twin
  it.each(EXAMPLE_NAMES)('validates examples/messages/%s.xml, which reads as the JSON example', (name) => {
    const xml = exampleXml(name);
    const body = example(name);
    const result = xmllint(xml, schemaFor(bodyTypeOf(body)));
    expect(result.output).toContain('validates');
    expect(result.ok).toBe(true);
    expect(parseXmlBody(xml).body).toStrictEqual(body);
  });

  it('validates a declaration with every optional field left out', () => {
    const body = example('aci-cn-kz-rail');
    for (const key of ['exporter', 'carrier', 'officeOfExit', 'ucr', 'declarationId', 'issueDateTime']) delete body[key];
    delete body['officeOfEntry']['borderCrossingPoint'];
    body['transportEquipment'] = [];
    for (const item of body['goodsItems']) {
      delete item.netMass;
      delete item.unNumber;
      delete item.packages.marks;
    }
    expect(xmllint(bodyToXml('aci', body), WCO_XSD).ok).toBe(true);
  });

  it('validates a pre-arrival declaration with 6-digit HS codes and a UTC arrival', () => {
    const body = example('aci-kz-kg-road');
    body['declarationType'] = 'pre-arrival';
    body['expectedArrival'] = '2026-12-01T03:00:00Z';
    for (const item of body['goodsItems']) item.hsCode = item.hsCode.slice(0, 6);
    expect(xmllint(bodyToXml('aci', body), WCO_XSD).ok).toBe(true);
  });

  it('reads what the schema allows: a goods item with non-preferential and preferential Origin, and a repeated DangerousGoods', () => {
    const body = example('aci-cn-kz-rail');
    const xml = bodyToXml('aci', body)
      .replace(/(<DangerousGoods>[\s\S]*?<\/DangerousGoods>)/, '$1$1')
      .replace(/<Origin>\s*<CountryCode>CN<\/CountryCode>\s*<TypeCode>1<\/TypeCode>\s*<\/Origin>/, '<Origin><CountryCode>CN</CountryCode><TypeCode>1</TypeCode></Origin><Origin><CountryCode>KZ</CountryCode><TypeCode>2</TypeCode></Origin>');
    expect(xml.match(/<TypeCode>2<\/TypeCode>|<UNDGID>/g)).toHaveLength(3);
    expect(xmllint(xml, WCO_XSD).ok).toBe(true);
    expect(parseXmlBody(xml).body).toStrictEqual(body);
  });

  it('writes each goods item\'s country of origin as non-preferential (Origin/TypeCode 1, after CountryCode as the schema orders them), read back as originCountry', () => {
    const body = example('aci-cn-kz-rail');
    const xml = bodyToXml('aci', body);
    const origins = [...xml.matchAll(/<Origin>\s*<CountryCode>([A-Z]{2})<\/CountryCode>\s*<TypeCode>1<\/TypeCode>\s*<\/Origin>/g)].map((m) => m[1]);
    expect(origins).toEqual(body['goodsItems'].map((item: { originCountry: string }) => item.originCountry));
    expect(xml.match(/<Origin>/g)).toHaveLength(origins.length);
    expect(xmllint(xml, WCO_XSD).ok).toBe(true);
    expect(parseXmlBody(xml).body).toStrictEqual(body);
    // TypeCode before CountryCode is out of the schema's order
    const swapped = xml.replace(/(<CountryCode>CN<\/CountryCode>)(\s*)(<TypeCode>1<\/TypeCode>)/, '$3$2$1');
    expect(swapped).not.toBe(xml);
    expect(xmllint(swapped, WCO_XSD).ok).toBe(false);
  });

  // the schemas' maxLength counts characters, and so do SPEC 7.1 and zod's max: a character outside the BMP (an
  // emoji, a CJK Extension B ideograph in a Chinese company name) is one, not two UTF-16 units
  it('reads text at its maximum length in characters outside the BMP, as the schemas count them', () => {
    const longest = '𠮷'.repeat(35) + '有限公司'.repeat(8) + '厂𡈼🚚';
    expect([...longest]).toHaveLength(70);
    expect(longest.length).toBe(107); // UTF-16 units
    const body = example('aci-cn-kz-rail');
    body['consignor'].name = longest;
    body['goodsItems'][0].description = '𠀋'.repeat(512);
    const xml = exampleXml('aci-cn-kz-rail')
      .replace(/(<Consignor>\s*<Name>)[^<]*(<\/Name>)/, `$1${longest}$2`)
      .replace(/(<GovernmentAgencyGoodsItem>[\s\S]*?<Description>)[^<]*(<\/Description>)/, `$1${'𠀋'.repeat(512)}$2`);
    expect(xml).toContain(longest);
    expect(xmllint(xml, WCO_XSD).ok).toBe(true);
    expect(parseXmlBody(xml).body).toStrictEqual(body);
    expect(parseXmlBody(bodyToXml('aci', body)).body).toStrictEqual(body);
    // one character more is refused by both
    const over = xml.replace(longest, longest + '𩸽');
    expect(xmllint(over, WCO_XSD).ok).toBe(false);
    expect(() => parseXmlBody(over)).toThrow(/Consignor\/Name: expected at most 70 characters/);
  });

  // found by hand-written variants of the generated documents: the GNC schemas accepted values the node then refused,
  // so an integrator whose document passed the published schema still got GNC_SCHEMA_INVALID
  it.each([
    ['ecoo', 'a date with a zone', '<IssueDate>2026-11-23</IssueDate>', '<IssueDate>2026-11-23Z</IssueDate>'],
    ['ecoo', 'a quantity of 17 digits', '<Quantity unitCode="KGM">15000</Quantity>', '<Quantity unitCode="KGM">12345678901234567</Quantity>'],
    ['ecoo', 'a quantity of 7 decimals', '<Quantity unitCode="KGM">15000</Quantity>', '<Quantity unitCode="KGM">15000.0000001</Quantity>'],
    ['aeo', 'a date-time with a fraction of a second', '<AsOfDateTime>2026-11-23T06:00:00+05:00</AsOfDateTime>', '<AsOfDateTime>2026-11-23T06:00:00.5+05:00</AsOfDateTime>'],
    ['aeo', 'a date-time without a zone', '<AsOfDateTime>2026-11-23T06:00:00+05:00</AsOfDateTime>', '<AsOfDateTime>2026-11-23T06:00:00</AsOfDateTime>'],
    ['aeo', 'a date-time at a zone of minutes', '<AsOfDateTime>2026-11-23T06:00:00+05:00</AsOfDateTime>', '<AsOfDateTime>2026-11-23T06:00:00+04:30</AsOfDateTime>'],
    ['aeo', 'a date-time at 24:00:00', '<AsOfDateTime>2026-11-23T06:00:00+05:00</AsOfDateTime>', '<AsOfDateTime>2026-11-23T24:00:00+05:00</AsOfDateTime>'],
  ] as const)('the %s schema refuses what the node refuses: %s', (type, _what, from, to) => {
    const name = type === 'ecoo' ? 'ecoo-kz-kg-preferential' : 'aeo-kz-snapshot';
    const xml = exampleXml(name).replace(from, to);
    expect(xml).not.toBe(exampleXml(name));
    expect(() => parseXmlBody(xml)).toThrow(/invalid/);
    const result = xmllint(xml, OWN_XSD[type]);
    expect(result.output).toContain('fails to validate');
    expect(result.ok).toBe(false);
  });

  // the WCO formats are the contract: n..16,6 is 16 digits in all (totalDigits), at most 6 of them decimals, so 16
  // digits before the point are a valid mass; its text pattern .*[^\s].* takes a tab inside text. The node refused
  // both (10 integer digits at most, no tab), so a schema-valid national declaration was refused on import
  it('reads a WCO declaration with a 16-digit mass and a tab inside a name, as the schema allows, and writes it back valid', () => {
    const xml = exampleXml('aci-kz-kg-road')
      .replace('<GrossMassMeasure unitCode="KGM">15060</GrossMassMeasure>', '<GrossMassMeasure unitCode="KGM">1234567890123.456</GrossMassMeasure>')
      .replace('<TotalGrossMassMeasure unitCode="KGM">24410.5</TotalGrossMassMeasure>', '<TotalGrossMassMeasure unitCode="KGM">1234567899474.456</TotalGrossMassMeasure>')
      .replace('<Name>Almaty Flour Mill JSC</Name>', '<Name>Almaty Flour Mill\tJSC</Name>');
    expect(xml).toContain('1234567899474.456');
    expect(xml).toContain('Mill\tJSC');
    expect(xmllint(xml, WCO_XSD).output).toContain('validates');
    const read = parseXmlBody(xml).body as ReturnType<typeof example>;
    expect(read['goodsItems'][0].grossMass).toStrictEqual({ value: 1234567890123.456, unit: 'KGM' });
    expect(read['totalGrossMass']).toStrictEqual({ value: 1234567899474.456, unit: 'KGM' });
    expect(read['exporter'].name).toBe('Almaty Flour Mill\tJSC');
    expect(xmllint(bodyToXml('aci', read), WCO_XSD).ok).toBe(true);
    const body = example('aci-kz-kg-road');
    body['goodsItems'][0].grossMass = { value: 9_999_999_999_999.5, unit: 'KGM' };
    body['totalGrossMass'] = { value: body['goodsItems'].reduce((n: number, it: { grossMass: { value: number } }) => n + it.grossMass.value, 0), unit: 'KGM' };
    body['consignor'].name = `${body['consignor'].name}\tTrading`;
    const written = bodyToXml('aci', body);
    expect(written).toContain('9999999999999.5');
    expect(xmllint(written, WCO_XSD).output).toContain('validates');
    expect(parseXmlBody(written).body).toStrictEqual(body);
    for (const value of [1_234_567_890_123_456, 1_234_567_890.123456]) {
      const b = example('aci-kz-kg-road');
      b['goodsItems'][0].netMass = { value, unit: 'KGM' };
      const out = bodyToXml('aci', b);
      expect(xmllint(out, WCO_XSD).ok).toBe(true);
      expect(parseXmlBody(out).body).toStrictEqual(b);
    }
  });

  it('refuses a 16-digit mass a JSON number cannot hold exactly, at its element, rather than change it', () => {
    const xml = bodyToXml('aci', example('aci-kz-kg-road')).replace(/(<NetNetWeightMeasure unitCode="KGM">)[^<]*(<\/NetNetWeightMeasure>)/, '$19007199254740993$2');
    expect(xml).toContain('9007199254740993');
    expect(xmllint(xml, WCO_XSD).ok).toBe(true);
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: expect.stringContaining('/NetNetWeightMeasure'), received: '"9007199254740993"', expected: expect.stringContaining('would read as 9007199254740992') });
  });

  it('the e-CoO and AEO schemas take a tab inside text and a quantity of 16 digits, as the node does', () => {
    for (const [type, name, from, to] of [
      ['ecoo', 'ecoo-kz-kg-preferential', '<Remarks>Goods comply', '<Remarks>Goods\tcomply'],
      ['ecoo', 'ecoo-kz-kg-preferential', '<Quantity unitCode="KGM">15000</Quantity>', '<Quantity unitCode="KGM">1234567890.123456</Quantity>'],
      ['aeo', 'aeo-kz-snapshot', '<LegalName>Almaty Flour Mill Joint', '<LegalName>Almaty Flour Mill\tJoint'],
    ] as const) {
      const xml = exampleXml(name).replace(from, to);
      expect(xml).not.toBe(exampleXml(name));
      expect(xmllint(xml, OWN_XSD[type]).output).toContain('validates');
      const body = parseXmlBody(xml).body;
      expect(xmllint(bodyToXml(type, body), OWN_XSD[type]).ok).toBe(true);
    }
  });

  it('rejects a declaration whose elements are out of schema order (the check is real)', () => {
    const xml = bodyToXml('aci', example('aci-kz-kg-road')).replace(
      /(<TypeCode>EX<\/TypeCode>)(\s*)(<GoodsItemQuantity>3<\/GoodsItemQuantity>)/,
      '$3$2$1',
    );
    const result = xmllint(xml, WCO_XSD);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('fails to validate');
  });
});
