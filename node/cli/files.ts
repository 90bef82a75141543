/**
 * The files and data dir a CLI user names: a path that cannot be read is GNC_NOT_FOUND (exit 4) with the path;
 * a --dir that holds no node is said to be one before anything is created in it. An --out file never replaces
 * an existing file unless the user adds --force (an evidence bundle or a signed agreement overwritten by a
 * re-run is lost evidence), and is written whole or not at all.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GncError } from '../../protocol/errors.js';
import { readConfig } from '../config.js';
import { Store } from '../store/store.js';

/** The store of the node in `dir` (GNC_IDENTITY_MISSING when `dir` is no node's data dir: nothing is created). */
export function openNodeStore(dir: string): Store {
  readConfig(dir);
  return Store.open(dir);
}

export function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new GncError('GNC_NOT_FOUND', `Cannot read ${path}: check the path.`);
  }
}

/** The option every command with --out takes beside it. */
export const FORCE_OPTION = { force: { type: 'boolean' } } as const;

function outExists(path: string): GncError {
  return new GncError('GNC_FILE_ACCESS', `${path} already exists: choose another --out file, or add --force to replace it.`);
}

/**
 * Refuses an existing --out file before the command does its work (a root signature, a large export), so a
 * refusal never comes after something was signed or stored. `writeOutFile` checks again when it writes.
 */
export function checkOutFile(path: string | undefined, force: boolean | undefined): void {
  if (path !== undefined && !force && existsSync(path)) throw outExists(path);
}

/**
 * Writes an --out file. Without `force` the file is created exclusively (never replacing one that appeared
 * meanwhile); with it, a temporary file beside the target is renamed over it, so the old file stays whole if
 * the write fails. A failed write leaves no partial file behind.
 */
export function writeOutFile(path: string, text: string, force: boolean | undefined): void {
  const target = force ? join(dirname(path), `.${basename(path)}.${process.pid}.tmp`) : path;
  try {
    writeFileSync(target, text, { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && !force) throw outExists(path);
    if (code !== 'EEXIST') rmSync(target, { force: true });
    throw err;
  }
  if (!force) return;
  try {
    renameSync(target, path);
  } catch (err) {
    rmSync(target, { force: true });
    // name the file the user asked for, not the temporary one
    throw Object.assign(err as NodeJS.ErrnoException, { path });
  }
}
