/** The `gnc` command line run as a real process: help, init, identity exchange, tokens, errors and exit codes. */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gnc } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/network.js';

const base = tempDir('gnc-cli-');

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('gnc CLI', () => {
  it('prints the command list with --help and exits 0', async () => {
    const r = await gnc('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('gnc init');
    expect(r.stdout).toContain('gnc agreement sign');
  });

  it('prints the options of a command with --help', async () => {
    const r = await gnc('partner', 'add', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--fingerprint');
  });

  it('fails an unknown command with exit code 2 and a GNC code', async () => {
    const r = await gnc('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error GNC_CONFIG_INVALID: /);
  });

  it('fails a missing required option with exit code 2', async () => {
    const r = await gnc('init', '--dir', join(base, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--country');
  });

  it('makes the database 0600 (messages and token hashes) also in a --dir that existed with mode 0755', async () => {
    const dir = join(base, 'existing-755');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const r = await gnc('init', '--dir', dir, '--country', 'KZ', '--name', 'State Revenue Committee');
    expect(r.code, r.stderr).toBe(0);
    expect((await gnc('token', 'create', '--dir', dir, '--name', 'single-window', '--scopes', 'read')).code).toBe(0);
    for (const f of readdirSync(dir).filter((f) => f.startsWith('gnc.sqlite'))) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
  });

  it('initialises a node, exports its identity and lets a partner pin it by fingerprint', async () => {
    const kz = join(base, 'kz');
    const kg = join(base, 'kg');
    expect((await gnc('init', '--dir', kz, '--country', 'KZ', '--name', 'State Revenue Committee')).code).toBe(0);
    expect((await gnc('init', '--dir', kg, '--country', 'KG', '--name', 'State Customs Service')).code).toBe(0);
    expect(statSync(join(kz, 'keys/root.jwk')).mode & 0o777).toBe(0o600);
    const file = join(base, 'kz.identity.json');
    expect((await gnc('identity', 'export', '--dir', kz, '--out', file)).code).toBe(0);
    const fp = JSON.parse(readFileSync(file, 'utf8')).root.fingerprint as string;
    const bad = await gnc('partner', 'add', '--dir', kg, file, '--fingerprint', 'A'.repeat(43));
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^error GNC_FINGERPRINT_MISMATCH: /);
    const ok = await gnc('partner', 'add', '--dir', kg, file, '--fingerprint', fp);
    expect(ok.code).toBe(0);
    expect((await gnc('partner', 'list', '--dir', kg)).stdout).toContain('KZ');
  });

  it('refuses a corrupt identity file with a clear error, as bad input (exit 2)', async () => {
    const file = join(base, 'bad.json');
    writeFileSync(file, '{"v":1}');
    const r = await gnc('partner', 'add', '--dir', join(base, 'kg'), file, '--fingerprint', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error GNC_SCHEMA_INVALID: The identity file is not one that `gnc identity export` writes: /);
  });

  it('creates a token once and stores only its hash', async () => {
    const dir = join(base, 'kz');
    const r = await gnc('token', 'create', '--dir', dir, '--name', 'single-window', '--scopes', 'submit,read', '--json');
    expect(r.code).toBe(0);
    const { token } = JSON.parse(r.stdout) as { token: string };
    const db = readFileSync(join(dir, 'gnc.sqlite'));
    expect(db.includes(Buffer.from(token))).toBe(false);
    expect((await gnc('token', 'create', '--dir', dir, '--name', 'x', '--scopes', 'root')).code).toBe(2);
  });
});
