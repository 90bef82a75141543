/**
 * Case-insensitive matching of names in any script. SQLite's NOCASE folds only ASCII A-Z, so a border crossing
 * point written "Замын-Үүд" did not match a filter "ЗАМЫН-ҮҮД". Text compared this way is stored folded, next to
 * the name as sent (which views show), and the value it is compared with is folded the same way, so an index on
 * the folded column still answers the comparison.
 *
 * The fold: NFKC (a composed "й" equals "и" with a combining breve, a full-width "Ａ" equals "A"), then lower case
 * then upper case with the Unicode default (root locale) mappings, so that letters whose capitals coincide fold
 * together ("ß" and "ss", "ı" and "i", final "ς" and "σ"), then NFKC again, as case mapping can leave a string
 * unnormalised. Upper case, as the arrivals view compares ids: an office code as offices write it (KGAKZ001) is
 * its own fold. Caseless scripts (traditional Mongolian) are only normalised. Ids are compared so, letter for letter;
 * office codes also without spaces (foldCode); legal names and border crossing point names are read further (accents,
 * the letters of the region's alphabets a Russian keyboard has not, Latin twins in a Cyrillic word, spacing and
 * punctuation) by node/store/name-keys.ts (nameKeys for the AEO search by name, foldPlace for crossing points).
 */
import type { Db } from './db.js';

export function foldCase(text: string): string {
  return text.normalize('NFKC').toLowerCase().toUpperCase().normalize('NFKC');
}

/**
 * An office code (an office of entry id, KGAKZ001) as the arrivals filters and watched routes compare it: foldCase
 * without white space, so "kg akz 001" is "KGAKZ001". Nothing else: a code is no word to be read, and two codes that
 * differ by a letter (Cyrillic or Latin, accented or not) are two offices.
 */
export function foldCode(code: string): string {
  // NFC again: a space NFKC made of a spacing accent ("´" is a space and a combining acute) leaves its mark on the letter
  // before it once the spaces go, which composes with it, so the fold applied twice is the fold applied once
  return foldCase(code).replace(/\s+/gu, '').normalize('NFC');
}

/** Name of the SQL function that applies foldCode (the migration that folds stored office codes calls it). */
export const FOLD_CODE_FUNCTION = 'gnc_fold_code';

/** Name of the SQL function that applies foldCase (migrations fill folded columns with it). */
export const FOLD_FUNCTION = 'gnc_fold';

/** Makes foldCase and foldCode available to SQL on this connection as gnc_fold(text) and gnc_fold_code(text), NULL for NULL. */
export function registerFold(db: Db): void {
  db.function(FOLD_FUNCTION, { deterministic: true }, (text: unknown) => (typeof text === 'string' ? foldCase(text) : null));
  db.function(FOLD_CODE_FUNCTION, { deterministic: true }, (text: unknown) => (typeof text === 'string' ? foldCode(text) : null));
}
