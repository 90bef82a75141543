/**
 * Search keys of legal names (the partner AEO registry's `GET /v1/aeo?name=`). A name is found by a word prefix: the
 * query, read as words, is the beginning of the name read from one of its words on ("silk road" finds "OOO Silk Road
 * Logistics"; so does "road log"). Both sides are read the same way:
 *
 * - folded with foldCase (node/store/fold.ts, the one fold of names: NFKC, so full-width and other compatibility
 *   forms are the letters they stand for, and the case of every script), then without accents (the nonspacing marks
 *   of the decomposed form), because the same operator is written with and without them across borders and
 *   keyboards: "Özbek" is "Ozbek", "Şymkent" "Symkent", "Шёлковый" "Шелковый", Uzbek "ў" and Tajik "ӣ", "ӯ" (typed as
 *   "у", "и", "у" on a Russian keyboard, which has no key for them) "у", "и", "у". Except the breve of Cyrillic "й"
 *   (KEPT_MARK): on the Russian keyboard, and a letter of its own in every Cyrillic alphabet of the region, not an
 *   accented "и", so "Айсберг" is not "Аисберг";
 * - with the Kazakh, Kyrgyz, Uzbek, Tajik, Mongolian, Azerbaijani and Turkmen letters the Russian alphabet has not read
 *   as the Russian letter typed for each (LETTER_FOLD: "Қазақстан" is "Казакстан", "Өлзий" "Олзий", "Ҳисор" "Хисор", "ә"
 *   "а", "і" "и", "ҹ" "ч"), the Azerbaijani Latin "ə" as "a" and also "e" (SCHWA), and Latin letters inside a Cyrillic
 *   word as their Cyrillic twins ("Бiлiм" with a Latin "i" is "Билим");
 * - cut into words at everything that is neither a letter, a digit nor a combining mark (spaces, hyphens, dots,
 *   quotes, brackets: "SILK-ROAD" is "silk road"); an apostrophe inside a word, in any of its forms, is the Uzbek
 *   Latin "o‘" and "g‘" or the tutuq: the word is one ("O‘zbekiston", "O'zbekiston" and "Ozbekiston" are one word), and
 *   a name is keyed also with the word cut there, so "O'Brien" is found by "brien" as before; a Chinese or Japanese
 *   character is a word by itself, as those scripts write no spaces ("物流" finds "丝绸之路物流");
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
 * A nonspacing mark left out of words, or (the first group) the Cyrillic "и" with the breve that makes it "й", kept:
 * "й" is on the Russian keyboard and "и"/"й" tell names apart ("Айсберг", "Аисберг"). Names stored before a change
 * of the letters kept or folded are keyed again by a migration (28, then 41) that finds them by those letters.
 */
const KEPT_MARK = /([Ии]\u0306)|\p{Mn}/gu;

/**
 * The letters of the Kazakh, Kyrgyz, Uzbek, Tajik and Mongolian Cyrillic alphabets that the Russian alphabet has not,
 * read as the Russian letter written for each where the writer's keyboard or system has none (upper case, as foldCase
 * leaves them): Kazakh "Қазақстан" is "Казакстан", Mongolian "Өлзий" "Олзий", Tajik "Ҳисор" "Хисор". Not the
 * nonspacing marks (those go as accents: Uzbek "ў", Tajik "ӣ", "ӯ" are "у", "и", "у"), letters of their own in Unicode.
 */
