import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../../protocol/constants.js';
import type { AciDeclaration } from '../../../protocol/messages/aci.js';
import { aciToXml, bodyToXml, parseXmlBody } from '../../../protocol/xml/index.js';
import { example, exampleXml, gncError, paths, REPO_ROOT } from '../messages/fixtures.js';

const ITEM2 = '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]';
const road = () => exampleXml('aci-kz-kg-road');

function declaration(xml: string): AciDeclaration {
  const parsed = parseXmlBody(xml);
  if (parsed.type !== 'aci' || parsed.body.kind !== 'declaration') throw new Error('expected an ACI declaration');
  return parsed.body;
}

describe('ACI XML import', () => {
  it('detects an ACI from the WCO DM Declaration root and namespace', () => {
    expect(parseXmlBody(road()).type).toBe('aci');
  });

  it('keeps HS codes as strings with their leading zero', () => {
    const xml = road().replace('<ID>110100</ID>', '<ID>084713</ID>').replace('<ID>1101001500</ID>', '<ID>0847130000</ID>');
    expect(declaration(xml).goodsItems[0]!.hsCode).toBe('0847130000');
  });

  it('reads the HS subheading when no national code is given', () => {
    const xml = road().replace(/<Classification>\s*<ID>1101001500<\/ID>\s*<IdentificationTypeCode>CV<\/IdentificationTypeCode>\s*<\/Classification>/, '');
    expect(declaration(xml).goodsItems[0]!.hsCode).toBe('110100');
  });

  it('names the element path of a bad HS code in the second goods item', () => {
    const xml = road()
      .replace(/<Classification>\s*<ID>1902199000<\/ID>\s*<IdentificationTypeCode>CV<\/IdentificationTypeCode>\s*<\/Classification>/, '')
      .replace('<ID>190219</ID>', '<ID>19021X</ID>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([
      expect.objectContaining({ path: `${ITEM2}/Commodity/Classification/ID`, received: 'string "19021X"', expected: expect.stringContaining('6 to 10 digits') }),
    ]);
  });

  it('indexes repeated elements in the path', () => {
    const xml = road().replace('<ID>1902199000</ID>', '<ID>19021990001</ID>');
    expect(paths(gncError(() => parseXmlBody(xml)))).toEqual([`${ITEM2}/Commodity/Classification[2]/ID`]);
  });

  it('names a missing required element by where it belongs', () => {
    const xml = road().replace(/<PresentationOffice>[\s\S]*<\/PresentationOffice>/, '');
    expect(paths(gncError(() => parseXmlBody(xml)))).toEqual(['/Declaration/PresentationOffice/ID']);
  });

  it('names a bad unit code attribute', () => {
    const xml = road().replace('<GrossMassMeasure unitCode="KGM">5250</GrossMassMeasure>', '<GrossMassMeasure unitCode="LTR">5250</GrossMassMeasure>');
    expect(paths(gncError(() => parseXmlBody(xml)))).toEqual([`${ITEM2}/Commodity/GoodsMeasure/GrossMassMeasure/@unitCode`]);
  });

  it('refuses a currency outside ISO 4217 at the currencyID attribute', () => {
    const xml = road().replace('currencyID="USD">4500', 'currencyID="XXX">4500');
    expect(paths(gncError(() => parseXmlBody(xml)))).toEqual([`${ITEM2}/CustomsValueAmount/@currencyID`]);
  });

  it('reports a totals mismatch with GNC_TOTALS_MISMATCH at the total element', () => {
    const xml = road().replace('<TotalPackageQuantity>1000</TotalPackageQuantity>', '<TotalPackageQuantity>990</TotalPackageQuantity>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_TOTALS_MISMATCH');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/Declaration/TotalPackageQuantity', expected: "the sum of the goods items' packages, 1000", received: 'number 990' })]);
  });

  it('explains the WCO date-time form when IssueDateTime is ISO 8601', () => {
    const xml = road().replace('20261124093000+05', '2026-11-24T09:30:00+05:00');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.issues).toEqual([expect.objectContaining({ path: '/Declaration/IssueDateTime/DateTimeString', expected: expect.stringContaining('formatCode="304"') })]);
  });

  it('converts the WCO date-time to ISO 8601 with the zone', () => {
    expect(declaration(road()).issueDateTime).toBe('2026-11-24T09:30:00+05:00');
  });

  it('names the AdditionalInformation entry a missing expected arrival belongs in', () => {
    const xml = road().replace(/<AdditionalInformation>\s*<StatementCode>EXPECTED_ARRIVAL<\/StatementCode>[\s\S]*?<\/AdditionalInformation>/, '');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.issues).toEqual([expect.objectContaining({ path: '/Declaration/AdditionalInformation', expected: expect.stringContaining('EXPECTED_ARRIVAL') })]);
  });

  it('refuses an unknown GNC extension entry', () => {
    const xml = road().replace('<StatementCode>EXIT_BCP</StatementCode>', '<StatementCode>EXIT_GATE</StatementCode>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/Declaration/AdditionalInformation[2]/StatementCode']);
  });

  it('refuses an amendment reason on an original declaration', () => {
    const body = example('aci-kz-kg-amendment');
    const xml = bodyToXml('aci', body).replace('<FunctionCode>13</FunctionCode>', '<FunctionCode>9</FunctionCode>');
    expect(gncError(() => parseXmlBody(xml)).code).toBe('GNC_SCHEMA_INVALID');
  });

  it('refuses a FunctionCode other than 9 or 13', () => {
    const xml = road().replace('<FunctionCode>9</FunctionCode>', '<FunctionCode>14</FunctionCode>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.issues).toEqual([expect.objectContaining({ path: '/Declaration/FunctionCode', expected: expect.stringContaining('FunctionCode 9') })]);
  });

  it('reads FunctionCode 13 with TypeCode INV as a cancellation', () => {
    expect(parseXmlBody(exampleXml('aci-kz-kg-cancellation')).body).toMatchObject({ kind: 'cancellation' });
  });

  it('names the ContainerCode when it is neither 0 nor 1', () => {
    const xml = road().replace('<ContainerCode>0</ContainerCode>', '<ContainerCode>2</ContainerCode>');
    expect(gncError(() => parseXmlBody(xml)).issues).toEqual([
      expect.objectContaining({ path: '/Declaration/GoodsShipment/Consignment/ContainerCode', expected: 'ContainerCode 0 (not in containers) or 1 (in containers)' }),
    ]);
  });

  it('reads decimals such as 15060.00 as numbers', () => {
    const xml = road().replace('<GrossMassMeasure unitCode="KGM">15060</GrossMassMeasure>', '<GrossMassMeasure unitCode="KGM">15060.00</GrossMassMeasure>');
    expect(declaration(xml).goodsItems[0]!.grossMass.value).toBe(15060);
  });

  it('reads the AEO ids of the parties from AEOMutualRecognitionParty roles', () => {
    const body = declaration(road());
    expect([body.exporter?.aeoId, body.consignor.aeoId, body.carrier?.aeoId, body.consignee.aeoId]).toEqual(['KZAEO981140001234', 'KZAEO981140001234', 'KZAEO150940012345', undefined]);
  });

  it('reads a document without indentation the same way', () => {
    const compact = road().replace(/>\s+</g, '><');
    expect(parseXmlBody(compact).body).toStrictEqual(example('aci-kz-kg-road'));
  });

  it('resolves any namespace prefix the sender chose', () => {
    const prefixed = road()
      .replace('xmlns="urn:wco:datamodel:WCO:DEC-DMS:2"', 'xmlns:dec="urn:wco:datamodel:WCO:DEC-DMS:2"')
      .replace(/<(\/?)(?!ds:|\?)([A-Za-z])/g, '<$1dec:$2');
    expect(parseXmlBody(prefixed).body).toStrictEqual(example('aci-kz-kg-road'));
  });

  it('looks through the WCO md:MetaData wrapper and keeps it in error paths', () => {
    const inner = road().replace('<?xml version="1.0" encoding="UTF-8"?>\n', '');
    const wrapped = `<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"><md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>${inner}</md:MetaData>`;
    expect(parseXmlBody(wrapped).body).toStrictEqual(example('aci-kz-kg-road'));
    const broken = wrapped.replace('<TotalPackageQuantity>1000', '<TotalPackageQuantity>1');
    expect(paths(gncError(() => parseXmlBody(broken)))).toEqual(['/MetaData/Declaration/TotalPackageQuantity']);
  });

  it('refuses a Declaration in another namespace with GNC_UNKNOWN_TYPE', () => {
    const err = gncError(() => parseXmlBody(road().replace('urn:wco:datamodel:WCO:DEC-DMS:2', 'urn:example:declaration')));
    expect(err.code).toBe('GNC_UNKNOWN_TYPE');
    expect(paths(err)).toEqual(['/Declaration']);
  });

  it('refuses a CustomsValueAmount with currencyID twice instead of reading the last (GNC_XML_INVALID)', () => {
    const xml = road().replace('currencyID="USD">4500', 'currencyID="USD" currencyID="EUR">4500');
    expect(gncError(() => parseXmlBody(xml)).code).toBe('GNC_XML_INVALID');
  });

  it('refuses a second FunctionalReferenceID instead of reading the first', () => {
    const xml = road().replace('<FunctionalReferenceID>', '<FunctionalReferenceID>KZEXP-OTHER</FunctionalReferenceID><FunctionalReferenceID>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/Declaration/FunctionalReferenceID[2]', expected: 'one <FunctionalReferenceID>', received: '2' })]);
  });

  it('refuses a second PresentationOffice', () => {
    const xml = road().replace(/(<PresentationOffice>[\s\S]*?<\/PresentationOffice>)/, '$1$1');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/Declaration/PresentationOffice[2]']);
  });

  it('refuses a second Consignor in the GoodsShipment', () => {
    const xml = road().replace(/(<Consignor>[\s\S]*?<\/Consignor>)/, '$1$1');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/Declaration/GoodsShipment/Consignor[2]']);
  });

  it('refuses a second GoodsShipment instead of ignoring it', () => {
    const xml = road().replace('</Declaration>', '<GoodsShipment><Consignor><Name>Other</Name></Consignor></GoodsShipment></Declaration>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/Declaration/GoodsShipment[2]']);
  });

  it('refuses a second Packaging in a goods item', () => {
    const xml = road().replace(/(<Packaging>[\s\S]*?<\/Packaging>)/, '$1$1');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Packaging[2]']);
  });

  it('refuses a second e-CoO reference (AdditionalDocument N/861) in a goods item instead of reading the first', () => {
    const xml = road().replace(/(<AdditionalDocument>[\s\S]*?<\/AdditionalDocument>)/, (doc) => doc + doc.replace('KZ-ST1-2026-0048213', 'KZ-ST1-2026-0099999'));
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([
      expect.objectContaining({ path: '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/AdditionalDocument[2]', expected: 'one <AdditionalDocument> with CategoryCode N and TypeCode 861 (the e-CoO)', received: '2' }),
    ]);
  });

  it('refuses a second national code (Classification CV) in a goods item instead of reading the first', () => {
    const xml = road().replace('<IdentificationTypeCode>CV</IdentificationTypeCode>\n        </Classification>', '<IdentificationTypeCode>CV</IdentificationTypeCode>\n        </Classification><Classification><ID>1101009900</ID><IdentificationTypeCode>CV</IdentificationTypeCode></Classification>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([
      expect.objectContaining({ path: '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification[3]', expected: 'one <Classification> with IdentificationTypeCode CV', received: '2' }),
    ]);
  });

  it('refuses a second HS subheading (Classification HS) in a goods item instead of reading the first', () => {
    const xml = road().replace('<ID>110100</ID>\n          <IdentificationTypeCode>HS</IdentificationTypeCode>\n        </Classification>', '<ID>110100</ID>\n          <IdentificationTypeCode>HS</IdentificationTypeCode>\n        </Classification><Classification><ID>999999</ID><IdentificationTypeCode>HS</IdentificationTypeCode></Classification>');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([
      expect.objectContaining({ path: '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification[2]', expected: 'one <Classification> with IdentificationTypeCode HS', received: '2' }),
    ]);
  });

  describe('repeated Origin and DangerousGoods (the schema allows several per goods item)', () => {
    const ITEM1 = '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]';
    const ORIGIN_KZ = /<Origin>\s*<CountryCode>KZ<\/CountryCode>\s*<TypeCode>1<\/TypeCode>\s*<\/Origin>/;
    const origins = (...blocks: [string, string?][]) =>
      road().replace(ORIGIN_KZ, blocks.map(([country, type]) => `<Origin><CountryCode>${country}</CountryCode>${type ? `<TypeCode>${type}</TypeCode>` : ''}</Origin>`).join(''));
    const DG = /<DangerousGoods>\s*<UNDGID>3480<\/UNDGID>\s*<\/DangerousGoods>/;
    const unNumbers = (...ids: string[]) => exampleXml('aci-cn-kz-rail').replace(DG, ids.map((id) => `<DangerousGoods><UNDGID>${id}</UNDGID></DangerousGoods>`).join(''));

    it('reads an Origin repeated with the same country once', () => {
      expect(declaration(origins(['KZ'], ['KZ', '1']))).toStrictEqual(declaration(road()));
    });

    it('reads the non-preferential origin (TypeCode 1) as originCountry beside a preferential one (TypeCode 2)', () => {
      expect(declaration(origins(['KG', '2'], ['CN', '1'])).goodsItems[0]!.originCountry).toBe('CN');
      expect(declaration(origins(['CN'], ['KG', '2'])).goodsItems[0]!.originCountry).toBe('CN');
    });

    it('refuses two countries of origin, naming both Origin elements', () => {
      const err = gncError(() => parseXmlBody(origins(['KZ', '1'], ['CN'])));
      expect(err.code).toBe('GNC_SCHEMA_INVALID');
      expect(err.issues).toEqual([
        expect.objectContaining({ path: `${ITEM1}/Origin[2]/CountryCode`, received: '"CN"', expected: expect.stringContaining(`the value of ${ITEM1}/Origin[1]/CountryCode, "KZ"`) }),
      ]);
      expect(err.message).toContain('one country of origin per goods item');
    });

    it('does not take a preferential origin for the country of origin', () => {
      const err = gncError(() => parseXmlBody(origins(['KZ', '2'])));
      expect(err.issues).toEqual([
        expect.objectContaining({ path: `${ITEM1}/Origin/CountryCode`, received: 'nothing', expected: expect.stringContaining('without TypeCode or with TypeCode 1') }),
      ]);
    });

    it('reads a DangerousGoods repeated with the same UN number once', () => {
      expect(parseXmlBody(unNumbers('3480', '3480')).body).toStrictEqual(example('aci-cn-kz-rail'));
    });

    // the WCO DM gives a goods item several DangerousGoods (a mixed load of lithium batteries and their electrolyte):
    // each is a UN number of the item, none dropped and none refused
    it('reads several UN numbers of one goods item as unNumbers, in document order, each once', () => {
      const body = example('aci-cn-kz-rail');
      const item = body['goodsItems'][1];
      expect(item.unNumber).toBe('3480');
      delete item.unNumber;
      item.unNumbers = ['3481', '3480', '3090'];
      const xml = unNumbers('3481', '3480', '3481', '3090');
      expect(parseXmlBody(xml).body).toStrictEqual(body);
      // written back as one DangerousGoods each, and read the same
      const written = bodyToXml('aci', body);
      expect(written.match(/<DangerousGoods>/g)).toHaveLength(3);
      expect(written).toMatch(/<UNDGID>3481<\/UNDGID>[\s\S]*<UNDGID>3480<\/UNDGID>[\s\S]*<UNDGID>3090<\/UNDGID>/);
      expect(parseXmlBody(written).body).toStrictEqual(body);
    });

    it('reads a DangerousGoods without UNDGID as nothing beside one with it', () => {
      expect(parseXmlBody(exampleXml('aci-cn-kz-rail').replace(DG, '<DangerousGoods/><DangerousGoods><UNDGID>3480</UNDGID></DangerousGoods>')).body).toStrictEqual(example('aci-cn-kz-rail'));
    });

    it('locates a bad UN number among several at its own DangerousGoods element', () => {
      const err = gncError(() => parseXmlBody(unNumbers('3480', '34811')));
      expect(err.code).toBe('GNC_SCHEMA_INVALID');
      expect(err.issues).toEqual([expect.objectContaining({ path: `${ITEM2}/Commodity/DangerousGoods[2]/UNDGID`, received: 'string "34811"' })]);
    });
  });

  it('does not read an element of another namespace as ours', () => {
    const xml = road().replace('<FunctionCode>9</FunctionCode>', '<x:FunctionCode xmlns:x="urn:evil">13</x:FunctionCode><FunctionCode>9</FunctionCode>');
    expect(declaration(xml).kind).toBe('declaration');
    const only = road().replace('<FunctionCode>9</FunctionCode>', '<x:FunctionCode xmlns:x="urn:evil">9</x:FunctionCode>');
    const err = gncError(() => parseXmlBody(only));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/Declaration/FunctionCode']);
  });

  it('reads the date-time only from the ds namespace', () => {
    const xml = road().replace('<ds:DateTimeString formatCode="304">20261124093000+05</ds:DateTimeString>', '<DateTimeString formatCode="304">20261124093000+05</DateTimeString>');
    expect(declaration(xml).issueDateTime).toBeUndefined();
  });

  it('reads the itinerary in the order of its SequenceNumeric, not of the blocks', () => {
    const xml = road().replace(
      /<Itinerary>\s*<SequenceNumeric>1<\/SequenceNumeric>\s*<RoutingCountryCode>KZ<\/RoutingCountryCode>\s*<\/Itinerary>\s*(<Itinerary>[\s\S]*?<\/Itinerary>)/,
      '$1<Itinerary><SequenceNumeric>1</SequenceNumeric><RoutingCountryCode>KZ</RoutingCountryCode></Itinerary>',
    );
    expect(xml.indexOf('>KG<')).toBeLessThan(xml.indexOf('>KZ</RoutingCountryCode>'));
    expect(declaration(xml).itinerary).toEqual(['KZ', 'KG']);
  });

  it('refuses itinerary numbers other than 1..n, naming the block', () => {
    const xml = road().replace('<SequenceNumeric>2</SequenceNumeric>\n      <RoutingCountryCode>KG', '<SequenceNumeric>7</SequenceNumeric>\n      <RoutingCountryCode>KG');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/Declaration/Consignment/Itinerary[2]/SequenceNumeric', expected: 'SequenceNumeric 1 to 2, each once', received: '"7"' })]);
  });

  // found by the generated round trips: the schema's SequenceNumeric is an xs:decimal, so "+2", "02" and "2.0" are 2
  it('reads SequenceNumeric in any xs:decimal form of a whole number ("+2", "01", "1.0")', () => {
    const xml = road()
      .replace('<SequenceNumeric>1</SequenceNumeric>\n      <RoutingCountryCode>KZ', '<SequenceNumeric>01</SequenceNumeric>\n      <RoutingCountryCode>KZ')
      .replace('<SequenceNumeric>2</SequenceNumeric>\n      <RoutingCountryCode>KG', '<SequenceNumeric>+2</SequenceNumeric>\n      <RoutingCountryCode>KG')
      .replace('<SequenceNumeric>1</SequenceNumeric>\n          <ID>KZS0045871', '<SequenceNumeric>1.0</SequenceNumeric>\n          <ID>KZS0045871');
    expect(xml).toContain('<SequenceNumeric>+2</SequenceNumeric>');
    expect(xml).toContain('<SequenceNumeric>1.0</SequenceNumeric>');
    expect(parseXmlBody(xml).body).toStrictEqual(example('aci-kz-kg-road'));
    // a number that is not whole is still refused
    const err = gncError(() => parseXmlBody(xml.replace('<SequenceNumeric>+2</SequenceNumeric>', '<SequenceNumeric>1.5</SequenceNumeric>')));
    expect(err.issues).toEqual([expect.objectContaining({ path: '/Declaration/Consignment/Itinerary[2]/SequenceNumeric', received: '"1.5"' })]);
  });

  it('reads seals in the order of their SequenceNumeric', () => {
    const xml = road().replace('<SequenceNumeric>1</SequenceNumeric>\n          <ID>KZS0045871', '<SequenceNumeric>3</SequenceNumeric>\n          <ID>KZS0045871')
      .replace('<SequenceNumeric>2</SequenceNumeric>\n          <ID>KZS0045872', '<SequenceNumeric>1</SequenceNumeric>\n          <ID>KZS0045872')
      .replace('<Seal>', '<Seal><SequenceNumeric>2</SequenceNumeric><ID>KZS0045870</ID></Seal><Seal>');
    expect(declaration(xml).transportEquipment[0]!.seals).toEqual(['KZS0045872', 'KZS0045870', 'KZS0045871']);
  });

  it('refuses a repeated seal number', () => {
    const xml = road().replace('<SequenceNumeric>2</SequenceNumeric>\n          <ID>KZS0045872', '<SequenceNumeric>1</SequenceNumeric>\n          <ID>KZS0045872');
    const err = gncError(() => parseXmlBody(xml));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/Declaration/GoodsShipment/Consignment/TransportEquipment/Seal[2]/SequenceNumeric']);
  });

  it('refuses an HS subheading that is not six digits beside a national code', () => {
    const err = gncError(() => parseXmlBody(road().replace('<ID>110100</ID>', '<ID>11010O</ID>')));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification[1]/ID', expected: 'the six-digit HS subheading' })]);
  });

  it('refuses a national code that does not start with the HS subheading', () => {
    const err = gncError(() => parseXmlBody(road().replace('<ID>110100</ID>', '<ID>090210</ID>')));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([
      expect.objectContaining({ path: '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification[2]/ID', expected: 'a national code starting with the HS subheading 090210', received: '"1101001500"' }),
    ]);
  });

  it('reads the CDS reference declaration and names only the ACI fields it lacks', () => {
    const reference = readFileSync(resolve(REPO_ROOT, '../shared/reference/wco-dm/examples/export-kz-kg.xml'), 'utf8');
    const err = gncError(() => parseXmlBody(reference));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    // the reference has no consignor, entry office, arrival or customs values; its other WCO elements are ignored
    expect(paths(err)).toEqual(expect.arrayContaining(['/Declaration/GoodsShipment/Consignor', '/Declaration/PresentationOffice/ID', '/Declaration/AdditionalInformation']));
    expect(paths(err).every((p) => p.startsWith('/Declaration'))).toBe(true);
  });
});

