/**
 * Origin cross-checks between the cargo (ACI goods items) and the electronic certificates of origin they
 * reference by number (`goodsItems[].ecooReference`).
 *
 * The ACI has no separate preference flag: at pre-arrival the certificate reference is the claim (under the
 * CIS FTA, as under most arrangements, preference rests on the certificate). So an item whose reference
 * names a certificate this node never received from the partner is "preferential origin claimed without an
 * e-CoO"; that is also how "the referenced e-CoO exists" is checked, and it clears by itself when the
 * certificate arrives (the consignment is recomputed). A received certificate must not be cancelled or
 * replaced, and must agree with the cargo: exporter and consignee (by trader id, else AEO id, else
 * normalised name), HS code at 6 digits per item, origin country per item, quantities within the
 * configured tolerance (gross mass per HS subheading, else the certificate's mass quantity against the net
 * mass, and package counts), and dates: the certificate must be issued, state its departure and still be valid
 * (for `ecoo.validityMonths` after its issue date) no later than the expected arrival's calendar date; one issued
 * after the departure it states, and not saying so, is noted as issued retrospectively.
 * The ACI carries no quantity but masses and package counts, so a certificate item giving neither (a quantity in
 * litres only, say) cannot be compared: the confirmation is then `ecoo-partly-confirmed`, which says which quantities
 * were not compared, never that they agree.
 */
import { MASS_UNITS, toKilograms, type MassUnit } from '../../../protocol/codes/units.js';
import type { Party } from '../../../protocol/messages/common.js';
import type { AciGoodsItem } from '../../../protocol/messages/aci.js';
import { certificateKey, type EcooGoodsItem } from '../../../protocol/messages/ecoo.js';
import type { Evidence } from '../../../protocol/risk.js';
import { arrivalDate } from '../declaration.js';
import type { EcooFound } from '../ecoo-registry.js';
import { aciEvidence, type AssessContext, type IndicatorSet } from './context.js';

/** Evidence from the certificate: a JSON pointer into its body and what it says there. */
type CertEvidence = (path: string, value?: string | number | null) => Evidence;

const norm = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/** Compares two parties by the strongest identifier both carry; returns the member compared. */
function partyDiffers(a: Party, b: Party): 'id' | 'aeoId' | 'name' | undefined {
  if (a.id !== undefined && b.id !== undefined) return norm(a.id) === norm(b.id) ? undefined : 'id';
  if (a.aeoId !== undefined && b.aeoId !== undefined) return a.aeoId === b.aeoId ? undefined : 'aeoId';
  return norm(a.name) === norm(b.name) ? undefined : 'name';
}

function isMass(unit: string): unit is MassUnit {
  return unit in MASS_UNITS;
}

function differs(declared: number, certified: number, tolerance: number): boolean {
  return Math.abs(declared - certified) > tolerance * Math.max(declared, certified, 1e-9);
}

export function ecooIndicators(ctx: AssessContext, out: IndicatorSet): void {
  // items naming the same certificate, whatever the case they wrote its number in (certificateKey)
  const refs = new Map<string, number[]>();
  ctx.body.goodsItems.forEach((item, i) => {
    if (item.ecooReference === undefined) return;
    const key = certificateKey(item.ecooReference);
    refs.set(key, [...(refs.get(key) ?? []), i]);
  });
  const w = ctx.rules.weights;
  for (const [number, idx] of refs) {
    const refEvidence = idx.map((i) => aciEvidence(ctx, `/goodsItems/${i}/ecooReference`, ctx.body.goodsItems[i]!.ecooReference!));
    const cert = ctx.ecoo(ctx.partner, number);
    if (!cert) {
      const items = idx.map((i) => i + 1).join(', ');
      out.add('preferential-origin-without-ecoo', w['preferential-origin-without-ecoo'], `Item(s) ${items} claim origin under certificate ${number}, which ${ctx.partner} has not sent`, refEvidence);
      continue;
    }
    checkCertificate(ctx, out, cert, idx, refEvidence);
  }
}