const LETTER_FOLD: Readonly<Record<string, string>> = {
  Ә: 'А', Ғ: 'Г', Қ: 'К', Ң: 'Н', Ө: 'О', Ұ: 'У', Ү: 'У', Һ: 'Х', І: 'И', Ҳ: 'Х', Ҷ: 'Ч', Җ: 'Ж',
  // Azerbaijani Cyrillic (and Turkmen, which shares ә, ң, ө, ү, җ above): "ҹ" is not Tajik "ҷ" (another code point, the
  // same sound), typed "ч" ("Ҹәлилабад" is "Чалилабад"); "ј" is typed "й" as Russian spells the sound ("Јолчу" is "Йолчу")
  Ҹ: 'Ч', Ј: 'Й',
  // Azerbaijani Latin "ə" (and "ǝ", the turned e some fonts and keyboards give for it) has no decomposition, so no accent
  // to drop: read "a", as Turkmen "ä" (the same vowel, which loses its accent) and Cyrillic "ә" are, and as passports
  // write it ("Əliyev" is "Aliyev"); names are keyed with "e" too (SCHWA), as a plain Latin keyboard types it
  // ("Azərbaycan" is "Azerbaycan"). Kept apart from "a" and "e" (rather than all three merged): they are letters of
  // their own, and the two readings are each findable without making every "a" an "e"
  Ə: 'A', Ǝ: 'A',
};
const FOLDED_LETTER = new RegExp(`[${Object.keys(LETTER_FOLD).join('')}]`, 'gu');
const foldLetters = (word: string): string => word.replace(FOLDED_LETTER, (c) => LETTER_FOLD[c]!);

/**
 * The Azerbaijani Latin schwa as written ("ə", "Ə", and the turned e "ǝ", "Ǝ"): a name with it is keyed also with each
 * read "e", the letter a plain Latin keyboard gives for it, besides the "a" LETTER_FOLD reads. Letters without a
 * decomposition, so a name holds them as they are; the other letters of the Azerbaijani and Turkmen Latin alphabets
 * (ğ, ö, ü, ç, ş, ä, ň, ý, ž) lose their accent, and "ı", "İ" fold to "I" (foldCase, then the dot as an accent).
 */
const SCHWA = /[əǝƏƎ]/gu;

/**
 * Latin capitals that look like Cyrillic ones, read as those inside a word that has Cyrillic letters: a Kazakh "і"
 * typed as a Latin "i" ("Бiлiм"), a Latin "C" or "O" from a mixed keyboard layout. A word without Cyrillic is left as
 * it is.
 */
const CYRILLIC_TWIN: Readonly<Record<string, string>> = {
  A: 'А', B: 'В', C: 'С', E: 'Е', H: 'Н', I: 'И', K: 'К', M: 'М', O: 'О', P: 'Р', T: 'Т', X: 'Х', Y: 'У',
  // the Azerbaijani Latin schwa in an Azerbaijani Cyrillic word ("Билəсувар" from a mixed layout) is its Cyrillic "ә", and
  // so is the turned e that stands for it (SCHWA): left Latin, LETTER_FOLD would make it a Latin "A" inside the word
  Ə: 'Ә', Ǝ: 'Ә',
};
const LATIN_TWIN = new RegExp(`[${Object.keys(CYRILLIC_TWIN).join('')}]`, 'g');
const CYRILLIC = /\p{Script=Cyrillic}/u;

/**
 * An apostrophe inside a word, in any of the forms keyboards give it (', ‘, ’, the modifier letters ʻ ʼ ʹ, `, ´, which
 * NFKC makes a space and a combining acute, and the prime ′): the Uzbek Latin letters "o‘" and "g‘" and the Uzbek
 * and Turkmen tutuq ("ma'lumot"), written with any of them or none ("O‘zbekiston", "O'zbekiston", "Ozbekiston").
 */
