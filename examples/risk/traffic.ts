/**
 * Realistic synthetic traffic towards the Kazakh border, for the risk bench: which partners send how much,
 * through which border crossing points, which goods (HS codes with a long-tailed distribution, the heavy
 * ones first), which traders (a few large, many small; about one in twelve an AEO), and what a declaration,
 * an e-CoO and an AEO record of each look like. The figures are plausible orders of magnitude for the
 * CAREC corridors, not statistics.
 */
import type { AciDeclaration } from '../../protocol/messages/aci.js';
import type { AeoOperator } from '../../protocol/messages/aeo.js';
import type { EcooCertificate } from '../../protocol/messages/ecoo.js';

/** Deterministic PRNG (mulberry32), so two bench runs measure the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks from weighted choices. */
export function weighted<T>(rnd: () => number, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((n, [, w]) => n + w, 0);
  let x = rnd() * total;
  for (const [v, w] of items) if ((x -= w) < 0) return v;
  return items[items.length - 1]![0];
}

/** Zipf-like index in [0, n): rank r is chosen with weight 1/(r+1)^s (inverse transform on a power law). */
export function zipf(rnd: () => number, n: number, s = 1.1): number {
  return Math.min(n - 1, Math.floor(Math.pow(n + 1, Math.pow(rnd(), s)) - 1));
}

export interface Crossing {
  office: string;
  bcp: string;
  mode: '2' | '3';
  weight: number;
}

/** Partners sending to KZ, their share of the traffic and the crossings their cargo enters by. */
export const PARTNERS: readonly { country: string; share: number; crossings: Crossing[]; cisFta: boolean }[] = [
  { country: 'CN', share: 30, cisFta: false, crossings: [
    { office: 'KZDOS001', bcp: 'Dostyk', mode: '2', weight: 30 }, { office: 'KZKHO001', bcp: 'Khorgos', mode: '3', weight: 30 }, { office: 'KZALT001', bcp: 'Altynkol', mode: '2', weight: 20 },
    { office: 'KZBAK001', bcp: 'Bakhty', mode: '3', weight: 10 }, { office: 'KZMAI001', bcp: 'Maikapchagai', mode: '3', weight: 6 }, { office: 'KZKAL001', bcp: 'Kalzhat', mode: '3', weight: 4 },
  ] },
  { country: 'RU', share: 25, cisFta: true, crossings: [
    { office: 'KZZHA001', bcp: 'Zhaisan', mode: '3', weight: 25 }, { office: 'KZSYR001', bcp: 'Syrym', mode: '3', weight: 20 }, { office: 'KZPET001', bcp: 'Petropavlovsk', mode: '2', weight: 25 },
    { office: 'KZKAI001', bcp: 'Kairak', mode: '3', weight: 15 }, { office: 'KZAUY001', bcp: 'Auyl', mode: '3', weight: 15 },
  ] },
  { country: 'KG', share: 18, cisFta: true, crossings: [
    { office: 'KZKOR001', bcp: 'Korday', mode: '3', weight: 50 }, { office: 'KZKAR001', bcp: 'Karasu', mode: '3', weight: 20 }, { office: 'KZLUG001', bcp: 'Lugovaya', mode: '2', weight: 15 },
    { office: 'KZKEG001', bcp: 'Kegen', mode: '3', weight: 10 }, { office: 'KZSAR001', bcp: 'Sartobe', mode: '3', weight: 5 },
  ] },
  { country: 'UZ', share: 17, cisFta: true, crossings: [
    { office: 'KZZHZ001', bcp: 'Zhibek Zholy', mode: '3', weight: 50 }, { office: 'KZSRG001', bcp: 'Saryagash', mode: '2', weight: 25 }, { office: 'KZKAZ001', bcp: 'Kazygurt', mode: '3', weight: 15 },
    { office: 'KZATA001', bcp: 'Atameken', mode: '3', weight: 10 },
  ] },
  { country: 'TM', share: 5, cisFta: false, crossings: [{ office: 'KZTEM001', bcp: 'Temir Baba', mode: '3', weight: 60 }, { office: 'KZBOL001', bcp: 'Bolashak', mode: '2', weight: 40 }] },
  { country: 'TJ', share: 3, cisFta: true, crossings: [{ office: 'KZZHZ001', bcp: 'Zhibek Zholy', mode: '3', weight: 80 }, { office: 'KZKAZ001', bcp: 'Kazygurt', mode: '3', weight: 20 }] },
  { country: 'AF', share: 2, cisFta: false, crossings: [{ office: 'KZZHZ001', bcp: 'Zhibek Zholy', mode: '3', weight: 100 }] },
];

