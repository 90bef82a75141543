/**
 * The files and data dir a CLI user names: a path that does not exist is GNC_NOT_FOUND (exit 4) with the path, one
 * that cannot be read (a folder, no permission) GNC_FILE_ACCESS (exit 2) with the reason;
 * a --dir that holds no node is said to be one before anything is created in it. An --out file never replaces
 * an existing file unless the user adds --force (an evidence bundle or a signed agreement overwritten by a
 * re-run is lost evidence), and is written whole or not at all.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { placeSyncedFile, syncFile, writeFileDurable } from '../../certs/durable-file.js';
import { GncError } from '../../protocol/errors.js';
import { readConfig } from '../config.js';
import { Store } from '../store/store.js';

/** The store of the node in `dir` (GNC_IDENTITY_MISSING when `dir` is no node's data dir: nothing is created). */
export function openNodeStore(dir: string): Store {
  readConfig(dir);
  return Store.open(dir);
}

/**
 * A file the user named, as strict UTF-8 text. `what` names it in the not-found sentence ("identity file"), `hint`
 * ends that sentence with what to pass instead.
 */
export function readInputFile(path: string, { what, hint }: { what?: string; hint?: string } = {}): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    // a folder or a file this user may not read is not "not found": the file system's own reason, which the
    // CLI reports as GNC_FILE_ACCESS naming the path (system-errors.ts), as for an --out file
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw Object.assign(err as NodeJS.ErrnoException, { path: path });
    throw new GncError('GNC_NOT_FOUND', `Cannot read ${what ? `${what} ` : ''}${path}: check the path${hint ? `, and ${hint}` : ''}.`);
  }
  try {
    // strict, as the API: a lenient decode turns a Latin-1 "Société" into "Soci\ufffdt\ufffd" and sends that
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // the code of the format it was meant to be in: XML by extension or a leading "<" (as send reads it), YAML
    // drafts by extension, JSON otherwise (SPEC 7.2: XML that is not UTF-8 is GNC_XML_INVALID)
    const xml = /\.xml$/i.test(path) || bytes.toString('latin1').trimStart().startsWith('<');
    const code = xml ? 'GNC_XML_INVALID' : /\.ya?ml$/i.test(path) ? 'GNC_CONFIG_INVALID' : 'GNC_INVALID_JSON';
    throw new GncError(code, `${path} is not UTF-8: save it as UTF-8 and try again.`);
  }
}

/**
 * `mkdir -p dir` with `mode` on each folder it creates, one level at a time. Node 20's recursive mkdirSync never
 * returns for a path under a file system that answers ENOENT for a folder it cannot make although its parent
 * exists (/proc, /sys: libuv makes the parent again and retries, forever); here such a path is refused.
 */
export function makeDirs(dir: string, mode: number): void {
  // a file named as the folder: said of it, not of the first file init would write in it (init.lock.<pid>.tmp)
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new GncError('GNC_FILE_ACCESS', `${dir} is a file, not a folder: give --dir a folder (gnc init makes a missing one).`);
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder, { mode });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(folder).isDirectory()) continue; // made meanwhile by another process
      if (code === 'ENOENT') throw new GncError('GNC_FILE_ACCESS', `Cannot create the folder ${folder} (this file system does not hold folders there): choose another place for the data dir.`, { cause: err });
      throw Object.assign(err as NodeJS.ErrnoException, { path: folder });
    }
  }
}

/** The option every command with --out takes beside it. */
export const FORCE_OPTION = { force: { type: 'boolean' } } as const;

function outExists(path: string): GncError {
  return new GncError('GNC_FILE_ACCESS', `${path} already exists: choose another --out file, or add --force to replace it.`);
}

/** A path with symbolic links and `..` resolved: of the whole path for a folder, else of its folder. */
function realPath(path: string, folder = false): string {
  const abs = resolve(path);
  try {
    return folder ? realpathSync(abs) : join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/**
 * Whether `path` is one of the files the node in `dir` runs on: its config and database (gnc.json, gnc.sqlite
 * and its -wal/-shm/-journal) or anything under keys/ and identity/. An --out file never replaces one, not even
 * with --force: `--out keys/root.jwk --force` would put a public export where the root's private key was, and
 * a database renamed over the live gnc.sqlite no longer matches its WAL.
 */
function isNodeFile(path: string, dir: string): boolean {
  const rel = relative(realPath(dir, true), realPath(path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return false;
  const [top] = rel.split(sep);
  return top === 'keys' || top === 'identity' || (rel === top && /^gnc\./.test(top));
}

/**
 * Refuses an existing --out file before the command does its work (a root signature, a large export), so a
 * refusal never comes after something was signed or stored. `writeOutFile` checks again when it writes. With
 * the node's `dir`, an --out file that is one of the node's own files is refused too, whatever `force` says.
 */
export function checkOutFile(path: string | undefined, force: boolean | undefined, dir?: string): void {
  if (path === undefined) return;
  if (dir !== undefined && isNodeFile(path, dir)) {
    throw new GncError('GNC_FILE_ACCESS', `${path} is one of the node's own files in ${dir} (its config, database, keys or identity): choose an --out file outside them.`);
  }
  // a folder is no file to replace: naming --force would send the user to a second refusal
  if (existsSync(path) && statSync(path).isDirectory()) throw new GncError('GNC_FILE_ACCESS', `${path} is a directory: give a file path for --out.`);
  if (!force && existsSync(path)) throw outExists(path);
}

/** Where an --out file is prepared before it is put in place: beside it (same volume), hidden, per process. */
export function tempOutFile(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

/**
 * Puts a prepared file in place as `path`, on disk first and its name after (certs/durable-file.ts): with `force` by
 * rename (the old file stays whole until then); without, by a hard link, which never replaces a file, even one that
 * appeared since `checkOutFile`. The temporary file is gone afterwards, whatever happened. Errors name `path`, not the
 * temporary file.
 */
export function placeOutFile(tmp: string, path: string, force: boolean | undefined): void {
  try {
    syncFile(tmp);
    placeSyncedFile(tmp, path, !force);
  } catch (err) {
    rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && !force) throw outExists(path);
    throw Object.assign(err as NodeJS.ErrnoException, { path });
  }
}

/** Writes an --out file whole or not at all (a failed write leaves neither a partial file nor a temporary one). */
export function writeOutFile(path: string, text: string, force: boolean | undefined): void {
  try {
    writeFileDurable(path, text, { mode: 0o666, noClobber: !force, tmp: tempOutFile(path) });
  } catch (err) {
    // the link's EEXIST (a file at `path`); the temporary file's is named as `path` like any other failure
    const e = err as NodeJS.ErrnoException & { dest?: string };
    if (e.code === 'EEXIST' && e.dest === path) throw outExists(path);
    throw Object.assign(e, { path });
  }
}
