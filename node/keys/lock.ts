/**
 * One key-writing command at a time per data dir. Two `gnc keys rotate` or `gnc keys revoke` at once (node or root)
 * could each make a key, sign a notice and queue it, and a revocation checks which key signs and which one a rotation
 * is moving to, which a rotation running beside it changes; two `gnc init` at once (two operators, a script run twice)
 * could each write keys of their own, and one whose disk write takes long would find the other's key file in the way.
 * Such a command holds a lock file in the data dir for its whole run (`rotation.lock` for rotate and revoke, `init.lock`
 * for init), created exclusively (a private file, written whole, then hard-linked to that name, which fails when it
 * exists, as O_EXCL does, so no run ever reads half a lock), naming the process and the command that hold it. A lock
 * whose process is gone (killed, a power loss) is stale: the next run takes it over, so a crash never blocks the
 * command; one whose process runs, or that another host wrote, is refused with a sentence that says what to do.
 */
import { linkSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UtcTimestamp } from '../../protocol/envelope/payload.js';
import { GncError } from '../../protocol/errors.js';
import { tempPathOf, writeSyncedFile } from '../../certs/durable-file.js';
import { PRIVATE_FILE_MODE } from '../../certs/key-files.js';
import { processAlive } from '../store/lease.js';

export const ROTATION_LOCK = 'rotation.lock';
export const INIT_LOCK = 'init.lock';

const RECORDING = "recording the root successions of this data dir's database in identity/root-successions.json";

/** The commands that hold a lock, and what the refusal of another run says each is doing. */
const DOING = {
  'gnc keys rotate': 'rotating a key of this data dir',
  'gnc keys revoke': 'revoking a key of this data dir',
  'gnc init': 'making the identity of this data dir',
  // for a moment, when the database holds root successions identity/root-successions.json lacks (node/keys/service.ts recordHeld)
  'gnc start': RECORDING,
  'gnc keys status': RECORDING,
  'gnc audit export': RECORDING,
} as const;
type LockCommand = keyof typeof DOING;
/** The commands that hold the rotation lock only to copy root successions into identity/ (recordHeld): nothing of theirs is left to complete. */
const RECORDS: ReadonlySet<string> = new Set(['gnc start', 'gnc keys status', 'gnc audit export'] satisfies LockCommand[]);
/** The commands that take the rotation lock (every one but `gnc init`). */
export type RotationLockCommand = Exclude<LockCommand, 'gnc init'>;

/** `command`: the one holding it (a rotation lock written before it was named: `gnc keys rotate`). */
const DirLock = z.strictObject({ pid: z.number().int().positive(), host: z.string(), since: UtcTimestamp, command: z.string().optional() });
type DirLock = z.infer<typeof DirLock>;

/** Run `fn` (the `command` named) holding the data dir's rotation lock; GNC_CONFLICT when another live process holds it. */
export function withRotationLock<T>(dir: string, fn: () => Promise<T>, command: RotationLockCommand = 'gnc keys rotate'): Promise<T> {
  return withDirLock(join(dir, ROTATION_LOCK), command, fn);
}

/** Run `fn` (a `gnc init`) holding the data dir's init lock; GNC_CONFLICT when another live process holds it. */
export function withInitLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  return withDirLock(join(dir, INIT_LOCK), 'gnc init', fn);
}

async function withDirLock<T>(path: string, command: LockCommand, fn: () => Promise<T>): Promise<T> {
  const mine = takeLock(path, command);
  try {
    return await fn();
  } finally {
    // only this run's own lock: one taken over as stale meanwhile (it never is, while this process lives) stays
    if (readText(path) === mine) rmSync(path, { force: true });
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function takeLock(path: string, command: LockCommand): string {
  const text = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), command } satisfies DirLock) + '\n';
  const tmp = tempPathOf(path);
  // on disk before it has its name: a lock a power loss leaves empty is no process's, so it would be refused (busy)
  // until deleted by hand, where a whole one is taken over as stale
  writeSyncedFile(tmp, text, PRIVATE_FILE_MODE, true);
  try {
    // a few rounds: a lock may end, or be taken over by another run, between two of these steps
    for (let round = 0; round < 3; round++) {
      try {
        linkSync(tmp, path);
        return text;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = readText(path);
      if (held === undefined) continue;
      const lock = parseLock(held);
      if (lock === undefined || lock.host !== hostname() || processAlive(lock.pid)) throw busy(path, lock, command);
      breakStale(path, held);
    }
    throw busy(path, parseLock(readText(path) ?? ''), command);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function parseLock(text: string): DirLock | undefined {
  try {
    const parsed = DirLock.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Remove the stale lock `held`, unless another run replaced it meanwhile: moved aside first (one run moves a given file),
 * and put back when what was moved is not the stale lock read.
 */
function breakStale(path: string, held: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (readText(aside) !== held) {
    try {
      linkSync(aside, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  rmSync(aside, { force: true });
}

/** `caller`: the command refused; a lock that names none is its kind's (a rotation lock: `gnc keys rotate`). */
function busy(path: string, lock: DirLock | undefined, caller: LockCommand): GncError {
  const command = lock?.command ?? (caller === 'gnc init' ? caller : 'gnc keys rotate');
  const doing = command in DOING ? DOING[command as LockCommand] : 'writing keys of this data dir';
  const who = lock === undefined ? `another \`${command}\`` : `another \`${command}\` (process ${lock.pid} on ${lock.host}, since ${lock.since})`;
  return new GncError(
    'GNC_CONFLICT',
    `${path} says ${who} is ${doing}: wait until it has ended, then run the command again${RECORDS.has(command) ? ' (that run holds it only for a moment)' : ' (it completes whatever that run left undone)'}. If no such command runs (the process is another program, or the file came with a copy of the data dir from another host), delete ${path} and run the command again.`,
  );
}