/** Goods in order of frequency: [HS code, description, typical kg per package, typical USD per kg]. */
export const GOODS: readonly (readonly [string, string, number, number])[] = [
  ['8708999709', 'Parts and accessories of motor vehicles', 20, 9], ['0808108000', 'Fresh apples in cartons', 18, 0.6], ['8471300000', 'Portable data-processing machines (laptops)', 8, 60],
  ['7208390000', 'Flat-rolled hot-rolled steel, not in coils', 2000, 0.7], ['1101001500', 'Wheat flour in 50 kg bags', 50, 0.31], ['0702000000', 'Fresh tomatoes in crates', 12, 0.8],
  ['8517130000', 'Smartphones', 5, 120], ['3923210000', 'Sacks and bags of polymers of ethylene', 25, 2.1], ['6110209100', 'Jerseys and pullovers of cotton', 15, 11],
  ['0806101000', 'Fresh table grapes', 10, 1.2], ['1512191000', 'Refined sunflower-seed oil in PET bottles', 20, 1.5], ['2710124100', 'Motor gasoline', 0, 0.8],
  ['8418102001', 'Combined refrigerator-freezers', 65, 4], ['5201000000', 'Cotton, not carded or combed, in bales', 220, 1.8], ['0813100000', 'Dried apricots', 10, 3.5],
  ['1902199000', 'Uncooked pasta in 10 kg cartons', 10, 0.9], ['7306306000', 'Welded steel tubes and pipes', 1000, 1.1], ['8415102000', 'Split-system air conditioners', 45, 6],
  ['6403999300', 'Footwear with leather uppers', 12, 14], ['4011100003', 'New pneumatic tyres for cars', 9, 4.5], ['8528721000', 'Colour television receivers', 18, 9],
  ['8703231990', 'Passenger cars, 1500-3000 cc', 1400, 11], ['3004900002', 'Medicaments in measured doses', 6, 35], ['1701999000', 'Cane or beet sugar, refined', 50, 0.55],
  ['3102100000', 'Urea fertiliser in big bags', 1000, 0.35], ['7601100000', 'Unwrought aluminium, not alloyed', 1000, 2.4], ['8507600000', 'Lithium-ion accumulators', 12, 15],
  ['9403609000', 'Wooden furniture', 40, 3], ['0402211800', 'Milk powder in bags', 25, 3.2], ['2402209000', 'Cigarettes containing tobacco', 10, 25],
  ['9503007000', 'Toys', 8, 6], ['5208520000', 'Printed plain-weave cotton fabric', 50, 5.5], ['2106909800', 'Food preparations n.e.s.', 15, 4],
  ['8704210000', 'Diesel lorries up to 5 t', 3500, 6], ['7213910000', 'Hot-rolled wire rod of iron', 2000, 0.65], ['8431499000', 'Parts of earth-moving machinery', 150, 8],
];

export function hsPick(rnd: () => number): number {
  return zipf(rnd, GOODS.length, 1.3);
}

/** Traders per partner (consignors) and importers in KZ (consignees): many small ones, a few large. */
export const TRADERS_PER_PARTNER = 5000;
export const CONSIGNEES = 20_000;
/** Share of partner traders holding AEO status: about one in twelve. */
export const AEO_EVERY = 12;

export function traderId(partner: string, n: number): string {
  return `${partner}${String(100_000_000_000 + n * 7919).slice(-12)}`;
}
export function aeoIdOf(partner: string, n: number): string | undefined {
  return n % AEO_EVERY === 0 ? `${partner}AEO${String(100_000_000_000 + n * 7919).slice(-12)}` : undefined;
}

const address = (country: string, n: number) => ({ line: `Street ${n % 300} building ${n % 97}`, city: `City ${n % 40}`, postcode: String(100000 + (n % 9000)), country });

export function operator(partner: string, n: number, status: AeoOperator['status'], statusDate: string): AeoOperator {
  return {
    aeoId: aeoIdOf(partner, n)!, nationalTraderId: traderId(partner, n).slice(2), legalName: `${partner} Trading Company ${n} LLC`, address: address(partner, n),
    programme: n % 3 === 0 ? 'both' : 'security', status, statusDate, validFrom: '2023-03-01',
  };
}

/** Local date-time at a KZ border (UTC+5 since 2024) in the WCO DM form the schema wants. */
export function kzTime(ms: number): string {
  return new Date(ms + 5 * 3_600_000).toISOString().slice(0, 19) + '+05:00';
}

export interface Declared {
  body: AciDeclaration;
  consignor: number;
  ecoo: string | undefined;
}

