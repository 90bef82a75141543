/**
 * What the README, SPEC.md and the Dockerfile tell an operator to type exists: every `gnc <command> --option` they
 * name (in code blocks and inline code, also wrapped over lines) is a command of the CLI with that option, and the
 * Docker image runs the same CLI as the package's `gnc` bin, built by the package's build script, as the README
 * describes it (`gnc start --dir /data`, a non-root user, `/data` a volume, the ports its init line configures).
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../node/cli/commands/index.js';
import { codeOf, invocations, read, sectionOf, tableRows } from './markdown.js';

const readme = read('README.md');
const dockerfile = read('Dockerfile');
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; scripts: Record<string, string> };

/** The unknown options of one invocation, or why its command is unknown; [] when all is right. */
function problemsOf(inv: { words: string[]; options: string[]; text: string }): string[] {
  if (inv.words.some((w) => w.includes('|'))) {
    // `gnc token create|list|revoke`: each alternative is a command
    const [group, alternatives] = inv.words.length === 2 ? [inv.words[0]!, inv.words[1]!.split('|')] : ['', inv.words[0]!.split('|')];
    return alternatives.filter((a) => !COMMANDS.some((c) => c.spec.name === `${group} ${a}`.trim())).map((a) => `unknown command "gnc ${group} ${a}" in: ${inv.text}`);
  }
  const command = COMMANDS.filter((c) => c.spec.name.split(' ').every((w, i) => inv.words[i] === w)).sort((a, b) => b.spec.name.length - a.spec.name.length)[0];
  if (command === undefined) return [`unknown command "gnc ${inv.words.join(' ')}" in: ${inv.text}`];
  return inv.options.filter((o) => o !== 'help' && !(o in command.spec.options)).map((o) => `gnc ${command.spec.name} has no --${o}, in: ${inv.text}`);
}

