/**
 * RFC 8785 JSON Canonicalization Scheme (rfc8785.json) against protocol/envelope/canonical.ts: the examples of
 * sections 3.2.2-3.2.4 and appendix C, and the number serialization samples of appendix B. Every signed payload
 * of the product is the JCS form of its object, so a partner implementation that passes these vectors signs
 * the same bytes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson } from '../../protocol/envelope/canonical.js';
import { codeOf } from '../helpers/errors.js';

interface Rfc8785 {
  source: string;
  examples: { name: string; source: string; inputText: string; output: string; utf8Hex?: string }[];
  numbers: { source: string; samples: { ieee754: string; output: string | null; comment?: string }[] };
  numberTexts: { source: string; samples: { input: string; output: string }[] };
}

const v = JSON.parse(readFileSync(new URL('./rfc8785.json', import.meta.url), 'utf8')) as Rfc8785;

function doubleFromHex(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}


describe('RFC 8785 vectors (test/vectors/rfc8785.json)', () => {
  it('names its source and holds the three examples, 26 appendix B samples and the number texts', () => {
    expect(v.source).toContain('RFC 8785');
    expect(v.examples).toHaveLength(3);
    expect(v.numbers.samples).toHaveLength(26);
    expect(v.numberTexts.samples.length).toBeGreaterThanOrEqual(10);
  });

  describe.each(v.examples)('$name', (ex) => {
    it('canonicalJson of the parsed input is exactly the published output', () => {
      expect(canonicalJson(JSON.parse(ex.inputText))).toBe(ex.output);
    });

    it('canonicalization is idempotent: the output canonicalizes to itself', () => {
      expect(canonicalJson(JSON.parse(ex.output))).toBe(ex.output);
    });
  });

  it('section 3.2.4: canonicalBytes is the published UTF-8 byte sequence', () => {
    const ex = v.examples[0]!;
    expect(Buffer.from(canonicalBytes(JSON.parse(ex.inputText))).toString('hex')).toBe(ex.utf8Hex);
  });

  it('section 3.2.2: a string with U+20AC, control characters, quotes, backslashes and "\\/" serializes as published', () => {
    const parsed = JSON.parse(v.examples[0]!.inputText) as { string: string };
    expect(canonicalJson(parsed.string)).toBe('"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
  });

  it('section 3.2.3: property names sort by UTF-16 code units, so U+1F600 (a surrogate pair) sorts before U+FB33', () => {
    // Object.keys would list the integer-like "1" first, so read the order off the canonical text itself
    const text = canonicalJson(JSON.parse(v.examples[1]!.inputText));
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) => text.indexOf(`${JSON.stringify(k)}:`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  describe.each(v.numbers.samples.filter((s) => s.output !== null))('appendix B: $ieee754 ($comment)', (s) => {
    it(`serializes as ${String(s.output)}`, () => {
      expect(canonicalJson(doubleFromHex(s.ieee754))).toBe(s.output);
      expect(canonicalJson([doubleFromHex(s.ieee754)])).toBe(`[${String(s.output)}]`);
    });
  });

  it.each(v.numbers.samples.filter((s) => s.output === null))('appendix B: $ieee754 ($comment) has no JSON form: GNC_SCHEMA_INVALID', (s) => {
    expect(codeOf(() => canonicalJson({ n: doubleFromHex(s.ieee754) }))).toBe('GNC_SCHEMA_INVALID');
  });

  it('appendix B: -Infinity has no JSON form either: GNC_SCHEMA_INVALID', () => {
    expect(codeOf(() => canonicalJson(-Infinity))).toBe('GNC_SCHEMA_INVALID');
  });

  it.each(v.numberTexts.samples)('section 3.2.2.3: the JSON number $input canonicalizes as $output', (s) => {
    expect(canonicalJson(JSON.parse(`[${s.input}]`))).toBe(`[${s.output}]`);
  });

  it('section 3.2.2.2: a lone surrogate has no canonical form: GNC_SCHEMA_INVALID', () => {
    expect(codeOf(() => canonicalJson({ s: '\ud83d' }))).toBe('GNC_SCHEMA_INVALID');
    expect(codeOf(() => canonicalJson({ '\ude00': 1 }))).toBe('GNC_SCHEMA_INVALID');
  });

  it('undefined has no JSON form: GNC_SCHEMA_INVALID', () => {
    expect(codeOf(() => canonicalJson(undefined))).toBe('GNC_SCHEMA_INVALID');
  });
});
