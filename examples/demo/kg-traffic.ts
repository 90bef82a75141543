/**
 * The demo's traffic towards the Kazakh border from Kyrgyzstan, for the pre-arrival risk step: KG's AEO
 * register (one operator revoked), two certificates of origin and three road declarations through
 * Ak-Zhol/Korday. They are the KZ -> KG examples of examples/messages turned around (a KG exporter, a KZ
 * consignee, KG origin), so they stay valid against the same schemas; what differs is what the risk view
 * is meant to find: one clean consignment, one whose consignor's AEO status was revoked, one whose
 * certificate certifies another HS subheading than the cargo declares.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Doc = Record<string, any>;

const KG_ADDRESS = { line: 'Chui Ave 219', city: 'Bishkek', postcode: '720001', country: 'KG' };
const CONSIGNEE = { name: 'Astana Retail Trading LLP', id: '120540018765', address: { line: 'Kabanbay Batyr Ave 11', city: 'Astana', postcode: '010000', country: 'KZ' } };

/** KG exporters: AEO id, national trader id, name. */
export const KG_TRADERS = {
  valid: { aeoId: 'KGAEO0150320181', id: '01503201810077', name: 'Tulpar Agro Export LLC' },
  revoked: { aeoId: 'KGAEO0210520162', id: '02105201610044', name: 'Issyk-Kul Grain Trade LLC' },
  other: { aeoId: 'KGAEO0230420191', id: '02304201910123', name: 'Bishkek Food Distribution LLC' },
} as const;
type Trader = (typeof KG_TRADERS)[keyof typeof KG_TRADERS];

const party = (t: Trader): Doc => ({ name: t.name, id: t.id, aeoId: t.aeoId, address: KG_ADDRESS });

/** ISO 8601 in UTC without milliseconds, `hours` from now. */
const inHours = (hours: number): string => new Date(Date.now() + hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function kgAeoSnapshot(): Doc {
  const op = (t: Trader, status: string, statusDate: string, validFrom: string): Doc => ({
    aeoId: t.aeoId, nationalTraderId: t.id, legalName: t.name, address: KG_ADDRESS, programme: 'both', status, statusDate, validFrom,
  });
  return {
    kind: 'snapshot',
    asOf: inHours(-1),
    operators: [
      op(KG_TRADERS.valid, 'valid', '2024-06-03', '2024-06-03'),
      op(KG_TRADERS.other, 'valid', '2023-04-17', '2023-04-17'),
      op(KG_TRADERS.revoked, 'revoked', '2026-08-14', '2021-10-05'),
    ],
  };
}

export function kgCertificate(examples: string, number: string, exporter: Trader, hsOfItem2?: string): Doc {
  const c = JSON.parse(readFileSync(join(examples, 'messages', 'ecoo-kz-kg-preferential.json'), 'utf8')) as Doc;
  c.certificateNumber = number;
  c.issueDate = inHours(-24).slice(0, 10);
  c.issuingCountry = 'KG';
  c.issuingAuthority = { name: 'Chamber of Commerce and Industry of the Kyrgyz Republic', id: 'KGCCI-01' };
  c.exporter = party(exporter);
  c.producer = { name: exporter.name, id: exporter.id, address: KG_ADDRESS };
  c.consignee = CONSIGNEE;
  c.transport = { ...c.transport, meansId: '01KG123ABC', route: 'Bishkek - Ak-Zhol/Korday - Almaty', departureDate: inHours(0).slice(0, 10) };
  for (const it of c.goodsItems) it.originCountry = 'KG';
  if (hsOfItem2) c.goodsItems[1].hsCode = hsOfItem2;
  return c;
}

export function kgDeclaration(examples: string, o: { ref: string; trader: Trader; certificate?: string; hours: number; plate: string }): Doc {
  const d = JSON.parse(readFileSync(join(examples, 'messages', 'aci-kz-kg-road.json'), 'utf8')) as Doc;
  d.functionalReference = o.ref;
  d.issueDateTime = inHours(-2);
  d.ucr = `6KG${o.trader.id}-${o.ref.slice(-4)}`;
  d.declarationOffice = 'KGBIS001';
  d.exporter = party(o.trader);
  d.consignor = party(o.trader);
  d.consignee = CONSIGNEE;
  delete d.carrier;
  delete d.notifyParty;
  d.borderTransportMeans = { ...d.borderTransportMeans, id: o.plate, nationality: 'KG' };
  d.itinerary = ['KG', 'KZ'];
  d.officeOfExit = { id: 'KGAKZ001', borderCrossingPoint: 'Ak-Zhol' };
  d.officeOfEntry = { id: 'KZKOR001', borderCrossingPoint: 'Korday' };
  d.expectedArrival = inHours(o.hours);
  d.transportEquipment = [{ id: `${o.plate}T`, seals: [`KGS${o.ref.slice(-4)}01`] }];
  for (const it of d.goodsItems) {
    it.originCountry = 'KG';
    if (o.certificate) it.ecooReference = o.certificate;
    else delete it.ecooReference;
  }
  return d;
}
