import { describe, expect, it } from 'vitest';
import { AciBody, MAX_UN_NUMBERS, parseAciBody, unNumbersOf } from '../../../protocol/messages/aci.js';
import { example, gncError, paths } from './fixtures.js';

const road = () => example('aci-kz-kg-road');

describe('ACI declaration schema', () => {
  it('accepts the KZ to KG road declaration', () => {
    expect(parseAciBody(road()).kind).toBe('declaration');
  });

  it.each(['functionalReference', 'declarationType', 'declarationOffice', 'consignor', 'consignee', 'borderTransportMeans', 'itinerary', 'officeOfEntry', 'expectedArrival', 'containerised', 'transportEquipment', 'goodsItems', 'totalGrossMass', 'totalPackages', 'goodsItemCount'])(
    'refuses a declaration without %s and names the field',
    (field) => {
      const body = road();
      delete body[field];
      const err = gncError(() => parseAciBody(body));
      expect(err.code).toBe('GNC_SCHEMA_INVALID');
      expect(paths(err)).toContain(`/${field}`);
    },
  );

  it.each(['sequence', 'hsCode', 'description', 'packages', 'grossMass', 'customsValue', 'originCountry'])('refuses a goods item without %s', (field) => {
    const body = road();
    delete body['goodsItems'][1][field];
    const err = gncError(() => parseAciBody(body));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toContain(`/goodsItems/1/${field}`);
  });

  it('refuses a party without an address', () => {
    const body = road();
    delete body['consignee']['address'];
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/consignee/address']);
  });

  it('refuses members the schema does not define', () => {
    const body = road();
    body['goodsItems'][0]['colour'] = 'white';
    const err = gncError(() => parseAciBody(body));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: '/goodsItems/0/colour', expected: 'no such member', received: 'unknown member "colour"' });
  });

  it('refuses an HS code given as a number', () => {
    const body = road();
    body['goodsItems'][0]['hsCode'] = 1101001500;
    const err = gncError(() => parseAciBody(body));
    expect(err.issues?.[0]).toMatchObject({ path: '/goodsItems/0/hsCode', received: 'number 1101001500' });
  });

  it('keeps the leading zero of an HS code', () => {
    const body = road();
    body['goodsItems'][0]['hsCode'] = '0847130000';
    const parsed = parseAciBody(body);
    expect(parsed.kind !== 'cancellation' && parsed.goodsItems[0]!.hsCode).toBe('0847130000');
  });

  it.each(['12345', '12345678901', '1101.00'])('refuses the HS code %s', (hs) => {
    const body = road();
    body['goodsItems'][2]['hsCode'] = hs;
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/goodsItems/2/hsCode']);
  });

  it('refuses a currency that is not ISO 4217', () => {
    const body = road();
    body['goodsItems'][0]['customsValue']['currency'] = 'XXX';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/goodsItems/0/customsValue/currency']);
  });

  it('refuses a mass unit that is not a Rec 20 mass unit', () => {
    const body = road();
    body['goodsItems'][0]['grossMass']['unit'] = 'LTR';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/goodsItems/0/grossMass/unit']);
  });

  it('refuses a package kind outside Rec 21', () => {
    const body = road();
    body['goodsItems'][1]['packages']['kind'] = 'QQ';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/goodsItems/1/packages/kind']);
  });

  it('refuses zero packages of a counted package kind', () => {
    const body = road();
    body['goodsItems'][1]['packages']['count'] = 0;
    body['totalPackages'] = 500;
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/goodsItems/1/packages/count']);
  });

  it('refuses a transport mode outside Rec 19', () => {
    const body = road();
    body['borderTransportMeans']['mode'] = '9';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/borderTransportMeans/mode']);
  });

  it('refuses a transport mode given as a number', () => {
    const body = road();
    body['borderTransportMeans']['mode'] = 3;
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/borderTransportMeans/mode']);
  });

  it('refuses a country of origin that is not ISO 3166', () => {
    const body = road();
    body['goodsItems'][0]['originCountry'] = 'XK';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/goodsItems/0/originCountry']);
  });

  it('refuses an AEO id whose prefix is not an ISO country', () => {
    const body = road();
    body['consignor']['aeoId'] = 'QQAEO981140001234';
    const err = gncError(() => parseAciBody(body));
    expect(err.issues?.[0]).toMatchObject({ path: '/consignor/aeoId', expected: expect.stringContaining('ISO 3166-1') });
  });

  it('refuses an AEO id longer than 17 characters', () => {
    const body = road();
    body['consignor']['aeoId'] = 'KZAEO9811400012345';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/consignor/aeoId']);
  });

  it('refuses an expected arrival with a half-hour zone that the WCO DateTimeString cannot carry', () => {
    const body = road();
    body['expectedArrival'] = '2026-11-25T14:00:00+04:30';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/expectedArrival']);
  });

  it('refuses an expected arrival without a zone', () => {
    const body = road();
    body['expectedArrival'] = '2026-11-25T14:00:00';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/expectedArrival']);
  });

  it('refuses an expected arrival on a day that does not exist', () => {
    const body = road();
    body['expectedArrival'] = '2026-11-31T14:00:00+06:00';
    const err = gncError(() => parseAciBody(body));
    expect(err.issues).toEqual([expect.objectContaining({ path: '/expectedArrival', expected: expect.stringContaining('exists in the calendar') })]);
  });

  it('refuses a description on two lines', () => {
    const body = road();
    body['goodsItems'][0]['description'] = 'Wheat flour\nfirst grade';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/goodsItems/0/description']);
  });

  it('refuses a consignee name longer than the WCO an..70', () => {
    const body = road();
    body['consignee']['name'] = 'B'.repeat(71);
    expect(paths(gncError(() => parseAciBody(body)))).toContain('/consignee/name');
  });

  it('refuses a mass with more than six decimals', () => {
    const body = road();
    body['goodsItems'][0]['grossMass']['value'] = 15060.0000001;
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/goodsItems/0/grossMass/value']);
  });

  it('refuses goods items numbered out of order', () => {
    const body = road();
    body['goodsItems'][1]['sequence'] = 3;
    body['goodsItems'][2]['sequence'] = 2;
    const err = gncError(() => parseAciBody(body));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/goodsItems/1/sequence', '/goodsItems/2/sequence']);
  });
});

