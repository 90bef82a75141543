/** `gnc` run as a real process from dist/ (what an operator runs): exit code, stdout and stderr. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { waitFor } from './network.js';

const run = promisify(execFile);
export const BIN = new URL('../../dist/node/cli/bin.js', import.meta.url).pathname;

export async function gnc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(BIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  try {
    const r = await run(process.execPath, [BIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `gnc start` on `dir` as its own process (its port from gnc.json); resolves with its API base URL once it answers. */
export async function startProcess(dir: string): Promise<{ proc: ChildProcess; url: string }> {
  const port = (JSON.parse(readFileSync(join(dir, 'gnc.json'), 'utf8')) as { api: { port: number } }).api.port;
  const proc = spawn(process.execPath, [BIN, 'start', '--dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`gnc start exited ${proc.exitCode}: ${stderr}`);
    return fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok || undefined, () => undefined);
  }, 20_000, 'the node process to answer');
  return { proc, url };
}

/** Kills `c` with SIGKILL (no clean-up at all: a crash) and resolves once it has exited. */
export function killProcess(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  });
}

/** The one error line of a failure, with no stack frame after it. */
export function expectError(r: { code: number; stderr: string }, exit: number, code: string): void {
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stderr).toMatch(new RegExp(`^error ${code}: \\S`));
  expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
}

/**
 * What `gnc start`, a real process on `dir`, printed once `enough` holds of it (the process is stopped then): on stdout
 * and stderr, or with `only` on stderr alone.
 */
export async function startOutput(dir: string, enough: (out: string) => boolean, only?: 'stderr'): Promise<string> {
  const proc = spawn(process.execPath, [BIN, 'start', '--dir', dir, '--api-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  if (only === undefined) proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await waitFor(() => (enough(out) || proc.exitCode !== null ? true : undefined), 20_000, 'gnc start to say it runs');
    return out;
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

/** Rows of `sql` in the store of the data dir `dir`, read-only (what a command left there). */
export function queryDir<T>(dir: string, sql: string, ...args: unknown[]): T[] {
  const db = new Database(join(dir, 'gnc.sqlite'), { readonly: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

/** Runs `sql` on the store of the data dir `dir` (a fault a test plants there: a trigger, and its removal). */
export function execDir(dir: string, sql: string): void {
  const db = new Database(join(dir, 'gnc.sqlite'));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/**
 * A trigger in `dir`'s store refusing the outbox row of an envelope of kind `kind` (a failed queueing, as a full disk
 * or a bug would make it); returns its removal.
 */
export function refuseQueueing(dir: string, kind: string): () => void {
  execDir(dir, `CREATE TRIGGER test_refuse_queueing BEFORE INSERT ON outbox
    WHEN (SELECT kind FROM messages WHERE seq = NEW.seq) = '${kind}'
    BEGIN SELECT RAISE(ABORT, 'the test refuses to queue this envelope'); END`);
  return () => execDir(dir, 'DROP TRIGGER test_refuse_queueing');
}
