/**
 * Origin cross-checks over the wire: KZ sends declarations whose goods items reference certificates of
 * origin, and the certificates (or not); KG's assessment names each disagreement with the evidence on both
 * sides, and is recomputed when a certificate or its status arrives after the declaration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificate, road, variant } from './fixtures.js';
import { arrival, codesOf, has, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
beforeAll(async () => {
  net = await riskNetwork();
});
afterAll(async () => net?.close());

/** A declaration and its certificate under a fresh number, each with an optional change. */
function pair(n: string, change: { aci?: (d: any) => void; cert?: (c: any) => void } = {}) {
  const number = `KZ-ST1-2026-T${n}`;
  const aci = variant(road(), (d) => {
    d.functionalReference = `ECOO-T-${n}`;
    for (const it of d.goodsItems) it.ecooReference = number;
    change.aci?.(d);
  });
  const cert = variant(certificate(), (c) => {
    c.certificateNumber = number;
    change.cert?.(c);
  });
  return { number, aci, cert };
}

const indicator = (a: any, code: string): any => a.assessment.indicators.find((i: any) => i.code === code);

describe('e-CoO cross-checks between two nodes', () => {
  it('raises preferential-origin-without-ecoo for items referencing a certificate never sent', async () => {
    const p = pair('01');
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('preferential-origin-without-ecoo'));
    expect(a).toMatchObject({ level: 'medium', score: 3 });
    expect(indicator(a, 'preferential-origin-without-ecoo').evidence.map((e: any) => [e.path, e.value])).toEqual([
      ['/goodsItems/0/ecooReference', p.number], ['/goodsItems/1/ecooReference', p.number], ['/goodsItems/2/ecooReference', p.number],
    ]);
  });

  it('recomputes to ecoo-confirmed when the certificate arrives after the declaration', async () => {
    const p = pair('02');
    const id = await send(net.kz, 'aci', p.aci);
    await arrival(net.kg, id, has('preferential-origin-without-ecoo'));
    const cert = await send(net.kz, 'ecoo', p.cert);
    const a = await arrival(net.kg, id, has('ecoo-confirmed'));
    expect(codesOf(a)).not.toContain('preferential-origin-without-ecoo');
    expect(a.level).toBe('low');
    expect(indicator(a, 'ecoo-confirmed').evidence).toEqual(expect.arrayContaining([expect.objectContaining({ messageId: cert, type: 'ecoo', path: '/certificateNumber' })]));
  });

  it('matches a reference written in another case to its certificate, and keeps what the declarant wrote as evidence', async () => {
    const p = pair('02L', { aci: (d) => { for (const it of d.goodsItems) it.ecooReference = it.ecooReference.toLowerCase(); } });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-confirmed'));
    expect(codesOf(a)).not.toContain('preferential-origin-without-ecoo');
    expect(indicator(a, 'ecoo-confirmed').evidence).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/goodsItems/0/ecooReference', value: p.number.toLowerCase() })]));
  });

  it('raises ecoo-cancelled and a high level when the certificate is cancelled after the declaration', async () => {
    const p = pair('03');
    const cert = await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    await arrival(net.kg, id, has('ecoo-confirmed'));
    const status = await send(net.kz, 'ecoo', { kind: 'status', certificateNumber: p.number, status: 'cancelled', statusDate: '2026-11-23', reason: 'Issued in error' }, cert);
    const a = await arrival(net.kg, id, has('ecoo-cancelled'));
    expect(a.level).toBe('high');
    expect(indicator(a, 'ecoo-cancelled').evidence).toEqual(expect.arrayContaining([expect.objectContaining({ messageId: status, path: '/status', value: 'cancelled' })]));
  });

  it('raises ecoo-replaced when the certificate was replaced by another', async () => {
    const p = pair('04');
    const cert = await send(net.kz, 'ecoo', p.cert);
    await send(net.kz, 'ecoo', { kind: 'status', certificateNumber: p.number, status: 'replaced', statusDate: '2026-11-23', replacementCertificateNumber: 'KZ-ST1-2026-T99' }, cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-replaced'));
    expect(indicator(a, 'ecoo-replaced').summary).toContain('KZ-ST1-2026-T99');
  });

  it('raises ecoo-hs-mismatch when an item HS subheading is not on the certificate', async () => {
    const p = pair('05', { cert: (c) => (c.goodsItems[1].hsCode = '1905310000') });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-hs-mismatch'));
    expect(a.level).toBe('medium');
    expect(indicator(a, 'ecoo-hs-mismatch').evidence).toEqual(expect.arrayContaining([expect.objectContaining({ messageId: id, path: '/goodsItems/1/hsCode', value: '1902199000' })]));
  });

  it('confirms a certificate whose HS codes differ from the cargo only beyond six digits', async () => {
    const p = pair('06', { cert: (c) => (c.goodsItems[0].hsCode = '1101001100') });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    expect(codesOf(await arrival(net.kg, id, has('ecoo-confirmed')))).not.toContain('ecoo-hs-mismatch');
  });

  it('raises ecoo-origin-mismatch when the certificate certifies another origin', async () => {
    const p = pair('07', { cert: (c) => (c.goodsItems[2].originCountry = 'RU') });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-origin-mismatch'));
    expect(indicator(a, 'ecoo-origin-mismatch').evidence.map((e: any) => [e.type, e.path, e.value])).toEqual([['aci', '/goodsItems/2/originCountry', 'KZ'], ['ecoo', '/goodsItems/2/originCountry', 'RU']]);
  });

  it('raises ecoo-exporter-mismatch when the certificate names another exporter', async () => {
    const p = pair('08', { cert: (c) => (c.exporter = { ...c.exporter, id: '990140000001', name: 'Other Mill LLP' }) });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-exporter-mismatch'));
    expect(indicator(a, 'ecoo-exporter-mismatch').evidence.map((e: any) => e.path)).toEqual(['/exporter/id', '/exporter/id']);
  });

  it('raises ecoo-consignee-mismatch when the certificate names another consignee', async () => {
    const p = pair('09', { cert: (c) => (c.consignee = { ...c.consignee, id: '01111199999999' }) });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    await arrival(net.kg, id, has('ecoo-consignee-mismatch'));
  });

  it('raises ecoo-quantity-mismatch when a gross mass differs beyond the tolerance', async () => {
    const p = pair('10', { cert: (c) => (c.goodsItems[0].grossMass.value = 12000) });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-quantity-mismatch'));
    expect(indicator(a, 'ecoo-quantity-mismatch').summary).toContain('15060 kg gross declared, 12000 kg');
  });

  it('tolerates a gross mass within five percent of the certificate', async () => {
    const p = pair('11', {
      aci: (d) => {
        d.goodsItems[1].grossMass.value = 5400;
        d.totalGrossMass.value = 24560.5;
      },
    });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    expect(codesOf(await arrival(net.kg, id, has('ecoo-confirmed')))).not.toContain('ecoo-quantity-mismatch');
  });

  it('raises ecoo-date-mismatch, not ecoo-confirmed, for a certificate issued after the expected arrival', async () => {
    const p = pair('12', { cert: (c) => (c.issueDate = '2026-11-27') });
    const cert = await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-date-mismatch'));
    expect(codesOf(a)).not.toContain('ecoo-confirmed');
    // issued after its departure too, but after the arrival is what counts: not "issued retrospectively" besides
    expect(codesOf(a)).not.toContain('ecoo-issued-retrospectively');
    expect(a).toMatchObject({ level: 'medium', score: 3 });
    const date = indicator(a, 'ecoo-date-mismatch');
    expect(date.summary).toBe(`Certificate ${p.number} was issued on 2026-11-27, 2 days after the expected arrival (2026-11-25)`);
    expect(date.evidence.map((e: any) => [e.messageId, e.type, e.path, e.value])).toEqual([[id, 'aci', '/expectedArrival', '2026-11-25T14:00:00+06:00'], [cert, 'ecoo', '/issueDate', '2026-11-27']]);
  });

  it('raises ecoo-date-mismatch when an amendment moves the arrival past the end of the certificate validity', async () => {
    // issued 2025-11-27, valid 12 months (the default): to 2026-11-27, after the declared arrival on 2026-11-25
    const p = pair('13', { cert: (c) => (c.issueDate = '2025-11-27') });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    await arrival(net.kg, id, has('ecoo-confirmed'));
    const amended = await send(net.kz, 'aci', variant(p.aci, (d) => {
      d.kind = 'amendment';
      d.expectedArrival = '2026-11-30T09:00:00+06:00';
    }), id);
    const a = await arrival(net.kg, id, has('ecoo-date-mismatch'));
    expect(codesOf(a)).not.toContain('ecoo-confirmed');
    const date = indicator(a, 'ecoo-date-mismatch');
    expect(date.summary).toBe(`Certificate ${p.number}, issued on 2025-11-27, was valid 12 months, to 2026-11-27: 3 days before the expected arrival (2026-11-30)`);
    expect(date.evidence).toEqual(expect.arrayContaining([expect.objectContaining({ messageId: amended, path: '/expectedArrival', value: '2026-11-30T09:00:00+06:00' })]));
  });

  it('clears ecoo-date-mismatch when the partner re-issues the certificate with the departure date corrected', async () => {
    const p = pair('14', { cert: (c) => (c.transport.departureDate = '2026-11-26') });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-date-mismatch'));
    expect(indicator(a, 'ecoo-date-mismatch').summary).toBe(`Certificate ${p.number} states departure on 2026-11-26, 1 day after the expected arrival (2026-11-25)`);
    expect(indicator(a, 'ecoo-date-mismatch').evidence.map((e: any) => e.path)).toEqual(['/expectedArrival', '/transport/departureDate']);
    await send(net.kz, 'ecoo', variant(p.cert, (c) => (c.transport.departureDate = '2026-11-24')));
    const b = await arrival(net.kg, id, has('ecoo-confirmed'));
    expect(codesOf(b)).not.toContain('ecoo-date-mismatch');
  });

  it('raises ecoo-issued-retrospectively for a certificate issued after the departure it states, and clears it when a re-issue says so', async () => {
    const p = pair('16', {
      cert: (c) => {
        c.transport.departureDate = '2026-11-22';
        c.issueDate = '2026-11-24';
      },
    });
    const cert = await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-issued-retrospectively'));
    // the certificate still agrees with the cargo: noted, with a weight of its own
    expect(codesOf(a)).toContain('ecoo-confirmed');
    expect(a).toMatchObject({ level: 'low', score: 1 });
    const late = indicator(a, 'ecoo-issued-retrospectively');
    expect(late).toMatchObject({ kind: 'risk', weight: 1 });
    expect(late.summary).toBe(`Certificate ${p.number} was issued on 2026-11-24, 2 days after the departure it states (2026-11-22), and its remarks do not say it was issued retrospectively`);
    expect(late.evidence.map((e: any) => [e.messageId, e.type, e.path, e.value])).toEqual([[cert, 'ecoo', '/transport/departureDate', '2026-11-22'], [cert, 'ecoo', '/issueDate', '2026-11-24']]);
    // the partner re-issues it endorsed, in Russian as the CIS rules word it
    await send(net.kz, 'ecoo', variant(p.cert, (c) => (c.remarks = 'ВЫДАН ВПОСЛЕДСТВИИ')));
    const b = await arrival(net.kg, id, (x) => !has('ecoo-issued-retrospectively')(x));
    expect(codesOf(b)).toContain('ecoo-confirmed');
    expect(b).toMatchObject({ level: 'low', score: 0 });
  });

  it('reads the endorsement anywhere in the remarks, whatever its case and punctuation, and only the endorsement', async () => {
    const late = (n: string, remarks: string) => pair(n, {
      cert: (c) => {
        c.transport.departureDate = '2026-11-22';
        c.issueDate = '2026-11-24';
        c.remarks = remarks;
      },
    });
    // the example's remarks: nothing said about the issue date
    const plain = late('17', certificate()['remarks']);
    const endorsed = late('17E', 'Goods comply with the CIS Rules of Determination of Country of Origin of Goods (2009). ISSUED  RETROSPECTIVELY.');
    for (const p of [plain, endorsed]) await send(net.kz, 'ecoo', p.cert);
    const plainId = await send(net.kz, 'aci', plain.aci);
    const endorsedId = await send(net.kz, 'aci', endorsed.aci);
    await arrival(net.kg, plainId, has('ecoo-issued-retrospectively'));
    expect(codesOf(await arrival(net.kg, endorsedId, has('ecoo-confirmed')))).not.toContain('ecoo-issued-retrospectively');
  });

  it('turns ecoo-date-mismatch into ecoo-issued-retrospectively when an amendment moves the arrival past the issue date', async () => {
    // departing 2026-11-24 (as in the example), issued 2026-11-26: after the declared arrival on 2026-11-25
    const p = pair('18', { cert: (c) => (c.issueDate = '2026-11-26') });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-date-mismatch'));
    expect(codesOf(a)).not.toContain('ecoo-issued-retrospectively');
    await send(net.kz, 'aci', variant(p.aci, (d) => {
      d.kind = 'amendment';
      d.expectedArrival = '2026-11-27T09:00:00+06:00';
    }), id);
    const b = await arrival(net.kg, id, has('ecoo-issued-retrospectively'));
    expect(codesOf(b)).not.toContain('ecoo-date-mismatch');
    expect(codesOf(b)).toContain('ecoo-confirmed');
    expect(indicator(b, 'ecoo-issued-retrospectively').summary).toBe(`Certificate ${p.number} was issued on 2026-11-26, 2 days after the departure it states (2026-11-24), and its remarks do not say it was issued retrospectively`);
  });

  it('raises ecoo-partly-confirmed, not ecoo-confirmed, saying which quantities were not compared when a certificate item gives only litres', async () => {
    const p = pair('15', {
      cert: (c) => {
        delete c.goodsItems[2].grossMass;
        delete c.goodsItems[2].packages;
      },
    });
    await send(net.kz, 'ecoo', p.cert);
    const id = await send(net.kz, 'aci', p.aci);
    const a = await arrival(net.kg, id, has('ecoo-partly-confirmed'));
    expect(codesOf(a)).not.toContain('ecoo-confirmed');
    const confirmed = indicator(a, 'ecoo-partly-confirmed');
    expect(confirmed).toMatchObject({ kind: 'info', weight: 0 });
    expect(confirmed.summary).toBe(`Certificate ${p.number} (preferential) agrees with the cargo in parties, HS codes, origin and dates; quantities not compared for HS 151219 (4000 LTR): the certificate gives no mass or package count there, and the declaration states nothing else`);
    expect(confirmed.evidence).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'ecoo', path: '/goodsItems/2/quantity/unit', value: 'LTR' })]));
    // with the gross mass and packages stated, every item's quantities are compared
    const full = pair('15F');
    await send(net.kz, 'ecoo', full.cert);
    const fid = await send(net.kz, 'aci', full.aci);
    const b = await arrival(net.kg, fid, has('ecoo-confirmed'));
    expect(codesOf(b)).not.toContain('ecoo-partly-confirmed');
    expect(indicator(b, 'ecoo-confirmed').summary).toBe(`Certificate ${full.number} (preferential) agrees with the cargo: parties, HS codes, origin, dates and quantities`);
  });
});
