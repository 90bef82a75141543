import { describe, expect, it } from 'vitest';
import { CurrencyCode, ISO_4217_CURRENCIES, isCurrencyCode } from '../../../protocol/codes/currencies.js';
import { isPackageKind, PackageKindCode, REC21_PACKAGE_KINDS, UNCOUNTED_PACKAGE_KINDS } from '../../../protocol/codes/package-kinds.js';
import { TransportMode } from '../../../protocol/codes/transport-modes.js';
import { MASS_UNITS, MassUnitCode, REC20_UNITS, toKilograms, UnitCode } from '../../../protocol/codes/units.js';

describe('ISO 4217 currencies', () => {
  it.each(['USD', 'EUR', 'CNY', 'KZT', 'KGS', 'UZS', 'TJS', 'AFN', 'PKR', 'MNT', 'AZN', 'GEL', 'TMT'])('accepts %s', (code) => {
    expect(CurrencyCode.safeParse(code).success).toBe(true);
  });

  it.each(['usd', 'XXX', 'XTS', 'XAU', 'HRK', 'RUR', 'US'])('refuses %s', (code) => {
    expect(CurrencyCode.safeParse(code).success).toBe(false);
  });

  it('lists every code once, as three upper-case letters', () => {
    expect(new Set(ISO_4217_CURRENCIES).size).toBe(ISO_4217_CURRENCIES.length);
    expect(ISO_4217_CURRENCIES.every((c) => /^[A-Z]{3}$/.test(c))).toBe(true);
    expect(isCurrencyCode('KZT')).toBe(true);
  });
});

describe('UN/ECE Rec 20 units', () => {
  it('accepts count, volume and mass units for quantities', () => {
    for (const unit of ['KGM', 'NAR', 'LTR', 'MTQ', 'H87']) expect(UnitCode.safeParse(unit).success).toBe(true);
  });

  it('refuses a unit written out in words', () => {
    expect(UnitCode.safeParse('kg').success).toBe(false);
  });

  it('accepts only mass units where a mass is expected', () => {
    expect(MassUnitCode.safeParse('TNE').success).toBe(true);
    expect(MassUnitCode.safeParse('LTR').success).toBe(false);
  });

  it('converts masses to kilograms', () => {
    expect(toKilograms(1.5, 'TNE')).toBe(1500);
    expect(toKilograms(2500, 'GRM')).toBe(2.5);
    expect(toKilograms(1, 'LBR')).toBeCloseTo(0.45359237, 10);
  });

  it('has every mass unit in the general unit list', () => {
    for (const unit of Object.keys(MASS_UNITS)) expect(REC20_UNITS).toContain(unit);
  });
});

describe('UN/ECE Rec 21 package kinds', () => {
  it('accepts bags, cartons, pallets and bulk', () => {
    for (const kind of ['BG', 'CT', 'PX', 'VR', '5H']) expect(PackageKindCode.safeParse(kind).success).toBe(true);
  });

  it('refuses a code outside the list', () => {
    expect(PackageKindCode.safeParse('QQ').success).toBe(false);
    expect(isPackageKind('bag')).toBe(false);
  });

  it('counts only bulk and unpacked kinds as uncounted', () => {
    for (const kind of UNCOUNTED_PACKAGE_KINDS) expect(Object.keys(REC21_PACKAGE_KINDS)).toContain(kind);
    expect(UNCOUNTED_PACKAGE_KINDS.has('CT')).toBe(false);
  });
});

describe('UN/ECE Rec 19 transport modes', () => {
  it('accepts road and rail as one-digit strings', () => {
    expect(TransportMode.parse('3')).toBe('3');
    expect(TransportMode.parse('2')).toBe('2');
  });

  it('refuses "not specified", "not applicable" and numbers', () => {
    expect(TransportMode.safeParse('0').success).toBe(false);
    expect(TransportMode.safeParse('9').success).toBe(false);
    expect(TransportMode.safeParse(3).success).toBe(false);
  });
});
