/**
 * The README's performance table names the keys `npm run bench` writes to bench-results.json, all of them and no
 * other. The keys are read from the bench's own types without running it: the properties of every object
 * examples/bench/run.ts passes to `record` (the TypeScript checker over the bench files alone).
 */
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { read, sectionOf, spansOf, tableRows } from './markdown.js';

const BENCH = ['run', 'e2e', 'xml', 'risk', 'audit'].map((f) => fileURLToPath(new URL(`../../examples/bench/${f}.ts`, import.meta.url)));

/** The keys run.ts writes: the properties of the type of each argument of its `record(...)` calls. */
function writtenKeys(): string[] {
  // the bench files only: what they import from elsewhere is not needed to know the figures' names
  const program = ts.createProgram(BENCH, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noResolve: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const keys = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'record') {
      for (const p of checker.getTypeAtLocation(n.arguments[0]!).getProperties()) keys.add(p.name);
    }
    ts.forEachChild(n, visit);
  };
  visit(program.getSourceFile(BENCH[0]!)!);
  return [...keys].sort();
}

/** The keys the table's `key` column names. */
const tableKeys = (readme: string): string[] => tableRows(sectionOf(readme, '## Performance')).flatMap((row) => spansOf(row[1]!)).sort();

describe('the README performance table', () => {
  it('names every key the bench writes to bench-results.json, and no other', () => {
    const written = writtenKeys();
    expect(written).toContain('e2e_msgs_per_s_64');
    expect(written).not.toContain('kg');
    expect(tableKeys(read('README.md'))).toEqual(written);
  }, 60_000);
});
