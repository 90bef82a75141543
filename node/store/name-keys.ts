/**
 * Search keys of legal names (the partner AEO registry's `GET /v1/aeo?name=`). A name is found by a word prefix: the
 * query, read as words, is the beginning of the name read from one of its words on ("silk road" finds "OOO Silk Road
 * Logistics"; so does "road log"). Both sides are read the same way:
 *
 * - folded with foldCase (node/store/fold.ts, the one fold of names: NFKC, so full-width and other compatibility
 *   forms are the letters they stand for, and the case of every script), then without accents (the nonspacing marks
 *   of the decomposed form), because the same operator is written with and without them across borders and
 *   keyboards: "Özbek" is "Ozbek", "Şymkent" "Symkent", "Шёлковый" "Шелковый". Except the breve of Cyrillic "й" and
 *   "ў" (KEPT_MARK): "й" is a letter of its own in Russian, Kazakh, Kyrgyz, Uzbek, Tajik and Belarusian, "ў" in
 *   Uzbek and Belarusian, not an accented "и" and "у", so "Айсберг" is not "Аисберг" (Tajik "ӣ" and "ӯ", often typed as "и" and "у" on a
 *   Russian keyboard, which has no key for them, still fold to those);
 * - cut into words at everything that is neither a letter, a digit nor a combining mark (spaces, hyphens, dots,
 *   quotes, brackets: "SILK-ROAD" is "silk road", "O'Brien" is "o brien"); a Chinese or Japanese character is a word
 *   by itself, as those scripts write no spaces ("物流" finds "丝绸之路物流");
 * - without the legal-form words of LEGAL_FORMS (LLP, OOO, TOO, LLC, "Limited Liability Partnership", 有限公司...),
 *   which say nothing about which operator it is, are written in many ways (TOO is LLP in Russian) and would
 *   otherwise match most of a registry.
 *
 * An operator holds one key per word of its name: the words from that word on, joined by one space, cut at
 * NAME_KEY_CHARS characters; the query's words are joined and cut the same way, so the keys starting with it are
 * one index range. Names are compared on at most NAME_KEY_CHARS characters from the matched word.
 *
 * The keys are stored (risk_aeo_names): a change to how they are made (the fold, the word breaks, LEGAL_FORMS) needs
 * a migration that makes them again for the records held, as the one that created the table filled it.
 */
import type { Db } from './db.js';
import { foldCase } from './fold.js';

/** Characters of a key: longer than nearly every legal name from its first word, so the cut rarely matters. */
export const NAME_KEY_CHARS = 64;

/** Words of a name that start a key: a legal name (256 characters at most) of real words has fewer. */
export const NAME_KEY_WORDS = 40;

/** Scripts written without spaces between words: each character is a word. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const UNSPACED_ALL = new RegExp(UNSPACED.source, 'gu');

/**
 * A nonspacing mark left out of words, or (the first group) the Cyrillic "и" or "у" with the breve that makes it
 * "й" or "ў", kept. Names stored before the breve was kept are keyed again by migration 28, which finds them by
 * these letters (its GLOB): change both together.
 */
const KEPT_MARK = /([ИУиу]\u0306)|\p{Mn}/gu;

/**
 * Legal forms of the CAREC partners' and their trading partners' operators, in English, Russian, Kazakh, Kyrgyz,
 * Uzbek, Mongolian and Chinese, as written out and abbreviated. Left out of names and queries wherever they stand.
 */
const LEGAL_FORMS = [
  'LLP', 'LLC', 'LTD', 'LIMITED', 'INC', 'INCORPORATED', 'CORP', 'CORPORATION', 'CO', 'PLC', 'PVT', 'JSC', 'OJSC', 'CJSC', 'PJSC',
  'GMBH', 'AG', 'SA', 'SRL', 'BV', 'OOO', 'TOO', 'AO', 'ZAO', 'OAO', 'PAO', 'IP', 'OSOO', 'MCHJ', 'XK', 'XXK',
  'LIMITED LIABILITY PARTNERSHIP', 'LIMITED LIABILITY COMPANY', 'JOINT STOCK COMPANY', 'PRIVATE LIMITED',
  'ООО', 'ТОО', 'АО', 'ЗАО', 'ОАО', 'ПАО', 'ИП', 'ОСОО', 'ЖШС', 'АҚ', 'МЧЖ', 'АЖ', 'ХХК', 'ХК',
  'ТОВАРИЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ', 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ', 'АКЦИОНЕРНОЕ ОБЩЕСТВО',
  'ЖАУАПКЕРШІЛІГІ ШЕКТЕУЛІ СЕРІКТЕСТІК', 'АКЦИОНЕРЛІК ҚОҒАМ', 'ЖООПКЕРЧИЛИГИ ЧЕКТЕЛГЕН КООМ',
  '有限公司', '有限责任公司', '有限責任公司', '股份有限公司',
]
  .map((form) => words(foldCase(form)))
  // the longest first: "Limited Liability Partnership" goes whole, not as "Limited"
  .sort((a, b) => b.length - a.length);

/** The words of a folded text without its accents: letters, digits and spacing marks, a Chinese or Japanese character alone. */
function words(folded: string): string[] {
  const bare = folded.normalize('NFD').replace(KEPT_MARK, (_mark, letter: string | undefined) => letter ?? '').normalize('NFC');
  return bare.replace(UNSPACED_ALL, ' $& ').split(/[^\p{L}\p{N}\p{M}]+/u).filter((w) => w.length > 0);
}

/** The words of a name as names are compared: folded, legal forms left out. */
export function nameWords(name: string): string[] {
  const all = words(foldCase(name));
  const out: string[] = [];
  for (let i = 0; i < all.length; ) {
    const form = LEGAL_FORMS.find((f) => f.every((w, j) => all[i + j] === w));
    if (form) i += form.length;
    else out.push(all[i++]!);
  }
  return out;
}

function cut(text: string): string {
  const chars = [...text];
  return chars.length > NAME_KEY_CHARS ? chars.slice(0, NAME_KEY_CHARS).join('') : text;
}

/** The search keys of a name: from each of its first NAME_KEY_WORDS words on, each once. */
export function nameKeys(name: string): string[] {
  const w = nameWords(name);
  const keys = new Set<string>();
  for (let i = 0; i < Math.min(w.length, NAME_KEY_WORDS); i++) keys.add(cut(w.slice(i).join(' ')));
  return [...keys];
}

/** A query as a key prefix, and how many letters and digits it has (a Chinese or Japanese character counts 2). */
export function nameQuery(query: string): { key: string; weight: number } {
  const w = nameWords(query);
  const weight = w.reduce((n, word) => n + [...word].reduce((m, ch) => m + (UNSPACED.test(ch) ? 2 : /\p{M}/u.test(ch) ? 0 : 1), 0), 0);
  return { key: cut(w.join(' ')), weight };
}

/** Every key starting with `prefix` is at or after it and before this bound (SQLite compares text by code point). */
export function keyRangeEnd(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}

/** Name of the SQL table-valued function that lists a name's keys (the migration that fills the keys calls it). */
export const NAME_KEYS_FUNCTION = 'gnc_name_keys';

/** Makes nameKeys available to SQL on this connection: `SELECT key FROM gnc_name_keys(name)`. */
export function registerNameKeys(db: Db): void {
  db.table(NAME_KEYS_FUNCTION, {
    columns: ['key'],
    parameters: ['name'],
    *rows(name: unknown) {
      if (typeof name === 'string') for (const key of nameKeys(name)) yield { key };
    },
  });
}
