/**
 * The feed towards the national risk engine over real HTTP: the server-sent-events stream carries new and
 * changed assessments and replays from Last-Event-ID; the webhook POSTs each one to a local server, signed
 * with HMAC-SHA256, retried with backoff after a failure, and the secret never appears in the node's log.
 */
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RiskFeed } from '../../../node/risk/feed.js';
import { certificate, road, variant } from './fixtures.js';
import { arrival, readEvents, riskNetwork, send, webhookReceiver, type RiskNetwork } from './network.js';
import { waitFor } from '../../helpers/network.js';

const SECRET = 'feed-test-secret-0123456789abcdef';
const hits: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
let failNext = 1;
let server: Server;
let net: RiskNetwork;
const logs: string[] = [];

beforeAll(async () => {
  let url: string;
  ({ server, url } = await webhookReceiver((req, body) => {
    hits.push({ headers: req.headers, body });
    return failNext-- > 0 ? 503 : 204;
  }));
  process.env.GNC_TEST_WEBHOOK_SECRET = SECRET;
  net = await riskNetwork({
    rules: { v: 1, webhook: { url, secretEnv: 'GNC_TEST_WEBHOOK_SECRET', initialBackoffMs: 50, maxBackoffMs: 200, maxAttempts: 5 } },
    log: (msg, fields) => logs.push(JSON.stringify({ msg, ...fields })),
  });
});
afterAll(async () => {
  await net?.close();
  await new Promise((r) => server.close(r));
  delete process.env.GNC_TEST_WEBHOOK_SECRET;
});

const stream = (headers: Record<string, string> = {}, qs = ''): Promise<Response> =>
  fetch(`${net.kg.url}/v1/arrivals/stream${qs}`, { headers: { authorization: `Bearer ${net.kg.token}`, ...headers }, signal: AbortSignal.timeout(15_000) });

let firstEventId = 0;
let consignment = '';

describe('assessment feed', () => {
  it('streams a new assessment as a server-sent event', async () => {
    const res = await stream();
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const mine = (x: any): boolean => x.data.arrival.functionalReference === 'FEED-1';
    const events = readEvents(res, (e) => e.some(mine));
    await new Promise((r) => setTimeout(r, 100));
    consignment = await send(net.kz, 'aci', variant(road(), (d) => (d.functionalReference = 'FEED-1')));
    const got = (await events).find(mine);
    expect(got).toMatchObject({ event: 'assessment', data: { type: 'assessment', change: 'new', assessment: { consignment, level: 'medium' } } });
    expect(got.id).toBe(got.data.id);
    firstEventId = got.id;
  });

  it('replays the events after Last-Event-ID to a reconnecting client', async () => {
    const events = await readEvents(await stream({ 'last-event-id': String(firstEventId - 1) }), (e) => e.length >= 1);
    expect(events[0]).toMatchObject({ id: firstEventId, data: { arrival: { id: consignment } } });
  });

  it('refuses an invalid resume point with 422 GNC_SCHEMA_INVALID', async () => {
    const res = await stream({}, '?after=-1');
    expect(res.status).toBe(422);
    expect(((await res.json()) as { issues: { path: string }[] }).issues[0]!.path).toBe('/after');
  });

  it('refuses a resume point beyond the newest event with 422 GNC_SCHEMA_INVALID instead of waiting silently', async () => {
    const res = await stream({}, `?after=${firstEventId + 1_000_000}`);
    expect(res.status).toBe(422);
    const p = (await res.json()) as { code: string; detail: string; issues: { path: string }[] };
    expect(p.code).toBe('GNC_SCHEMA_INVALID');
    expect(p.issues[0]!.path).toBe('/after');
    expect(p.detail).toMatch(/beyond the newest event .*\?after=0/);
    const header = await stream({ 'last-event-id': String(firstEventId + 1_000_000) });
    expect(header.status).toBe(422);
    expect(((await header.json()) as { issues: { path: string }[] }).issues[0]!.path).toBe('Last-Event-ID');
  });

  it('refuses a Last-Event-ID that is no event id with 422 GNC_SCHEMA_INVALID', async () => {
    const res = await stream({ 'last-event-id': 'abc' });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe('GNC_SCHEMA_INVALID');
  });

  it('answers HEAD on the stream without opening one that would live until shutdown', async () => {
    let open = 0;
    const subscribe = RiskFeed.prototype.subscribe;
    const spy = vi.spyOn(RiskFeed.prototype, 'subscribe').mockImplementation(function (this: RiskFeed, fn) {
      open++;
      const unsubscribe = subscribe.call(this, fn);
      return () => {
        open--;
        unsubscribe();
      };
    });
    try {
      // the count follows a real stream: one while it is open, none once the client went away
      const res = await stream();
      await waitFor(async () => (open === 1 ? true : undefined), 5_000, 'stream subscribed');
      await res.body!.cancel();
      await waitFor(async () => (open === 0 ? true : undefined), 5_000, 'stream unsubscribed');
      for (let i = 0; i < 3; i++) {
        const head = await fetch(`${net.kg.url}/v1/arrivals/stream`, { method: 'HEAD', headers: { authorization: `Bearer ${net.kg.token}` }, signal: AbortSignal.timeout(5_000) });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-type')).toContain('text/event-stream');
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(open).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('posts the assessment to the webhook signed with HMAC-SHA256 over timestamp and body', async () => {
    const hit = await waitFor(() => hits.find((h) => h.headers['x-gnc-event-id'] === String(firstEventId) && hits.indexOf(h) > 0), 10_000, 'webhook delivery');
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hit.headers['x-gnc-signature']));
    expect(m).not.toBeNull();
    expect(createHmac('sha256', SECRET).update(`${m![1]}.${hit.body}`).digest('hex')).toBe(m![2]);
    expect(JSON.parse(hit.body)).toMatchObject({ id: firstEventId, type: 'assessment', arrival: { id: consignment } });
  });

  it('retries a failed webhook delivery with the same event', () => {
    const attempts = hits.filter((h) => h.headers['x-gnc-event-id'] === String(firstEventId));
    expect(attempts.length).toBe(2);
    expect(attempts[0]!.body).toBe(attempts[1]!.body);
  });

  it('logs the failed delivery without the secret', () => {
    const line = logs.find((l) => l.includes('risk webhook delivery failed'));
    expect(line).toContain('HTTP 503');
    expect(logs.join('\n')).not.toContain(SECRET);
  });

  it('sends a changed assessment after a related message', async () => {
    const res = await stream();
    const events = readEvents(res, (e) => e.some((x) => x.data.change === 'changed' && x.data.arrival.id === consignment));
    await new Promise((r) => setTimeout(r, 100));
    await send(net.kz, 'ecoo', certificate());
    const got = (await events).find((x) => x.data.arrival.id === consignment && x.data.change === 'changed');
    expect(got.data.assessment.indicators.map((i: any) => i.code)).toContain('ecoo-confirmed');
    await arrival(net.kg, consignment);
  });
});
