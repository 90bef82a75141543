/**
 * The README's pre-arrival risk reference is the engine's: its indicator table lists every indicator code the engine
 * can raise (protocol/risk.ts IndicatorCode, each raised somewhere in node/risk/indicators/) once, with the default
 * weight and kind node/risk/rules.ts gives it; its rules-file reference names every key of the rules file's zod
 * schema (walked, not listed by hand) and no key the schema lacks; and its example is examples/risk/rules.json,
 * valid under that schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { DEFAULT_WEIGHTS } from '../../node/risk/rules.js';
import { BUILTIN_INDICATORS, IndicatorCode, RiskRules } from '../../protocol/risk.js';
import { read, sectionOf, spansOf, tableRows } from './markdown.js';

const readme = read('README.md');
const risk = sectionOf(readme, '## Pre-arrival risk');
const rulesSection = risk.slice(risk.indexOf('**Rules file**'));

/** `{code: [kind, weight cell]}` of the indicator table (a row naming several codes gives each its own weight). */
function indicatorTable(text: string): { code: string; kind: string; weight: string }[] {
  const table = text.slice(text.indexOf('**Indicators**'), text.indexOf('**Level rule**'));
  return tableRows(table).flatMap(([codes, kind, weight]) => {
    const names = spansOf(codes!);
    const weights = names.length > 1 ? weight!.split(',').map((w) => w.trim()) : [weight!];
    return names.map((code, i) => ({ code, kind: kind!, weight: weights[i] ?? weight! }));
  });
}

/** What disagrees between the indicator table and the code. */
function indicatorProblems(rows: { code: string; kind: string; weight: string }[]): string[] {
  const codes = rows.map((r) => r.code);
  const kindOf = (w: number): string => (w < 0 ? 'facilitation' : w === 0 ? 'info' : 'risk');
  return [
    ...IndicatorCode.options.filter((c) => !codes.includes(c)).map((c) => `${c} is not in the table`),
    ...codes.filter((c, i) => codes.indexOf(c) !== i).map((c) => `${c} is in the table twice`),
    ...rows.flatMap((r) => {
      if (!(IndicatorCode.options as readonly string[]).includes(r.code)) return [`${r.code} is no indicator`];
      if (!(BUILTIN_INDICATORS as readonly string[]).includes(r.code)) return r.weight === 'per rule' && r.kind === 'risk' ? [] : [`${r.code}: a rule's indicator is risk, per rule`];
      const w = DEFAULT_WEIGHTS[r.code as keyof typeof DEFAULT_WEIGHTS];
      // ecoo-partly-confirmed follows ecoo-confirmed's weight in force (rules.ts partlyConfirmed), as its row says
      if (r.code === 'ecoo-partly-confirmed') return r.weight.startsWith('half of') ? [] : [`${r.code}: weight "${r.weight}", half of ecoo-confirmed's in rules.ts`];
      return [
        ...(Number(r.weight) === w ? [] : [`${r.code}: weight ${r.weight} in the table, ${w} in rules.ts`]),
        ...(r.kind === kindOf(w) ? [] : [`${r.code}: kind ${r.kind} in the table, ${kindOf(w)} for weight ${w}`]),
      ];
    }),
  ];
}

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; element?: z.ZodType; valueType?: z.ZodType; in?: z.ZodType };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Every key path of a schema (`watch.routes[].via`); a record's values are under its key (`border.offices`, `weights`). */
function keyPaths(s: z.ZodType, prefix = ''): string[] {
  const d = defOf(s);
  switch (d.type) {
    case 'default':
    case 'optional':
    case 'nullable':
    case 'prefault':
      return keyPaths(d.innerType!, prefix);
    case 'pipe':
      return keyPaths(d.in!, prefix);
    case 'array':
      return keyPaths(d.element!, `${prefix}[]`);
    case 'object':
      return Object.entries(d.shape!).flatMap(([k, v]) => {
        const path = prefix === '' ? k : `${prefix}.${k}`;
        return [path, ...keyPaths(v, path)];
      });
    default:
      return [];
  }
}

/**
 * What the rules-file reference leaves out or names wrongly: each key of the schema must be named in a code span of
 * the reference outside its example (its name, in a path like `ecoo.validityMonths` or a list like
 * `grossMassKg {min, max}`), each top-level key as itself or the start of a path; and each bullet's key path
 * (`- \`border.offices\`:`) must be one of the schema.
 */