const INNER_APOSTROPHE = /(?<=\p{L}\p{M}*)(?:['‘’ʻʼʹ`′]| \u0301)(?=\p{L})/gu;
/** The modifier-letter apostrophes anywhere else: separators, as the plain apostrophe is. */
const OTHER_APOSTROPHE = /[ʻʼʹ]/gu;

/**
 * Legal forms of the CAREC partners' and their trading partners' operators, in English, Russian, Kazakh, Kyrgyz,
 * Uzbek, Tajik, Mongolian and Chinese, as written out and abbreviated. Left out of names and queries wherever they stand.
 */
const LEGAL_FORMS = [
  'LLP', 'LLC', 'LTD', 'LIMITED', 'INC', 'INCORPORATED', 'CORP', 'CORPORATION', 'CO', 'PLC', 'PVT', 'JSC', 'OJSC', 'CJSC', 'PJSC',
  'GMBH', 'AG', 'SA', 'SRL', 'BV', 'OOO', 'TOO', 'AO', 'ZAO', 'OAO', 'PAO', 'IP', 'OSOO', 'MCHJ', 'XK', 'XXK',
  'LIMITED LIABILITY PARTNERSHIP', 'LIMITED LIABILITY COMPANY', 'JOINT STOCK COMPANY', 'PRIVATE LIMITED',
  'ООО', 'ТОО', 'АО', 'ЗАО', 'ОАО', 'ПАО', 'ИП', 'ОСОО', 'ЖШС', 'АҚ', 'МЧЖ', 'АЖ', 'ХХК', 'ХК',
  'ТОВАРИЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ', 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ', 'АКЦИОНЕРНОЕ ОБЩЕСТВО',
  'ЖАУАПКЕРШІЛІГІ ШЕКТЕУЛІ СЕРІКТЕСТІК', 'АКЦИОНЕРЛІК ҚОҒАМ', 'ЖООПКЕРЧИЛИГИ ЧЕКТЕЛГЕН КООМ',
  // the Kazakh forms as written on a Russian keyboard (the short АҚ is not: "Ак" is a word, "white", of many names)
  'ЖАУАПКЕРШИЛИГИ ШЕКТЕУЛИ СЕРИКТЕСТИК', 'АКЦИОНЕРЛИК КОГАМ',
  // Tajik limited liability company (ҷамъияти дорои масъулияти маҳдуд), and as written on a Russian keyboard
  'ҶДММ', 'ЧДММ',
  '有限公司', '有限责任公司', '有限責任公司', '股份有限公司',
]
  .map((form) => words(foldCase(form)))
  // the longest first: "Limited Liability Partnership" goes whole, not as "Limited"
  .sort((a, b) => b.length - a.length);

/**
 * The words of a folded text without its accents: letters, digits and spacing marks, a Chinese or Japanese character
 * alone. An apostrophe inside a word joins its two sides (`join`: "o'zbek" is "ozbek") or separates them ("o zbek").
 */
function words(folded: string, join = true): string[] {
  const apart = folded.replace(INNER_APOSTROPHE, join ? '' : ' ').replace(OTHER_APOSTROPHE, ' ');
  const bare = apart.normalize('NFD').replace(KEPT_MARK, (_mark, letter: string | undefined) => letter ?? '').normalize('NFC');
  return bare
    .replace(UNSPACED_ALL, ' $& ')
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    .filter((w) => w.length > 0)
    .map((w) => (CYRILLIC.test(w) ? w.replace(LATIN_TWIN, (c) => CYRILLIC_TWIN[c]!) : w));
}

/**
 * The words of a name as names are compared: folded, legal forms left out (compared before the letters of LETTER_FOLD
 * are read as Russian ones, so that the Kazakh legal form "АҚ" does not take the word "Ак" with it), then those letters
 * folded. `join` as words() says.
 */
export function nameWords(name: string, join = true): string[] {
  const all = words(foldCase(name), join);
  const out: string[] = [];
  for (let i = 0; i < all.length; ) {
    const form = LEGAL_FORMS.find((f) => f.every((w, j) => all[i + j] === w));
    if (form) i += form.length;
    else out.push(foldLetters(all[i++]!));
  }
  return out;
}

/**
 * A place name (a border crossing point) as the arrivals filters and watched routes compare it: its words read as names
 * are (accents, the letters of LETTER_FOLD, Latin twins in a Cyrillic word, an apostrophe inside a word) joined by one
 * space, so "Zamyn-Üüd", "ZAMYN UUD" and "Замын-Үүд" against "ЗАМЫН УУД" each match; legal forms are words of a place
 * name like any other. A name of no word at all (only punctuation) is compared as foldCase leaves it. The Azerbaijani
 * schwa is read "a" here, as LETTER_FOLD reads it; its reading with "e" is foldPlaceTyped's (placeReadings: both).
 */
export function foldPlace(name: string): string {
  const folded = foldCase(name);
  const key = words(folded).map(foldLetters).join(' ');
  return key === '' ? folded : key;
}

/**
 * foldPlace of a place name with its Azerbaijani Latin schwas (SCHWA) read "e", as a plain Latin keyboard types them
 * ("Biləsuvar" is "BILESUVAR"), where foldPlace reads them "a" (LETTER_FOLD: "BILASUVAR"); null for a name without one,
 * which has its one reading. Stored beside the crossing point's foldPlace (risk_consignments.bcp_e), so a name with a
 * schwa is found by either reading and a name without one only by its own: "Bilasuvar" is not "Bilesuvar".
 */
export function foldPlaceTyped(name: string): string | null {
  // replace() returns the same string when nothing matches: a name without a schwa costs one pass of the regex
  const typed = name.replace(SCHWA, 'e');
  return typed === name ? null : foldPlace(typed);
}

/**
 * The readings of a place name (foldPlace, then foldPlaceTyped when it has a schwa): two names are the same place when
 * one reading of each is the same, as the arrivals filter, the watched routes and the border's offices compare them.
 */
export function placeReadings(name: string): readonly string[] {
  const folded = foldPlace(name);
  const typed = foldPlaceTyped(name);
  return typed === null || typed === folded ? [folded] : [folded, typed];
}

function cut(text: string): string {
  const chars = [...text];
  return chars.length > NAME_KEY_CHARS ? chars.slice(0, NAME_KEY_CHARS).join('') : text;
}

/** The search keys of a name: from each of its first NAME_KEY_WORDS words on, each once. */
export function nameKeys(name: string): string[] {
  const keys = new Set<string>();
  // a name with an apostrophe inside a word is found both ways: "O'zbek" by "ozbek", "D'Amico" by "amico" too
  // and one with the schwa read "e" (SCHWA): "Azərbaycan" by "azerbaycan" as well as by "azarbaycan"
  const typed = name.replace(SCHWA, 'e');
  const forms = typed === name ? [name] : [name, typed];
  for (const form of forms) {
    for (const join of [true, false]) {
      const w = nameWords(form, join);
      for (let i = 0; i < Math.min(w.length, NAME_KEY_WORDS); i++) keys.add(cut(w.slice(i).join(' ')));
    }
  }
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

/** Name of the SQL function that applies foldPlace (the migration that folds stored crossing points calls it). */
export const FOLD_PLACE_FUNCTION = 'gnc_fold_place';

/** Name of the SQL function that applies foldPlaceTyped (the migration that fills risk_consignments.bcp_e calls it). */
export const FOLD_PLACE_TYPED_FUNCTION = 'gnc_fold_place_typed';

/**
 * Makes nameKeys available to SQL on this connection: `SELECT key FROM gnc_name_keys(name)`; and foldPlace and
 * foldPlaceTyped, as gnc_fold_place(text) and gnc_fold_place_typed(text).
 */
export function registerNameKeys(db: Db): void {
  db.function(FOLD_PLACE_FUNCTION, { deterministic: true }, (text: unknown) => (typeof text === 'string' ? foldPlace(text) : null));
  db.function(FOLD_PLACE_TYPED_FUNCTION, { deterministic: true }, (text: unknown) => (typeof text === 'string' ? foldPlaceTyped(text) : null));
  db.table(NAME_KEYS_FUNCTION, {
    columns: ['key'],
    parameters: ['name'],
    *rows(name: unknown) {
      if (typeof name === 'string') for (const key of nameKeys(name)) yield { key };
    },
  });
}
