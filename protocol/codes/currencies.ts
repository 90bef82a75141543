/**
 * ISO 4217 alphabetic currency codes that can express a customs value, shipped as data so validation never
 * needs the network. Source: ISO 4217 "List one: currency, fund and precious metal codes" as published by
 * SIX Financial Information (the ISO 4217 maintenance agency), with the amendments up to 2025: XCG replaced
 * ANG, ZWG replaced ZWL, SLE replaced SLL, HRK and CUC were withdrawn.
 * Left out on purpose: fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals (XAU, XAG,
 * XPD, XPT), bond-market units (XBA-XBD), XDR, XSU, XUA, the test code XTS and XXX ("no currency"): none of
 * them is a transaction currency an invoice or a customs value is stated in.
 */
import { z } from 'zod';

export const ISO_4217_CURRENCIES = [
  'AED', 'AFN', 'ALL', 'AMD', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD',
  'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD', 'CAD', 'CDF', 'CHF', 'CLP', 'CNY', 'COP', 'CRC', 'CUP',
  'CVE', 'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD', 'FKP', 'GBP', 'GEL', 'GHS', 'GIP',
  'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HTG', 'HUF', 'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD',
  'JPY', 'KES', 'KGS', 'KHR', 'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LYD',
  'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MYR', 'MZN', 'NAD', 'NGN',
  'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB',
  'RWF', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD', 'SSP', 'STN', 'SVC', 'SYP', 'SZL',
  'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD', 'UYU', 'UZS', 'VED', 'VES',
  'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XCG', 'XOF', 'XPF', 'YER', 'ZAR', 'ZMW', 'ZWG',
] as const;

const CURRENCY_SET: ReadonlySet<string> = new Set(ISO_4217_CURRENCIES);

export const CurrencyCode = z
  .string()
  .refine((v) => CURRENCY_SET.has(v), { message: 'expected an ISO 4217 currency code in upper case, like "USD" or "KZT"' });
export type CurrencyCode = z.infer<typeof CurrencyCode>;

export function isCurrencyCode(v: string): boolean {
  return CURRENCY_SET.has(v);
}
