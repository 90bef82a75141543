/**
 * `gnc init` after one that was interrupted, and beside another one. A crash after `keys/root.jwk` got its name and
 * before the node certificate was written left a dir every later init refused (GNC_IDENTITY_EXISTS) although it held no
 * usable identity; now the next init completes it with the keys that are there (never replaced: a root's fingerprint
 * may have been told already), and refuses what is no key or belongs to another identity, naming the file. Two inits on
 * one data dir do not run at once: the second is refused while the first holds `init.lock`, and a lock whose process
 * died is taken over. Real files in temp dirs made by the real writers, `gnc` run as a process as an operator runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { privateKeyToProtobuf, generateKeyPair } from '@libp2p/crypto/keys';
import { IDENTITY_PATHS, loadIdentity, newNodeKey, writeRootPublic } from '../../../certs/identity.js';
import { generateEd25519, PRIVATE_FILE_MODE, writePrivateFile, writePrivateKey } from '../../../certs/key-files.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';
import { NodeConfig, writeConfig } from '../../../node/config.js';
import { INIT_LOCK } from '../../../node/keys/lock.js';
import { expectError, gnc, killProcess, startProcess } from '../../helpers/cli.js';
import { tempDir, testListen, waitFor } from '../../helpers/network.js';

const base = tempDir('gnc-init-resume-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/**
 * A data dir as an init that died after it wrote its root key (and, with `more`, its node and libp2p keys) leaves it:
 * keys/ (0700) with those keys, identity/ with the root's public copies, no certificate, no config. Returns the root's
 * fingerprint.
 */
async function crashedAfterKeys(more = false): Promise<{ dir: string; root: string }> {
  const dir = join(base, `d${n++}`);
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'identity'));
  const root = generateEd25519();
  writePrivateKey(join(dir, IDENTITY_PATHS.rootKey), root);
  writeRootPublic(dir, publicJwkOf(root), true);
  if (more) {
    writePrivateKey(join(dir, IDENTITY_PATHS.nodeKey), generateEd25519());
    writePrivateFile(join(dir, IDENTITY_PATHS.libp2pKey), privateKeyToProtobuf(await generateKeyPair('Ed25519')));
  }
  return { dir, root: jwkThumbprint(publicJwkOf(root)) };
}

const init = (dir: string, country = 'KZ', name = 'Customs of KZ') => gnc('init', '--dir', dir, '--country', country, '--name', name, '--listen', testListen());

const keyFiles = [IDENTITY_PATHS.rootKey, IDENTITY_PATHS.nodeKey, IDENTITY_PATHS.libp2pKey];

function expectPrivate(dir: string): void {
  expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
  for (const p of keyFiles) expect(statSync(join(dir, p)).mode & 0o777, p).toBe(PRIVATE_FILE_MODE);
}

