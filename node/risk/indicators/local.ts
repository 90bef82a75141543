/**
 * The administration's own rules from the rules file: HS code prefixes, origin countries, traders and routes
 * to watch, each with a weight, and ranges of gross mass, customs value or value per kilogram per goods item
 * for an HS heading. Every rule that matches is its own indicator named by its place in the file (like
 * `watch.hsPrefixes[0]`), so an officer can find the rule behind a score.
 */
import { toKilograms } from '../../../protocol/codes/units.js';
import type { Evidence } from '../../../protocol/risk.js';
import { foldCode } from '../../store/fold.js';
import { placeReadings } from '../../store/name-keys.js';
import { aciEvidence, type AssessContext, type IndicatorSet } from './context.js';

const about = (note: string | undefined): string => (note ? ` (${note})` : '');

export function localIndicators(ctx: AssessContext, out: IndicatorSet): void {
  const { rules } = ctx.rules;
  const d = ctx.body;
  const items = d.goodsItems;

  rules.watch.hsPrefixes.forEach((r, n) => {
    const hit = items.flatMap((it, i) => (it.hsCode.startsWith(r.prefix) ? [aciEvidence(ctx, `/goodsItems/${i}/hsCode`, it.hsCode)] : []));
    if (hit.length) out.addRule('local-hs-prefix', r.weight, `watch.hsPrefixes[${n}]`, `HS codes under ${r.prefix} are watched${about(r.note)}`, hit);
  });

  rules.watch.originCountries.forEach((r, n) => {
    const hit = items.flatMap((it, i) => (it.originCountry === r.country ? [aciEvidence(ctx, `/goodsItems/${i}/originCountry`, it.originCountry)] : []));
    if (hit.length) out.addRule('local-origin', r.weight, `watch.originCountries[${n}]`, `Goods of ${r.country} origin are watched${about(r.note)}`, hit);
  });

  if (rules.watch.traders.length) {
    const roles = (['consignor', 'exporter', 'consignee', 'carrier', 'notifyParty'] as const).filter((k) => d[k] !== undefined);
    rules.watch.traders.forEach((r, n) => {
      const want = r.id.toUpperCase();
      const hit: Evidence[] = [];
      for (const role of roles) {
        const p = d[role]!;
        if (p.id?.toUpperCase() === want) hit.push(aciEvidence(ctx, `/${role}/id`, p.id));
        if (p.aeoId?.toUpperCase() === want) hit.push(aciEvidence(ctx, `/${role}/aeoId`, p.aeoId));
      }
      if (hit.length) out.addRule('local-trader', r.weight, `watch.traders[${n}]`, `Trader ${r.id} is watched${about(r.note)}`, hit);
    });
  }

  // the declaration's office and crossing point folded once, when a route asks (the routes' own at load: FoldedRoute)
  let office: string | undefined;
  let crossing: readonly string[] | undefined;
  rules.watch.routes.forEach((r, n) => {
    const folded = ctx.rules.routes[n]!;
    const ev: Evidence[] = [];
    if (r.partner !== undefined) {
      if (ctx.partner !== r.partner) return;
      ev.push(aciEvidence(ctx, '', ctx.partner)); // the envelope's sender
    }
    // office and crossing point compared as the arrivals filters compare them (node/risk/query.ts)
    if (folded.officeOfEntry !== undefined) {
      if ((office ??= foldCode(d.officeOfEntry.id)) !== folded.officeOfEntry) return;
      ev.push(aciEvidence(ctx, '/officeOfEntry/id', d.officeOfEntry.id));
    }
    if (folded.borderCrossingPoint !== undefined) {
      const bcp = d.officeOfEntry.borderCrossingPoint;
      // the same place when a reading of each is the same (a name with a schwa has two: placeReadings)
      if (bcp === undefined || !(crossing ??= placeReadings(bcp)).some((c) => folded.borderCrossingPoint!.includes(c))) return;
      ev.push(aciEvidence(ctx, '/officeOfEntry/borderCrossingPoint', bcp));
    }
    if (r.via !== undefined) {
      const at = d.itinerary.indexOf(r.via);
      if (at < 0) return;
      ev.push(aciEvidence(ctx, `/itinerary/${at}`, r.via));
    }
    if (r.transportMode !== undefined) {
      if (d.borderTransportMeans.mode !== r.transportMode) return;
      ev.push(aciEvidence(ctx, '/borderTransportMeans/mode', d.borderTransportMeans.mode));
    }
    out.addRule('local-route', r.weight, `watch.routes[${n}]`, `The route is watched${about(r.note)}`, ev);
  });

  rules.ranges.forEach((r, n) => {
    const mass: Evidence[] = [];
    const value: Evidence[] = [];
    const outside = (x: number, b: { min?: number | undefined; max?: number | undefined }): boolean => (b.min !== undefined && x < b.min) || (b.max !== undefined && x > b.max);
    items.forEach((it, i) => {
      if (!it.hsCode.startsWith(r.hsHeading)) return;
      const kg = toKilograms(it.grossMass.value, it.grossMass.unit);
      if (r.grossMassKg && outside(kg, r.grossMassKg)) mass.push(aciEvidence(ctx, `/goodsItems/${i}/grossMass/value`, it.grossMass.value));
      if (r.customsValue && it.customsValue.currency === r.customsValue.currency && outside(it.customsValue.amount, r.customsValue)) {
        value.push(aciEvidence(ctx, `/goodsItems/${i}/customsValue/amount`, it.customsValue.amount));
      }
      if (r.valuePerKg && it.customsValue.currency === r.valuePerKg.currency) {
        const basis = it.netMass ? toKilograms(it.netMass.value, it.netMass.unit) : kg;
        if (basis > 0 && outside(it.customsValue.amount / basis, r.valuePerKg)) value.push(aciEvidence(ctx, `/goodsItems/${i}/customsValue/amount`, it.customsValue.amount));
      }
    });
    const bounds = (b: { min?: number | undefined; max?: number | undefined }, unit: string): string => `${b.min ?? 0}-${b.max ?? 'any'} ${unit}`;
    if (mass.length) {
      out.addRule('local-mass-range', r.weight, `ranges[${n}]`, `Gross mass per item outside ${bounds(r.grossMassKg!, 'kg')} for HS ${r.hsHeading}${about(r.note)}`, mass);
    }
    if (value.length) {
      const what = [r.customsValue ? `value ${bounds(r.customsValue, r.customsValue.currency)}` : '', r.valuePerKg ? `value per kg ${bounds(r.valuePerKg, r.valuePerKg.currency)}` : ''].filter(Boolean).join(' or ');
      out.addRule('local-value-range', r.weight, `ranges[${n}]`, `Item ${what} out of range for HS ${r.hsHeading}${about(r.note)}`, value);
    }
  });
}
