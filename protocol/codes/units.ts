/**
 * UN/ECE Recommendation 20 "Codes for Units of Measure Used in International Trade" (UN/CEFACT,
 * Annex II/III common codes): the subset customs declarations and certificates of origin use. Masses carry
 * their factor to kilograms so totals can be checked across units (a declaration may state items in KGM and
 * the total in TNE). Extend the lists here, never in the message schemas.
 */
import { z } from 'zod';

/** Mass units and how many kilograms one unit is (Rec 20 Annex II conversion factors). */
export const MASS_UNITS = {
  KGM: 1, // kilogram
  TNE: 1000, // tonne (metric ton)
  DTN: 100, // decitonne
  GRM: 0.001, // gram
  MGM: 0.000001, // milligram
  LBR: 0.45359237, // pound
} as const;

/** Every unit accepted for a quantity: the masses plus counts, volumes, lengths, areas and energy. */
export const REC20_UNITS = [
  ...(Object.keys(MASS_UNITS) as (keyof typeof MASS_UNITS)[]),
  'H87', // piece
  'C62', // one (unit)
  'NAR', // number of articles
  'NPR', // number of pairs
  'PR', // pair
  'SET', // set
  'DZN', // dozen
  'TPR', // ten pairs
  'MIL', // thousand
  'LTR', // litre
  'MLT', // millilitre
  'HLT', // hectolitre
  'LPA', // litre of pure alcohol
  'MTQ', // cubic metre
  'CMQ', // cubic centimetre
  'MTK', // square metre
  'MTR', // metre
  'KMT', // kilometre
  'CTM', // metric carat
  'KWH', // kilowatt hour
  'MWH', // megawatt hour (1000 kW.h)
  'KNS', // kilogram named substance
  'KPO', // kilogram of potassium oxide
  'KSD', // kilogram of substance 90% dry
] as const;

export type MassUnit = keyof typeof MASS_UNITS;

const UNIT_SET: ReadonlySet<string> = new Set(REC20_UNITS);

export const UnitCode = z
  .string()
  .refine((v) => UNIT_SET.has(v), { message: `expected a UN/ECE Rec 20 unit code such as "KGM", "NAR", "LTR" (one of ${REC20_UNITS.join(', ')})` });
export type UnitCode = z.infer<typeof UnitCode>;

export const MassUnitCode = z.enum(Object.keys(MASS_UNITS) as [MassUnit, ...MassUnit[]], {
  message: `expected a UN/ECE Rec 20 mass unit: ${Object.keys(MASS_UNITS).join(', ')}`,
});

/** Mass in kilograms; the input unit must be a Rec 20 mass unit. */
export function toKilograms(value: number, unit: MassUnit): number {
  return value * MASS_UNITS[unit];
}
