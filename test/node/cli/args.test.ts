/** Option parsing of `gnc` subcommands: base64url values that start with "-" are values, not options. */
import { describe, expect, it } from 'vitest';
import { parse } from '../../../node/cli/args.js';
import { COMMANDS } from '../../../node/cli/commands/index.js';
import { codeOf } from '../../helpers/errors.js';

const spec = {
  name: 'keys revoke',
  usage: 'gnc keys revoke --dir DIR --kid KID --reason TEXT',
  description: 'test spec',
  options: { dir: { type: 'string' }, kid: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' } },
  required: ['dir', 'kid'],
} as const;

describe('gnc argument parsing', () => {
  it('reads a key id that starts with "-" as the value of --kid (1 key in 64)', () => {
    const r = parse(spec, ['--dir', 'D', '--kid', '-melv65Bxyzwf2-YXlWJ5gMpbbMecJgAskJmZabcdefg', '--reason', '-- compromised', '--json']);
    expect(r.values).toEqual({ dir: 'D', kid: '-melv65Bxyzwf2-YXlWJ5gMpbbMecJgAskJmZabcdefg', reason: '-- compromised', json: true });
  });

  it('still refuses an option given where a value is missing (GNC_CONFIG_INVALID)', () => {
    expect(codeOf(() => parse(spec, ['--dir', 'D', '--kid', '--reason', 'x']))).toBe('GNC_CONFIG_INVALID');
  });

  it('names an unknown option with the options the command takes, not a "--" positional it does not take', () => {
    const said = (() => {
      try {
        parse(spec, ['--dir', 'D', '--kid', 'K', '-p']);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(said).toBe("Unknown option '-p': `gnc keys revoke` takes --dir, --kid, --reason, --json. Run `gnc keys revoke --help`.");
  });

  it('refuses an unknown option and a missing required one (GNC_CONFIG_INVALID)', () => {
    expect(codeOf(() => parse(spec, ['--dir', 'D', '--kid', 'K', '--bogus']))).toBe('GNC_CONFIG_INVALID');
    expect(codeOf(() => parse(spec, ['--dir', 'D']))).toBe('GNC_CONFIG_INVALID');
  });
});

describe('gnc <command> --help', () => {
  it('names every option a command accepts in its usage line, and no option it refuses', () => {
    for (const { spec: s } of COMMANDS) {
      const named = new Set([...s.usage.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!));
      expect([...named].filter((o) => !(o in s.options)), s.name).toEqual([]);
      expect(Object.keys(s.options).filter((o) => !named.has(o)), s.name).toEqual([]);
    }
  });
});
