/**
 * One `gnc keys rotate` or `gnc keys revoke` at a time per data dir: two rotations at once (node or root) could each make
 * a key, sign a notice and queue it, and a revocation checks which key signs and which one a rotation is moving to, which
 * a rotation running beside it changes. A rotation holds `rotation.lock` in the data dir for its whole run, created exclusively (a private file, written
 * whole, then hard-linked to that name, which fails when it exists, as O_EXCL does, so no run ever reads half a lock),
 * naming the process and the command that hold it. A lock whose process is gone (killed, a power loss) is stale: the next run takes it
 * over, so a crash never blocks rotations; one whose process runs, or that another host wrote, is refused with a
 * sentence that says what to do.
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

/** `command`: `gnc keys rotate` or `gnc keys revoke` (a lock written before it was named: a rotation). */
const RotationLock = z.strictObject({ pid: z.number().int().positive(), host: z.string(), since: UtcTimestamp, command: z.string().optional() });
type RotationLock = z.infer<typeof RotationLock>;

/** Run `fn` (the `command` named) holding the data dir's rotation lock; GNC_CONFLICT when another live process holds it. */
export async function withRotationLock<T>(dir: string, fn: () => Promise<T>, command = 'gnc keys rotate'): Promise<T> {
  const path = join(dir, ROTATION_LOCK);
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

function takeLock(path: string, command: string): string {
  const text = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), command } satisfies RotationLock) + '\n';
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
      if (lock === undefined || lock.host !== hostname() || processAlive(lock.pid)) throw busy(path, lock);
      breakStale(path, held);
    }
    throw busy(path, parseLock(readText(path) ?? ''));
  } finally {
    rmSync(tmp, { force: true });
  }
}

function parseLock(text: string): RotationLock | undefined {
  try {
    const parsed = RotationLock.safeParse(JSON.parse(text));
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

function busy(path: string, lock: RotationLock | undefined): GncError {
  const command = lock?.command ?? 'gnc keys rotate';
  const who = lock === undefined ? `another \`${command}\`` : `another \`${command}\` (process ${lock.pid} on ${lock.host}, since ${lock.since})`;
  return new GncError(
    'GNC_CONFLICT',
    `${path} says ${who} is ${command === 'gnc keys revoke' ? 'revoking' : 'rotating'} a key of this data dir: wait until it has ended, then run the command again (it completes whatever that run left undone). If no such command runs (the process is another program, or the file came with a copy of the data dir from another host), delete ${path} and run the command again.`,
  );
}