describe('ACI XML export', () => {
  it('writes the HS subheading and the full national code', () => {
    const xml = aciToXml(declaration(road()));
    expect(xml).toContain('<ID>110100</ID>\n          <IdentificationTypeCode>HS</IdentificationTypeCode>');
    expect(xml).toContain('<ID>1101001500</ID>\n          <IdentificationTypeCode>CV</IdentificationTypeCode>');
  });

  it('writes date-times as ds:DateTimeString with formatCode 304', () => {
    expect(aciToXml(declaration(road()))).toContain('<ds:DateTimeString formatCode="304">20261124093000+05</ds:DateTimeString>');
  });

  it('writes UTC date-times with Z', () => {
    const body = example('aci-kz-kg-road');
    body['issueDateTime'] = '2026-11-24T04:30:00Z';
    expect(bodyToXml('aci', body)).toContain('>20261124043000Z<');
  });

  it('escapes markup characters in text', () => {
    const body = example('aci-kz-kg-road');
    body['consignee']['name'] = 'Bishkek Food <Distribution> & Co "LLC"';
    const xml = bodyToXml('aci', body);
    expect(xml).toContain('<Name>Bishkek Food &lt;Distribution&gt; &amp; Co &quot;LLC&quot;</Name>');
    expect(parseXmlBody(xml).body).toStrictEqual(body);
  });

  it('round-trips an item with a dangerous goods UN number and masses in tonnes', () => {
    const body = example('aci-cn-kz-rail');
    const xml = bodyToXml('aci', body);
    expect(xml).toContain('<UNDGID>3480</UNDGID>');
    expect(parseXmlBody(xml).body).toStrictEqual(body);
  });

  it('round-trips a minimal declaration without the optional parties and offices', () => {
    const body = example('aci-cn-kz-rail');
    for (const key of ['exporter', 'carrier', 'officeOfExit', 'ucr', 'declarationId', 'issueDateTime']) delete body[key];
    delete body['officeOfEntry']['borderCrossingPoint'];
    body['transportEquipment'] = [];
    expect(parseXmlBody(bodyToXml('aci', body)).body).toStrictEqual(body);
  });

  it('writes a 999-item declaration without indentation so that it stays readable under the size limit', () => {
    const body = example('aci-kz-kg-road');
    const item = body['goodsItems'][0];
    body['goodsItems'] = Array.from({ length: 999 }, (_, i) => ({ ...item, sequence: i + 1 }));
    Object.assign(body, { goodsItemCount: 999, totalPackages: 999 * 300, totalGrossMass: { value: 999 * 15060, unit: 'KGM' } });
    const xml = bodyToXml('aci', body);
    expect(Buffer.byteLength(xml)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(xml).not.toContain('\n  <');
    expect(parseXmlBody(xml).body).toStrictEqual(body);
  });

  it('refuses to write a valid body whose XML would be over MAX_BODY_BYTES (GNC_BODY_TOO_LARGE)', () => {
    const body = example('aci-kz-kg-road');
    const item = body['goodsItems'][0];
    body['goodsItems'] = Array.from({ length: 999 }, (_, i) => ({ ...item, sequence: i + 1, description: 'Wheat flour ' + 'x'.repeat(500) }));
    Object.assign(body, { goodsItemCount: 999, totalPackages: 999 * 300, totalGrossMass: { value: 999 * 15060, unit: 'KGM' } });
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(MAX_BODY_BYTES);
    const err = gncError(() => bodyToXml('aci', body));
    expect(err.code).toBe('GNC_BODY_TOO_LARGE');
    expect(err.message).toContain('JSON form');
    expect(err.issues?.[0]).toMatchObject({ path: '/', expected: `at most ${MAX_BODY_BYTES} bytes of XML` });
  });

  it('refuses to write a body that is not valid', () => {
    const body = example('aci-kz-kg-road');
    body['totalPackages'] = 3;
    expect(gncError(() => bodyToXml('aci', body)).code).toBe('GNC_TOTALS_MISMATCH');
  });
});
