/**
 * What the arrivals view keeps of a declaration: the list fields (stored as a small JSON summary, so listing
 * never parses full bodies), the filter columns and the search keys (traders, AEO ids, transport means,
 * containers, HS codes, referenced certificates). Ids are compared upper-case: plates, container and
 * certificate numbers are written either way by different declarants. Trader, AEO, transport means and container
 * ids are compared folded (node/store/fold.ts: NFKC, so a full-width "ＭＳＣＵ１２３" is "MSCU123", and the case of any
 * script), as the arrivals filters fold them; certificate numbers as protocol/messages/ecoo.ts certificateKey says.
 */
import { toKilograms } from '../../protocol/codes/units.js';
import { unNumbersOf, type AciAmendment, type AciDeclaration } from '../../protocol/messages/aci.js';
import type { Party } from '../../protocol/messages/common.js';
import type { ArrivalView } from '../../protocol/risk.js';
import { foldCase, foldCode } from '../store/fold.js';
import { placeReadings } from '../store/name-keys.js';
import type { BorderZones } from './rules.js';

export type FullDeclaration = AciDeclaration | AciAmendment;

/** Search key kinds of risk_keys.k. */
export const KEY = { trader: 't', aeo: 'a', means: 'm', container: 'c', hs: 'h', ecoo: 'e' } as const;
export type KeyKind = (typeof KEY)[keyof typeof KEY];

export type ArrivalSummary = Pick<ArrivalView, 'functionalReference' | 'declarationType' | 'expectedArrival' | 'officeOfEntry' | 'transportMeans' | 'containers' | 'consignor' | 'exporter' | 'consignee' | 'goods'>;

function partyRef(p: Party): { name: string; id?: string; aeoId?: string } {
  return { name: p.name, ...(p.id !== undefined ? { id: p.id } : {}), ...(p.aeoId !== undefined ? { aeoId: p.aeoId } : {}) };
}

export function summarize(d: FullDeclaration): ArrivalSummary {
  let kg = 0;
  let packages = 0;
  const hs = new Set<string>();
  const un = new Set<string>();
  for (const item of d.goodsItems) {
    kg += toKilograms(item.grossMass.value, item.grossMass.unit);
    packages += item.packages.count;
    hs.add(item.hsCode);
    for (const n of unNumbersOf(item)) un.add(n);
  }
  return {
    functionalReference: d.functionalReference,
    declarationType: d.declarationType,
    expectedArrival: d.expectedArrival,
    officeOfEntry: { id: d.officeOfEntry.id, ...(d.officeOfEntry.borderCrossingPoint !== undefined ? { borderCrossingPoint: d.officeOfEntry.borderCrossingPoint } : {}) },
    transportMeans: { mode: d.borderTransportMeans.mode, id: d.borderTransportMeans.id, nationality: d.borderTransportMeans.nationality },
    containers: d.transportEquipment.map((e) => e.id),
    consignor: partyRef(d.consignor),
    ...(d.exporter ? { exporter: partyRef(d.exporter) } : {}),
    consignee: partyRef(d.consignee),
    // migration 43 fills the views stored before from the bodies the same way (unNumbersOfBody): change both together
    goods: { items: d.goodsItems.length, hsCodes: [...hs], grossMassKg: Math.round(kg * 1000) / 1000, packages, unNumbers: [...un] },
  };
}

export function parties(d: FullDeclaration): Party[] {
  return [d.consignor, d.exporter, d.consignee, d.carrier, d.notifyParty].filter((p): p is Party => p !== undefined);
}

/** Search keys of the version in force: [kind, value] pairs, deduplicated. */
export function keysOf(d: FullDeclaration): [KeyKind, string][] {
  const out = new Map<string, [KeyKind, string]>();
  const add = (k: KeyKind, v: string | undefined): void => {
    if (v !== undefined && v !== '') out.set(`${k}\u0000${v}`, [k, v]);
  };
  for (const p of parties(d)) {
    add(KEY.trader, p.id === undefined ? undefined : foldCase(p.id));
    add(KEY.aeo, p.aeoId === undefined ? undefined : foldCase(p.aeoId));
  }
  add(KEY.means, foldCase(d.borderTransportMeans.id));
  for (const e of d.transportEquipment) add(KEY.container, foldCase(e.id));
  for (const item of d.goodsItems) {
    add(KEY.hs, item.hsCode);
    add(KEY.ecoo, item.ecooReference?.toUpperCase());
  }
  return [...out.values()];
}