describe('gnc init after an init that was interrupted', () => {
  it('completes the identity around the root key it left: the same root, said in one line; the node starts and exports it', async () => {
    const { dir, root } = await crashedAfterKeys();
    const before = readFileSync(join(dir, IDENTITY_PATHS.rootKey), 'utf8');
    const r = await init(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('Resumed '))).toEqual([`Resumed an init of ${dir} that was interrupted: kept keys/root.jwk, made the rest and the node certificate.`]);
    expect(r.stdout).toContain(`root fingerprint: ${root}`);
    expect(readFileSync(join(dir, IDENTITY_PATHS.rootKey), 'utf8')).toBe(before);
    expectPrivate(dir);
    expect(existsSync(join(dir, INIT_LOCK))).toBe(false);
    const id = loadIdentity(dir);
    expect(id.root.thumbprint).toBe(root);
    const exported = await gnc('identity', 'export', '--dir', dir);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout).root.fingerprint).toBe(root);
    const { proc, url } = await startProcess(dir);
    try {
      expect((await fetch(`${url}/v1/health`)).ok).toBe(true);
    } finally {
      await killProcess(proc);
    }
    // complete now: a third init is refused, nothing replaced
    expectError(await init(dir), 2, 'GNC_IDENTITY_EXISTS');
    expect(loadIdentity(dir).certificate).toBe(id.certificate);
  });

  it('keeps every key it left (same peer id and node key), and one interrupted after its config completes with that config\'s administration only', async () => {
    const { dir, root } = await crashedAfterKeys(true);
    const keys = keyFiles.map((p) => readFileSync(join(dir, p)));
    // the config an init writes before the certificate, for another administration
    const listen = [testListen()];
    writeConfig(dir, NodeConfig.parse({ v: 1, country: 'KG', name: 'Customs of KG', listen, announce: listen, api: { host: '127.0.0.1', port: 0 } }));
    const other = await init(dir);
    expectError(other, 2, 'GNC_CONFIG_INVALID');
    expect(other.stderr).toContain(`${join(dir, 'gnc.json')}, written by a \`gnc init\` that was interrupted, is for KG "Customs of KG", not KZ "Customs of KZ"`);
    expect(existsSync(join(dir, IDENTITY_PATHS.certificate))).toBe(false);
    const r = await init(dir, 'KG', 'Customs of KG');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kept keys/root.jwk, keys/node.jwk, keys/libp2p.key,');
    expect(keyFiles.map((p) => readFileSync(join(dir, p)))).toEqual(keys);
    expectPrivate(dir);
    const id = loadIdentity(dir);
    expect([id.root.thumbprint, id.country, id.name]).toEqual([root, 'KG', 'Customs of KG']);
  });

  it('removes the temporary files the interrupted writes left: a second name of a kept key, a public copy never renamed', async () => {
    const { dir, root } = await crashedAfterKeys(true);
    const key = readFileSync(join(dir, IDENTITY_PATHS.rootKey));
    // a crash between the link that named keys/root.jwk and the unlink of its temporary name, and one before a public
    // copy's rename
    linkSync(join(dir, IDENTITY_PATHS.rootKey), join(dir, `${IDENTITY_PATHS.rootKey}.tmp`));
    writeFileSync(join(dir, 'identity', 'root.jwk.99999.tmp'), '{"kty":"OK');
    // no write of gnc leaves this one (another file under a key's temporary name): not init's to remove
    writeFileSync(join(dir, `${IDENTITY_PATHS.nodeKey}.tmp`), 'unknown', { mode: PRIVATE_FILE_MODE });
    const r = await init(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('made the rest and the node certificate; removed the temporary files it left: keys/root.jwk.tmp, identity/root.jwk.99999.tmp.');
    expect(existsSync(join(dir, `${IDENTITY_PATHS.rootKey}.tmp`))).toBe(false);
    expect(existsSync(join(dir, 'identity', 'root.jwk.99999.tmp'))).toBe(false);
    expect(readFileSync(join(dir, `${IDENTITY_PATHS.nodeKey}.tmp`), 'utf8')).toBe('unknown');
    expect(readFileSync(join(dir, IDENTITY_PATHS.rootKey))).toEqual(key);
    expect(statSync(join(dir, IDENTITY_PATHS.rootKey)).nlink).toBe(1);
    expectPrivate(dir);
    expect(loadIdentity(dir).root.thumbprint).toBe(root);
  });

  it('refuses a key that is no key, naming it and what to do, and leaves it', async () => {
    const { dir } = await crashedAfterKeys(true);
    rmSync(join(dir, IDENTITY_PATHS.libp2pKey));
    writeFileSync(join(dir, IDENTITY_PATHS.libp2pKey), 'garbage', { mode: PRIVATE_FILE_MODE });
    const r = await init(dir);
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain(`${join(dir, IDENTITY_PATHS.libp2pKey)}, a key of a \`gnc init\` that was interrupted, is not a private key: restore it from your key backup, or`);
    expect(readFileSync(join(dir, IDENTITY_PATHS.libp2pKey), 'utf8')).toBe('garbage');
    expect(existsSync(join(dir, IDENTITY_PATHS.certificate))).toBe(false);
  });

  it('refuses identity/ files of another root, of a root whose key is gone, and a dir that had a certificate', async () => {
    const mixed = await crashedAfterKeys();
    writeRootPublic(mixed.dir, publicJwkOf(generateEd25519()), true);
    const r1 = await init(mixed.dir);
    expectError(r1, 2, 'GNC_CONFIG_INVALID');
    expect(r1.stderr).toMatch(/identity\/root(-\S+)?\.jwk is the public key of root \S+, not of \S+keys\/root\.jwk \(root \S+\): the dir holds files of two identities/);

    const offline = await crashedAfterKeys();
    rmSync(join(offline.dir, IDENTITY_PATHS.rootKey));
    const r2 = await init(offline.dir);
    expectError(r2, 4, 'GNC_IDENTITY_MISSING');
    expect(r2.stderr).toContain(`is the public key of root ${offline.root}, whose private key is not in ${offline.dir}/keys`);
    expect(existsSync(join(offline.dir, IDENTITY_PATHS.rootKey))).toBe(false);

    const rotated = await crashedAfterKeys(true);
    const kid = newNodeKey(rotated.dir).thumbprint;
    const r3 = await init(rotated.dir);
    expectError(r3, 4, 'GNC_IDENTITY_MISSING');
    expect(r3.stderr).toContain(`keys/node-${kid}.jwk is a file of a node that had a certificate`);
  });
});

