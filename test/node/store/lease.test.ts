/**
 * One running node per data dir (node/store/lease.ts): a second `gnc start` on a data dir whose node runs is
 * refused before it listens or sends (it would send the same outbox again); a node that crashed is restarted at
 * once on its host, and a lease nobody renews goes stale after LEASE_TTL_MS; a node whose lease another node took
 * over stops itself. Real `gnc start` processes and real SQLite files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openNode } from '../../../node/compose.js';
import { LEASE_TTL_MS, NodeLease } from '../../../node/store/lease.js';
import { Store } from '../../../node/store/store.js';
import { isGncError } from '../../../protocol/errors.js';
import { BIN, gnc } from '../../helpers/cli.js';
import { initNode, tempDir, waitFor } from '../../helpers/network.js';

const base = tempDir('gnc-lease-');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** `gnc start` as its own process, once its API answers. */
async function startProcess(dir: string): Promise<ChildProcess> {
  const port = (JSON.parse(readFileSync(join(dir, 'gnc.json'), 'utf8')) as { api: { port: number } }).api.port;
  const proc = spawn(process.execPath, [BIN, 'start', '--dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(proc);
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`gnc start exited ${proc.exitCode}: ${stderr}`);
    return fetch(`http://127.0.0.1:${port}/v1/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok || undefined, () => undefined);
  }, 20_000, 'gnc start to answer');
  return proc;
}

const exited = (p: ChildProcess): Promise<number | null> => (p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (code) => r(code))));

function conflictOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (isGncError(err) && err.code === 'GNC_CONFLICT') return err.message;
    throw err;
  }
  throw new Error('expected GNC_CONFLICT');
}

describe('the data dir lease', () => {
  it('refuses a second gnc start on a data dir whose node runs, and lets it start once that one is gone', async () => {
    const dir = await initNode(base, 'KZ');
    const first = await startProcess(dir);
    const second = await gnc('start', '--dir', dir, '--api-port', '0');
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toMatch(/^error GNC_CONFLICT: Another gnc node runs on this data dir \(pid \d+ on host /);
    expect(second.stderr).toContain('would send every queued message twice');
    // killed without a chance to release its lease: the restart on this host finds its process gone
    first.kill('SIGKILL');
    await exited(first);
    const again = await startProcess(dir);
    again.kill('SIGTERM');
    expect(await exited(again)).toBe(0);
    // a clean stop releases the lease
    const store = Store.open(dir);
    expect(store.db.prepare('SELECT COUNT(*) FROM node_lease').pluck().get()).toBe(0);
    store.close();
  }, 60_000);

  it('refuses a lease that a live process on another host renews, and takes one over that went stale', () => {
    const store = Store.open(join(base, 'kz'));
    try {
      const other = new NodeLease(store.db, 'node-b.customs.example', 4242);
      other.acquire();
      const mine = new NodeLease(store.db);
      expect(conflictOf(() => mine.acquire())).toContain('pid 4242 on host node-b.customs.example');
      store.db.prepare('UPDATE node_lease SET renewed_at = ?').run(Date.now() - LEASE_TTL_MS - 1);
      mine.acquire();
      expect(other.renew()).toBe(false);
      expect(mine.renew()).toBe(true);
      mine.release();
    } finally {
      store.close();
    }
  });

  it('takes over at once the lease of a process of this host that is gone, or of this very pid (a restarted container)', () => {
    const store = Store.open(join(base, 'kz'));
    try {
      const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
      new NodeLease(store.db, hostname(), gone).acquire();
      new NodeLease(store.db).acquire();
      const samePid = new NodeLease(store.db);
      samePid.acquire();
      samePid.release();
    } finally {
      store.close();
    }
  });

  it('stops a node whose lease another node took over, and says so', async () => {
    const dir = await initNode(base, 'KG');
    const logs: string[] = [];
    const node = openNode(dir, { apiPort: 0, log: (m) => logs.push(m) });
    await node.start();
    const other = Store.open(dir);
    try {
      other.db.prepare(`UPDATE node_lease SET owner = 'another-node', host = 'node-b.customs.example'`).run();
    } finally {
      other.close();
    }
    const err = await node.halted;
    expect(err.code).toBe('GNC_CONFLICT');
    expect(logs.join('\n')).toContain('Another gnc node took this data dir over');
    await node.stop(); // already stopped: a second stop waits for the first
  }, 20_000);
});
