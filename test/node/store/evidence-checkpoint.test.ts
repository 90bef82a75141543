/**
 * The evidence log signs a checkpoint every CHECKPOINT_EVERY_ENTRIES entries, in a microtask after the append
 * that reaches the mark. A checkpoint that cannot be made then (its write fails on a full disk, or signing
 * fails) must not escape as an uncaught exception, which would end the node: the next append tries again. The
 * mark counts from the last checkpoint in the table, also the entries of a run that ended without one (a crash).
 * A running node also signs one every CHECKPOINT_EVERY_MS when there are new entries (SPEC 9.3), so the entries
 * of a quiet node do not wait for a thousand more to be pinned.
 */
import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keyObjectSigner, type Signer } from '../../../protocol/envelope/seal.js';
import { openDb, type Db } from '../../../node/store/db.js';
import { CHECKPOINT_EVERY_ENTRIES, CHECKPOINT_EVERY_MS, EvidenceLog } from '../../../node/store/evidence.js';
import { tempDir } from '../../helpers/network.js';

let dir: string | undefined;
let db: Db | undefined;
const uncaught: unknown[] = [];
const onUncaught = (e: unknown): void => void uncaught.push(e);

afterEach(() => {
  vi.useRealTimers();
  process.off('uncaughtException', onUncaught);
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('evidence checkpoints', () => {
  it('survives a checkpoint that fails, and makes it at the next append', async () => {
    process.on('uncaughtException', onUncaught);
    dir = tempDir('gnc-ev-');
    db = openDb(join(dir, 'gnc.sqlite'));
    const good = keyObjectSigner('kid-1', generateKeyPairSync('ed25519').privateKey);
    let broken = true;
    const signer = (): Signer => (broken ? { kid: 'kid-1', sign: () => { throw new Error('disk full'); } } : good);
    const log = new EvidenceLog(db, 'KZ', signer);
    const sha = 'a'.repeat(64);
    for (let i = 0; i < CHECKPOINT_EVERY_ENTRIES; i++) db.transaction(() => log.append('sent', `m-${i}`, 'KG', sha))();
    await new Promise((r) => setImmediate(r)); // the checkpoint's microtask has run, and failed
    expect(uncaught).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) FROM checkpoints').pluck().get()).toBe(0);
    broken = false;
    db.transaction(() => log.append('sent', 'm-last', 'KG', sha))();
    await new Promise((r) => setImmediate(r));
    expect(db.prepare('SELECT seq FROM checkpoints').pluck().all()).toEqual([CHECKPOINT_EVERY_ENTRIES + 1]);
  });

  it('counts the entries a run that ended without a checkpoint (a crash) left unpinned towards the next one', async () => {
    dir = tempDir('gnc-ev-');
    db = openDb(join(dir, 'gnc.sqlite'));
    const signer = keyObjectSigner('kid-1', generateKeyPairSync('ed25519').privateKey);
    const sha = 'a'.repeat(64);
    const crashed = new EvidenceLog(db, 'KZ', () => signer);
    db.transaction(() => {
      for (let i = 1; i < CHECKPOINT_EVERY_ENTRIES; i++) crashed.append('sent', `m-${i}`, 'KG', sha);
    })();
    await new Promise((r) => setImmediate(r));
    expect(db.prepare('SELECT COUNT(*) FROM checkpoints').pluck().get()).toBe(0);
    // the process was killed: no checkpoint at shutdown; the next run appends the entry that reaches the mark
    const next = new EvidenceLog(db, 'KZ', () => signer);
    db.transaction(() => next.append('sent', 'm-last', 'KG', sha))();
    await new Promise((r) => setImmediate(r));
    expect(db.prepare('SELECT seq FROM checkpoints').pluck().all()).toEqual([CHECKPOINT_EVERY_ENTRIES]);
  });

  it('signs a checkpoint every CHECKPOINT_EVERY_MS while there are new entries, far fewer than the mark', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    dir = tempDir('gnc-ev-');
    db = openDb(join(dir, 'gnc.sqlite'));
    const signer = keyObjectSigner('kid-1', generateKeyPairSync('ed25519').privateKey);
    const log = new EvidenceLog(db, 'KZ', () => signer);
    const sha = 'a'.repeat(64);
    const checkpoints = (): number[] => db!.prepare('SELECT seq FROM checkpoints ORDER BY seq').pluck().all() as number[];
    log.start();
    for (const id of ['m-1', 'm-2', 'm-3']) db.transaction(() => log.append('received', id, 'KG', sha))();
    vi.advanceTimersByTime(CHECKPOINT_EVERY_MS);
    expect(checkpoints()).toEqual([3]);
    vi.advanceTimersByTime(CHECKPOINT_EVERY_MS); // nothing new: nothing signed
    expect(checkpoints()).toEqual([3]);
    db.transaction(() => log.append('receipt-sent', 'r-4', 'KG', sha))();
    log.stop();
    vi.advanceTimersByTime(CHECKPOINT_EVERY_MS); // stopped: the node signs its last one at shutdown
    expect(checkpoints()).toEqual([3]);
  });
});
