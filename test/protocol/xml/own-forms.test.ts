import { describe, expect, it } from 'vitest';
import { MAX_REPORTED_ISSUES } from '../../../protocol/constants.js';
import { bodyToXml, parseXmlBody } from '../../../protocol/xml/index.js';
import { example, exampleXml, gncError, paths } from '../messages/fixtures.js';

describe('e-CoO XML (urn:gnc:ecoo:1)', () => {
  it('detects an e-CoO certificate from its root and namespace', () => {
    expect(parseXmlBody(exampleXml('ecoo-kz-kg-preferential'))).toMatchObject({ type: 'ecoo', body: { kind: 'certificate' } });
  });

  it('detects a status message from OriginCertificateStatus', () => {
    expect(parseXmlBody(exampleXml('ecoo-status-cancelled'))).toMatchObject({ type: 'ecoo', body: { kind: 'status', status: 'cancelled' } });
  });

  it('keeps the HS code of a goods item a string', () => {
    const xml = exampleXml('ecoo-kz-kg-preferential').replace('<HSCode>1101001500</HSCode>', '<HSCode>0847130000</HSCode>');
    const parsed = parseXmlBody(xml);
    expect(parsed.type === 'ecoo' && parsed.body.kind === 'certificate' && parsed.body.goodsItems[0]!.hsCode).toBe('0847130000');
  });

  it('refuses an element the form does not define, naming it', () => {
    const xml = exampleXml('ecoo-kz-kg-preferential').replace('<Remarks>', '<Colour>white</Colour><Remarks>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: '/OriginCertificate/Colour', received: '<Colour>' });
  });

  it('reports at most MAX_REPORTED_ISSUES unknown elements and says how many there were', () => {
    const xml = exampleXml('ecoo-status-cancelled').replace('<CertificateID>', '<X/>'.repeat(5000) + '<CertificateID>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(err.issues?.[MAX_REPORTED_ISSUES - 1]).toMatchObject({ path: `/OriginCertificateStatus/X[${MAX_REPORTED_ISSUES}]`, received: '<X>' });
    expect(err.message).toContain('(and 4999 more problems)');
  });

  // a regression bound, not a timing: naming each of 120,000 siblings took ~40 s while it rescanned them all
  it('refuses 120,000 unknown elements (480 KB) in one pass over them', { timeout: 20_000 }, () => {
    const xml = exampleXml('ecoo-status-cancelled').replace('<CertificateID>', '<X/>'.repeat(120_000) + '<CertificateID>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toHaveLength(MAX_REPORTED_ISSUES);
  });

  it('refuses an element of another namespace with the name of one of ours', () => {
    const xml = exampleXml('ecoo-status-cancelled').replace('<StatusCode>cancelled</StatusCode>', '<x:StatusCode xmlns:x="urn:evil">issued</x:StatusCode><StatusCode>cancelled</StatusCode>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/OriginCertificateStatus/StatusCode[1]', received: '<StatusCode> in namespace urn:evil' })]);
  });

  it('refuses an element with an undeclared prefix (GNC_XML_INVALID)', () => {
    const xml = exampleXml('ecoo-status-cancelled').replace('<StatusCode>cancelled</StatusCode>', '<zz:StatusCode>cancelled</zz:StatusCode>');
    expect(gncError(() => parseXmlBody(xml)).code).toBe('GNC_XML_INVALID');
  });

  it('refuses a repeated single element', () => {
    const xml = exampleXml('ecoo-kz-kg-preferential').replace('<FormCode>ST-1</FormCode>', '<FormCode>ST-1</FormCode><FormCode>EUR.1</FormCode>');
    expect(paths(gncError(() => parseXmlBody(xml)))).toEqual(['/OriginCertificate/FormCode[2]']);
  });

  it('names the goods item of a bad quantity unit', () => {
    const xml = exampleXml('ecoo-kz-kg-preferential').replace('<Quantity unitCode="LTR">', '<Quantity unitCode="litre">');
    expect(paths(gncError(() => parseXmlBody(xml)))).toEqual(['/OriginCertificate/GoodsItem[3]/Quantity/@unitCode']);
  });

  it('names a missing signatory element', () => {
    const xml = exampleXml('ecoo-kz-kg-preferential').replace(/<Signatory>[\s\S]*<\/Signatory>/, '');
    expect(gncError(() => parseXmlBody(xml)).issues).toEqual([expect.objectContaining({ path: '/OriginCertificate/Signatory', expected: 'element Signatory', received: 'nothing' })]);
  });

  it('explains the allowed status codes', () => {
    const xml = exampleXml('ecoo-status-cancelled').replace('<StatusCode>cancelled</StatusCode>', '<StatusCode>CANCELLED</StatusCode>');
    expect(gncError(() => parseXmlBody(xml)).issues).toEqual([
      expect.objectContaining({ path: '/OriginCertificateStatus/StatusCode', expected: 'StatusCode issued, replaced or cancelled', received: 'string "CANCELLED"' }),
    ]);
  });

  it('round-trips a replacement status with the new certificate number', () => {
    const body = { kind: 'status', certificateNumber: 'KZ-ST1-2026-0047990', status: 'replaced', statusDate: '2026-11-23', replacementCertificateNumber: 'KZ-ST1-2026-0048213' };
    expect(parseXmlBody(bodyToXml('ecoo', body)).body).toStrictEqual(body);
  });

  it('round-trips a non-preferential certificate without producer or optional details', () => {
    const body = example('ecoo-kz-kg-preferential');
    body['preference'] = 'non-preferential';
    for (const key of ['arrangement', 'certificateForm', 'producer', 'remarks']) delete body[key];
    body['goodsItems'] = [{ sequence: 1, hsCode: '110100', description: 'Wheat flour', quantity: { value: 20, unit: 'TNE' }, originCriterion: 'WO', originCountry: 'KZ' }];
    expect(parseXmlBody(bodyToXml('ecoo', body)).body).toStrictEqual(body);
  });
});

