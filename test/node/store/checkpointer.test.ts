/**
 * WAL checkpoints off the main thread (node/store/checkpointer.ts), on real SQLite files: under a few thousand
 * group commits the node's connection never checkpoints (auto-checkpoint off) and the worker's checkpoints keep
 * the WAL bounded; a WAL the worker cannot reset (a reader pins an old snapshot) and a worker that dies both give
 * the node its auto-checkpoint back; a started node runs the worker and a stopped one leaves none.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTO_CHECKPOINT_PAGES } from '../../../node/store/checkpointer.js';
import { Store } from '../../../node/store/store.js';
import { initNode, startTestNode, tempDir, waitFor } from '../../helpers/network.js';

let dir: string;
let store: Store;
let lines: string[];
const log = (m: string): void => void lines.push(m);

beforeEach(() => {
  dir = tempDir('gnc-ckpt-');
  store = Store.open(dir);
  store.db.exec('CREATE TABLE filler (k INTEGER PRIMARY KEY, v BLOB NOT NULL)');
  lines = [];
});
afterEach(async () => {
  await store.stopCheckpoints();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const wal = (): string => join(dir, 'gnc.sqlite-wal');
const autoCheckpoint = (): number => store.db.pragma('wal_autocheckpoint', { simple: true }) as number;
let next = 0;
/**
 * `n` group commits of `perCommit` rows of 2 KB, as concurrent arrivals make them, `gapMs` apart (a node's commits
 * are separated by the work of its messages: sealing, checks, the network); the largest WAL file seen.
 */
async function load(n: number, perCommit = 8, gapMs = 0): Promise<number> {
  const insert = store.db.prepare('INSERT INTO filler (k, v) VALUES (?, ?)');
  let largest = 0;
  for (let i = 0; i < n; i++) {
    await Promise.all(Array.from({ length: perCommit }, () => store.commits.run(() => insert.run(next++, Buffer.alloc(2048, next)))));
    largest = Math.max(largest, statSync(wal()).size);
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return largest;
}

describe('Checkpointer', () => {
  it('keeps checkpoints out of the node\'s commits and the WAL bounded under a few thousand inserts', async () => {
    const c = store.startCheckpoints({ log });
    expect(autoCheckpoint()).toBe(0);
    const pageSize = store.db.pragma('page_size', { simple: true }) as number;
    const largest = await load(500, 8, 1); // 4,000 rows of 2 KB: some 5,300 WAL frames, 22 MB
    // the node's connection never checkpointed (auto-checkpoint never given back) and the worker's checkpoints let it
    // start the WAL over: without them it would hold every page written
    expect(c.stats.handovers).toBe(0);
    expect(autoCheckpoint()).toBe(0);
    expect(c.stats.restarts).toBeGreaterThan(0);
    expect(largest).toBeLessThan(3 * AUTO_CHECKPOINT_PAGES * (pageSize + 24));
    expect(lines).toEqual([]);
  });

  it('keeps the WAL bounded under commits back to back, the node\'s commits copying only the last frames', async () => {
    const c = store.startCheckpoints({ log });
    const pageSize = store.db.pragma('page_size', { simple: true }) as number;
    const largest = await load(500);
    // the worker's checkpoints started the WAL over more often than the node's commits were asked to finish one
    expect(c.stats.restarts).toBeGreaterThan(c.stats.handovers);
    expect(largest).toBeLessThan(3 * AUTO_CHECKPOINT_PAGES * (pageSize + 24));
    expect(lines).toEqual([]);
  });

  it('gives the node its auto-checkpoint back while a reader pins the WAL, and takes it again once it was started over', async () => {
    store.startCheckpoints({ log, pages: 50, limitPages: 300, pollMs: 5 });
    await load(10);
    // a CLI command reading beside the node: no checkpoint can copy past its snapshot, the WAL cannot start over
    const reader = new Database(join(dir, 'gnc.sqlite'), { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM filler').get();
    await load(100);
    await waitFor(() => autoCheckpoint() === AUTO_CHECKPOINT_PAGES || undefined, 5000, 'auto-checkpoint back on');
    expect(lines.join('\n')).toMatch(/outgrew the checkpoint worker/);
    reader.exec('COMMIT');
    reader.close();
    await waitFor(async () => (await load(1), autoCheckpoint() === 0 || undefined), 10_000, 'auto-checkpoint off again');
  });

  it('falls back to auto-checkpoint, and says so, when the worker dies', async () => {
    const c = store.startCheckpoints({ log });
    expect(autoCheckpoint()).toBe(0);
    await c.worker.terminate();
    await waitFor(() => !c.running || undefined, 5000, 'the worker to exit');
    expect(autoCheckpoint()).toBe(AUTO_CHECKPOINT_PAGES);
    expect(lines.join('\n')).toMatch(/checkpoint worker failed/);
    // the node's commits keep the WAL bounded on their own
    const pageSize = store.db.pragma('page_size', { simple: true }) as number;
    expect(await load(300)).toBeLessThan(2 * AUTO_CHECKPOINT_PAGES * (pageSize + 24));
  });
});

describe('a node and its checkpoint worker', () => {
  it('runs the worker while it runs and leaves none, nor its connection, once stopped', async () => {
    const base = tempDir('gnc-ckpt-node-');
    try {
      const nodeDir = await initNode(base, 'KZ');
      const n = await startTestNode('KZ', nodeDir);
      const db = n.node.parts.store.db;
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      const c = n.node.parts.store.startCheckpoints({ log }); // the one the node started
      expect(c.running).toBe(true);
      await n.node.stop();
      expect(c.running).toBe(false);
      expect(db.open).toBe(false);
      // the last connection closed: SQLite checkpointed and removed the WAL, so none was left open in the worker
      expect(existsSync(join(nodeDir, 'gnc.sqlite-wal'))).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

});
