/**
 * Group commit on a real SQLite file: units queued in one event-loop turn share one transaction, a failing
 * unit rolls back alone, and a failure that makes SQLite drop the whole transaction (a full disk) rejects
 * every unit of the batch and leaves nothing stored, not even the units queued after the failing one.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../node/store/db.js';
import { GroupCommit } from '../../../node/store/group-commit.js';
import { tempDir } from '../../helpers/network.js';

let dir: string;
let db: Db;
let commits: GroupCommit;

beforeEach(() => {
  dir = tempDir('gnc-gc-');
  db = openDb(join(dir, 'gnc.sqlite'));
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL)');
  commits = new GroupCommit(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const put = (k: string, bytes = 16) => () => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k, Buffer.alloc(bytes, 1)).changes;
const keys = (): string[] => (db.prepare('SELECT k FROM t ORDER BY k').pluck().all() as string[]);

describe('GroupCommit', () => {
  it('holds the write lock from the start of a batch: another process writing meanwhile waits, the batch is not lost', async () => {
    // a CLI command (gnc send, token create) writes the same file from another connection; in a deferred
    // transaction its commit between the batch's first read and first write fails the batch (SQLITE_BUSY_SNAPSHOT)
    const other = new Database(join(dir, 'gnc.sqlite'));
    other.pragma('busy_timeout = 0');
    let otherWrote = true;
    try {
      const r = await commits.run(() => {
        db.prepare('SELECT COUNT(*) FROM t').get(); // the batch reads first
        try {
          other.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('cli', Buffer.alloc(1));
        } catch (err) {
          expect((err as { code?: string }).code).toBe('SQLITE_BUSY'); // the CLI waits (busy_timeout) and retries
          otherWrote = false;
        }
        return put('node')();
      });
      expect(r).toBe(1);
    } finally {
      other.close();
    }
    expect(otherWrote).toBe(false);
    expect(keys()).toEqual(['node']);
  });

  it('commits the units of one turn in one transaction, each with its own result', async () => {
    const before = db.pragma('data_version', { simple: true });
    const all = await Promise.all([commits.run(put('a')), commits.run(put('b')), commits.run(() => 42)]);
    expect(all).toEqual([1, 1, 42]);
    expect(keys()).toEqual(['a', 'b']);
    expect(db.pragma('data_version', { simple: true })).toBe(before); // our own commits do not bump it
  });

  it('rolls a failing unit back alone: the others of its batch are stored', async () => {
    const results = await Promise.allSettled([
      commits.run(put('a')),
      commits.run(() => {
        put('b')();
        put('a')(); // duplicate key: this unit fails after writing 'b'
      }),
      commits.run(put('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(keys()).toEqual(['a', 'c']);
  });

  it('rejects the whole batch with GNC_STORAGE_FULL when the disk is full, and stores none of it', async () => {
    await commits.run(put('before'));
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`); // the volume is full now
    const results = await Promise.allSettled([commits.run(put('a')), commits.run(put('big', 200_000)), commits.run(put('c'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'GNC_STORAGE_FULL', message: expect.stringMatching(/free space/) });
    expect(keys()).toEqual(['before']);
    expect(db.inTransaction).toBe(false);
    // space is back: the next batch commits
    db.pragma('max_page_count = 1073741823');
    await expect(commits.run(put('after', 200_000))).resolves.toBe(1);
    expect(keys()).toEqual(['after', 'before']);
  });
});
