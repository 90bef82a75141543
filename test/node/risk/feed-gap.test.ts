/**
 * A client of the risk feed that resumes before events the node no longer holds is told so: over real HTTP, on a
 * node whose store pruned its old events (restarted a week and a day later, its start-up prune deletes them), the
 * stream starts with a `gap` event naming what is gone, then goes on after it; a client that had read that far
 * gets no gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_RETENTION_MS } from '../../../node/risk/feed.js';
import { restartNode, waitFor } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { readEvents, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
/** Event ids before the prune, oldest first, and the newest of those it deleted. */
let ids: number[] = [];
let deleted = 0;

const stream = (headers: Record<string, string> = {}, qs = ''): Promise<Response> =>
  fetch(`${net.kg.url}/v1/arrivals/stream${qs}`, { headers: { authorization: `Bearer ${net.kg.token}`, ...headers }, signal: AbortSignal.timeout(15_000) });
const held = (): number[] => net.kg.node.parts.store.db.prepare('SELECT seq FROM risk_events ORDER BY seq').pluck().all() as number[];

beforeAll(async () => {
  net = await riskNetwork();
  for (const ref of ['GAP-1', 'GAP-2', 'GAP-3']) await send(net.kz, 'aci', variant(road(), (d) => (d.functionalReference = ref)));
  ids = await waitFor(() => (held().length >= 3 ? held() : undefined), 10_000, 'three assessment events');
  await net.kg.node.stop();
  // a week and a day later: the start-up prune deletes every event but the newest
  await restartNode(net.kg, { clock: () => Date.now() + EVENT_RETENTION_MS + 86_400_000 });
  const gone = await waitFor(() => {
    const now = held();
    const missing = ids.filter((id) => !now.includes(id));
    return missing.length >= 2 ? missing : undefined;
  }, 10_000, 'the prune');
  deleted = Math.max(...gone);
}, 60_000);
afterAll(async () => net?.close());

describe('a stream resuming before events no longer held', () => {
  it('starts with a gap event up to the newest deleted event, then goes on after it', async () => {
    const events = await readEvents(await stream({}, `?after=${ids[0]}`), (e) => e.length >= 2);
    expect(events[0]).toMatchObject({ event: 'gap', id: deleted, data: { type: 'gap', id: deleted, after: ids[0] } });
    expect(events[0].data.detail).toMatch(/resynchronise from GET \/v1\/arrivals/);
    expect(events[1].event).toBe('assessment');
    expect(events[1].id).toBeGreaterThan(deleted);
  });

  it('tells a client resuming with Last-Event-ID the same way', async () => {
    const events = await readEvents(await stream({ 'last-event-id': String(ids[0]! - 1) }), (e) => e.length >= 1);
    expect(events[0]).toMatchObject({ event: 'gap', id: deleted, data: { after: ids[0]! - 1 } });
  });

  it('sends no gap to a client that had read up to the deleted events', async () => {
    const events = await readEvents(await stream({ 'last-event-id': String(deleted) }), (e) => e.length >= 1);
    expect(events[0].event).toBe('assessment');
    expect(events[0].id).toBeGreaterThan(deleted);
  });
});
