/** Search keys of legal names: the words compared, legal forms left out, a key per word, queries read the same way. */
import { describe, expect, it } from 'vitest';
import { foldPlace, foldPlaceTyped, NAME_KEY_CHARS, NAME_KEY_WORDS, nameKeys, nameQuery, nameWords, placeReadings } from '../../../node/store/name-keys.js';

describe('name keys', () => {
  it('cuts names into folded words at punctuation, and Chinese into characters', () => {
    expect(nameWords('Silk-Road «Trans» (Almaty)')).toEqual(['SILK', 'ROAD', 'TRANS', 'ALMATY']);
    expect(nameWords('丝绸之路物流')).toEqual(['丝', '绸', '之', '路', '物', '流']);
    expect(nameWords('ＳＩＬＫ　ＲＯＡＤ')).toEqual(nameWords('silk road'));
    expect(nameWords('Öskemen'.normalize('NFD'))).toEqual(nameWords('ÖSKEMEN'));
  });

  it('leaves accents out, as names are written with and without them across borders', () => {
    expect(nameWords('Özbek Şymkent Ağaç')).toEqual(['OZBEK', 'SYMKENT', 'AGAC']);
    expect(nameWords('Шёлковый путь')).toEqual(nameWords('ШЕЛКОВЫЙ ПУТЬ'));
    expect(nameKeys('Шёлковый путь')).toEqual(nameKeys('Шелковый Путь'));
    expect(nameKeys('OZBEK Savdo')[0]!.startsWith(nameQuery('Özbek').key)).toBe(true);
    // Georgian letters stay as they are
    expect(nameWords('საქართველო')).toEqual(['ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ']);
  });

  it('keeps Cyrillic й a letter of its own, not и with an accent, in names and queries alike', () => {
    expect(nameWords('ТОО «Айсберг»')).toEqual(['АЙСБЕРГ']);
    expect(nameKeys('Айсберг Транс')).not.toEqual(nameKeys('Аисберг Транс'));
    expect(nameKeys('Аисберг Транс')[0]!.startsWith(nameQuery('Айсберг').key)).toBe(false);
    expect(nameKeys('Айсберг Транс')[0]!.startsWith(nameQuery('аисберг').key)).toBe(false);
    expect(nameKeys('Сергей и сыновья')).not.toEqual(nameKeys('Сергеи и сыновья'));
    // any way of writing it: composed, with a combining breve, in either case
    expect(nameWords('айсберг'.normalize('NFD'))).toEqual(nameWords('АЙСБЕРГ'));
    expect(nameWords('АИ\u0306СБЕРГ')).toEqual(['АЙСБЕРГ']);
    // the other Cyrillic accents go: ё is е, Tajik ӣ and ӯ are и and у
    expect(nameWords('Ёлка Тоҷикистонӣ Хӯҷанд')).toEqual(['ЕЛКА', 'ТОЧИКИСТОНИ', 'ХУЧАНД']);
  });

  // a Russian keyboard has none of these letters: the same operator is written with them in its own registry and
  // without them by a partner's officer, a declarant's system or a transliterating database
  it.each([
    ['Kazakh', 'ТОО «Қазақстан Темір Жолы»', 'Казакстан Темир Жолы'],
    ['Kazakh', 'Әлем Құрылыс Өнімдері', 'Алем Курылыс Онимдери'],
    ['Kazakh', 'Шаңырақ Ғарыш Һәм Ұлы Үй', 'Шанырак Гарыш Хам Улы Уй'],
    ['Kyrgyz', 'ОсОО «Көк-Жар Түштүк Аңырчак»', 'Кок-Жар Туштук Анырчак'],
    ['Uzbek Cyrillic', 'МЧЖ «Ўзбекистон Ҳаво Йўллари Қурилиш Ғалла»', 'Узбекистон Хаво Йуллари Курилиш Галла'],
    ['Tajik', 'ҶДММ «Ҳисор Ғалла Қӯҳистон Ҷӯйбор»', 'Хисор Галла Кухистон Чуйбор'],
    ['Mongolian', 'Өлзий Түмэн Сүү ХХК', 'Олзий Тумэн Суу'],
    ['Kazakh with a Latin i', 'Білім Орталығы', 'Бiлiм Орталыгы'],
  ])('finds a %s name written without its letters the Russian alphabet has not: %s', (_lang, name, plain) => {
    expect(nameWords(plain)).toEqual(nameWords(name));
    expect(nameKeys(name)[0]!.startsWith(nameQuery(plain).key)).toBe(true);
    expect(nameKeys(plain)[0]!.startsWith(nameQuery(name).key)).toBe(true);
  });

  it('finds Uzbek Latin o‘ and g‘ written with any apostrophe or none, and still finds a name from the word after one', () => {
    const forms = ['O‘zbekiston G‘alla', "O'zbekiston G'alla", 'Oʻzbekiston Gʻalla', 'O’zbekiston G’alla', 'O`zbekiston G`alla', 'O´zbekiston G´alla', 'Ozbekiston Galla', 'Özbekiston Ğalla'];
    for (const form of forms) {
      expect(nameWords(form)).toEqual(['OZBEKISTON', 'GALLA']);
      expect(nameKeys(`MChJ ${forms[0]}`)[0]!.startsWith(nameQuery(form).key)).toBe(true);
    }
    expect(nameWords("Ma'lumot Savdo")).toEqual(['MALUMOT', 'SAVDO']);
    // cut at the apostrophe too: "O'Brien" is still found by "brien", and by "o brien"
    const keys = nameKeys("O'Brien Trading");
    expect(keys.some((k) => k.startsWith(nameQuery('brien').key))).toBe(true);
    expect(keys.some((k) => k.startsWith(nameQuery('o brien').key))).toBe(true);
    expect(keys.some((k) => k.startsWith(nameQuery('obrien').key))).toBe(true);
    // an apostrophe at a word's end or alone still separates
    expect(nameWords("Traders' Union 'Silk'")).toEqual(['TRADERS', 'UNION', 'SILK']);
  });

  it('reads the turned e "ǝ" for the Azerbaijani schwa in a Cyrillic word as Cyrillic "ә", as it reads the schwa "ə": all Cyrillic', () => {
    // U+01DD "ǝ" (capital U+018E) is the schwa as some keyboards give it; in a Cyrillic word it was left Latin and read
    // a Latin "A", so "Билǝсувар" matched neither "Биласувар" nor "Биләсувар", and folding it again changed it
    for (const turned of ['Билǝсувар', 'БИЛƎСУВАР']) {
      expect(foldPlace(turned)).toBe(foldPlace('Биласувар'));
      expect(foldPlace(turned)).toBe(foldPlace('Билəсувар'));
      expect(nameWords(turned)).toEqual(nameWords('Биләсувар'));
      expect(nameKeys(turned)[0]!.startsWith(nameQuery('биласувар').key)).toBe(true);
    }
    // migration 43 folds the crossing points held again and says that applied twice it folds nothing more
    for (const name of ['Билǝсувар', 'ƎйYaT', 'Zamyn-Üüd', 'Biləsuvar', 'Ҹәлилабад']) expect(foldPlace(foldPlace(name)), name).toBe(foldPlace(name));
  });

  it('reads a place name with the Azerbaijani schwa with "a" and with "e", and one without by its own reading only', () => {
    for (const name of ['Biləsuvar', 'BİLƏSUVAR', 'Bilǝsuvar', 'BILƎSUVAR']) expect(placeReadings(name), name).toEqual(['BILASUVAR', 'BILESUVAR']);
    // every schwa of a name is read the same way, as a keyboard types them
    expect(placeReadings('Sədərək')).toEqual(['SADARAK', 'SEDEREK']);
    for (const name of ['Bilasuvar', 'Bilesuvar', 'Замын-Үүд', 'Zamyn-Üüd']) {
      expect(foldPlaceTyped(name), name).toBeNull();
      expect(placeReadings(name), name).toEqual([foldPlace(name)]);
    }
  });

  it('does not fold more than those letters: distinct names stay distinct', () => {
    // the Kazakh legal form АҚ is left out, the word Ак ("white") of a Kyrgyz or Kazakh name is not
    expect(nameWords('Ак-Жол АҚ')).toEqual(['АК', 'ЖОЛ']);
    expect(nameWords('АҚ Береке')).toEqual(['БЕРЕКЕ']);
    // Latin words keep their letters (no Cyrillic twin outside a Cyrillic word), й is not и, ъ and ь stay
    expect(nameWords('COMPANY HOTEL')).toEqual(['COMPANY', 'HOTEL']);
    expect(nameKeys('Ma’rifat')).not.toEqual(nameKeys('Марифат'));
    expect(nameWords('Объект Мой')).not.toEqual(nameWords('Обект Мои'));
  });
  it('leaves legal forms out wherever they stand, a written-out form whole', () => {
    expect(nameWords('Zhetysu Trans Logistics Limited Liability Partnership')).toEqual(['ZHETYSU', 'TRANS', 'LOGISTICS']);
    expect(nameWords('ТОО «Шёлковый путь»')).toEqual(nameWords('Шёлковый Путь LLP'));
    expect(nameWords('丝绸之路物流有限公司')).toEqual(nameWords('丝绸之路物流'));
    expect(nameWords('Silk Road Co., Ltd.')).toEqual(['SILK', 'ROAD']);
  });

  it('gives a name one key per word, from that word on', () => {
    expect(nameKeys('OOO Silk Road Logistics')).toEqual(['SILK ROAD LOGISTICS', 'ROAD LOGISTICS', 'LOGISTICS']);
  });

  it('cuts keys and queries at the same length, and starts keys at the first words only', () => {
    const long = Array.from({ length: 60 }, (_, i) => `Word${i}`).join(' ');
    const keys = nameKeys(long);
    expect(keys).toHaveLength(NAME_KEY_WORDS);
    expect(Math.max(...keys.map((k) => [...k].length))).toBe(NAME_KEY_CHARS);
    expect(keys[0]!.startsWith(nameQuery(long).key)).toBe(true);
  });

  it('weighs a query by its letters and digits, a Chinese character as two', () => {
    expect(nameQuery('Silk-Road').weight).toBe(8);
    expect(nameQuery('LLP OOO').weight).toBe(0);
    expect(nameQuery('物流').weight).toBe(4);
    expect(nameQuery('物').weight).toBe(2);
  });
});