/** One declaration: 1-5 goods items (mostly 1-2), road or rail by the crossing, containers on rail. */
export function declaration(rnd: () => number, partner: (typeof PARTNERS)[number], n: number, arrivalMs: number): Declared {
  const x = weighted(rnd, partner.crossings.map((c) => [c, c.weight] as const));
  const consignor = zipf(rnd, TRADERS_PER_PARTNER, 1.05);
  const consignee = zipf(rnd, CONSIGNEES, 1.05);
  const items = weighted(rnd, [[1, 45], [2, 30], [3, 15], [4, 6], [5, 4]] as const);
  const withCert = rnd() < (partner.cisFta ? 0.45 : 0.1);
  const cert = withCert ? `${partner.country}-CO-2026-${String(n).padStart(7, '0')}` : undefined;
  const goodsItems = Array.from({ length: items }, (_, i) => {
    const [hs, description, kgPer, usdPerKg] = GOODS[hsPick(rnd)]!;
    const count = kgPer === 0 ? 0 : 1 + Math.floor(rnd() * 400);
    const kg = kgPer === 0 ? 20_000 + Math.round(rnd() * 5000) : Math.round(count * kgPer * (0.8 + rnd() * 0.4));
    return {
      sequence: i + 1, hsCode: hs, description, packages: { count, kind: kgPer === 0 ? 'VL' : kgPer >= 1000 ? 'NE' : 'CT' }, grossMass: { value: kg, unit: 'KGM' as const },
      netMass: { value: Math.round(kg * 0.95), unit: 'KGM' as const }, customsValue: { amount: Math.round(kg * usdPerKg * (0.7 + rnd() * 0.6)), currency: 'USD' },
      originCountry: rnd() < 0.92 ? partner.country : 'CN', ...(cert ? { ecooReference: cert } : {}),
    };
  });
  const rail = x.mode === '2';
  const party = (c: string, k: number, aeo?: string) => ({ name: `${c} Trading Company ${k} LLC`, id: traderId(c, k).slice(2), ...(aeo ? { aeoId: aeo } : {}), address: address(c, k) });
  const kg = goodsItems.reduce((a, g) => a + g.grossMass.value, 0);
  const body: AciDeclaration = {
    kind: 'declaration', functionalReference: `${partner.country}EXP-2026-${n}`, declarationType: 'export', declarationOffice: `${partner.country}OFF${String(n % 50).padStart(3, '0')}`,
    consignor: party(partner.country, consignor, aeoIdOf(partner.country, consignor)), consignee: party('KZ', consignee),
    borderTransportMeans: rail ? { mode: '2', id: `T${1000 + (n % 9000)}`, idType: '21', nationality: partner.country } : { mode: '3', id: `${String(n % 999).padStart(3, '0')}ABC${String(n % 17).padStart(2, '0')}`, idType: '30', nationality: partner.country },
    itinerary: [partner.country, 'KZ'], officeOfEntry: { id: x.office, borderCrossingPoint: x.bcp }, expectedArrival: kzTime(arrivalMs), containerised: rail,
    transportEquipment: rail || rnd() < 0.4 ? [{ id: `TKRU${String(1_000_000 + (n % 8_999_999)).slice(-7)}`, seals: [`S${n}`] }] : [],
    goodsItems, totalGrossMass: { value: kg, unit: 'KGM' }, totalPackages: goodsItems.reduce((a, g) => a + g.packages.count, 0), goodsItemCount: goodsItems.length,
  };
  return { body, consignor, ecoo: cert };
}

/** The certificate a declaration references, agreeing with it (or, for one in twenty, not on one HS code). */
export function certificateFor(rnd: () => number, partner: string, d: AciDeclaration, number: string): EcooCertificate {
  const mismatch = rnd() < 0.05;
  return {
    kind: 'certificate', certificateNumber: number, issueDate: d.expectedArrival.slice(0, 10), issuingCountry: partner, issuingAuthority: { name: `Chamber of Commerce of ${partner}` },
    preference: 'preferential', arrangement: 'CIS FTA 2011', certificateForm: 'ST-1', exporter: d.consignor, consignee: d.consignee,
    transport: { mode: d.borderTransportMeans.mode }, invoices: [{ number: `INV-${number}`, date: d.expectedArrival.slice(0, 10) }],
    goodsItems: d.goodsItems.map((g, i) => ({
      sequence: i + 1, hsCode: mismatch && i === 0 ? '8471300000' : g.hsCode, description: g.description, quantity: g.netMass!, grossMass: g.grossMass, packages: { count: g.packages.count, kind: g.packages.kind },
      originCriterion: 'WO', originCountry: g.originCountry,
    })),
    signatory: { name: 'Authorised Signatory', place: 'Capital' },
  };
}
