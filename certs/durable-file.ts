/**
 * The files of a data dir outside SQLite (keys/, identity/, gnc.json, rotation.lock, init.lock) and the CLI's --out files, written
 * whole and durably: the bytes go to a temporary file in the same folder, created exclusively with the final mode (a
 * private file is never readable by others, not even while it is written), reach the disk (fsync), and only then get
 * their name, by a rename over the old file or, where a file must never be replaced, by a hard link (EEXIST when
 * one is there); then the folder is synced, so the name survives a power loss too. A failed write removes its
 * temporary file and leaves the old file as it was. Without the syncs, ext4 (delayed allocation) may keep a renamed
 * name whose content never reached the disk: an empty key, certificate or revocation record after a crash.
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What a file's bytes are: text (UTF-8), bytes, or a writer given the open temporary file (a large or streamed file). */
export type FileContent = string | Uint8Array | ((fd: number) => void);

export interface DurableWriteOptions {
  /** The file's mode (umask applies), which its temporary file has from its creation. */
  mode: number;
  /** Never replace a file at the path: it keeps its content, and the write fails with EEXIST. */
  noClobber?: boolean;
  /**
   * The temporary file, in the same folder; by default `<path>.<pid>.tmp`, which a process that had this pid before
   * (killed, a power loss) may have left: it is removed. A named one is never removed before the write (its owner decides).
   */
  tmp?: string;
}

/** The default temporary file of `path` for this process. */
export function tempPathOf(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

/** Write `data` to `path` whole and durably, or not at all (see the top of this file). */
export function writeFileDurable(path: string, data: FileContent, opts: DurableWriteOptions): void {
  const tmp = opts.tmp ?? tempPathOf(path);
  writeSyncedFile(tmp, data, opts.mode, opts.tmp === undefined);
  placeSyncedFile(tmp, path, opts.noClobber ?? false);
}

/**
 * Create `tmp` exclusively with `mode`, write `data` and sync it to disk. Whatever fails after the create removes it;
 * with `stale`, one already there (left by a process that had this pid) is removed first.
 */
export function writeSyncedFile(tmp: string, data: FileContent, mode: number, stale = false): void {
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (err) {
    if (!stale || (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    rmSync(tmp, { force: true });
    fd = openSync(tmp, 'wx', mode);
  }
  try {
    try {
      if (typeof data === 'function') data(fd);
      else writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Sync `path` (a file written by other means, e.g. SQLite's VACUUM INTO) to disk. */
export function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Give the synced file `tmp` the name `path` (a rename over the old file, or with `noClobber` a hard link, EEXIST when
 * `path` exists) and sync the folder. `tmp` is gone afterwards, whatever happened.
 */
export function placeSyncedFile(tmp: string, path: string, noClobber: boolean): void {
  try {
    if (noClobber) linkSync(tmp, path);
    else renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  syncDir(dirname(path));
}

/**
 * A folder's sync that a file system or its permissions do not offer (a folder this user may write but not read, a
 * network file system): the file is in place by then, so its write is not reported as failed. An I/O error is.
 */
const NO_FOLDER_SYNC = new Set(['EACCES', 'EPERM', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EBADF']);

/** Sync a folder, so that the names created, renamed or removed in it survive a power loss. */
export function syncDir(dir: string): void {
  // Windows cannot open a folder for fsync; NTFS journals its names
  if (process.platform === 'win32') return;
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (err) {
    if (NO_FOLDER_SYNC.has((err as NodeJS.ErrnoException).code ?? '')) return;
    throw err;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    if (!NO_FOLDER_SYNC.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    closeSync(fd);
  }
}
