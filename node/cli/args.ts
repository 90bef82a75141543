/**
 * Argument parsing for `gnc` subcommands on top of node:util parseArgs: unknown options and missing required
 * ones are usage errors (GNC_CONFIG_INVALID, exit 2) with a sentence pointing to `--help`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { afterStart } from '../../protocol/api/instant.js';
import { GncError, type ErrorIssue } from '../../protocol/errors.js';
import { issueTotal, moreProblems, zodIssues } from '../../protocol/validate.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends Options> {
  name: string;
  usage: string;
  description: string;
  options: O;
  required?: readonly (keyof O & string)[];
  /**
   * Options the command needs but checks itself, to refuse their absence with a code of its own rather than as a usage
   * error (`gnc send` without --purpose is GNC_AGREEMENT_PURPOSE, as the API's refusal): `(required)` in --help too.
   */
  checkedRequired?: readonly (keyof O & string)[];
  positionals?: { min: number; max: number; names: string };
}

export type Parsed<O extends Options> = {
  values: { [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean | undefined : O[K] extends { multiple: true } ? string[] | undefined : string | undefined };
  positionals: string[];
};

/**
 * `--kid -melv65B...`: base64url key ids and fingerprints start with "-" for 1 key in 64, and parseArgs would
 * read such a value as an option. A value that follows a string option and is not itself one of the command's
 * options is joined to it (`--kid=-melv65B...`).
 */
function joinDashValues(options: Options, argv: string[]): string[] {
  const isOption = (t: string): boolean => t === '--help' || t === '-h' || (t.startsWith('--') && t.slice(2).split('=')[0]! in options);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    const next = argv[i + 1];
    const name = t.startsWith('--') && !t.includes('=') ? t.slice(2) : undefined;
    const opt = name !== undefined ? (options[name] as { type: string } | undefined) : undefined;
    if (opt?.type === 'string' && next !== undefined && next.startsWith('-') && !isOption(next)) {
      out.push(`${t}=${next}`);
      i++;
    } else out.push(t);
  }
  return out;
}

export function parse<O extends Options>(spec: CommandSpec<O>, argv: string[]): Parsed<O> {
  let res;
  try {
    res = parseArgs({ args: joinDashValues(spec.options, argv), options: spec.options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    // parseArgs' own sentence for an unknown option tells to put it after '--' as a positional, which no command takes
    const unknown = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec((err as Error).message)?.[1] : undefined;
    const said = unknown !== undefined ? `Unknown option '${unknown}': \`gnc ${spec.name}\` takes ${Object.keys(spec.options).map((o) => `--${o}`).join(', ')}` : (err as Error).message;
    throw new GncError('GNC_CONFIG_INVALID', `${said}. Run \`gnc ${spec.name} --help\`.`);
  }
  // parseArgs keeps the last of a repeated option: `gnc send --to KG --to KZ` would send to KZ alone, silently
  const given = new Map<string, number>();
  for (const t of res.tokens) {
    if (t.kind !== 'option' || t.value === undefined) continue;
    const o = spec.options[t.name] as { multiple?: boolean } | undefined;
    if (o?.multiple) continue;
    const n = (given.get(t.name) ?? 0) + 1;
    given.set(t.name, n);
    if (n === 2) throw new GncError('GNC_CONFIG_INVALID', `--${t.name} is given more than once: give it once, with the one value meant. Run \`gnc ${spec.name} --help\`.`);
  }
  const values = res.values as Record<string, unknown>;
  // `--dir ""` (a script's unset variable) would be read as the current directory, `--api-host ""` as every
  // interface: no option takes an empty value, so one is refused rather than read as something else
  for (const [name, v] of Object.entries(values)) {
    if (v === '' || (Array.isArray(v) && v.includes(''))) {
      throw new GncError('GNC_CONFIG_INVALID', `--${name} is empty: give it a value (is a shell variable unset?). Run \`gnc ${spec.name} --help\`.`);
    }
  }
  for (const r of spec.required ?? []) {
    if (values[r] === undefined) throw new GncError('GNC_CONFIG_INVALID', `\`gnc ${spec.name}\` needs --${r}. Usage: ${spec.usage}`);
  }
  const pos = spec.positionals ?? { min: 0, max: 0, names: '' };
  if (res.positionals.length < pos.min || res.positionals.length > pos.max) {
    throw new GncError('GNC_CONFIG_INVALID', `\`gnc ${spec.name}\` takes ${pos.min === pos.max ? pos.min : `${pos.min}-${pos.max}`} argument(s) (${pos.names || 'none'}), got ${res.positionals.length}. Usage: ${spec.usage}`);
  }
  return { values: values as Parsed<O>['values'], positionals: res.positionals };
}

/**
 * Options read with a protocol schema (the API's query schema: the same filters, refused the same way, not read as an
 * empty list). `members` are the schema's, an undefined one left out; `optionOf` names the option a member is typed as
 * where it is not `--member`. A refusal (GNC_CONFIG_INVALID) names the option as typed and tells to run the command
 * again: the API's "Query is invalid: /member ..." would name neither.
 */
export function parseOptions<S extends z.ZodType>(schema: S, members: Record<string, unknown>, optionOf: Readonly<Record<string, string>> = {}): z.output<S> {
  const input = Object.fromEntries(Object.entries(members).filter(([, v]) => v !== undefined));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const option = (member: string): string => optionOf[member] ?? `--${member}`;
  // a window's end names its start as the option typed (`--from`), not the member (`from`)
  const named = new z.ZodError(result.error.issues.map((i) => {
    const start = i.code === 'custom' ? (i.params as { windowStart?: unknown } | undefined)?.windowStart : undefined;
    return typeof start === 'string' ? { ...i, message: `expected ${afterStart(option(start))}` } : i;
  }));
  // each issue at the option it is about (`--limit`), not the schema's member (`/limit`)
  const issues = zodIssues(named, input).map((i) => {
    const path = option(i.path.split('/')[1] ?? '');
    return { ...i, path, message: `${path}: expected ${i.expected}, received ${i.received}` };
  });
  const first = issues[0]!;
  const total = issueTotal(named);
  throw optionInvalid(first.path, first.expected, first.received, total - 1, issues);
}

/**
 * GNC_CONFIG_INVALID for the value of `option` (as typed, `--limit`): what it takes, what it got (`string "0"`), how
 * many other problems there are, and to run the command again once it is fixed.
 */
export function optionInvalid(option: string, expected: string, received: string, others = 0, issues?: ErrorIssue[]): GncError {
  return new GncError('GNC_CONFIG_INVALID', `${option} is invalid: expected ${expected}, received ${received}${moreProblems(others + 1)}. Fix ${option}, then run the command again.`, {
    issues: issues ?? [{ path: option, expected, received, message: `${option}: expected ${expected}, received ${received}` }],
  });
}

export function helpText<O extends Options>(spec: CommandSpec<O>): string {
  const lines = [`Usage: ${spec.usage}`, '', spec.description, '', 'Options:'];
  for (const [k, o] of Object.entries(spec.options)) {
    const opt = o as { type: string; short?: string; multiple?: boolean };
    lines.push(`  --${k}${opt.type === 'string' ? ' <value>' : ''}${opt.multiple ? ' (repeatable)' : ''}${[...(spec.required ?? []), ...(spec.checkedRequired ?? [])].some((r) => r === k) ? '  (required)' : ''}`);
  }
  lines.push('  --help');
  return lines.join('\n');
}
