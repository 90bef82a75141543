/**
 * The shared text rule: one line, no control characters, and only characters XML can carry, so every text a
 * JSON body holds can be written as XML and read back unchanged (SPEC 7.1).
 */
import { describe, expect, it } from 'vitest';
import { parseAciBody } from '../../../protocol/messages/aci.js';
import { bodyToXml, parseXmlBody } from '../../../protocol/xml/index.js';
import { example, gncError, paths } from './fixtures.js';

function withConsigneeName(name: string): Record<string, any> {
  const body = example('aci-kz-kg-road');
  body['consignee']['name'] = name;
  return body;
}

describe('text fields: characters XML cannot carry', () => {
  for (const [what, ch] of [['U+FFFF', '\uffff'], ['U+FFFE', '\ufffe'], ['an unpaired high surrogate', '\ud83d'], ['an unpaired low surrogate', '\ude00']] as const) {
    it(`refuses ${what} in a name with GNC_SCHEMA_INVALID at the field`, () => {
      const err = gncError(() => parseAciBody(withConsigneeName(`Bishkek ${ch} Food`)));
      expect(err.code).toBe('GNC_SCHEMA_INVALID');
      expect(paths(err)).toEqual(['/consignee/name']);
    });
  }

  it('refuses to write U+FFFF as XML', () => {
    expect(gncError(() => bodyToXml('aci', withConsigneeName('Bishkek \uffff Food'))).code).toBe('GNC_SCHEMA_INVALID');
  });

  it('accepts a character outside the Basic Multilingual Plane and round-trips it through XML', () => {
    const body = withConsigneeName('Bishkek \u{1F69A} Food');
    expect(parseAciBody(body)).toMatchObject({ consignee: { name: 'Bishkek \u{1F69A} Food' } });
    expect(parseXmlBody(bodyToXml('aci', body)).body).toStrictEqual(body);
  });
});

// WCO DM text is `.*[^\s].*`, whose `.` excludes only line breaks: a tab inside a name is schema-valid WCO text
describe('text fields: tabs', () => {
  it('accepts a tab inside text and round-trips it through XML', () => {
    const body = withConsigneeName('Bishkek\tFood Distribution');
    expect(parseAciBody(body)).toStrictEqual(body);
    expect(parseXmlBody(bodyToXml('aci', body)).body).toStrictEqual(body);
  });

  for (const name of ['\tBishkek Food', 'Bishkek Food\t', '\t']) {
    it(`refuses a tab at either end or alone, as a space: ${JSON.stringify(name)}`, () => {
      const err = gncError(() => parseAciBody(withConsigneeName(name)));
      expect(err.code).toBe('GNC_SCHEMA_INVALID');
      expect(paths(err)).toEqual(['/consignee/name']);
    });
  }

  it('still refuses a line break or another control character inside text', () => {
    for (const ch of ['\n', '\r', '\u000b', '\u0085']) expect(paths(gncError(() => parseAciBody(withConsigneeName(`Bishkek${ch}Food`))))).toEqual(['/consignee/name']);
  });
});

// WCO n..16,6 (masses) and n..16,3 (amounts) are the XSD facets totalDigits 16 and fractionDigits 6 or 3: the digits
// count in all, so 16 before the point is as valid as 10 before and 6 after
describe('numbers: WCO n..16,6 and n..16,3', () => {
  function withItem(grossMass: number, amount = 1000): Record<string, any> {
    const body = example('aci-kz-kg-road');
    const item = body['goodsItems'][0];
    for (const other of body['goodsItems'].slice(1)) other.grossMass.value = Math.round(other.grossMass.value); // a total of 16 digits, no decimal
    const others = body['goodsItems'].slice(1).reduce((n: number, it: { grossMass: { value: number } }) => n + it.grossMass.value, 0);
    item.grossMass = { value: grossMass, unit: 'KGM' };
    item.customsValue = { ...item.customsValue, amount };
    body['totalGrossMass'] = { value: grossMass + others, unit: 'KGM' };
    return body;
  }

  it.each([1_234_567_890_123_456, 123_456_789_012.3456, 1_234_567_890.123456, 0.000001])('accepts the mass %d', (mass) => {
    const body = withItem(mass);
    expect(parseAciBody(body)).toStrictEqual(body);
  });

  it.each([12_345_678_901_234_567, 1_234_567_890_123.4567, 1.0000001])('refuses the mass %d at its value', (mass) => {
    const body = withItem(mass);
    body['totalGrossMass'] = example('aci-kz-kg-road')['totalGrossMass'];
    const err = gncError(() => parseAciBody(body));
    expect(paths(err)).toContain('/goodsItems/0/grossMass/value');
    expect(err.issues?.find((i) => i.path === '/goodsItems/0/grossMass/value')?.expected).toContain('at most 16 digits, at most 6 of them after the decimal point');
  });

  it('accepts an amount of 16 digits with none or up to 3 decimals, and refuses a fourth decimal', () => {
    for (const amount of [1_234_567_890_123_456, 1_234_567_890_123.456]) expect(() => parseAciBody(withItem(15060, amount))).not.toThrow();
    expect(paths(gncError(() => parseAciBody(withItem(15060, 123_456_789_012.3456))))).toEqual(['/goodsItems/0/customsValue/amount']);
  });
});
