/**
 * A client of the assessment stream that stops reading (a stalled consumer, a full network path) while events
 * keep coming: what the node keeps for it must not grow with the events it has not taken yet. A running node, a
 * raw client that reads the stream's first bytes and pauses, then 5,000 events of 20 KB (100 MB) recorded and
 * published as the risk engine does; the node's heap, measured after a full collection, must not hold them.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { RiskFeed } from '../../../node/risk/feed.js';
import { networkForFile, waitFor } from '../../helpers/network.js';
import type { AssessmentEvent } from '../../../protocol/risk.js';
import { stalledClient } from './network.js';

const BATCHES = 50;
const PER_BATCH = 100;
/** Heap growth allowed: a page of events being written, far below the 100 MB published. */
const ALLOWED_GROWTH = 40 * 1024 * 1024;

const { nodes: { KG: kg } } = networkForFile(['KG']);

describe('assessment stream and a client that stopped reading', () => {
  it('keeps no more than a page of the events the client has not taken in memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // the node's own feed: the one its stream subscribes to
    let feed: RiskFeed | undefined;
    const subscribe = RiskFeed.prototype.subscribe;
    const spy = vi.spyOn(RiskFeed.prototype, 'subscribe').mockImplementation(function (this: RiskFeed, fn) {
      feed = this;
      return subscribe.call(this, fn);
    });
    let socket: Socket | undefined;
    try {
      socket = (await stalledClient(kg.url, kg.token, '/v1/arrivals/stream', ': connected')).socket;
      await waitFor(() => feed, 5_000, 'the stream to subscribe');
      const store = kg.node.parts.store;
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let b = 0; b < BATCHES; b++) {
        const events = await store.commits.run(() => {
          const out: AssessmentEvent[] = [];
          for (let i = 0; i < PER_BATCH; i++) out.push(feed!.record(b * PER_BATCH + i + 1, { type: 'assessment', change: 'new', pad: randomBytes(10_000).toString('hex') } as never, Date.now(), undefined));
          return out;
        });
        feed!.publish(events);
        await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 200));
      gc();
      const growth = process.memoryUsage().heapUsed - before;
      expect(growth, `heap grew by ${Math.round(growth / 1048576)} MB`).toBeLessThan(ALLOWED_GROWTH);
    } finally {
      spy.mockRestore();
      socket?.destroy();
    }
  }, 60_000);
});
