/**
 * The data dir's files outside SQLite are written whole or not at all (certs/durable-file.ts), on real files in temp
 * dirs: a write that fails part way (a file size limit, as a full disk does it; a writer that throws; a rename that
 * cannot happen) leaves the previous file as it was and no temporary file; a private file's temporary file is 0600
 * from its creation; a temporary file left by a process that had this pid is not written through.
 *
 * That the bytes and the name reach the disk (the fsyncs) is not observable without a power loss, and no test here
 * pretends to check it.
 */
import { execFile } from 'node:child_process';
import { chmodSync, fstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempPathOf, writeFileDurable } from '../../certs/durable-file.js';
import { PRIVATE_FILE_MODE, writePrivateFile } from '../../certs/key-files.js';
import { readRevocations, readRotation, recordRevocation, REVOCATIONS_FILE, ROTATION_FILE, writeRotation, type RotationState } from '../../certs/rotation.js';
import { readConfig, writeConfig, type NodeConfig } from '../../node/config.js';
import { tempDir } from '../helpers/network.js';

const run = promisify(execFile);
const base = tempDir('gnc-durable-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
function fresh(): string {
  const dir = join(base, `d${n++}`);
  mkdirSync(join(dir, 'identity'), { recursive: true });
  mkdirSync(join(dir, 'keys'), { mode: 0o700 });
  return dir;
}

/** Runs `umask` for the length of `fn` (vitest runs this file in a forked process, so the umask is its own). */
function withUmask<T>(umask: number, fn: () => T): T {
  const before = process.umask(umask);
  try {
    return fn();
  } finally {
    process.umask(before);
  }
}

const dist = (module: string): string => new URL(`../../dist/${module}`, import.meta.url).href;

/**
 * `code` (an ES module importing from dist/) in a process that may write no byte to any file (`ulimit -f 0`, SIGXFSZ
 * ignored): every write fails with EFBIG, as on a full disk, after the file was created or truncated.
 */
async function whereNothingFits(code: string): Promise<string> {
  try {
    await run('sh', ['-c', 'ulimit -f 0; trap "" XFSZ; exec "$0" --input-type=module -e "$1"', process.execPath, code], { timeout: 20_000 });
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error('the write succeeded where no byte fits');
}

const config = (country: string): NodeConfig => ({ v: 1, country, name: `Customs of ${country}`, listen: ['/ip4/127.0.0.1/tcp/4001'], announce: ['/ip4/127.0.0.1/tcp/4001'], api: { host: '127.0.0.1', port: 8080 } }) as NodeConfig;

const rotation = (to: string): RotationState => ({
  v: 1, from: 'A'.repeat(43), to, startedAt: '2026-11-24T00:00:00.000Z', overlapUntil: '2026-11-25T00:00:00.000Z', announcements: {}, announced: false,
});

describe('a write that fails part way leaves the previous file whole and no temporary file', () => {
  it('gnc.json, when the disk is full while it is replaced', async () => {
    const dir = fresh();
    writeConfig(dir, config('KZ'));
    const before = readFileSync(join(dir, 'gnc.json'), 'utf8');
    const err = await whereNothingFits(`
      const { readConfig, writeConfig } = await import(${JSON.stringify(dist('node/config.js'))});
      writeConfig(${JSON.stringify(dir)}, { ...readConfig(${JSON.stringify(dir)}), name: 'Renamed' });`);
    expect(err).toContain('EFBIG');
    expect(readFileSync(join(dir, 'gnc.json'), 'utf8')).toBe(before);
    expect(readConfig(dir).name).toBe('Customs of KZ');
    expect(readdirSync(dir).sort()).toEqual(['gnc.json', 'identity', 'keys']);
  });

  it('identity/revocations.json, when the disk is full while a revocation is added: the ones recorded stay', async () => {
    const dir = fresh();
    recordRevocation(dir, 'first.notice.jws');
    const err = await whereNothingFits(`
      const { recordRevocation } = await import(${JSON.stringify(dist('certs/rotation.js'))});
      recordRevocation(${JSON.stringify(dir)}, 'second.notice.jws');`);
    expect(err).toContain('EFBIG');
    expect(readRevocations(dir)).toEqual(['first.notice.jws']);
    expect(readdirSync(join(dir, 'identity'))).toEqual(['revocations.json']);
  });

  it('a new private key file, when the disk is full while it is written: no empty key under its name', async () => {
    const dir = fresh();
    const path = join(dir, 'keys', 'node.jwk');
    const err = await whereNothingFits(`
      const { writePrivateFile } = await import(${JSON.stringify(dist('certs/key-files.js'))});
      writePrivateFile(${JSON.stringify(path)}, '{"kty":"OKP"}');`);
    expect(err).toContain('EFBIG');
    expect(readdirSync(join(dir, 'keys'))).toEqual([]);
  });

  it('a writer that throws part way, and a rename that cannot happen (a folder at the path): the temporary file was 0600 throughout', () => {
    const dir = fresh();
    const path = join(dir, 'keys', 'secret.jwk');
    writeFileSync(path, 'old\n', { mode: PRIVATE_FILE_MODE });
    const modes: number[] = [];
    const see = (target: string) => (fd: number): void => {
      modes.push(fstatSync(fd).mode & 0o777, statSync(tempPathOf(target)).mode & 0o777);
      writeSync(fd, 'half of a ');
    };
    // umask 0: nothing narrows the mode the file is created with
    withUmask(0, () => {
      const interrupted = (fd: number): void => {
        see(path)(fd);
        throw new Error('interrupted');
      };
      expect(() => writeFileDurable(path, interrupted, { mode: PRIVATE_FILE_MODE })).toThrow('interrupted');
      expect(readFileSync(path, 'utf8')).toBe('old\n');
      expect(readdirSync(join(dir, 'keys'))).toEqual(['secret.jwk']);
      const folder = join(dir, 'keys', 'folder.jwk');
      mkdirSync(join(folder, 'inside'), { recursive: true });
      expect(() => writeFileDurable(folder, see(folder), { mode: PRIVATE_FILE_MODE })).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
      expect(readdirSync(join(dir, 'keys')).sort()).toEqual(['folder.jwk', 'secret.jwk']);
      expect(readdirSync(folder)).toEqual(['inside']);
      writeFileDurable(path, 'new\n', { mode: PRIVATE_FILE_MODE });
    });
    expect(modes).toEqual([0o600, 0o600, 0o600, 0o600]);
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('identity/rotation.json that cannot be replaced (a folder in its place): refused, no temporary file left', () => {
    const dir = fresh();
    mkdirSync(join(dir, ROTATION_FILE, 'inside'), { recursive: true });
    expect(() => writeRotation(dir, rotation('B'.repeat(43)))).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(join(dir, 'identity'))).toEqual(['rotation.json']);
    expect(readdirSync(join(dir, ROTATION_FILE))).toEqual(['inside']);
  });

  it('a private key file is never replaced: GNC_IDENTITY_EXISTS, the key as it was, no temporary file', () => {
    const dir = fresh();
    const path = join(dir, 'keys', 'root.jwk');
    writePrivateFile(path, 'the root\n');
    expect(() => writePrivateFile(path, 'another root\n')).toThrow(expect.objectContaining({ code: 'GNC_IDENTITY_EXISTS' }));
    expect(readFileSync(path, 'utf8')).toBe('the root\n');
    expect(readdirSync(join(dir, 'keys'))).toEqual(['root.jwk']);
  });
});

describe('a replaced file keeps what its operator made of it', () => {
  it('gnc.json keeps the mode it was given (0600), where a rename of a new 0640 file would widen it', () => {
    const dir = fresh();
    writeConfig(dir, config('KZ'));
    expect(statSync(join(dir, 'gnc.json')).mode & 0o777).toBe(0o640);
    chmodSync(join(dir, 'gnc.json'), 0o600);
    writeConfig(dir, { ...config('KZ'), name: 'Renamed' });
    expect(statSync(join(dir, 'gnc.json')).mode & 0o777).toBe(0o600);
    expect(readConfig(dir).name).toBe('Renamed');
  });
});

describe('a temporary file left by a process that had this pid', () => {
  it('is replaced, not written through: its wide mode and a symbolic link in its place reach no record', () => {
    const dir = fresh();
    withUmask(0o022, () => {
      // a leftover world-writable temporary file: the record gets the mode of identity/, not 0666
      writeFileSync(tempPathOf(join(dir, ROTATION_FILE)), 'leftover', { mode: 0o666 });
      chmodSync(tempPathOf(join(dir, ROTATION_FILE)), 0o666);
      writeRotation(dir, rotation('B'.repeat(43)));
      // a symbolic link where the temporary file goes: the file it points to is left alone
      const outside = join(dir, 'outside.txt');
      writeFileSync(outside, 'not the node\'s\n');
      symlinkSync(outside, tempPathOf(join(dir, REVOCATIONS_FILE)));
      recordRevocation(dir, 'first.notice.jws');
      expect(readFileSync(outside, 'utf8')).toBe('not the node\'s\n');
    });
    expect(readRotation(dir)?.to).toBe('B'.repeat(43));
    expect(statSync(join(dir, ROTATION_FILE)).mode & 0o777).toBe(0o644);
    expect(readRevocations(dir)).toEqual(['first.notice.jws']);
    expect(statSync(join(dir, REVOCATIONS_FILE)).isFile()).toBe(true);
    expect(readdirSync(join(dir, 'identity')).sort()).toEqual(['revocations.json', 'rotation.json']);
  });
});
