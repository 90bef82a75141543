/**
 * UN/ECE Recommendation 21 "Codes for Passengers, Types of Cargo, Packages and Packaging Materials"
 * (UN/CEFACT), Annex VI two-character package type codes: a realistic subset for the goods moving on
 * CAREC corridors (bagged grain and flour, cartons, pallets, drums, bulk). The WCO DM carries it in
 * Packaging/TypeCode (an..2).
 */
import { z } from 'zod';

export const REC21_PACKAGE_KINDS = {
  '1A': 'Drum, steel',
  '43': 'Bag, super bulk',
  '4G': 'Box, fibreboard',
  '5H': 'Bag, woven plastic',
  '5M': 'Bag, paper',
  AE: 'Aerosol',
  BA: 'Barrel',
  BE: 'Bundle',
  BG: 'Bag',
  BK: 'Basket',
  BL: 'Bale, compressed',
  BN: 'Bale, non-compressed',
  BO: 'Bottle, non-protected, cylindrical',
  BX: 'Box',
  CA: 'Can, rectangular',
  CH: 'Chest',
  CK: 'Cask',
  CN: 'Container, not otherwise specified as transport equipment',
  CR: 'Crate',
  CS: 'Case',
  CT: 'Carton',
  CX: 'Can, cylindrical',
  CY: 'Cylinder',
  DR: 'Drum',
  EN: 'Envelope',
  JB: 'Bag, jumbo',
  JC: 'Jerrican, rectangular',
  JR: 'Jar',
  JT: 'Jutebag',
  JY: 'Jerrican, cylindrical',
  NE: 'Unpacked or unpackaged',
  PA: 'Packet',
  PC: 'Parcel',
  PK: 'Package',
  PL: 'Pail',
  PX: 'Pallet',
  RL: 'Reel',
  RO: 'Roll',
  SA: 'Sack',
  TB: 'Tub',
  TN: 'Tin',
  TU: 'Tube',
  VG: 'Bulk, gas (at 1031 mbar and 15 °C)',
  VL: 'Bulk, liquid',
  VO: 'Bulk, solid, large particles ("nodules")',
  VQ: 'Bulk, liquefied gas (at abnormal temperature/pressure)',
  VR: 'Bulk, solid, granular particles ("grains")',
  VY: 'Bulk, solid, fine particles ("powders")',
  ZZ: 'Mutually defined',
} as const;

export type PackageKind = keyof typeof REC21_PACKAGE_KINDS;

/** Kinds for which a package count of 0 is right: goods in bulk or unpacked are not counted in packages. */
export const UNCOUNTED_PACKAGE_KINDS: ReadonlySet<string> = new Set(['NE', 'VG', 'VL', 'VO', 'VQ', 'VR', 'VY']);

const KIND_SET: ReadonlySet<string> = new Set(Object.keys(REC21_PACKAGE_KINDS));

export const PackageKindCode = z
  .string()
  .refine((v) => KIND_SET.has(v), { message: 'expected a UN/ECE Rec 21 package type code such as "BG" (bag), "CT" (carton), "PX" (pallet) or "VR" (bulk, grains)' });

export function isPackageKind(v: string): boolean {
  return KIND_SET.has(v);
}
