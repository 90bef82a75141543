/**
 * A part of the node that fails to stop does not keep the others from stopping: with another connection holding the
 * database's write lock (a command beside the node, here a transaction left open), the last group commit of the
 * shutdown fails (SQLITE_BUSY after the busy timeout), and the checkpoint worker, the lease and the store are still
 * stopped and closed, the failure logged with its code, and stop() rejects with a GncError saying which part failed.
 * `gnc start`, a real process, exits non-zero with that error line after logging "node stopped" (JSON log and error line on stderr).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../node/store/store.js';
import { BIN } from '../helpers/cli.js';
import { initNode, startTestNode, tempDir, waitFor } from '../helpers/network.js';

let base: string | undefined;
afterEach(() => {
  if (base) rmSync(base, { recursive: true, force: true });
  base = undefined;
});

/** Another connection to the store of `dir` holding its write lock (BEGIN IMMEDIATE) until released. */
function holdWriteLock(dir: string): { release(): void } {
  const db = new Database(join(dir, DB_FILE));
  db.prepare('BEGIN IMMEDIATE').run();
  return {
    release() {
      db.prepare('ROLLBACK').run();
      db.close();
    },
  };
}

describe('a part that fails to stop', () => {
  it('leaves every later part stopped: the store closed, libp2p stopped, the failure logged with its code', async () => {
    base = tempDir();
    const dir = await initNode(base, 'KZ');
    const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
    const kz = await startTestNode('KZ', dir, { log: (msg, fields) => logs.push({ msg, fields }) });
    const lock = holdWriteLock(dir);
    try {
      await expect(kz.node.stop()).rejects.toMatchObject({ code: 'GNC_INTERNAL', message: expect.stringMatching(/^The node stopped, but one part failed to stop cleanly: commits \(GNC_INTERNAL: database is locked\)/) });
    } finally {
      lock.release();
    }
    expect(logs.filter((l) => l.msg.startsWith('a part of the node failed to stop')).map((l) => l.fields)).toEqual([
      { part: 'commits', code: 'GNC_INTERNAL', error: 'database is locked' },
    ]);
    expect(logs.some((l) => l.msg === 'node stopped')).toBe(true);
    expect(kz.node.parts.store.db.open).toBe(false);
    expect(kz.node.host?.status).toBe('stopped');
    // a second stop() waits for the first and tells the same
    await expect(kz.node.stop()).rejects.toMatchObject({ code: 'GNC_INTERNAL' });
  }, 60_000);

  it('makes `gnc start` exit non-zero with the error line, after every part stopped', async () => {
    base = tempDir();
    const dir = await initNode(base, 'KZ');
    const proc = spawn(process.execPath, [BIN, 'start', '--dir', dir, '--api-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // the JSON log and the error line, both on stderr; "running" on stdout once SIGTERM is handled
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    let lock: { release(): void } | undefined;
    try {
      await waitFor(() => (stdout.includes('GNC node KZ running') || proc.exitCode !== null ? true : undefined), 20_000, 'gnc start to run');
      lock = holdWriteLock(dir);
      proc.kill('SIGTERM');
      const code = await exited;
      expect(code, stderr).toBe(1);
      expect(stderr).toMatch(/^error GNC_INTERNAL: The node stopped, but one part failed to stop cleanly: commits \(GNC_INTERNAL: database is locked\)/m);
      expect(stderr).toContain('"msg":"a part of the node failed to stop; the others were stopped","part":"commits","code":"GNC_INTERNAL"');
      expect(stderr).toContain('"msg":"node stopped"');
    } finally {
      lock?.release();
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 60_000);
});
