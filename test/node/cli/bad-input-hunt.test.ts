/**
 * `gnc` as a real process given input that is not what it asks for: an empty option value, an option given twice,
 * options that contradict each other, an agreement file that is no agreement. Each is a coded sentence on stderr and
 * a non-zero exit, never a crash (GNC_INTERNAL) or a silent reading of the input as something else, and nothing done.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, expectError, gnc, queryDir } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/network.js';

const base = tempDir('gnc-cli-bad-input-');
const node = join(base, 'kz');

beforeAll(async () => {
  const r = await gnc('init', '--dir', node, '--country', 'KZ', '--name', 'KZ test administration');
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('gnc refuses an empty option value', () => {
  it('refuses `init --dir ""` (an unset shell variable) instead of making a node in the current directory (exit 2, GNC_CONFIG_INVALID)', async () => {
    const cwd = join(base, 'cwd');
    mkdirSync(cwd);
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'init', '--dir', '', '--country', 'KZ', '--name', 'A'], { cwd }, (err, _out, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }));
    });
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('--dir is empty');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses `--api-host=` (which would listen on every interface) before it writes a key', async () => {
    const dir = join(base, 'empty-host');
    const r = await gnc('init', '--dir', dir, '--country', 'KZ', '--name', 'A', '--api-host=');
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('--api-host is empty');
    expect(existsSync(join(dir, 'keys'))).toBe(false);
  });

  it('refuses `token create --scopes read,,admin` (an empty entry) naming it, and makes no token (exit 2)', async () => {
    for (const scopes of ['read,,admin', 'read,', ',read', 'read, ,submit']) {
      const r = await gnc('token', 'create', '--dir', node, '--name', 'empty-scope', '--scopes', scopes);
      expectError(r, 2, 'GNC_CONFIG_INVALID');
      expect(r.stderr).toContain(`--scopes "${scopes}" has an empty entry`);
      expect(r.stderr).toContain('remove the extra comma or name the scope');
    }
    const ok = await gnc('token', 'create', '--dir', node, '--name', 'empty-scope', '--scopes', 'read,admin');
    expect(ok.code, ok.stderr).toBe(0);
    expect(queryDir(node, "SELECT scopes FROM tokens WHERE name = 'empty-scope'")).toEqual([{ scopes: 'read admin' }]);
  });
});

describe('gnc refuses an option given twice', () => {
  it('refuses `token create --scopes read --scopes admin` instead of making an admin token, and makes none (exit 2)', async () => {
    const r = await gnc('token', 'create', '--dir', node, '--name', 'twice', '--scopes', 'read', '--scopes', 'admin');
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('--scopes is given more than once');
    expect(queryDir(node, "SELECT * FROM tokens WHERE name = 'twice'")).toEqual([]);
  });

  it('refuses `send --to KG --to KZ` instead of sending to the last one alone (exit 2)', async () => {
    const r = await gnc('send', '--dir', node, '--to', 'KG', '--to', 'KZ', new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url).pathname);
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('--to is given more than once');
  });

  it('still takes a repeatable option (--listen) several times, and a flag twice', async () => {
    const dir = join(base, 'two-listen');
    const r = await gnc('init', '--dir', dir, '--country', 'KZ', '--name', 'A', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0');
    expect(r.code, r.stderr).toBe(0);
    expect((await gnc('messages', '--dir', dir, '--json', '--json')).code).toBe(0);
  });
});

describe('gnc keys rotate --root refuses the options of a node key rotation', () => {
  it('refuses --root with --overlap-hours instead of ignoring the overlap, and rotates nothing (exit 2)', async () => {
    const identity = readdirSync(join(node, 'identity')).sort();
    const r = await gnc('keys', 'rotate', '--dir', node, '--root', '--overlap-hours', '48');
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('--overlap-hours goes with a node key rotation');
    expect(readdirSync(join(node, 'identity')).sort()).toEqual(identity);
  });
});

describe('gnc arrivals refuses options that contradict each other', () => {
  it('refuses --upcoming with --from instead of ignoring --upcoming (exit 2)', async () => {
    const r = await gnc('arrivals', '--dir', node, '--upcoming', '--from', '2026-01-01T00:00:00Z');
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('--upcoming');
  });
});

describe('gnc agreement sign FILE refuses a file that is no agreement', () => {
  for (const [what, text] of [['JSON null', 'null'], ['a number', '5'], ['a string', '"s"']] as const) {
    it(`refuses ${what} with what the file must be, not a crash (exit 6, GNC_AGREEMENT_SIGNATURE)`, async () => {
      const file = join(base, `sign-${what.replace(/\W/g, '')}.json`);
      writeFileSync(file, text);
      const r = await gnc('agreement', 'sign', '--dir', node, file);
      expectError(r, 6, 'GNC_AGREEMENT_SIGNATURE');
      expect(r.stderr).toContain(`${file}: Signed agreement must be a JWS`);
      expect(r.stderr).toContain('gnc agreement draft');
    });
  }

  it('refuses a readable draft (not yet through `gnc agreement draft`) instead of looking up "agreement undefined" (exit 6)', async () => {
    const file = join(base, 'readable.json');
    writeFileSync(file, JSON.stringify({ v: 1, title: 'not drafted yet' }));
    const r = await gnc('agreement', 'sign', '--dir', node, file);
    expectError(r, 6, 'GNC_AGREEMENT_SIGNATURE');
    expect(r.stderr).not.toContain('undefined');
    expect(r.stderr).toContain('at /payload: expected string');
  });

  it('refuses a FILE and --id together rather than sign one and ignore the other (exit 2)', async () => {
    const file = join(base, 'readable.json');
    const r = await gnc('agreement', 'sign', '--dir', node, file, '--id', 'KZ-KG-test');
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('not both');
  });
});