describe('the commands the documentation names', () => {
  it.each([['README.md'], ['protocol/SPEC.md']])('every gnc command and option in %s exists in the CLI', (path) => {
    const found = codeOf(read(path)).flatMap((c) => invocations(c));
    expect(found.length).toBeGreaterThan(path === 'README.md' ? 60 : 5);
    expect(found.flatMap(problemsOf)).toEqual([]);
  });

  it('finds an option the CLI lacks, also in inline code wrapped over lines', () => {
    const found = codeOf('run `gnc messages --partner KG\n  --typo agreement` and\n```sh\ngnc keys rotate --dir D --root --bogus\n```\n').flatMap((c) => invocations(c));
    expect(found.flatMap(problemsOf)).toEqual([
      'gnc keys rotate has no --bogus, in: gnc keys rotate --dir D --root --bogus',
      'gnc messages has no --typo, in: gnc messages --partner KG --typo agreement',
    ]);
  });

  it('every command in the Dockerfile header exists in the CLI with its options', () => {
    const header = dockerfile.split('\n').filter((l) => l.startsWith('#')).map((l) => l.slice(1)).join('\n').replace(/\\\n#?/g, ' ');
    const found = invocations(header, 'gnc-node');
    expect(found.map((f) => f.words[0])).toContain('init');
    expect(found.flatMap(problemsOf)).toEqual([]);
  });
});

/** The commands an invocation names: `gnc token create|list|revoke` names three, `gnc keys rotate` one. */
function commandsOf(inv: { words: string[] }): string[] {
  const [first, second] = inv.words;
  return first!.split('|').flatMap((w) => {
    const group = COMMANDS.filter((c) => c.spec.name.startsWith(`${w} `)).map((c) => c.spec.name);
    const sub = (second ?? '').split('|').map((s) => `${w} ${s}`).filter((n) => group.includes(n));
    return sub.length > 0 ? sub : COMMANDS.some((c) => c.spec.name === w) ? [w] : [];
  });
}

/**
 * What the CLI has that the README's "CLI at a glance" table does not name: each command (a row of its own or one of
 * several in a row), and each of its options with it (but `--dir`, which the section names for all of them).
 */
function undocumented(section: string): string[] {
  const named = new Map<string, Set<string>>();
  for (const inv of tableRows(section).flatMap(([cell]) => invocations(cell!.replace(/`/g, '\n')))) {
    for (const name of commandsOf(inv)) named.set(name, new Set([...(named.get(name) ?? []), ...inv.options]));
  }
  return COMMANDS.flatMap((c) => {
    const options = named.get(c.spec.name);
    if (options === undefined) return [`gnc ${c.spec.name}`];
    return Object.keys(c.spec.options).filter((o) => o !== 'dir' && !options.has(o)).map((o) => `gnc ${c.spec.name} --${o}`);
  });
}

describe('the commands the CLI has', () => {
  const section = sectionOf(readme, '## CLI at a glance');

  it('every command and each of its options is in the README CLI table', () => {
    expect(section).toContain('Every command that works on a node takes `--dir D`');
    expect(undocumented(section)).toEqual([]);
  });

  it('finds a command or an option the table leaves out', () => {
    const rows = section.replace(' [--include-cancelled]', '').replace(/\n\| `gnc backup [^\n]*/, '').replace('`gnc token create --name N --scopes submit,read[,admin] [--json]`, ', '');
    expect(undocumented(rows)).toEqual(['gnc token create', 'gnc arrivals --include-cancelled', 'gnc backup']);
  });
});

describe('the Docker image', () => {
  const instruction = (name: string): string[] => dockerfile.split('\n').filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
  const json = (name: string): string[] => JSON.parse(instruction(name).at(-1)!) as string[];

  it('runs the package bin with node, as the README says: gnc start --dir /data, /data a volume, a non-root user', () => {
    expect(json('ENTRYPOINT')).toEqual(['node', pkg.bin['gnc']]);
    expect(json('CMD')).toEqual(['start', '--dir', '/data']);
    expect(json('VOLUME')).toEqual(['/data']);
    const user = instruction('USER').at(-1)!;
    expect(user).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(new RegExp(`useradd [^\\n]*\\b${user}\\b[^\\n]*chown ${user} /data`));
    expect(readme).toContain('the Docker image, which runs `gnc start --dir /data` as a\n   non-root user with `/data` as a volume');
  });

  it("builds with the package's build script and keeps what that script writes and the ESM package.json", () => {
    expect(instruction('RUN')).toContain('npm run build && npm prune --omit=dev');
    expect(pkg.scripts['build']).toBe('tsc -p tsconfig.json');
    const include = (JSON.parse(read('tsconfig.json')) as { include: string[] }).include.map((p) => p.split('/')[0]!);
    const copied = instruction('COPY').map((c) => c.split(' ')[0]!);
    for (const dir of include) expect(copied).toContain(dir);
    expect(instruction('COPY')).toEqual(expect.arrayContaining(['--from=build /app/dist ./dist', 'package.json ./']));
  });

  it("exposes the ports of its init line, whose API listens beyond the container's loopback", () => {
    const init = dockerfile.split('\n').filter((l) => l.startsWith('#')).join(' ');
    const listen = /--listen \/ip4\/0\.0\.0\.0\/tcp\/(\d+)/.exec(init)![1];
    const api = /--api-port (\d+)/.exec(init)![1];
    expect(init).toMatch(/--api-host 0\.0\.0\.0/);
    expect(instruction('EXPOSE').at(-1)!.split(' ')).toEqual([listen, api]);
    expect(init).toMatch(new RegExp(`-p 127\\.0\\.0\\.1:${api}:${api}`));
    // and the README's step 5 says so to an operator who runs the image
    const step5 = readme.slice(readme.indexOf('5. **Start**'), readme.indexOf('6. **Give integrators tokens**'));
    expect(step5).toContain('`--api-host 0.0.0.0`');
    expect(step5).toContain(`\`-p 127.0.0.1:${api}:${api}\``);
    expect(invocations(step5.replace(/\s*\n\s*/g, ' '), 'gnc-node').flatMap(problemsOf)).toEqual([]);
  });
});
