/**
 * Private key files of the data dir. Keys are written once with mode 0600 (exclusive create, so an existing
 * key is never overwritten) and read back as node:crypto KeyObjects; private key material never leaves the
 * data dir and is never logged. A key file readable by group or others is refused on load.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { lstatSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { GncError } from '../protocol/errors.js';
import { writeFileDurable } from './durable-file.js';

export const PRIVATE_FILE_MODE = 0o600;

export function generateEd25519(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/**
 * A `.tmp` file must be at least this old to count as left by a crash: a younger one may be the write of another
 * command in progress on the same data dir (removing it would let that command link this one's key under its name).
 */
export const STALE_TEMP_MS = 2_000;

/**
 * Write bytes to a new private file (mode 0600, refuses to overwrite), complete or not at all: the bytes go to
 * `<path>.tmp` (exclusive create, 0600), reach the disk, and only then get their name (a hard link, which refuses an
 * existing file as an exclusive create does), which reaches the disk too (certs/durable-file.ts). A crash leaves at most
 * the `.tmp` file, never a truncated or empty file under `path`; the next write removes it when it is one such a write
 * left (staleTemp), else refuses naming it.
 */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp`;
  const write = (): void => writeFileDurable(path, data, { mode: PRIVATE_FILE_MODE, noClobber: true, tmp });
  try {
    try {
      write();
    } catch (err) {
      // the create's EEXIST (a `.tmp` file there), not the link's (which names the final file as its dest)
      const e = err as NodeJS.ErrnoException & { dest?: string };
      if (e.code !== 'EEXIST' || e.dest !== undefined) throw err;
      staleTemp(path, tmp);
      rmSync(tmp, { force: true });
      write();
    }
  } catch (err) {
    // the link's EEXIST (a file at `path`), not the create's (a `.tmp` file left by an interrupted write: named as such)
    const e = err as NodeJS.ErrnoException & { dest?: string };
    if (e.code === 'EEXIST' && e.dest === path) throw exists(path);
    throw err;
  }
}

/**
 * Whether `tmp`, found in place of the temporary file of `path`, is one a write of this file left when its process
 * died (a crash during `gnc init`): `path` does not exist, and `tmp` has the layout such a write gives it (a regular
 * file, not a symbolic link, of one name, this user's, private) and is older than STALE_TEMP_MS. Returns when it is
 * (the caller removes it); throws GNC_FILE_ACCESS, naming it, when it is not. Nothing is followed or opened.
 */
function staleTemp(path: string, tmp: string): void {
  if (lstatOrUndefined(path) !== undefined) throw exists(path);
  const st = lstatOrUndefined(tmp);
  if (st === undefined) return;
  const uid = process.getuid?.();
  const why = st.isSymbolicLink()
    ? 'is a symbolic link'
    : !st.isFile()
      ? 'is not a regular file'
      : st.nlink !== 1
        ? 'has other names (hard links)'
        : uid !== undefined && st.uid !== uid
          ? "belongs to another user"
          : process.platform !== 'win32' && (st.mode & 0o077) !== 0
            ? 'is readable by other users'
            : Date.now() - st.mtimeMs < STALE_TEMP_MS
              ? 'was written in the last seconds (another command may be writing this key now)'
              : undefined;
  if (why === undefined) return;
  throw new GncError('GNC_FILE_ACCESS', `${tmp} is in the way of writing ${path} and ${why}, so it is no temporary file a crashed gnc command left: check what it is and remove it (or wait until the other command ended), then run the command again.`);
}

/** The lstat of `path`, undefined when nothing is there. */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
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
