/**
 * Order of the webhook towards the national risk engine when a delivery fails: the receiver keeps the last
 * assessment it was given, so an event that failed must hold back the later ones while it waits out its
 * backoff. KG's webhook target answers 500 to its first request only; the declaration's event fails, the
 * amendment's event is recorded during the backoff (3 s), and both must still arrive in event order.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, riskNetwork, send, webhookReceiver, type RiskNetwork } from './network.js';

const SECRET = 'order-test-secret-0123456789abcdef';
const TOMORROW = Date.now() + 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Every request the target got, in arrival order, with the status it answered. */
const hits: { id: number; status: number; revision: number; expectedArrival: string }[] = [];
/** What a receiver that keeps the last assessment per consignment ends on. */
const latest = new Map<string, { revision: number; expectedArrival: string }>();
let server: Server;
let net: RiskNetwork;
let h1 = '';
let amended = '';

beforeAll(async () => {
  let url: string;
  ({ server, url } = await webhookReceiver((_req, body) => {
    const e = JSON.parse(body) as { id: number; arrival: { id: string; expectedArrival: string }; assessment: { revision: number } };
    const status = hits.length === 0 ? 500 : 204;
    hits.push({ id: e.id, status, revision: e.assessment.revision, expectedArrival: e.arrival.expectedArrival });
    if (status === 204) latest.set(e.arrival.id, { revision: e.assessment.revision, expectedArrival: e.arrival.expectedArrival });
    return status;
  }));
  process.env.GNC_TEST_ORDER_SECRET = SECRET;
  net = await riskNetwork({ rules: { v: 1, webhook: { url, secretEnv: 'GNC_TEST_ORDER_SECRET', initialBackoffMs: 3000, maxBackoffMs: 3000 } } });
  const declaration = variant(road(), (d) => {
    d.functionalReference = 'HOL-1';
    d.expectedArrival = iso(TOMORROW);
  });
  h1 = await send(net.kz, 'aci', declaration);
  await waitFor(() => (hits.length > 0 ? true : undefined), 10_000, 'the failed delivery of the declaration');
  // while the declaration's event waits for its retry: the truck comes an hour later
  amended = iso(TOMORROW + 3_600_000);
  await send(net.kz, 'aci', variant(declaration, (d) => {
    d.kind = 'amendment';
    d.expectedArrival = amended;
  }), h1);
  await arrival(net.kg, h1, (a) => a.expectedArrival === amended);
  await waitFor(() => (hits.filter((h) => h.status === 204).length >= 2 ? true : undefined), 15_000, 'both deliveries');
});
afterAll(async () => {
  await net?.close();
  await new Promise((r) => server.close(r));
  delete process.env.GNC_TEST_ORDER_SECRET;
});

describe('risk webhook order after a failed delivery', () => {
  it('sends nothing after a failed event until that event is delivered', () => {
    expect(hits.map((h) => [h.revision, h.status])).toEqual([[1, 500], [1, 204], [2, 204]]);
    expect(hits[2]!.id).toBeGreaterThan(hits[0]!.id);
  });

  it('leaves the receiver on the newest revision of the consignment', () => {
    expect(latest.get(h1)).toEqual({ revision: 2, expectedArrival: amended });
  });
});
