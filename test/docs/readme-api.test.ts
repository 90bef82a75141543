/**
 * The README's "Local API at a glance" table is the API's: its rows name every operation of the OpenAPI document
 * (node/api/openapi.ts with the risk routes of node/risk/openapi.ts, audit included) with the method and scope the
 * document gives it, and nothing else; and every `METHOD /v1/...` that the README or SPEC.md names anywhere is an
 * operation. (test/node/api/contract.test.ts checks the served routes against the same document.)
 */
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../node/api/openapi.js';
import { registerRiskOperations } from '../../node/risk/openapi.js';
import { read, sectionOf, spansOf, tableRows } from './markdown.js';

registerRiskOperations();

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** `METHOD /path scope` of every operation the document has, plus the document itself. */
function documented(): string[] {
  const doc = openApiDocument() as { paths: Record<string, Record<string, { security?: { bearer: string[] }[] }>> };
  const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.security?.[0]?.bearer[0] ?? 'none'}`));
  return [...ops, 'GET /v1/openapi.json none'].sort();
}

/**
 * `METHOD /path scope` of each operation a table row names: a cell of code spans, each `METHOD /v1/path` or a path
 * relative to the last one with a method (`/{id}/sign` after `POST /v1/agreements`); a query string and spans that
 * are one (`?id=`) are left out.
 */
function rowOperations([paths, scope]: string[]): string[] {
  let method = '';
  let base = '';
  return spansOf(paths!).flatMap((span) => {
    const m = /^(?:([A-Z]+) )?(\/[^?\s]*)/.exec(span);
    if (m === null) return [];
    if (m[1] !== undefined) {
      method = m[1];
      base = m[2]!;
      return [`${method} ${base} ${scope}`];
    }
    return [`${method} ${base}${m[2]} ${scope}`];
  });
}

const tableOperations = (readme: string): string[] => tableRows(sectionOf(readme, '## Local API at a glance')).flatMap(rowOperations).sort();

/** Every `METHOD /v1/...` in a text (wrapped lines joined) that no documented operation is. */
function unknownMentions(text: string, operations: string[]): string[] {
  const patterns = operations.map((o) => {
    const [method, path] = o.split(' ');
    return new RegExp(`^${method} ${path!.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '(?:\\{[^}]+\\}|[^/{}]+)')}$`);
  });
  const mentions = [...text.replace(/\s*\n\s*/g, ' ').matchAll(new RegExp(`\\b(?:${METHODS.join('|')}) /v1(?:\\{[^}]*\\}|[^\\s\`,;)?])*`, 'g'))].map((m) => m[0]);
  return [...new Set(mentions.filter((m) => !patterns.some((p) => p.test(m))))];
}

describe('the API routes the documentation names', () => {
  const readme = read('README.md');

  it("the README's API table names every operation of the OpenAPI document, with its method and scope, and no other", () => {
    const ops = documented();
    expect(ops.length).toBeGreaterThan(20);
    expect(tableOperations(readme)).toEqual(ops);
  });

  it('reads relative paths, lists of them and their query strings as the table writes them', () => {
    const table = '## Local API at a glance\n\n| a | b | c |\n| --- | --- | --- |\n| `POST /v1/agreements`, `/{id}/sign`, `/import` | admin | x |\n| `GET /v1/aeo` (`?id=`), `/{partner}/{aeoId}?at=` | read | x |\n';
    expect(tableOperations(table)).toEqual(['GET /v1/aeo read', 'GET /v1/aeo/{partner}/{aeoId} read', 'POST /v1/agreements admin', 'POST /v1/agreements/import admin', 'POST /v1/agreements/{id}/sign admin']);
  });

  it.each([['README.md'], ['protocol/SPEC.md']])('every METHOD /v1/... that %s names is an operation', (path) => {
    expect(unknownMentions(read(path), documented())).toEqual([]);
  });

  it('finds a route that does not exist, and takes parameters written out', () => {
    const text = '`GET /v1/arrivals/{its\nid}`, `POST /v1/partners/KG/remove`, `GET /v1/aeo?partner=KG`, `POST /v1/arrivals`, `GET /v1/messages/{id}/receipt`';
    expect(unknownMentions(text, documented())).toEqual(['POST /v1/arrivals', 'GET /v1/messages/{id}/receipt']);
  });
});
