/**
 * SQLite's "database or disk is full" (SQLITE_FULL) as the node's own error: the one storage failure an
 * operator can fix, by freeing space on the volume that holds the data dir. SQLite then rolls the statement
 * or the whole transaction back, so the sentence can say that nothing of the request was stored.
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { GncError } from '../../protocol/errors.js';

export function isStorageFull(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === 'SQLITE_FULL';
}

/** GNC_STORAGE_FULL for SQLITE_FULL; any other error unchanged. */
export function storageError(err: unknown): unknown {
  if (!isStorageFull(err)) return err;
  return new GncError(
    'GNC_STORAGE_FULL',
    `The node's database cannot grow: the volume holding its data dir is full (${(err as Error).message}). Nothing of this was stored; free space on that volume, then retry.`,
    { cause: err },
  );
}

/**
 * SQLite cannot open the node's database (`file`, in data dir `dir`) for writing: it says only "unable to open
 * database file" or "disk I/O error", which reads as a bug. The usual causes are the operator's to fix: the
 * volume is mounted read-only (or was remounted so after I/O errors), the data dir belongs to another user
 * (SQLite creates gnc.sqlite-wal and gnc.sqlite-shm beside the database), or the volume is full. Told as such,
 * naming the path; any other failure is passed on unchanged.
 */
export function openFailure(err: unknown, dir: string, file: string): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !/^SQLITE_(CANTOPEN|READONLY|IOERR|FULL)/.test(code)) return err;
  const why = `${(err as Error).message}, ${code}`;
  for (const path of [dir, join(dir, file)]) {
    try {
      accessSync(path, constants.W_OK);
    } catch (denied) {
      const reason = (denied as NodeJS.ErrnoException).code;
      if (reason === 'EROFS') {
        return new GncError('GNC_FILE_ACCESS', `${path} is on a read-only file system, and the node's database must be written (${why}): mount the data dir's volume read-write, then run the command again.`, { cause: err });
      }
      if (reason === 'EACCES' || reason === 'EPERM') {
        return new GncError('GNC_FILE_ACCESS', `${path} may not be written by this user, and the node's database needs it (${why}; SQLite writes ${file}-wal and ${file}-shm beside ${file}): run as the node's user or fix the permissions.`, { cause: err });
      }
    }
  }
  try {
    if (statfsSync(dir).bavail === 0) {
      return new GncError('GNC_STORAGE_FULL', `The volume holding ${dir} is full, so the node's database cannot be opened (${why}): free space on that volume, then run the command again.`, { cause: err });
    }
  } catch {
    // no answer from the file system: the original failure stands
  }
  return err;
}
