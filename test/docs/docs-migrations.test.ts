/**
 * What README.md and SPEC.md say of the store's schema versions is right: a `migration N` they name exists, and a
 * count of migrations or a latest schema version they give is node/store/migrations.ts's (none is given today).
 */
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../node/store/migrations.js';
import { read } from './markdown.js';

function migrationProblems(text: string, count: number): string[] {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return [
    ...[...flat.matchAll(/\bmigrations? (\d+)\b/gi)].filter((m) => Number(m[1]) < 1 || Number(m[1]) > count).map((m) => `"${m[0]}": there are ${count} migrations`),
    ...[...flat.matchAll(/\b(\d+) (?:schema )?migrations\b|\b(?:latest|current) schema version (?:is )?(\d+)\b|\buser_version (?:is |= ?)?(\d+)\b/gi)]
      .filter((m) => Number(m[1] ?? m[2] ?? m[3]) !== count)
      .map((m) => `"${m[0]}": there are ${count} migrations`),
  ];
}

describe('the schema version the documentation names', () => {
  it.each([['README.md'], ['protocol/SPEC.md']])('%s names only migrations that exist, and their count right', (path) => {
    expect(migrationProblems(read(path), MIGRATIONS.length)).toEqual([]);
  });

  it('finds a migration that does not exist and a wrong count', () => {
    const n = MIGRATIONS.length;
    expect(migrationProblems(`store migration ${n + 1}; migration ${n}; the ${n - 1} migrations; the latest schema version is ${n}`, n)).toEqual([`"migration ${n + 1}": there are ${n} migrations`, `"${n - 1} migrations": there are ${n} migrations`]);
  });
});
