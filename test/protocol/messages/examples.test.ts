import { describe, expect, it } from 'vitest';
import { BODY_SCHEMAS } from '../../../protocol/messages/registry.js';
import { parseDocument } from '../../../protocol/messages/common.js';
import { bodyToXml, bodyTypeOf, parseXmlBody } from '../../../protocol/xml/index.js';
import { EXAMPLE_NAMES, example, exampleXml } from './fixtures.js';

describe('examples/messages', () => {
  it.each(EXAMPLE_NAMES)('%s.json validates against its type schema', (name) => {
    const body = example(name);
    const type = bodyTypeOf(body);
    expect(type).toBe(name.split('-')[0]);
    expect(parseDocument(BODY_SCHEMAS[type], body, name)).toStrictEqual(body);
  });

  it.each(EXAMPLE_NAMES)('%s.xml reads back to exactly %s.json', (name) => {
    const parsed = parseXmlBody(exampleXml(name));
    expect(parsed.type).toBe(name.split('-')[0]);
    expect(parsed.body).toStrictEqual(example(name));
  });

  it.each(EXAMPLE_NAMES)('%s.json -> XML -> JSON loses no field', (name) => {
    const body = example(name);
    const xml = bodyToXml(bodyTypeOf(body), body);
    expect(parseXmlBody(xml).body).toStrictEqual(body);
  });

  it.each(EXAMPLE_NAMES)('%s.xml is what bodyToXml writes today', (name) => {
    const body = example(name);
    expect(bodyToXml(bodyTypeOf(body), body)).toBe(exampleXml(name));
  });

  it('lets the e-CoO cross-check agree with the KZ to KG declaration', () => {
    const aci = example('aci-kz-kg-road');
    const ecoo = example('ecoo-kz-kg-preferential');
    for (const [i, item] of (aci['goodsItems'] as { hsCode: string; ecooReference: string; originCountry: string }[]).entries()) {
      expect(item.ecooReference).toBe(ecoo['certificateNumber']);
      expect(item.hsCode).toBe(ecoo['goodsItems'][i].hsCode);
      expect(item.originCountry).toBe(ecoo['goodsItems'][i].originCountry);
    }
    expect(aci['consignee']['id']).toBe(ecoo['consignee']['id']);
  });

  it('names a consignor that the AEO snapshot lists as valid', () => {
    const aci = example('aci-kz-kg-road');
    const operator = (example('aeo-kz-snapshot')['operators'] as { aeoId: string; status: string }[]).find((o) => o.aeoId === aci['consignor']['aeoId']);
    expect(operator?.status).toBe('valid');
  });

  it('suspends an operator that the snapshot lists as valid', () => {
    const suspended = example('aeo-kz-suspension')['operator'];
    const before = (example('aeo-kz-snapshot')['operators'] as { aeoId: string; status: string }[]).find((o) => o.aeoId === suspended.aeoId);
    expect(before?.status).toBe('valid');
    expect(suspended.status).toBe('suspended');
  });

  it('expects the declarations to arrive in November or December 2026', () => {
    for (const name of ['aci-kz-kg-road', 'aci-cn-kz-rail', 'aci-kz-kg-amendment'] as const) {
      expect(example(name)['expectedArrival']).toMatch(/^2026-1[12]-/);
    }
  });
});
