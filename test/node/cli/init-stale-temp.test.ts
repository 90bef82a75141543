/**
 * `gnc init` after one that crashed while it wrote a key: the crash left `keys/root.jwk.tmp` (the key's temporary file,
 * certs/key-files.ts) and no `keys/root.jwk`. The next `gnc init` removes it and makes the identity, where it failed
 * naming the file. What is not such a file is never removed nor followed: a symbolic link in its place (its target
 * untouched), a temporary file readable by others, one written in the last seconds; and a key already there is never
 * replaced (one that is no key is refused naming it). Real files in temp dirs, `gnc init` run as the CLI runs it.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { PRIVATE_FILE_MODE, STALE_TEMP_MS } from '../../../certs/key-files.js';
import { runCli, tempDir, testListen } from '../../helpers/network.js';

const base = tempDir('gnc-init-tmp-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/** A data dir as a `gnc init` that died writing its root key leaves it: keys/ (0700), identity/, and `root.jwk.tmp`. */
function crashedInit(tmp: (path: string) => void): { dir: string; tmp: string } {
  const dir = join(base, `d${n++}`);
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'identity'));
  const path = join(dir, 'keys', 'root.jwk.tmp');
  tmp(path);
  return { dir, tmp: path };
}

/** A half-written key file, as the crash left it, dated `ageMs` ago. */
function halfWritten(ageMs: number, mode = PRIVATE_FILE_MODE): (path: string) => void {
  return (path) => {
    writeFileSync(path, '{"crv":"Ed25519","d":"AAAA', { mode });
    const t = (Date.now() - ageMs) / 1000;
    utimesSync(path, t, t);
  };
}

const init = (dir: string): Promise<{ code: number; out: string[] }> =>
  runCli(['init', '--dir', dir, '--country', 'KZ', '--name', 'Customs of KZ', '--listen', testListen()]);

describe('gnc init after a crash left a key\'s temporary file', () => {
  it('removes a stale keys/root.jwk.tmp of its own layout and makes the identity', async () => {
    const { dir, tmp } = crashedInit(halfWritten(60_000));
    const r = await init(dir);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(existsSync(tmp)).toBe(false);
    expect(lstatSync(join(dir, 'keys', 'root.jwk')).mode & 0o777).toBe(PRIVATE_FILE_MODE);
    expect(loadIdentity(dir).country).toBe('KZ');
  });

  it('neither removes nor follows a symbolic link in its place: refused naming it, the target untouched', async () => {
    const target = join(base, 'elsewhere.txt');
    writeFileSync(target, 'not a key\n');
    const { dir, tmp } = crashedInit((path) => symlinkSync(target, path));
    const r = await init(dir);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toMatch(new RegExp(`^error GNC_FILE_ACCESS: ${tmp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in the way of writing \\S+root\\.jwk and is a symbolic link`));
    expect(lstatSync(tmp).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('not a key\n');
    expect(existsSync(join(dir, 'keys', 'root.jwk'))).toBe(false);
  });

  it('refuses one readable by others, and one written in the last seconds (another command may be writing it)', async () => {
    const wide = crashedInit(halfWritten(60_000, 0o644));
    const r1 = await init(wide.dir);
    expect(r1.out.join('\n')).toMatch(/^error GNC_FILE_ACCESS: .* is readable by other users/);
    expect(existsSync(wide.tmp)).toBe(true);
    const young = crashedInit(halfWritten(0));
    const r2 = await init(young.dir);
    expect(r2.out.join('\n')).toMatch(/^error GNC_FILE_ACCESS: .* was written in the last seconds/);
    expect(existsSync(young.tmp)).toBe(true);
    // once it is older, it counts as left by a crash
    const t = (Date.now() - STALE_TEMP_MS - 1_000) / 1000;
    utimesSync(young.tmp, t, t);
    expect((await init(young.dir)).code).toBe(0);
  });

  it('never replaces a key already there, not even one that is no key: refused naming it, the temporary file beside it stays', async () => {
    const { dir, tmp } = crashedInit(halfWritten(60_000));
    writeFileSync(join(dir, 'keys', 'root.jwk'), 'the key\n', { mode: PRIVATE_FILE_MODE });
    const r = await init(dir);
    expect(r.out.join('\n')).toMatch(/^error GNC_CONFIG_INVALID: \S+root\.jwk, a key of a `gnc init` that was interrupted, is not a private key: /);
    expect(readFileSync(join(dir, 'keys', 'root.jwk'), 'utf8')).toBe('the key\n');
    expect(existsSync(tmp)).toBe(true);
  });
});