function checkCertificate(ctx: AssessContext, out: IndicatorSet, cert: EcooFound, idx: number[], refEvidence: Evidence[]): void {
  const w = ctx.rules.weights;
  const n = cert.number;
  const ev: CertEvidence = (path, value) => ({ messageId: cert.message_id, partner: cert.partner, type: 'ecoo', path, ...(value !== undefined ? { value } : {}) });
  const before = out.added;
  if (cert.status === 'cancelled' || cert.status === 'replaced') {
    const status: Evidence = { messageId: cert.status_message_id ?? cert.message_id, partner: cert.partner, type: 'ecoo', path: '/status', value: cert.status };
    const more = cert.replacement ? ` by ${cert.replacement}` : '';
    out.add(cert.status === 'cancelled' ? 'ecoo-cancelled' : 'ecoo-replaced', w[cert.status === 'cancelled' ? 'ecoo-cancelled' : 'ecoo-replaced'], `Certificate ${n} was ${cert.status}${more} on ${cert.status_date ?? '?'}`, [...refEvidence, status]);
  }
  const d = ctx.body;
  const [role, exporter] = d.exporter ? (['exporter', d.exporter] as const) : (['consignor', d.consignor] as const);
  const ex = partyDiffers(exporter, cert.body.exporter);
  if (ex) {
    out.add('ecoo-exporter-mismatch', w['ecoo-exporter-mismatch'], `The ${role} differs from the exporter on certificate ${n} (${ex})`, [aciEvidence(ctx, `/${role}/${ex}`, exporter[ex] ?? null), ev(`/exporter/${ex}`, cert.body.exporter[ex] ?? null)]);
  }
  const ce = partyDiffers(d.consignee, cert.body.consignee);
  if (ce) {
    out.add('ecoo-consignee-mismatch', w['ecoo-consignee-mismatch'], `The consignee differs from the one on certificate ${n} (${ce})`, [aciEvidence(ctx, `/consignee/${ce}`, d.consignee[ce] ?? null), ev(`/consignee/${ce}`, cert.body.consignee[ce] ?? null)]);
  }
  const groups = new Map<string, { items: [AciGoodsItem, number][]; cert: [EcooGoodsItem, number][] }>();
  for (const i of idx) {
    const item = d.goodsItems[i]!;
    const hs6 = item.hsCode.slice(0, 6);
    const certItems = cert.body.goodsItems.map((c, j) => [c, j] as [EcooGoodsItem, number]).filter(([c]) => c.hsCode.slice(0, 6) === hs6);
    if (certItems.length === 0) {
      const listed = cert.body.goodsItems.map((c) => c.hsCode.slice(0, 6)).join(', ');
      out.add('ecoo-hs-mismatch', w['ecoo-hs-mismatch'], `Item ${i + 1} HS ${hs6} is not on certificate ${n} (it lists ${listed})`, [aciEvidence(ctx, `/goodsItems/${i}/hsCode`, item.hsCode), ev('/goodsItems', listed)]);
      continue;
    }
    const [match, j] = certItems.find(([c]) => c.sequence === item.sequence) ?? certItems[0]!;
    if (match.originCountry !== item.originCountry) {
      out.add('ecoo-origin-mismatch', w['ecoo-origin-mismatch'], `Item ${i + 1} declares origin ${item.originCountry}, certificate ${n} certifies ${match.originCountry}`, [aciEvidence(ctx, `/goodsItems/${i}/originCountry`, item.originCountry), ev(`/goodsItems/${j}/originCountry`, match.originCountry)]);
    }
    const g = groups.get(hs6) ?? { items: [], cert: certItems };
    g.items.push([item, i]);
    groups.set(hs6, g);
  }
  const arrivalDay = dates(ctx, out, cert, ev);
  const tol = ctx.rules.rules.ecoo.quantityTolerance;
  const uncompared = [...groups].filter(([hs6, g]) => !quantities(ctx, out, n, hs6, g, tol, ev));
  if (cert.status === 'issued' && out.added === before) {
    const checked = 'parties, HS codes, origin';
    const notCompared = uncompared.map(([hs6, g]) => `HS ${hs6} (${g.cert.map(([c]) => `${c.quantity.value} ${c.quantity.unit}`).join(' + ')})`);
    const summary = notCompared.length === 0
      ? `Certificate ${n} (${cert.preference}) agrees with the cargo: ${checked}, dates and quantities`
      : `Certificate ${n} (${cert.preference}) agrees with the cargo in ${checked} and dates; quantities not compared for ${notCompared.join(', ')}: the certificate gives no mass or package count there, and the declaration states nothing else`;
    const unitEvidence = uncompared.flatMap(([, g]) => g.cert.map(([c, j]) => ev(`/goodsItems/${j}/quantity/unit`, c.quantity.unit)));
    // a check in part facilitates less (rules.ts partlyConfirmed): its own code, so its own weight
    const code = notCompared.length === 0 ? 'ecoo-confirmed' : 'ecoo-partly-confirmed';
    out.add(code, w[code], summary, [...refEvidence, ev('/certificateNumber', n), ...unitEvidence]);
  }
  // after the confirmation: a certificate the rules allow to be issued late still agrees with the cargo
  retrospective(ctx, out, cert, ev, arrivalDay);
}