describe('ACI totals', () => {
  it('refuses a total gross mass that differs from the items with GNC_TOTALS_MISMATCH', () => {
    const body = road();
    body['totalGrossMass']['value'] = 24400;
    const err = gncError(() => parseAciBody(body));
    expect(err.code).toBe('GNC_TOTALS_MISMATCH');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/totalGrossMass/value', expected: "the sum of the goods items' gross mass, 24410.5 KGM", received: 'number 24400' })]);
  });

  it('refuses a total package count that differs from the items', () => {
    const body = road();
    body['totalPackages'] = 999;
    const err = gncError(() => parseAciBody(body));
    expect(err.code).toBe('GNC_TOTALS_MISMATCH');
    expect(paths(err)).toEqual(['/totalPackages']);
  });

  it('refuses a goods item count that differs from the items', () => {
    const body = road();
    body['goodsItemCount'] = 4;
    const err = gncError(() => parseAciBody(body));
    expect(err.code).toBe('GNC_TOTALS_MISMATCH');
    expect(paths(err)).toEqual(['/goodsItemCount']);
  });

  it('compares gross masses across units', () => {
    const body = road();
    body['totalGrossMass'] = { value: 24.4105, unit: 'TNE' };
    expect(() => parseAciBody(body)).not.toThrow();
  });

  it('names the total under /body when validating a request', () => {
    const body = road();
    body['totalPackages'] = 1;
    expect(paths(gncError(() => parseAciBody(body, { prefix: '/body' })))).toEqual(['/body/totalPackages']);
  });
});

