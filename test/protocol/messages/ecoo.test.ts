import { describe, expect, it } from 'vitest';
import { parseEcooBody } from '../../../protocol/messages/ecoo.js';
import { example, gncError, paths } from './fixtures.js';

const cert = () => example('ecoo-kz-kg-preferential');
const status = () => example('ecoo-status-cancelled');

describe('e-CoO certificate schema', () => {
  it('accepts the preferential KZ to KG certificate', () => {
    expect(parseEcooBody(cert())).toMatchObject({ kind: 'certificate', preference: 'preferential', arrangement: 'CIS FTA 2011' });
  });

  it.each(['certificateNumber', 'issueDate', 'issuingCountry', 'issuingAuthority', 'preference', 'exporter', 'consignee', 'transport', 'invoices', 'goodsItems', 'signatory'])(
    'refuses a certificate without %s',
    (field) => {
      const body = cert();
      delete body[field];
      const err = gncError(() => parseEcooBody(body));
      expect(err.code).toBe('GNC_SCHEMA_INVALID');
      expect(paths(err)).toContain(`/${field}`);
    },
  );

  it.each(['hsCode', 'description', 'quantity', 'originCriterion', 'originCountry'])('refuses a goods item without %s', (field) => {
    const body = cert();
    delete body['goodsItems'][0][field];
    expect(paths(gncError(() => parseEcooBody(body)))).toContain(`/goodsItems/0/${field}`);
  });

  it('refuses a preferential certificate that names no arrangement', () => {
    const body = cert();
    delete body['arrangement'];
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/arrangement']);
  });

  it('accepts a non-preferential certificate without an arrangement', () => {
    const body = cert();
    body['preference'] = 'non-preferential';
    delete body['arrangement'];
    expect(parseEcooBody(body)).toMatchObject({ preference: 'non-preferential' });
  });

  it('refuses an arrangement on a non-preferential certificate', () => {
    const body = cert();
    body['preference'] = 'non-preferential';
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/arrangement']);
  });

  it('refuses a quantity unit outside the Rec 20 list', () => {
    const body = cert();
    body['goodsItems'][2]['quantity']['unit'] = 'litre';
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/goodsItems/2/quantity/unit']);
  });

  it('refuses a goods item billed on an invoice the certificate does not list', () => {
    const body = cert();
    body['goodsItems'][1]['invoiceNumber'] = 'AFM-INV-2026-0000';
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/goodsItems/1/invoiceNumber']);
  });

  it('refuses an issue date that is not a calendar date', () => {
    const body = cert();
    body['issueDate'] = '2026-02-30';
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/issueDate']);
  });

  it('refuses an issue date in the year 0000, which the XML form (xs:date) cannot carry', () => {
    const body = cert();
    body['issueDate'] = '0000-12-01';
    const err = gncError(() => parseEcooBody(body));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(paths(err)).toEqual(['/issueDate']);
  });

  it('refuses an issuing country that is not ISO 3166', () => {
    const body = cert();
    body['issuingCountry'] = 'KAZ';
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/issuingCountry']);
  });
});

describe('e-CoO status schema', () => {
  it('accepts a cancellation naming the certificate', () => {
    expect(parseEcooBody(status())).toMatchObject({ kind: 'status', status: 'cancelled', certificateNumber: 'KZ-ST1-2026-0047990' });
  });

  it('accepts a replacement naming the new certificate', () => {
    const body = { ...status(), status: 'replaced', replacementCertificateNumber: 'KZ-ST1-2026-0048213' };
    expect(parseEcooBody(body)).toMatchObject({ status: 'replaced', replacementCertificateNumber: 'KZ-ST1-2026-0048213' });
  });

  it('refuses a replacement number on a cancellation', () => {
    const body = { ...status(), replacementCertificateNumber: 'KZ-ST1-2026-0048213' };
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/replacementCertificateNumber']);
  });

  it('refuses a status outside issued, replaced and cancelled', () => {
    const body = { ...status(), status: 'revoked' };
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/status']);
  });

  it('refuses a status without the certificate number', () => {
    const body = status();
    delete body['certificateNumber'];
    expect(paths(gncError(() => parseEcooBody(body)))).toEqual(['/certificateNumber']);
  });
});
