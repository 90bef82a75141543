/**
 * canonicalJson's fast path (JSON.stringify of a tree already in, or copied into, sorted member order) must
 * write exactly what the reference implementation `canonicalize` writes, and refuse exactly what it refuses.
 * Differential test: hand-picked edge cases, then thousands of seeded random trees.
 */
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { codeOf } from '../../helpers/errors.js';
import { prng } from '../../../examples/risk/traffic.js';

/** Lone surrogates (ES2024 String.prototype.isWellFormed, spelled out for the ES2023 lib typings). */
const wellFormed = (s: string): boolean => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

/** The reference's answer; "no JSON form" (undefined) counts as a refusal, as canonicalJson throws there. */
function reference(value: unknown): { text?: string; error?: true } {
  try {
    const text = canonicalize(value);
    return text === undefined ? { error: true } : { text };
  } catch {
    return { error: true };
  }
}

function ours(value: unknown): { text?: string; error?: true } {
  try {
    return { text: canonicalJson(value) };
  } catch {
    expect(codeOf(() => canonicalJson(value))).toBe('GNC_SCHEMA_INVALID');
    return { error: true };
  }
}

const KEYS = ['a', 'b', 'B', 'aa', 'id', 'v', 'type', '1', '9', '10', '01', '-1', '', ' ', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33', '\r', 'z\u0000', 'toJSON'];
const STRINGS = ['', 'x', 'é', '\u20ac$\u000f\nA\'B"\\\\"/', '\ud83d\ude00', '\ud800', 'a\udc00b', '</script>', '\u2028'];
const NUMBERS = [0, -0, 1, -1, 1.5, 1e21, 1e-7, 333333333.3333333, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity];

function randomValue(r: () => number, depth: number, rare: boolean): unknown {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const roll = r();
  if (depth > 3 || roll < 0.35) {
    const p = r();
    if (p < 0.3) return pick(STRINGS.filter((s) => rare || wellFormed(s)));
    if (p < 0.6) return pick(NUMBERS.filter((n) => rare || Number.isFinite(n)));
    if (p < 0.7) return r() < 0.5;
    if (p < 0.8) return null;
    if (rare && p < 0.85) return undefined;
    return Math.round(r() * 1e6) / 100;
  }
  if (roll < 0.55) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1, rare));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 6); i > 0; i--) o[pick(KEYS.filter((k) => rare || (wellFormed(k) && k !== 'toJSON')))] = randomValue(r, depth + 1, rare);
  return o;
}

describe('canonicalJson fast path against the reference implementation', () => {
  it.each([
    ['sorted object', { a: 1, b: [true, null, 'x'], c: { d: -0, e: 1e21 } }],
    ['unsorted object', { v: 1, id: 'x', type: 'aci', body: { z: 1, a: [{ y: 2, b: 3 }] } }],
    ['integer-like keys (V8 lists them first, JCS sorts them as strings)', { '10': 1, '9': 2, a: 3 }],
    ['keys ordered by UTF-16 code units (U+1F600 before U+FB33)', { '\ufb33': 1, '\ud83d\ude00': 2, '\u20ac': 3 }],
    ['undefined member is left out', { a: undefined, b: 1 }],
    ['undefined array element becomes null', [1, undefined, 2]],
    ['array hole becomes null', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['trailing hole in an unsorted tree becomes null', { b: [1, 2, ,], a: 1 }], // eslint-disable-line no-sparse-arrays
    ['object without prototype', Object.assign(Object.create(null) as object, { b: 1, a: 2 })],
    ['Date goes through toJSON', { at: new Date(0) }],
    ['own toJSON member', { toJSON: () => ({ x: 1 }) }],
    ['empty containers', { a: {}, b: [] }],
    ['a "__proto__" member as JSON.parse makes it, in an unsorted tree', JSON.parse('{"b":1,"c":{"z":0,"__proto__":{"x":1}},"a":2}') as unknown],
  ])('%s', (_name, value) => {
    expect(ours(value)).toEqual(reference(value));
  });

  it.each([
    ['NaN', { a: NaN }],
    ['Infinity in an array', [Infinity]],
    ['lone surrogate in a value', { a: '\ud800' }],
    ['lone surrogate in a key', { '\udc00': 1 }],
  ])('refuses %s like the reference, with GNC_SCHEMA_INVALID', (_name, value) => {
    expect(reference(value).error).toBe(true);
    expect(ours(value)).toEqual({ error: true });
  });

  it('refuses a cycle with GNC_SCHEMA_INVALID', () => {
    const a: Record<string, unknown> = { x: 1 };
    a['self'] = a;
    expect(ours(a)).toEqual({ error: true });
  });

  it('refuses a value nested deeper than the stack with GNC_SCHEMA_INVALID saying so', () => {
    const deep: unknown = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(codeOf(() => canonicalJson({ body: deep }))).toBe('GNC_SCHEMA_INVALID');
    expect(() => canonicalJson({ body: deep })).toThrow(/nested too deeply/);
  });

  it('keeps 65 levels of nesting (beyond the fast path depth) identical', () => {
    let v: unknown = 1;
    for (let i = 0; i < 65; i++) v = { b: v, a: i };
    expect(ours(v)).toEqual(reference(v));
  });

  it('agrees on 5,000 random JSON trees (seeded), and on 5,000 with rare values (NaN, undefined, lone surrogates, toJSON keys)', () => {
    for (const rare of [false, true]) {
      const r = prng(rare ? 8785 : 7515); // seeded: a failure names a reproducible tree
      for (let i = 0; i < 5000; i++) {
        const v = randomValue(r, 0, rare);
        const want = reference(v);
        const got = ours(v);
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`tree ${i} (rare=${rare}) differs: ${String(got.text)} vs ${String(want.text)}`);
      }
    }
  });

  it('the text of a parsed canonical payload is the canonical form of the parse (the opening check)', () => {
    const text = canonicalJson({ v: 1, id: '01J', body: { '10': 'x', '9': 'y', é: [1.5, 'é'] } });
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });
});
