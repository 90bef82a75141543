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
 * its own fold. Caseless scripts (traditional Mongolian) are only normalised. Ids and office names are compared so,
 * letter for letter; legal names are read further (accents, the Kazakh, Uzbek, Tajik and Mongolian letters a Russian
 * keyboard has not, apostrophes inside words) by node/store/name-keys.ts, for the AEO search by name only.
 */
import type { Db } from './db.js';

export function foldCase(text: string): string {
  return text.normalize('NFKC').toLowerCase().toUpperCase().normalize('NFKC');
}

/** Name of the SQL function that applies foldCase (migrations fill folded columns with it). */
export const FOLD_FUNCTION = 'gnc_fold';

/** Makes foldCase available to SQL on this connection as gnc_fold(text), NULL for NULL. */
export function registerFold(db: Db): void {
  db.function(FOLD_FUNCTION, { deterministic: true }, (text: unknown) => (typeof text === 'string' ? foldCase(text) : null));
}
