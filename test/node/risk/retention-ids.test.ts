/**
 * Event ids of the feed across the retention purge, between two real nodes: a client skips every id up to
 * the last one it saw (the SSE stream, a webhook receiver deduplicating by x-gnc-event-id), so the purge of a
 * consignment whose event is the newest one must not let the next event take that id again. KG receives D1,
 * D2 and an amendment of D1 (events 1-3) with a live stream open and a webhook receiver, purges D1 and its
 * amendment (their consignment goes with events 1 and 3), then receives D3.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, waitFor } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, riskNetwork, send, webhookReceiver, type RiskNetwork } from './network.js';

const SECRET = 'purge-ids-test-secret-0123456789ab';
const TOMORROW = Date.now() + 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Seen {
  id: number;
  consignment: string;
}
/** Events the live stream gave, in order. */
const streamed: Seen[] = [];
/** Events the webhook receiver took; it drops an id it already has, as the README tells receivers to. */
const hooked: Seen[] = [];
/** Every webhook request, the dropped duplicates included. */
const posts: Seen[] = [];
let server: Server;
let net: RiskNetwork;
let live: AbortController;
const ids = { d1: '', d2: '', a1: '', d3: '' };
/** The newest event id both clients saw before the purge. */
let newest = 0;

function declaration(ref: string): Record<string, unknown> {
  return variant(road(), (d) => {
    d.functionalReference = ref;
    d.expectedArrival = iso(TOMORROW);
  });
}

/** Reads the stream in the background until aborted, collecting its events. */
async function follow(res: Response): Promise<void> {
  const reader = res.body!.getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += Buffer.from(value).toString('utf8');
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (data) streamed.push({ id: Number(/^id: (\d+)$/m.exec(block)?.[1]), consignment: (JSON.parse(data) as { arrival: { id: string } }).arrival.id });
      }
    }
  } catch {
    /* aborted at the end of the run */
  }
}

beforeAll(async () => {
  let url: string;
  ({ server, url } = await webhookReceiver((req, body) => {
    const seen = { id: Number(req.headers['x-gnc-event-id']), consignment: (JSON.parse(body) as { arrival: { id: string } }).arrival.id };
    posts.push(seen);
    if (!hooked.some((h) => h.id === seen.id)) hooked.push(seen);
    return 204;
  }));
  process.env.GNC_TEST_PURGE_IDS_SECRET = SECRET;
  net = await riskNetwork({ rules: { v: 1, webhook: { url, secretEnv: 'GNC_TEST_PURGE_IDS_SECRET' } } });
  live = new AbortController();
  const res = await fetch(`${net.kg.url}/v1/arrivals/stream`, { headers: { authorization: `Bearer ${net.kg.token}` }, signal: live.signal });
  expect(res.status).toBe(200);
  void follow(res);
  ids.d1 = await send(net.kz, 'aci', declaration('PURGE-IDS-1'));
  ids.d2 = await send(net.kz, 'aci', declaration('PURGE-IDS-2'));
  await arrival(net.kg, ids.d2);
  ids.a1 = await send(net.kz, 'aci', variant(declaration('PURGE-IDS-1'), (d) => {
    d.kind = 'amendment';
    d.expectedArrival = iso(TOMORROW + 3_600_000);
  }), ids.d1);
  await waitFor(() => (streamed.length >= 3 && hooked.length >= 3 ? true : undefined), 15_000, 'three events on the stream and the webhook');
  // the amendment's event is the newest, and it belongs to D1's consignment
  expect(streamed.map((e) => e.consignment)).toEqual([ids.d1, ids.d2, ids.d1]);
  newest = streamed[2]!.id;
  const db = net.kg.node.parts.store.db;
  const cutoff = db.prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(ids.d1) as number;
  // the amendment's retention ends with D1's (as under an agreement that shortened it): with it held, the consignment
  // would be rebuilt from it (retention-rebuild.test.ts)
  db.prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(cutoff, ids.a1);
  expect(net.kg.node.retention.purge(cutoff)).toBe(2);
  expect((await api(net.kg, 'GET', `/v1/arrivals/${ids.d1}`)).status).toBe(410);
});
afterAll(async () => {
  live?.abort();
  await net?.close();
  await new Promise((r) => server.close(r));
  delete process.env.GNC_TEST_PURGE_IDS_SECRET;
});

describe('feed event ids after the retention purge removed the newest event', () => {
  it('still accepts the purged newest id as the point a stream resumes from', async () => {
    const res = await fetch(`${net.kg.url}/v1/arrivals/stream?after=${newest}`, { method: 'HEAD', headers: { authorization: `Bearer ${net.kg.token}` }, signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
  });

  it('gives the next event an id no client has seen', async () => {
    ids.d3 = await send(net.kz, 'aci', declaration('PURGE-IDS-3'));
    await arrival(net.kg, ids.d3);
    const event = await waitFor(() => posts.find((p) => p.consignment === ids.d3), 10_000, "D3's webhook request");
    expect(event.id).toBeGreaterThan(newest);
  });

  it("delivers the next event to the live stream that saw the purged events' ids", async () => {
    const event = await waitFor(() => streamed.find((e) => e.consignment === ids.d3), 10_000, "D3's event on the stream");
    expect(event.id).toBeGreaterThan(newest);
  });

  it('delivers the next event to a webhook receiver that deduplicates by x-gnc-event-id', () => {
    expect(hooked.map((h) => h.consignment)).toEqual([ids.d1, ids.d2, ids.d1, ids.d3]);
  });
});
