/**
 * Failures from outside the product's own checks (the file system, SQLite, the network stack), as the operator
 * can act on them: a code and a sentence naming the path or address, never a stack trace. What is not
 * recognised here stays GNC_INTERNAL.
 */
import { GncError, isGncError } from '../../protocol/errors.js';
import { storageError } from '../store/storage-error.js';

type SystemError = Error & { code?: unknown; path?: unknown; syscall?: unknown; hostname?: unknown };

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'does not exist (or its folder does not): check the path',
  ENOTDIR: 'has a file where a folder should be: check the path',
  EISDIR: 'is a directory: give a file path',
  EACCES: 'may not be accessed by this user: run as the node\'s user or fix the permissions',
  EPERM: 'may not be accessed by this user: run as the node\'s user or fix the permissions',
  EROFS: 'is on a read-only file system: choose a writable place',
  EEXIST: 'already exists: choose another path, or move the existing file away first',
};

export function asGncError(err: unknown): GncError {
  // SQLITE_FULL as the node maps it everywhere else (a command writing the store directly gets it raw)
  const stored = storageError(err);
  if (isGncError(stored)) return stored;
  const e = (err ?? {}) as SystemError;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = e.message ?? String(err);
  if (code === 'ENOSPC') return new GncError('GNC_STORAGE_FULL', `No space left on the volume: free space, then run the command again (${message}).`, { cause: err });
  if (code in FILE_PROBLEMS && typeof e.path === 'string') {
    return new GncError('GNC_FILE_ACCESS', `${e.path} ${FILE_PROBLEMS[code]}.`, { cause: err });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new GncError('GNC_CONFIG_INVALID', `Host ${typeof e.hostname === 'string' ? e.hostname : ''} does not resolve: give an IP address or a resolvable name.`, { cause: err });
  }
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') {
    return new GncError('GNC_CONFIG_INVALID', `Cannot listen (${code}): ${message}. Another node may be running on this data dir, or the address is not this host's: check the options and gnc.json.`, { cause: err });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new GncError('GNC_STORAGE_CORRUPT', `The node's database is not a database or is damaged (${code}): stop the node and restore its database from a \`gnc backup\` copy (README, "Run a real national node", step 7).`, { cause: err });
  }
  return new GncError('GNC_INTERNAL', `${message} (an unexpected failure: report it with the command you ran).`, { cause: err });
}
