/**
 * The element tree: an element's text is one value, joined from its pieces around CDATA sections, comments and
 * processing instructions and trimmed once; an element holds text or elements, never both.
 */
import { describe, expect, it } from 'vitest';
import { parseXmlBody, parseXmlTree } from '../../../protocol/xml/index.js';
import { exampleXml, gncError } from '../messages/fixtures.js';

const road = () => exampleXml('aci-kz-kg-road');
const status = () => exampleXml('ecoo-status-cancelled');

describe('XML tree: text', () => {
  it('keeps the spaces around a CDATA section', () => {
    expect(parseXmlTree('<d><e>Fish <![CDATA[&]]> Chips Ltd</e></d>').children[0]!.text).toBe('Fish & Chips Ltd');
  });

  it('keeps the spaces around a processing instruction', () => {
    expect(parseXmlTree('<d><e>Fish <?pi x?> Chips</e></d>').children[0]!.text).toBe('Fish  Chips');
  });

  it('trims white space at the ends of the whole value only, not of each piece', () => {
    expect(parseXmlTree('<d><e>\n  Fish <![CDATA[&]]> Chips  \n</e></d>').children[0]!.text).toBe('Fish & Chips');
  });

  it('reads a party name with a CDATA section as the sender wrote it', () => {
    const parsed = parseXmlBody(road().replace('<Name>Almaty Flour Mill JSC</Name>', '<Name>Fish <![CDATA[&]]> Chips Ltd</Name>'));
    expect(parsed.type === 'aci' && parsed.body.kind === 'declaration' && parsed.body.exporter?.name).toBe('Fish & Chips Ltd');
  });
});

describe('XML tree: mixed content', () => {
  it('refuses text beside a child element in a text element, naming it', () => {
    const err = gncError(() => parseXmlBody(status().replace(/<Reason>.*<\/Reason>/, '<Reason>Goods <i>not</i> cancelled</Reason>')));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/OriginCertificateStatus/Reason', expected: 'either text or child elements, not both' })]);
  });

  it('refuses a code followed by a child element', () => {
    const err = gncError(() => parseXmlBody(status().replace('<StatusCode>cancelled</StatusCode>', '<StatusCode>cancelled<b>x</b></StatusCode>')));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]?.path).toBe('/OriginCertificateStatus/StatusCode');
  });

  it('refuses text directly inside a container element', () => {
    const err = gncError(() => parseXmlBody(road().replace('<Consignor>', '<Consignor>stray')));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]?.path).toBe('/Declaration/GoodsShipment/Consignor');
  });
});

describe('XML reading: value elements', () => {
  it('refuses a child element where an e-CoO form expects text', () => {
    const err = gncError(() => parseXmlBody(status().replace('<StatusCode>cancelled</StatusCode>', '<StatusCode><b>cancelled</b></StatusCode>')));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/OriginCertificateStatus/StatusCode/b', expected: 'text only in <StatusCode>' })]);
  });

  it('refuses a child element where the WCO DM declaration expects text', () => {
    const xml = road().replace('<FunctionalReferenceID>KZEXP-20261124-0117</FunctionalReferenceID>', '<FunctionalReferenceID><b>KZEXP-20261124-0117</b></FunctionalReferenceID>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues?.[0]?.path).toBe('/Declaration/FunctionalReferenceID/b');
  });
});