describe('AEO XML (urn:gnc:aeo:1)', () => {
  it('detects a snapshot and a change from their roots', () => {
    expect(parseXmlBody(exampleXml('aeo-kz-snapshot'))).toMatchObject({ type: 'aeo', body: { kind: 'snapshot' } });
    expect(parseXmlBody(exampleXml('aeo-kz-suspension'))).toMatchObject({ type: 'aeo', body: { kind: 'change' } });
  });

  it('names the operator whose AEO id has no ISO country prefix', () => {
    const xml = exampleXml('aeo-kz-snapshot').replace('<AEOID>KZAEO150940012345</AEOID>', '<AEOID>XXAEO150940012345</AEOID>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/AeoSnapshot/Operator[2]/AEOID']);
  });

  it('round-trips an empty snapshot', () => {
    const body = { kind: 'snapshot', asOf: '2026-11-23T00:00:00Z', operators: [] };
    expect(parseXmlBody(bodyToXml('aeo', body)).body).toStrictEqual(body);
  });

  it('reads the part of a snapshot sent in parts as numbers', () => {
    expect(parseXmlBody(exampleXml('aeo-cn-snapshot-part')).body).toMatchObject({ kind: 'snapshot', part: { number: 2, of: 3 } });
  });

  it('names the part element whose number is not a whole number', () => {
    const xml = exampleXml('aeo-cn-snapshot-part').replace('<SequenceNumeric>2</SequenceNumeric>', '<SequenceNumeric>two</SequenceNumeric>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/AeoSnapshot/Part/SequenceNumeric']);
  });

  it('refuses an operator element in another namespace', () => {
    const xml = exampleXml('aeo-kz-suspension').replace('<LegalName>', '<x:LegalName xmlns:x="urn:evil">Other LLP</x:LegalName><LegalName>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues?.[0]).toMatchObject({ received: '<LegalName> in namespace urn:evil' });
  });

  it('refuses an element of the e-CoO form inside an AEO record', () => {
    const xml = exampleXml('aeo-kz-suspension').replace('<Reason>', '<PreferenceCode>preferential</PreferenceCode><Reason>');
    expect(paths(gncError(() => parseXmlBody(xml)))).toEqual(['/AeoChange/PreferenceCode']);
  });
});

describe('XML body entry points', () => {
  it('refuses a root element of no known message with GNC_UNKNOWN_TYPE', () => {
    const err = gncError(() => parseXmlBody('<Invoice xmlns="urn:example:invoice"><ID>1</ID></Invoice>'));
    expect(err.code).toBe('GNC_UNKNOWN_TYPE');
    expect(err.issues?.[0]).toMatchObject({ path: '/Invoice', received: '<Invoice> in namespace urn:example:invoice' });
  });

  it('refuses the e-CoO root in the AEO namespace', () => {
    expect(gncError(() => parseXmlBody('<OriginCertificate xmlns="urn:gnc:aeo:1"/>')).code).toBe('GNC_UNKNOWN_TYPE');
  });

  it('accepts the document as UTF-8 bytes', () => {
    expect(parseXmlBody(new TextEncoder().encode(exampleXml('aeo-kz-suspension'))).body).toStrictEqual(example('aeo-kz-suspension'));
  });
});