function rulesProblems(section: string, paths: string[]): string[] {
  const prose = section.replace(/```[a-z]*\n[\s\S]*?```/g, '');
  const words = new Set(spansOf(prose).flatMap((s) => s.match(/[A-Za-z]+/g) ?? []));
  const starts = new Set(spansOf(prose).map((s) => /^[A-Za-z]+/.exec(s)?.[0]));
  const bullets = [...prose.matchAll(/^- `([a-zA-Z.[\]]+)`/gm)].map((m) => m[1]!);
  const known = new Set(paths.map((p) => p.replace(/\[\]$/, '')));
  return [
    ...paths.filter((p) => !words.has(p.split(/[.[\]]+/).filter(Boolean).at(-1)!)).map((p) => `${p} is not named`),
    ...paths.filter((p) => !/[.[]/.test(p) && !starts.has(p)).map((p) => `${p} is not named as a key of its own`),
    ...bullets.filter((b) => !known.has(b.replace(/\[\]$/, ''))).map((b) => `${b} is no key of the rules file`),
  ];
}

/** Where `excerpt` is not `whole` with entries of its arrays left out: the same objects (same keys), each array entry one of the whole's. */
function excerptProblems(excerpt: unknown, whole: unknown, at = '/'): string[] {
  if (Array.isArray(excerpt) && Array.isArray(whole)) {
    return excerpt.flatMap((e, i) => (whole.some((w) => excerptProblems(e, w).length === 0 && excerptProblems(w, e).length === 0) ? [] : [`${at}${i} is not in the file`]));
  }
  if (typeof excerpt === 'object' && excerpt !== null && typeof whole === 'object' && whole !== null && !Array.isArray(excerpt) && !Array.isArray(whole)) {
    const [a, b] = [Object.keys(excerpt), Object.keys(whole)];
    const keys = a.length === b.length && a.every((k) => b.includes(k)) ? [] : [`${at}: keys ${a.join(', ')} in the excerpt, ${b.join(', ')} in the file`];
    return [...a.filter((k) => b.includes(k)).flatMap((k) => excerptProblems((excerpt as Record<string, unknown>)[k], (whole as Record<string, unknown>)[k], `${at}${k}/`)), ...keys];
  }
  return Object.is(excerpt, whole) ? [] : [`${at} is ${JSON.stringify(excerpt)} in the excerpt, ${JSON.stringify(whole)} in the file`];
}

describe('the README pre-arrival risk reference', () => {
  it('the indicator table lists every indicator once, with its default weight and kind', () => {
    const rows = indicatorTable(risk);
    expect(rows.length).toBe(IndicatorCode.options.length);
    expect(indicatorProblems(rows)).toEqual([]);
  });

  it('finds an indicator missing, one unknown, and a wrong weight or kind', () => {
    const edited = risk.replace('| `aeo-unverified` | info | 0 |', '| `aeo-unknown` | info | 0 |').replace('| risk | 4, 5, 3, 3 |', '| risk | 4, 5, 2, 3 |').replace('`ecoo-replaced` |', '`ecoo-replacd` |');
    expect(indicatorProblems(indicatorTable(edited))).toEqual([
      'aeo-unverified is not in the table',
      'ecoo-replaced is not in the table',
      'aeo-expired: weight 2 in the table, 3 in rules.ts',
      'aeo-unknown is no indicator',
      'ecoo-replacd is no indicator',
    ]);
  });

  it('every indicator code is raised by the engine (node/risk/indicators/)', () => {
    const dir = new URL('../../node/risk/indicators/', import.meta.url);
    const source = readdirSync(dir).map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
    expect(IndicatorCode.options.filter((c) => !source.includes(`'${c}'`))).toEqual([]);
  });

  it('the rules-file reference names every key of the rules schema, and only those', () => {
    const paths = keyPaths(RiskRules);
    expect(paths).toEqual(expect.arrayContaining(['border.offices', 'watch.routes[].transportMode', 'ranges[].valuePerKg.currency', 'webhook.maxAgeHours']));
    expect(rulesProblems(rulesSection, paths)).toEqual([]);
  });

  it('finds a key the reference leaves out and one the schema lacks', () => {
    const paths = [...keyPaths(RiskRules), 'watch.vessels', 'watch.vessels[].imo', 'quota'];
    const edited = rulesSection.replace('- `ecoo.validityMonths`', '- `ecoo.validityDays`');
    expect(rulesProblems(edited, paths)).toEqual(['ecoo.validityMonths is not named', 'watch.vessels is not named', 'watch.vessels[].imo is not named', 'quota is not named', 'quota is not named as a key of its own', 'ecoo.validityDays is no key of the rules file']);
  });

  it('its example is examples/risk/rules.json with some list entries left out, and the example files are valid', () => {
    const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(rulesSection)![1]!) as unknown;
    const file = JSON.parse(read('examples/risk/rules.json')) as unknown;
    expect(excerptProblems(example, file)).toEqual([]);
    expect(excerptProblems({ v: 1, watch: { hsPrefixes: [{ prefix: '9999' }] } }, file)).toEqual(['/watch/hsPrefixes/0 is not in the file', '/watch/: keys hsPrefixes in the excerpt, hsPrefixes, originCountries, traders, routes in the file', '/: keys v, watch in the excerpt, v, levels, weights, ecoo, border, watch, ranges in the file']);
    for (const f of ['examples/risk/rules.json', 'examples/risk/rules-webhook.json']) expect(RiskRules.safeParse(JSON.parse(read(f))).error).toBeUndefined();
  });
});
