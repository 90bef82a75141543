/**
 * A client of the assessment stream that stops reading (a stalled consumer, a full network path) while events
 * keep coming: what the node keeps for it must not grow with the events it has not taken yet. A running node, a
 * raw client that reads the stream's first bytes and pauses, then 5,000 events of 20 KB (100 MB) recorded and
 * published as the risk engine does; the node's heap, measured after a full collection, must not hold them.
 */
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { networkForFile, waitFor } from '../../helpers/network.js';
import { publishPadded, stalledClient, watchFeed } from './network.js';

const BATCHES = 50;
const PER_BATCH = 100;
/** Heap growth allowed: a page of events being written, far below the 100 MB published. */
const ALLOWED_GROWTH = 40 * 1024 * 1024;

const { nodes: { KG: kg } } = networkForFile(['KG']);

describe('assessment stream and a client that stopped reading', () => {
  it('keeps no more than a page of the events the client has not taken in memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const watch = watchFeed();
    let socket: Socket | undefined;
    try {
      socket = (await stalledClient(kg.url, kg.token, '/v1/arrivals/stream', ': connected')).socket;
      const feed = await waitFor(() => watch.feed(), 5_000, 'the stream to subscribe');
      const store = kg.node.parts.store;
      gc();
      const before = process.memoryUsage().heapUsed;
      await publishPadded(store, feed, BATCHES, PER_BATCH, 10_000);
      await new Promise((r) => setTimeout(r, 200));
      gc();
      const growth = process.memoryUsage().heapUsed - before;
      expect(growth, `heap grew by ${Math.round(growth / 1048576)} MB`).toBeLessThan(ALLOWED_GROWTH);
    } finally {
      watch.restore();
      socket?.destroy();
    }
  }, 60_000);
});
