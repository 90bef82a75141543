/** The fold behind case-insensitive filters: Unicode case of every script, Unicode forms, caseless scripts kept. */
import { describe, expect, it } from 'vitest';
import { foldCase, foldCode } from '../../../node/store/fold.js';

describe('foldCase', () => {
  it('folds Cyrillic letters of Kazakh and Mongolian, which SQLite NOCASE leaves as they are', () => {
    expect(foldCase('Замын-Үүд')).toBe(foldCase('ЗАМЫН-ҮҮД'));
    expect(foldCase('Қордай')).toBe(foldCase('қордай'));
    expect(foldCase('Өлгий')).toBe(foldCase('ӨЛГИЙ'));
  });

  it('folds letters whose capitals coincide together (Azerbaijani ı, German ß, Greek final sigma)', () => {
    expect(foldCase('Bakı')).toBe(foldCase('BAKI'));
    expect(foldCase('Straße')).toBe(foldCase('STRASSE'));
    expect(foldCase('ΟΔΟΣ')).toBe(foldCase('οδος'));
  });

  it('compares Unicode forms as one: decomposed and composed letters, full-width characters', () => {
    expect(foldCase('Майкапшагай'.normalize('NFD'))).toBe(foldCase('МАЙКАПШАГАЙ'));
    expect(foldCase('ＫＧＡＫＺ００１')).toBe(foldCase('kgakz001'));
  });

  it('folds an office code once for all: the fold of its fold is its fold (migration 43 folds the codes held again)', () => {
    // NFKC makes a spacing accent a space and a combining one, which foldCode's removal of spaces put on the letter before
    for (const code of ['KG AKZ 001', 'kga´001', 'MN I ´ 01', 'ＫＧＡＫＺ００１']) expect(foldCode(foldCode(code)), code).toBe(foldCode(code));
    expect(foldCode('kga´001')).toBe(foldCode('KGÁ001'));
  });

  it('leaves an office code as offices write it, and a caseless script, as they are', () => {
    expect(foldCase('KGAKZ001')).toBe('KGAKZ001');
    expect(foldCase('ᠵᠠᠮᠢᠨ ᠡᠭᠦᠳᠡ')).toBe('ᠵᠠᠮᠢᠨ ᠡᠭᠦᠳᠡ');
  });
});