/** A process that holds the init lock of `dir` as `gnc init` does (the real lock code, from dist/), until killed. */
async function holdInitLock(dir: string): Promise<ChildProcess> {
  const lock = new URL('../../../dist/node/keys/lock.js', import.meta.url).href;
  const code = `const { withInitLock } = await import(${JSON.stringify(lock)}); await withInitLock(${JSON.stringify(dir)}, () => new Promise(() => { console.log('held'); setInterval(() => {}, 1000); }));`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => (out.includes('held') ? true : undefined), 10_000, 'the lock holder');
  return proc;
}

describe('two gnc init on one data dir', () => {
  it('refuses the second while the first holds init.lock, writing nothing; takes over the lock once its process is gone', async () => {
    const dir = join(base, `d${n++}`);
    mkdirSync(dir);
    const holder = await holdInitLock(dir);
    let killed = false;
    try {
      const r = await init(dir);
      expectError(r, 2, 'GNC_CONFLICT');
      expect(r.stderr).toContain(`${join(dir, INIT_LOCK)} says another \`gnc init\` (process ${holder.pid} on `);
      expect(r.stderr).toContain('is making the identity of this data dir: wait until it has ended');
      expect(existsSync(join(dir, 'keys'))).toBe(false);
      // SIGKILL: the lock stays, naming a process that is gone
      await killProcess(holder);
      killed = true;
      expect(existsSync(join(dir, INIT_LOCK))).toBe(true);
      const again = await init(dir);
      expect(again.code, again.stderr).toBe(0);
      expect(existsSync(join(dir, INIT_LOCK))).toBe(false);
      expect(loadIdentity(dir).country).toBe('KZ');
    } finally {
      if (!killed) await killProcess(holder);
    }
  });

  it('run at once, one makes the identity and the other is refused; the keys on disk are the ones the certificate names', async () => {
    const dir = join(base, `d${n++}`);
    const [a, b] = await Promise.all([init(dir), init(dir)]);
    expect([a.code, b.code].sort()).toEqual([0, 2]);
    expect((a.code === 0 ? b : a).stderr).toMatch(/^error (GNC_CONFLICT|GNC_IDENTITY_EXISTS): /);
    const id = loadIdentity(dir);
    expect((a.code === 0 ? a : b).stdout).toContain(`peer id:          ${id.peerId}`);
    expectPrivate(dir);
  });
});
