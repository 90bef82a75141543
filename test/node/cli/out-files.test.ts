/**
 * `--out FILE` never replaces an existing file unless the operator adds `--force`: a re-run must not overwrite
 * an evidence bundle, a signed agreement or an identity file by accident, and a refusal comes before the
 * command signs or stores anything.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedPairDirs, runCli, tempDir } from '../../helpers/network.js';

const examples = new URL('../../../examples/', import.meta.url).pathname;
const base = tempDir('gnc-out-');
let kz: string;

beforeAll(async () => {
  const dirs = await pinnedPairDirs(base);
  kz = dirs.KZ;
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

function existing(name: string): string {
  const file = join(base, name);
  writeFileSync(file, 'keep me\n');
  return file;
}

function expectRefused(r: { code: number; out: string[] }, file: string): void {
  expect(r.code, r.out.join('\n')).toBe(2);
  expect(r.out.join('\n')).toContain(`GNC_FILE_ACCESS: ${file} already exists`);
  expect(r.out.join('\n')).toContain('--force');
  expect(readFileSync(file, 'utf8')).toBe('keep me\n');
}

describe('--out and --force', () => {
  it('refuses to replace an existing file with an identity export (exit 2, GNC_FILE_ACCESS)', async () => {
    const file = existing('kz-identity.json');
    expectRefused(await runCli(['identity', 'export', '--dir', kz, '--out', file]), file);
  });

  it('replaces the file with --force and leaves no temporary file beside it', async () => {
    const file = existing('kz-identity-forced.json');
    const before = readdirSync(base).length;
    const r = await runCli(['identity', 'export', '--dir', kz, '--out', file, '--force']);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ country: 'KZ' });
    expect(readdirSync(base)).toHaveLength(before);
  });

  it('refuses an existing --out for agreement sign before the root signs anything', async () => {
    const draft = join(base, 'draft.json');
    expect((await runCli(['agreement', 'draft', '--dir', kz, join(examples, 'agreements', 'kz-kg-mra.json'), '--out', draft])).code).toBe(0);
    const file = existing('signed.json');
    expectRefused(await runCli(['agreement', 'sign', '--dir', kz, draft, '--out', file]), file);
    expect((await runCli(['agreement', 'list', '--dir', kz])).out.join('\n')).toContain('No agreements');
  });

  it('refuses to replace an existing file with a converted body, and replaces it with --force', async () => {
    const file = existing('aci.xml');
    const input = join(examples, 'messages', 'aci-kz-kg-road.json');
    expectRefused(await runCli(['convert', '--to', 'xml', input, '--out', file]), file);
    expect((await runCli(['convert', '--to', 'xml', input, '--out', file, '--force'])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^<\?xml/);
  });

  it('refuses a directory as --out with or without --force, saying to give a file path, not to add --force', async () => {
    const folder = join(base, 'backups');
    mkdirSync(folder);
    for (const force of [[], ['--force']]) {
      for (const args of [['backup', '--dir', kz], ['identity', 'export', '--dir', kz]]) {
        const r = await runCli([...args, '--out', folder, ...force]);
        expect(r.code, r.out.join('\n')).toBe(2);
        expect(r.out.join('\n')).toBe(`error GNC_FILE_ACCESS: ${folder} is a directory: give a file path for --out.`);
      }
    }
    expect(readdirSync(folder)).toEqual([]);
  });

  it("never replaces the node's own keys, identity, config or database, not even with --force", async () => {
    const cases: [string, string[]][] = [
      [join(kz, 'keys', 'root.jwk'), ['identity', 'export']],
      [join(kz, 'identity', '..', 'keys', 'node.jwk'), ['identity', 'export']],
      [join(kz, 'gnc.sqlite'), ['backup']],
      [join(kz, 'gnc.json'), ['audit', 'export']],
      [join(kz, 'identity', 'root.jwk'), ['agreement', 'draft', join(examples, 'agreements', 'kz-kg-mra.json')]],
    ];
    for (const [file, command] of cases) {
      const before = readFileSync(file);
      const r = await runCli([...command, '--dir', kz, '--out', file, '--force']);
      expect(r.code, r.out.join('\n')).toBe(2);
      expect(r.out.join('\n')).toMatch(/^error GNC_FILE_ACCESS: .* is one of the node's own files/);
      expect(readFileSync(file)).toEqual(before);
    }
    expect(statSync(join(kz, 'keys', 'root.jwk')).mode & 0o777).toBe(0o600);
    expect((await runCli(['keys', 'status', '--dir', kz])).code).toBe(0);
  });
});
