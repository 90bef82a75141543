/**
 * Private key files of the data dir. Keys are written once with mode 0600 (exclusive create, so an existing
 * key is never overwritten) and read back as node:crypto KeyObjects; private key material never leaves the
 * data dir and is never logged. A key file readable by group or others is refused on load.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { GncError } from '../protocol/errors.js';
import { writeFileDurable } from './durable-file.js';

export const PRIVATE_FILE_MODE = 0o600;

export function generateEd25519(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/**
 * Write bytes to a new private file (mode 0600, refuses to overwrite), complete or not at all: the bytes go to
 * `<path>.tmp` (exclusive create, 0600), reach the disk, and only then get their name (a hard link, which refuses an
 * existing file as an exclusive create does), which reaches the disk too (certs/durable-file.ts). A crash leaves at most
 * the `.tmp` file, never a truncated or empty file under `path`.
 */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  try {
    writeFileDurable(path, data, { mode: PRIVATE_FILE_MODE, noClobber: true, tmp: `${path}.tmp` });
  } catch (err) {
    // the link's EEXIST (a file at `path`), not the create's (a `.tmp` file left by an interrupted write: named as such)
    const e = err as NodeJS.ErrnoException & { dest?: string };
    if (e.code === 'EEXIST' && e.dest === path) throw exists(path);
    throw err;
  }
}

function exists(path: string): GncError {
  return new GncError('GNC_IDENTITY_EXISTS', `${path} already exists: keys are never overwritten. Use a new --dir, or rotate keys with \`gnc keys rotate\`.`);
}

export function readPrivateFile(path: string): Buffer {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    // only a missing file is missing: one this user may not read (keys/ is 0700) is told as such by the caller
    // (GNC_FILE_ACCESS, "run as the node's user"). A data dir with a config but without its key gets no advice to
    // run `gnc init`, which refuses an initialised dir and would make a new identity that no partner has pinned.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new GncError('GNC_IDENTITY_MISSING', `${path} does not exist: restore it from your key backup (mode 0600; \`gnc backup\` does not hold keys).`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new GncError('GNC_CONFIG_INVALID', `${path} is readable by other users (mode ${(mode & 0o777).toString(8)}): run \`chmod 600 ${path}\`.`);
  }
  return readFileSync(path);
}

export function writePrivateKey(path: string, key: KeyObject): void {
  writePrivateFile(path, JSON.stringify(key.export({ format: 'jwk' })) + '\n');
}

export function readPrivateKey(path: string): KeyObject {
  const text = readPrivateFile(path).toString('utf8');
  try {
    const key = createPrivateKey({ key: JSON.parse(text) as import('node:crypto').JsonWebKey, format: 'jwk' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
    return key;
  } catch (err) {
    throw new GncError('GNC_CONFIG_INVALID', `${path} is not an Ed25519 private JWK: restore it from your backup.`, { cause: err });
  }
}
