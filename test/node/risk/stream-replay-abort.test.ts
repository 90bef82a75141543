/**
 * A stream that ends in the middle of a replay (`?after=0` over many stored events): the client goes away. The
 * node runs as its own process (`gnc start`: a node that hangs must not hang the test), holding 40 MB of stored
 * events, and a raw client reads the first bytes of the replay, stops reading and leaves, so the replay is still
 * writing when the stream ends. The node must go on answering.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RiskFeed } from '../../../node/risk/feed.js';
import { Store } from '../../../node/store/store.js';
import { BIN } from '../../helpers/cli.js';
import { initNode, tempDir, waitFor } from '../../helpers/network.js';
import { stalledClient } from './network.js';

/** Stored events and the size of each: 40 MB, far more than the socket buffers of a client that stopped reading. */
const EVENTS = 4_000;
const PAD = 'x'.repeat(10_000);

let base = '';
let dir = '';
let token = '';
let proc: ChildProcess | undefined;
let url = '';

async function startNode(): Promise<void> {
  proc = spawn(process.execPath, [BIN, 'start', '--dir', dir, '--api-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  url = await waitFor(() => {
    if (proc!.exitCode !== null) throw new Error(`gnc start exited ${proc!.exitCode}: ${out}`);
    return /API (http:\/\/\S+)\/v1/.exec(out)?.[1];
  }, 20_000, 'gnc start to print its API address');
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));
}

beforeAll(async () => {
  base = tempDir('gnc-replay-abort-');
  dir = await initNode(base, 'KG');
  const store = Store.open(dir);
  try {
    token = store.tokens.create('risk-engine', ['read']).token;
    const feed = new RiskFeed(store.db);
    const now = Date.now();
    store.db.transaction(() => {
      for (let i = 0; i < EVENTS; i++) feed.record(i + 1, { type: 'assessment', change: 'new', pad: PAD } as never, now, undefined);
    })();
  } finally {
    store.close();
  }
}, 60_000);
beforeEach(startNode, 30_000);
afterEach(async () => {
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGKILL');
    await exited(proc);
  }
  proc = undefined;
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('assessment stream ended in the middle of a replay', () => {
  it('keeps the node answering after the client went away', async () => {
    // reads the first event of the replay, then stops reading
    const { socket, got } = await stalledClient(url, token, '/v1/arrivals/stream?after=0', 'event: assessment');
    expect(got).toMatch(/^HTTP\/1\.1 200/);
    socket.destroy();
    const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
  }, 30_000);
});