const DAY_MS = 86_400_000;

/** Midnight UTC of a calendar date `YYYY-MM-DD` (any year 0001-9999), `months` later when given. */
function midnight(date: string, months = 0): Date {
  const d = Number(date.slice(8, 10));
  const t = new Date(0);
  t.setUTCFullYear(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1 + months, d);
  // no such day in that month (31 January + 1 month): its last day
  if (t.getUTCDate() !== d) t.setUTCDate(0);
  return t;
}

/** Days since 1970-01-01. */
const dayOf = (t: Date): number => Math.round(t.getTime() / DAY_MS);

const days = (n: number): string => `${n} day${n === 1 ? '' : 's'}`;

/**
 * The certificate's dates against the expected arrival, by calendar date (the arrival's in the border's time zone
 * when the rules file gives one, else as written, in the offset it carries: declaration.ts arrivalDate): issued or
 * departing after the goods arrive, or valid no longer when they do. Returns the arrival's day (dayOf).
 */
function dates(ctx: AssessContext, out: IndicatorSet, cert: EcooFound, ev: CertEvidence): number {
  const w = ctx.rules.weights['ecoo-date-mismatch'];
  const n = cert.number;
  const { date, label: arrival } = arrivalDate(ctx.body, ctx.rules.zones);
  const arrivalDay = dayOf(midnight(date));
  const arrivalEv = aciEvidence(ctx, '/expectedArrival', ctx.body.expectedArrival);
  const { issueDate } = cert.body;
  const late = dayOf(midnight(issueDate)) - arrivalDay;
  if (late > 0) {
    out.add('ecoo-date-mismatch', w, `Certificate ${n} was issued on ${issueDate}, ${days(late)} after the expected arrival (${arrival})`, [arrivalEv, ev('/issueDate', issueDate)]);
  }
  const departure = cert.body.transport.departureDate;
  const departsLate = departure !== undefined ? dayOf(midnight(departure)) - arrivalDay : 0;
  if (departure !== undefined && departsLate > 0) {
    out.add('ecoo-date-mismatch', w, `Certificate ${n} states departure on ${departure}, ${days(departsLate)} after the expected arrival (${arrival})`, [arrivalEv, ev('/transport/departureDate', departure)]);
  }
  // valid to the same day `months` later (past the year 9999 for a date near it, which no arrival reaches)
  const months = ctx.rules.rules.ecoo.validityMonths;
  const end = midnight(issueDate, months);
  const expired = arrivalDay - dayOf(end);
  if (expired > 0) {
    const to = end.toISOString().slice(0, 10);
    out.add('ecoo-date-mismatch', w, `Certificate ${n}, issued on ${issueDate}, was valid ${months} months, to ${to}: ${days(expired)} before the expected arrival (${arrival})`, [arrivalEv, ev('/issueDate', issueDate)]);
  }
  return arrivalDay;
}

/**
 * The endorsement a certificate issued after the goods left must carry, in its remarks (EUR.1 box 7, ST-1 box 5), in
 * English or as the CIS rules (2009) word it in Russian; compared as `norm` compares names, so letter case, spaces
 * and punctuation do not count. The e-CoO has no field of its own for it.
 */
const RETROSPECTIVE_ENDORSEMENTS = ['issued retrospectively', 'выдан впоследствии'].map(norm);

/** Words that, directly before the endorsement, say the opposite ("not issued retrospectively", "не выдан впоследствии"). */
const NEGATIONS = new Set(['not', 'never', 'no', 'не', 'нет']);

/**
 * Whether remarks carry the endorsement, not negated: found as `norm` finds it (the words run together), an
 * occurrence counts unless the word directly before it is a negation (NEGATIONS, or an English "n't": "wasn't"), or,
 * where the occurrence starts inside a word ("NOTISSUED RETROSPECTIVELY"), that word's part before it is one.
 */
function endorsedRetrospectively(remarks: string): boolean {
  const words = remarks.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w !== '');
  const starts: number[] = [];
  let joined = '';
  for (const w of words) {
    starts.push(joined.length);
    joined += w;
  }
  const negated = (at: number): boolean => {
    let i = starts.length - 1;
    while (starts[i]! > at) i--;
    if (starts[i]! < at) return NEGATIONS.has(words[i]!.slice(0, at - starts[i]!));
    const before = words[i - 1];
    return before !== undefined && (NEGATIONS.has(before) || (before === 't' && (words[i - 2]?.endsWith('n') ?? false)));
  };
  return RETROSPECTIVE_ENDORSEMENTS.some((e) => {
    for (let at = joined.indexOf(e); at >= 0; at = joined.indexOf(e, at + 1)) if (!negated(at)) return true;
    return false;
  });
}

