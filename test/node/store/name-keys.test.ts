/** Search keys of legal names: the words compared, legal forms left out, a key per word, queries read the same way. */
import { describe, expect, it } from 'vitest';
import { NAME_KEY_CHARS, NAME_KEY_WORDS, nameKeys, nameQuery, nameWords } from '../../../node/store/name-keys.js';

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
    // letters of their own, not accented ones, stay: Kazakh Қ, Ә, Ү and Georgian
    expect(nameWords('Қазақ Әуе Үй')).toEqual(['ҚАЗАҚ', 'ӘУЕ', 'ҮЙ']);
    expect(nameWords('საქართველო')).toEqual(['ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ']);
  });

  it('keeps Cyrillic й and ў letters of their own, not и and у with an accent, in names and queries alike', () => {
    expect(nameWords('ТОО «Айсберг»')).toEqual(['АЙСБЕРГ']);
    expect(nameKeys('Айсберг Транс')).not.toEqual(nameKeys('Аисберг Транс'));
    expect(nameKeys('Аисберг Транс')[0]!.startsWith(nameQuery('Айсберг').key)).toBe(false);
    expect(nameKeys('Айсберг Транс')[0]!.startsWith(nameQuery('аисберг').key)).toBe(false);
    expect(nameKeys('Сергей и сыновья')).not.toEqual(nameKeys('Сергеи и сыновья'));
    // Uzbek and Belarusian ў: "Ўзбекистон" is not "Узбекистон"
    expect(nameWords('Ўзбекистон Темир Йўллари')).toEqual(['ЎЗБЕКИСТОН', 'ТЕМИР', 'ЙЎЛЛАРИ']);
    expect(nameQuery('ўзбек').key).not.toBe(nameQuery('узбек').key);
    // any way of writing them: composed, with a combining breve, in either case
    expect(nameWords('айсберг'.normalize('NFD'))).toEqual(nameWords('АЙСБЕРГ'));
    expect(nameWords('АИ\u0306СБЕРГ')).toEqual(['АЙСБЕРГ']);
    expect(nameWords('ўзбек'.normalize('NFD'))).toEqual(['ЎЗБЕК']);
    // the other Cyrillic accents still go: ё is е, Tajik ӣ and ӯ are и and у
    expect(nameWords('Ёлка Тоҷикистонӣ Хӯҷанд')).toEqual(['ЕЛКА', 'ТОҶИКИСТОНИ', 'ХУҶАНД']);
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
