/**
 * stop() called while the node starts (the lease lost during a slow start, or an embedding program stopping it at
 * once): every part that start() brings up is stopped as well. Before, stop() ran at once, closed the store while
 * start() was still creating libp2p, and start() then went on to listen on the exchange port and the API over the
 * closed store: both kept running ("The database connection is not open" from the store watcher), and the next
 * start on that data dir found its port in use.
 */
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNode, openTestNode, tempDir } from '../helpers/network.js';

let base: string;
let dir: string;
beforeAll(async () => {
  base = tempDir();
  dir = await initNode(base, 'KZ');
}, 30_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('stop() while the node starts', () => {
  // 0: in the same turn as start(); then after that many turns of the event loop (start takes a few)
  for (const turns of [0, 1, 3]) {
    it(`after ${turns} turns: the node starts, then stops everything it started`, async () => {
      const kz = openTestNode('KZ', dir);
      const started = kz.node.start();
      for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
      const stopped = kz.node.stop();
      await started;
      await stopped;
      expect(kz.node.parts.store.db.open).toBe(false);
      expect(kz.node.host?.status ?? 'stopped', 'libp2p').toBe('stopped');
      expect((kz.node.api as Server | undefined)?.listening ?? false, 'API listening').toBe(false);
      // a second stop() tells the same
      await kz.node.stop();
    }, 20_000);
  }
});
