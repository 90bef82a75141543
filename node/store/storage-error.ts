/**
 * SQLite's "database or disk is full" (SQLITE_FULL) as the node's own error: the one storage failure an
 * operator can fix, by freeing space on the volume that holds the data dir. SQLite then rolls the statement
 * or the whole transaction back, so the sentence can say that nothing of the request was stored.
 */
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
