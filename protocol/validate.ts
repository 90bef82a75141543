/**
 * Turns zod failures into GNC_SCHEMA_INVALID errors whose issues name the field as a JSON pointer, what was
 * expected and what arrived. Used at every edge (HTTP, wire, files) so an integrator sees the same message
 * wherever the bad document entered.
 */
import type { z } from 'zod';
import { MAX_REPORTED_ISSUES } from './constants.js';
import { GncError, quoted, type ErrorIssue, type GncErrorCode } from './errors.js';

/** The JSON pointer (RFC 6901) of a path under `prefix`: `~` and `/` in a member name escaped as `~0` and `~1`. */
export function pointer(path: readonly PropertyKey[], prefix = ''): string {
  const parts = path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1'));
  return prefix + (parts.length ? '/' + parts.join('/') : '');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: "received number null" would be wrong
  if (typeof value === 'number' && !Number.isFinite(value)) return `a number too large to hold (${value < 0 ? '-' : ''}1e309 or beyond, read as ${value})`;
  return `${typeof value} ${typeof value === 'string' ? quoted(value) : JSON.stringify(value)}`;
}

export function zodIssues(error: z.ZodError, input: unknown, prefix = ''): ErrorIssue[] {
  return error.issues
    .flatMap((issue): ErrorIssue[] => {
      // an unknown member is named by its own pointer (one issue each), so a stray query parameter is named too
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => {
          const path = pointer([...issue.path, key], prefix);
          const received = `unknown member ${JSON.stringify(key)}`;
          return { path, expected: 'no such member', received, message: `${path}: expected no such member, received ${received}` };
        });
      }
      const path = pointer(issue.path, prefix);
      // a member name a record refuses is described itself, not the value it names
      const got = issue.code === 'invalid_key' ? `member name ${JSON.stringify(issue.path.at(-1))}` : describe(valueAt(input, issue.path));
      // zod messages read "Invalid input: expected X, received Y" (or "Too small: expected X", "Invalid option:
      // expected X", "Invalid ISO date", "Invalid string: must match pattern P", for an unknown `kind` "Invalid
      // discriminator value. Expected 'a' | 'b'"): keep X, so the sentence reads "expected X, received ..." and never
      // "expected Too small: expected X"; what arrived is described from the input
      const expected = issue.message
        .replace(/^Invalid discriminator value\. Expected (.*)$/, (_m, options: string) => `one of ${options.replace(/'([^']*)'/g, '"$1"').replace(/ \| /g, '|')}`)
        .replace(/^(?:Invalid input|Invalid option|Too small|Too big): /, '')
        .replace(/^Invalid \w+: must (?:match pattern|be) /, (m) => (m.includes('pattern') ? 'a value matching ' : 'a value that is '))
        .replace(/^Invalid (?=[A-Z]{2,}|email)/, 'a valid ')
        .replace(/^expected /, '')
        .replace(/, received [^,]*$/, '');
      return [{ path, expected, received: got, message: `${path || '/'}: expected ${expected}, received ${got}` }];
    })
    .slice(0, MAX_REPORTED_ISSUES);
}

/** How many problems a zod error reports, counted as zodIssues names them (each unknown member is one). */
export function issueTotal(error: z.ZodError): number {
  return error.issues.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : 1), 0);
}

/** A member named `__proto__` where the walk of refuseProtoMembers found it: its parent, for the path. */
interface Found {
  value: unknown;
  key: PropertyKey;
  parent: Found | undefined;
}

/**
 * Refuses a document read from JSON `text` that has members named `__proto__` (GNC_SCHEMA_INVALID naming each, under
 * `prefix`). JSON.parse keeps such a member as any other, but zod drops it without a word from every object it copies
 * (a record, a non-strict object): the body of a submission, read as a record first, lost its `{"__proto__": ...}`
 * and was sent without it instead of being refused as an unknown member, as a nested one is. Only a text that can
 * hold the name (plainly, or with a \u00XX escape in it) is walked, so the submit path pays one scan of the text.
 */
export function refuseProtoMembers(text: string, value: unknown, prefix = ''): void {
  if (!text.includes('proto') && !text.includes('\\u00')) return;
  const found: Found[] = [];
  // not recursive: a JSON document may nest as deep as its size allows
  const stack: Found[] = [{ value, key: '', parent: undefined }];
  while (stack.length > 0 && found.length < MAX_REPORTED_ISSUES) {
    const at = stack.pop()!;
    const v = at.value;
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v) && Object.hasOwn(v, '__proto__')) found.push({ value: undefined, key: '__proto__', parent: at });
    for (const [key, x] of Object.entries(v)) if (x !== null && typeof x === 'object') stack.push({ value: x, key: Array.isArray(v) ? Number(key) : key, parent: at });
  }
  if (found.length === 0) return;
  const issues = found.map((f): ErrorIssue => {
    const keys: PropertyKey[] = [];
    for (let n: Found | undefined = f; n?.parent !== undefined; n = n.parent) keys.unshift(n.key);
    const path = pointer(keys, prefix);
    const received = 'unknown member "__proto__"';
    return { path, expected: 'no such member', received, message: `${path}: expected no such member, received ${received}` };
  });
  throw new GncError('GNC_SCHEMA_INVALID', `Body is invalid: ${issues[0]!.message}${moreProblems(issues.length)}. No document has a member named "__proto__": remove it and send the document again.`, { issues });
}

/** " (and N more problems)" after the first of `total` problems an error message names; nothing when it is the only one. */
export function moreProblems(total: number): string {
  return total > 1 ? ` (and ${total - 1} more problem${total > 2 ? 's' : ''})` : '';
}

/** What a refusal of a submitted document tells to do. */
export const SUBMIT_AGAIN = 'Fix the field and submit again.';
/** What a refusal of a configuration (gnc.json, a rules file, a command-line option) tells: it is fixed and run again. */
export const RUN_AGAIN = 'Fix the field, then run the command again.';

/**
 * Parse or throw GNC_SCHEMA_INVALID naming the first offending field in the message, which ends with `again`: what to
 * do (a document is submitted again, a configuration run again, a request's parameter sent again).
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  prefix = '',
  code: GncErrorCode = 'GNC_SCHEMA_INVALID',
  again = code === 'GNC_CONFIG_INVALID' ? RUN_AGAIN : SUBMIT_AGAIN,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = zodIssues(result.error, input, prefix);
  const first = issues[0];
  // issues holds at most MAX_REPORTED_ISSUES of them
  throw new GncError(code, `${what} is invalid: ${first ? first.message : 'unknown problem'}${moreProblems(issueTotal(result.error))}. ${again}`, { issues });
}
