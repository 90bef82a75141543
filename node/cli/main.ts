/**
 * `gnc`: the operator's command line. Resolves the longest matching subcommand, prints `--help` per
 * command, and turns every failure into "error GNC_CODE: sentence" on stderr with the exit code from exit.ts.
 */
import '../polyfill.js';
import type { ErrorIssue } from '../../protocol/errors.js';
import { helpText } from './args.js';
import { COMMANDS } from './commands/index.js';
import { exitCodeOf, EXIT_USAGE } from './exit.js';
import { asGncError } from './system-errors.js';

function usage(commands = COMMANDS, title = ['gnc: Globally Networked Customs exchange node', '']): string {
  const lines = [...title, 'Commands:'];
  for (const c of commands) lines.push(`  gnc ${c.spec.name.padEnd(20)} ${c.spec.description}`);
  lines.push('', 'Run `gnc <command> --help` for the options of a command.');
  return lines.join('\n');
}

/**
 * Where an issue is: its path; for an XML file, the element in it (`xmlPath`, or all of `xmlPaths` for a field read
 * from several) with the JSON pointer into the body read from it beside, where that is another path (an agreement
 * refusing a field).
 */
function where(issue: ErrorIssue): string {
  if (issue.xmlPath === undefined) return issue.path || '/';
  const elements = issue.xmlPaths ?? [issue.xmlPath];
  const named = `XML element${elements.length > 1 ? 's' : ''} ${elements.join(', ')}`;
  return issue.xmlPath === issue.path ? named : `${named} (JSON pointer ${issue.path || '/'})`;
}

export async function main(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  errOut: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    out(usage());
    return argv.length === 0 ? EXIT_USAGE : 0;
  }
  const match = COMMANDS.filter((c) => {
    const words = c.spec.name.split(' ');
    return words.every((w, i) => argv[i] === w);
  }).sort((a, b) => b.spec.name.length - a.spec.name.length)[0];
  if (!match && (argv[1] === '--help' || argv[1] === '-h')) {
    // a group: `gnc keys --help` lists the commands under it
    const group = COMMANDS.filter((c) => c.spec.name.split(' ')[0] === argv[0] && c.spec.name.includes(' '));
    if (group.length > 0) {
      out(usage(group, []));
      return 0;
    }
  }
  if (!match) {
    errOut(`error GNC_CONFIG_INVALID: unknown command "${argv.slice(0, 2).join(' ')}". Run \`gnc --help\` for the list.\n`);
    return EXIT_USAGE;
  }
  const rest = argv.slice(match.spec.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    out(helpText(match.spec));
    return 0;
  }
  try {
    await match.run(rest, out);
    return 0;
  } catch (caught) {
    const err = asGncError(caught);
    errOut(`error ${err.code}: ${err.message}\n`);
    for (const i of err.issues ?? []) errOut(`  at ${where(i)}: expected ${i.expected}, received ${i.received}\n`);
    // the stack of an unexpected failure is for a bug report, on request only
    if (err.code === 'GNC_INTERNAL' && process.env['GNC_DEBUG'] && caught instanceof Error) errOut(`${caught.stack ?? ''}\n`);
    return exitCodeOf(err.code);
  }
}