/**
 * A certificate issued after the departure it states (`transport.departureDate`: the ACI carries no departure or
 * loading date) but not after the expected arrival (that is ecoo-date-mismatch) was issued retrospectively: the
 * EUR.1 and CIS rules allow it when the certificate says so, and an officer wants to see it. Raised unless its
 * remarks carry the endorsement (a negated one does not count). Both are calendar dates the issuing country wrote on
 * the same certificate, so they are compared as written; the arrival's is the one `dates` compared with.
 */
function retrospective(ctx: AssessContext, out: IndicatorSet, cert: EcooFound, ev: CertEvidence, arrivalDay: number): void {
  const { issueDate, remarks, transport: { departureDate: departure } } = cert.body;
  if (departure === undefined) return;
  const issueDay = dayOf(midnight(issueDate));
  const late = issueDay - dayOf(midnight(departure));
  if (late <= 0 || issueDay > arrivalDay) return;
  if (remarks !== undefined && endorsedRetrospectively(remarks)) return;
  const summary = `Certificate ${cert.number} was issued on ${issueDate}, ${days(late)} after the departure it states (${departure}), and its remarks do not say it was issued retrospectively`;
  out.add('ecoo-issued-retrospectively', ctx.rules.weights['ecoo-issued-retrospectively'], summary, [ev('/transport/departureDate', departure), ev('/issueDate', issueDate)]);
}

function quantities(
  ctx: AssessContext, out: IndicatorSet, n: string, hs6: string, g: { items: [AciGoodsItem, number][]; cert: [EcooGoodsItem, number][] }, tol: number,
  ev: CertEvidence,
): boolean {
  const w = ctx.rules.weights['ecoo-quantity-mismatch'];
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const pct = `${Math.round(tol * 1000) / 10}%`;
  const gross = sum(g.items.map(([it]) => toKilograms(it.grossMass.value, it.grossMass.unit)));
  const certGross = g.cert.every(([c]) => c.grossMass) ? sum(g.cert.map(([c]) => toKilograms(c.grossMass!.value, c.grossMass!.unit))) : undefined;
  const massQty = g.cert.every(([c]) => isMass(c.quantity.unit)) ? sum(g.cert.map(([c]) => toKilograms(c.quantity.value, c.quantity.unit as MassUnit))) : undefined;
  const net = g.items.every(([it]) => it.netMass) ? sum(g.items.map(([it]) => toKilograms(it.netMass!.value, it.netMass!.unit))) : gross;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  if (certGross !== undefined && differs(gross, certGross, tol)) {
    out.add('ecoo-quantity-mismatch', w, `HS ${hs6}: ${r(gross)} kg gross declared, ${r(certGross)} kg on certificate ${n} (tolerance ${pct})`, [
      ...g.items.map(([it, i]) => aciEvidence(ctx, `/goodsItems/${i}/grossMass/value`, it.grossMass.value)), ...g.cert.map(([c, j]) => ev(`/goodsItems/${j}/grossMass/value`, c.grossMass!.value)),
    ]);
  } else if (certGross === undefined && massQty !== undefined && differs(net, massQty, tol)) {
    out.add('ecoo-quantity-mismatch', w, `HS ${hs6}: ${r(net)} kg declared, ${r(massQty)} kg certified by certificate ${n} (tolerance ${pct})`, [
      ...g.items.map(([it, i]) => aciEvidence(ctx, it.netMass ? `/goodsItems/${i}/netMass/value` : `/goodsItems/${i}/grossMass/value`, (it.netMass ?? it.grossMass).value)), ...g.cert.map(([c, j]) => ev(`/goodsItems/${j}/quantity/value`, c.quantity.value)),
    ]);
  }
  const packages = g.cert.every(([c]) => c.packages);
  if (packages) {
    const declared = sum(g.items.map(([it]) => it.packages.count));
    const certified = sum(g.cert.map(([c]) => c.packages!.count));
    if (differs(declared, certified, tol)) {
      out.add('ecoo-quantity-mismatch', w, `HS ${hs6}: ${declared} packages declared, ${certified} on certificate ${n}`, [
        ...g.items.map(([it, i]) => aciEvidence(ctx, `/goodsItems/${i}/packages/count`, it.packages.count)), ...g.cert.map(([c, j]) => ev(`/goodsItems/${j}/packages/count`, c.packages!.count)),
      ]);
    }
  }
  return certGross !== undefined || massQty !== undefined || packages;
}
