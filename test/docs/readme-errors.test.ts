/**
 * The README's error codes are the product's: its `## Error codes` table lists every code of protocol/errors.ts once,
 * with the HTTP status node/api/problem.ts gives it and the exit code node/cli/exit.ts gives it; every `GNC_...` the
 * README and SPEC.md name is a code (or a named environment variable); and wherever they write a status beside a code
 * (`409 GNC_CONFLICT`) or an exit code beside one, it is that code's.
 */
import { describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../node/api/problem.js';
import { exitCodeOf } from '../../node/cli/exit.js';
import { ERROR_CODES, isErrorCode } from '../../protocol/errors.js';
import { read, sectionOf, tableRows } from './markdown.js';

const docs = [['README.md'], ['protocol/SPEC.md']] as const;

/** `GNC_` names in the docs that are not error codes: environment variables, and the placeholder of a code. */
const NOT_CODES = ['GNC_DEBUG', 'GNC_RISK_WEBHOOK_SECRET', 'GNC_CODE'];

/** The rows of the README's error table as `{code, http, exit}`. */
function errorTable(readme: string): { code: string; http: number; exit: number }[] {
  return tableRows(sectionOf(readme, '## Error codes')).map(([code, http, exit]) => ({ code: code!.replace(/`/g, ''), http: Number(http), exit: Number(exit) }));
}

/** What in an error table disagrees with the code: codes missing or twice, unknown ones, wrong statuses or exit codes. */
function tableProblems(rows: { code: string; http: number; exit: number }[]): string[] {
  const listed = rows.map((r) => r.code);
  return [
    ...ERROR_CODES.filter((c) => !listed.includes(c)).map((c) => `${c} is not in the table`),
    ...listed.filter((c, i) => listed.indexOf(c) !== i).map((c) => `${c} is in the table twice`),
    ...rows.flatMap((r) => {
      if (!isErrorCode(r.code)) return [`${r.code} is no error code`];
      return [
        ...(r.http === httpStatusOf(r.code) ? [] : [`${r.code}: HTTP ${r.http} in the table, ${httpStatusOf(r.code)} in problem.ts`]),
        ...(r.exit === exitCodeOf(r.code) ? [] : [`${r.code}: exit ${r.exit} in the table, ${exitCodeOf(r.code)} in exit.ts`]),
      ];
    }),
  ];
}

/** Every `GNC_...` named in a text that is no error code (a prefix like `GNC_AGREEMENT_` must start some code). */
function unknownCodes(text: string): string[] {
  const named = [...new Set([...text.matchAll(/\bGNC_[A-Z0-9_]*/g)].map((m) => m[0]))];
  return named.filter((n) => !isErrorCode(n) && !NOT_CODES.includes(n) && !(n.endsWith('_') && ERROR_CODES.some((c) => c.startsWith(n))));
}

/** Each `NNN GNC_X` (a status written before a code) and `GNC_X ... exit N` whose number is not the code's. */
function statedProblems(text: string): string[] {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  const statuses = [...flat.matchAll(/\b([1-5]\d\d)\W{0,3}(GNC_[A-Z_]+)\b/g)]
    .filter((m) => isErrorCode(m[2]!) && httpStatusOf(m[2]!) !== Number(m[1]))
    .map((m) => `"${m[0]}": ${m[2]} is HTTP ${isErrorCode(m[2]!) ? httpStatusOf(m[2]!) : '?'}`);
  const exits = [...flat.matchAll(/\bexit (?:code )?(\d)\W{0,3}(GNC_[A-Z_]+)\b|\b(GNC_[A-Z_]+)`? \((?:[^()]*?; )?(?:CLI )?exit (?:code )?(\d)\b/g)]
    .map((m) => ({ text: m[0], code: (m[2] ?? m[3])!, exit: Number(m[1] ?? m[4]) }))
    .filter((e) => isErrorCode(e.code) && exitCodeOf(e.code) !== e.exit)
    .map((e) => `"${e.text}": ${e.code} exits ${isErrorCode(e.code) ? exitCodeOf(e.code) : '?'}`);
  return [...statuses, ...exits];
}

describe('the error codes the documentation names', () => {
  const readme = read('README.md');

  it('the README error table lists every code once, with the HTTP status and exit code the code gives it', () => {
    const rows = errorTable(readme);
    expect(rows.length).toBe(ERROR_CODES.length);
    expect(tableProblems(rows)).toEqual([]);
  });

  it('finds a code missing, one unknown, and a wrong status or exit code', () => {
    const rows = errorTable(readme).filter((r) => r.code !== 'GNC_REPLAY').map((r) => (r.code === 'GNC_CONFLICT' ? { ...r, http: 400 } : r.code === 'GNC_INTERNAL' ? { ...r, exit: 2 } : r));
    expect(tableProblems([...rows, { code: 'GNC_BOGUS', http: 400, exit: 2 }])).toEqual([
      'GNC_REPLAY is not in the table',
      'GNC_CONFLICT: HTTP 400 in the table, 409 in problem.ts',
      'GNC_INTERNAL: exit 2 in the table, 1 in exit.ts',
      'GNC_BOGUS is no error code',
    ]);
  });

  it.each(docs)('every GNC_ code %s names exists', (path) => {
    expect(unknownCodes(read(path))).toEqual([]);
  });

  it.each(docs)('every HTTP status or exit code %s writes beside a code is that code\'s', (path) => {
    expect(statedProblems(read(path))).toEqual([]);
  });

  it('finds an unknown code and a status or exit code written wrong', () => {
    const text = 'a `GNC_NO_SUCH` code, `GNC_AGREEMENT_` codes, `GNC_DEBUG=1`; `404 GNC_CONFLICT`, `409\nGNC_CONFLICT`; exit 2, `GNC_STORAGE_FULL`; `GNC_AUDIT_BROKEN` (CLI exit code 1)';
    expect(unknownCodes(text)).toEqual(['GNC_NO_SUCH']);
    expect(statedProblems(text)).toEqual(['"404 GNC_CONFLICT": GNC_CONFLICT is HTTP 409', '"exit 2, `GNC_STORAGE_FULL": GNC_STORAGE_FULL exits 1', '"GNC_AUDIT_BROKEN` (CLI exit code 1": GNC_AUDIT_BROKEN exits 7']);
  });
});