describe('ACI amendment and cancellation', () => {
  it('accepts an amendment as a full declaration with a reason', () => {
    const parsed = parseAciBody(example('aci-kz-kg-amendment'));
    expect(parsed).toMatchObject({ kind: 'amendment', amendmentReason: expect.stringContaining('reweighed') });
  });

  it('checks the totals of an amendment too', () => {
    const body = example('aci-kz-kg-amendment');
    body['totalGrossMass']['value'] = 24410.5;
    expect(gncError(() => parseAciBody(body)).code).toBe('GNC_TOTALS_MISMATCH');
  });

  it('refuses an amendment reason on an original declaration', () => {
    const body = road();
    body['amendmentReason'] = 'none';
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/amendmentReason']);
  });

  it('accepts a cancellation with a reason', () => {
    expect(AciBody.parse(example('aci-kz-kg-cancellation')).kind).toBe('cancellation');
  });

  it('refuses a cancellation without a reason', () => {
    const body = example('aci-kz-kg-cancellation');
    delete body['reason'];
    expect(paths(gncError(() => parseAciBody(body)))).toEqual(['/reason']);
  });

  it('refuses an unknown kind and names the discriminator', () => {
    const err = gncError(() => parseAciBody({ kind: 'correction' }));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/kind']);
  });

  it('says which kinds are allowed when the kind is unknown, as for any other code list', () => {
    const err = gncError(() => parseAciBody({ kind: 'correction' }));
    expect(err.issues).toEqual([expect.objectContaining({ path: '/kind', expected: 'one of "declaration"|"amendment"|"cancellation"', received: 'string "correction"' })]);
    expect(err.message).toBe('aci message body is invalid: /kind: expected one of "declaration"|"amendment"|"cancellation", received string "correction". Fix the field and submit again.');
  });
});

// the WCO DM allows several DangerousGoods per goods item; a partner on an earlier version sends (and reads) unNumber only
describe('UN numbers of a goods item', () => {
  const rail = (): Record<string, any> => example('aci-cn-kz-rail');

  it('still accepts and reads the single unNumber as before', () => {
    const body = rail();
    expect(body['goodsItems'][1].unNumber).toBe('3480');
    const parsed = parseAciBody(body);
    expect(parsed).toStrictEqual(body);
    expect(parsed.kind !== 'cancellation' && unNumbersOf(parsed.goodsItems[1]!)).toEqual(['3480']);
    expect(parsed.kind !== 'cancellation' && unNumbersOf(parsed.goodsItems[0]!)).toEqual([]);
  });

  it('accepts several in unNumbers, in the order declared', () => {
    const body = rail();
    delete body['goodsItems'][1].unNumber;
    body['goodsItems'][1].unNumbers = ['3481', '3480'];
    const parsed = parseAciBody(body);
    expect(parsed).toStrictEqual(body);
    expect(parsed.kind !== 'cancellation' && unNumbersOf(parsed.goodsItems[1]!)).toEqual(['3481', '3480']);
  });

  it.each([
    ['one UN number in unNumbers (it goes in unNumber)', { unNumbers: ['3480'] }, '/goodsItems/1/unNumbers', 'at least 2'],
    ['unNumber beside unNumbers', { unNumber: '3480', unNumbers: ['3480', '3481'] }, '/goodsItems/1/unNumber', 'not both'],
    ['a UN number twice', { unNumbers: ['3480', '3481', '3480'] }, '/goodsItems/1/unNumbers/2', 'each UN number once'],
    ['a UN number of five digits', { unNumbers: ['3480', '34801'] }, '/goodsItems/1/unNumbers/1', 'four digits'],
    [`more than ${MAX_UN_NUMBERS}`, { unNumbers: Array.from({ length: MAX_UN_NUMBERS + 1 }, (_, i) => String(1000 + i)) }, '/goodsItems/1/unNumbers', `at most ${MAX_UN_NUMBERS}`],
  ])('refuses %s, at the member', (_what, members, path, expected) => {
    const body = rail();
    delete body['goodsItems'][1].unNumber;
    Object.assign(body['goodsItems'][1], members);
    const err = gncError(() => parseAciBody(body));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual([path]);
    expect(err.issues?.[0]?.expected).toContain(expected);
  });
});
