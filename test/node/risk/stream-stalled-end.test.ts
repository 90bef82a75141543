/**
 * A client of the assessment stream that stops reading without closing: the node ends its stream once a write has
 * waited the limit (1 s here, SSE_WRITE_TIMEOUT_MS in production), logged once without event content, instead of
 * holding it until TCP gives up. A running node, a raw client that reads the stream's first bytes and pauses, a
 * second client that reads, then 3,000 events of 10 KB (30 MB) published as the risk engine does: the stalled
 * socket is ended within seconds, the reading client gets every event, and the node still answers.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { api, networkForFile, waitFor } from '../../helpers/network.js';
import { publishPadded, readEvents, stalledClient, watchFeed } from './network.js';

const BATCHES = 30;
const PER_BATCH = 100;
const LIMIT_MS = 1_000;
const ENDED = 'event stream ended';

const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
const { nodes: { KG: kg } } = networkForFile(['KG'], {
  nodeOptions: () => ({ streamWriteTimeoutMs: LIMIT_MS, log: (msg, fields) => logs.push({ msg, fields }) }),
});

describe('assessment stream and a client that stopped reading without closing', () => {
  it('is ended once a write waited the limit, while a client that reads gets every event', async () => {
    const watch = watchFeed();
    let socket: Socket | undefined;
    try {
      socket = (await stalledClient(kg.url, kg.token, '/v1/arrivals/stream', ': connected')).socket;
      const closed = new Promise<void>((resolve) => socket!.once('close', () => resolve()));
      socket.on('error', () => undefined);
      const feed = await waitFor(() => watch.feed(), 5_000, 'the stream to subscribe');
      const first = feed.latestId() + 1;
      const res = await fetch(`${kg.url}/v1/arrivals/stream`, { headers: { authorization: `Bearer ${kg.token}` } });
      expect(res.status).toBe(200);
      const total = BATCHES * PER_BATCH;
      const reading = readEvents(res, (events) => events.length >= total);
      await publishPadded(kg.node.parts.store, feed, BATCHES, PER_BATCH, 5_000);

      const events = await reading;
      expect(events.map((e) => e.id)).toEqual(Array.from({ length: total }, (_, i) => first + i));
      const ended = await waitFor(() => logs.find((l) => l.msg.startsWith(ENDED)), 8_000, 'the stalled stream to be ended');
      expect(ended.fields).toMatchObject({ path: '/v1/arrivals/stream', limitMs: LIMIT_MS });
      expect(typeof ended.fields?.['lastEventId']).toBe('number');
      // no event content in the log
      expect(JSON.stringify(ended)).not.toMatch(/pad|assessment"/);
      // the client, reading again, finds its connection ended: it drains what the kernel held and meets the end
      socket.resume();
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the stalled socket was not ended')), 5_000))]);
      expect(logs.filter((l) => l.msg.startsWith(ENDED))).toHaveLength(1);
      expect((await api(kg, 'GET', '/v1/health')).status).toBe(200);
    } finally {
      watch.restore();
      socket?.destroy();
    }
  }, 60_000);
});
