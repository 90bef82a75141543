/**
 * Reading the README and SPEC.md as data, for the tests that keep them in step with the code: a section by its
 * heading, the rows of its tables, the code spans of a cell, and each `gnc ...` invocation in its code.
 */
import { readFileSync } from 'node:fs';

export const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The text from the heading that starts with `heading` (`## Error codes`, `**Indicators**`) to the next heading of its level or `until`. */
export function sectionOf(markdown: string, heading: string, until?: string): string {
  const at = `\n${markdown}`.indexOf(`\n${heading}`);
  if (at < 0) throw new Error(`no section ${heading}`);
  const start = at - 1;
  const level = /^#+ /.exec(heading)?.[0];
  const end = until !== undefined ? markdown.indexOf(until, start + heading.length) : level !== undefined ? markdown.indexOf(`\n${level}`, start + heading.length) : -1;
  return markdown.slice(start + 1, end < 0 ? undefined : end);
}

/** The body rows of the Markdown tables in `text`, each as its cells (trimmed; the header and `---` rows left out). */
export function tableRows(text: string): string[][] {
  const rows: string[][] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      inTable = false;
      continue;
    }
    // a `|` inside a code span (`gnc token create|list|revoke`) does not split cells
    const cells = line.slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined).split(/\|(?=(?:[^`]*`[^`]*`)*[^`]*$)/).map((c) => c.trim());
    if (!inTable) {
      inTable = true; // the header
      continue;
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows;
}

/** The code spans of a piece of Markdown (`a`, `b`), in order. */
export const spansOf = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** Each piece of code in a Markdown text: fenced lines (continued ones joined), and inline spans (joined when wrapped). */
export function codeOf(markdown: string): string[] {
  // a shell line continued with `\` is one command
  const fenced = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.replace(/\\\n\s*/g, ' ').split('\n'));
  const prose = markdown.replace(/```[a-z]*\n[\s\S]*?```/g, '');
  return [...fenced, ...[...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s*\n\s*/g, ' '))];
}

/** `[command words, options]` of every `gnc ...` (or `gnc-node ...`, the image) invocation in a piece of code. */
export function invocations(code: string, program = 'gnc'): { words: string[]; options: string[]; text: string }[] {
  const re = new RegExp(`(?:^|[\\s(])${program} ([a-z][a-z|]*(?: [a-z][a-z|]*)?)((?:[^;|&)\\n]|\\|(?=[a-z]))*)`, 'g');
  return [...code.matchAll(re)].map((m) => ({
    words: m[1]!.split(' '),
    options: [...`${m[1]} ${m[2]}`.matchAll(/--([a-z][a-z-]*)/g)].map((o) => o[1]!),
    text: m[0].trim(),
  }));
}