/** The calendar date an arrival is checked on (AEO validity, e-CoO dates), and how a summary names it. */
export interface ArrivalDate {
  /** `YYYY-MM-DD`. */
  date: string;
  /** The date for a sentence: with the zone it was read in (`2026-11-26 in Asia/Almaty`) when one was. */
  label: string;
}

/** One formatter per zone (creating one is costly), with the zone's canonical name. */
const dayFormats = new Map<string, { format: Intl.DateTimeFormat; zone: string }>();

function dayFormat(timeZone: string): { format: Intl.DateTimeFormat; zone: string } {
  let f = dayFormats.get(timeZone);
  if (f === undefined) {
    const format = new Intl.DateTimeFormat('en-US', { timeZone, calendar: 'gregory', numberingSystem: 'latn', year: 'numeric', month: '2-digit', day: '2-digit' });
    f = { format, zone: format.resolvedOptions().timeZone };
    dayFormats.set(timeZone, f);
  }
  return f;
}

/**
 * The time zone of the border where a declaration's goods arrive: that of its border crossing point in the rules
 * file's `border.offices`, else that of its office of entry there (the crossing point is the narrower place: an
 * office may serve several), else `border.timeZone`. Each name is folded as the arrivals filter on it folds it; with
 * no offices listed, nothing is folded.
 */
export function arrivalZone(d: FullDeclaration, zones: BorderZones): string | undefined {
  if (zones.places.size === 0) return zones.zone;
  const { id, borderCrossingPoint } = d.officeOfEntry;
  return (borderCrossingPoint !== undefined ? officeZone(zones, 'place', borderCrossingPoint) : undefined) ?? officeZone(zones, 'code', id) ?? zones.zone;
}

/** Most names officeZone remembers per rules load; past it, it starts again (a border has far fewer offices). */
const OFFICE_NAMES_KEPT = 4096;
/** By rules load (its zones), the zone of each office name as declarations write it (by kind), `null` for none listed. */
const officeZones = new WeakMap<BorderZones, Map<string, string | null>>();

/**
 * The zone `border.offices` gives office name `name` (a crossing point or an office id), folded once per name and rules
 * load: the fold cost a fifth of an assessment when done for every one, and a border's declarations name the same few
 * offices.
 */
function officeZone(zones: BorderZones, kind: 'place' | 'code', name: string): string | undefined {
  let known = officeZones.get(zones);
  if (known === undefined) officeZones.set(zones, (known = new Map()));
  const seen = `${kind} ${name}`;
  let zone = known.get(seen);
  if (zone === undefined) {
    if (known.size >= OFFICE_NAMES_KEPT) known.clear();
    // a crossing point by each of its readings (placeReadings: a name with a schwa has two), the one
    // with "a" first
    const found = kind === 'place' ? placeReadings(name).map((key) => zones.places.get(key)).find((z) => z !== undefined) : zones.codes.get(foldCode(name));
    known.set(seen, (zone = found ?? null));
  }
  return zone ?? undefined;
}

/**
 * Calendar date at the border for the expected arrival: with a zone for it (arrivalZone) the date of the expected
 * arrival instant in that zone; without, the date part as declared, in the sender's offset.
 */
export function arrivalDate(d: FullDeclaration, zones: BorderZones): ArrivalDate {
  const timeZone = arrivalZone(d, zones);
  if (timeZone === undefined) {
    const date = d.expectedArrival.slice(0, 10);
    return { date, label: date };
  }
  const { format, zone } = dayFormat(timeZone);
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of format.formatToParts(Date.parse(d.expectedArrival))) part[p.type] = p.value;
  const date = `${part.year!.padStart(4, '0')}-${part.month!}-${part.day!}`;
  return { date, label: `${date} in ${zone}` };
}
