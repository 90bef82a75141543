import { describe, expect, it } from 'vitest';
import { benchDeclaration, benchXml } from '../../../examples/bench/xml.js';
import { bodyToXml, parseXmlBody } from '../../../protocol/xml/index.js';

describe('bench document', () => {
  it('is a valid ACI of about 5 KB as XML', () => {
    const xml = bodyToXml('aci', benchDeclaration());
    expect(Buffer.byteLength(xml)).toBeGreaterThan(4_500);
    expect(Buffer.byteLength(xml)).toBeLessThan(6_000);
    expect(parseXmlBody(xml).body).toStrictEqual(benchDeclaration());
  });

  it('reports both rates as positive numbers', () => {
    const rates = benchXml(20);
    expect(Object.keys(rates).sort()).toEqual(['json_validate_per_s', 'xml_import_per_s']);
    expect(rates.xml_import_per_s).toBeGreaterThan(0);
    expect(rates.json_validate_per_s).toBeGreaterThan(0);
  });
});
