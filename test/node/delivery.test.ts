/**
 * Delivery guarantees with real nodes: retry with backoff while the partner is down, resume after a restart
 * of the sender, expiry when a message cannot be delivered in time. Each test stops and restarts real
 * libp2p hosts on the same data dirs (same ports, from the certificates).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { api, makeNetwork, restartNode, waitFor, type TestNode } from '../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>> | undefined;
afterEach(async () => {
  await net?.close();
  net = undefined;
});

async function statusOf(n: TestNode, id: string): Promise<string> {
  return (await api(n, 'GET', `/v1/messages/${id}`)).json.status as string;
}

async function submit(n: TestNode, to = 'KG'): Promise<string> {
  const r = await api(n, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  return r.json.id as string;
}

describe('delivery', () => {
  it('retries while the partner is down and delivers when it is back', async () => {
    net = await makeNetwork(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await kg.node.stop();
    const id = await submit(kz);
    await waitFor(async () => ((await statusOf(kz, id)) === 'retrying' ? true : undefined), 20_000, 'retrying');
    const row = kz.node.parts.store.db.prepare('SELECT attempts, last_error FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.id = ?').get(id) as { attempts: number; last_error: string };
    expect(row.last_error).toMatch(/GNC_PARTNER_UNREACHABLE/);
    await restartNode(kg);
    await waitFor(async () => ((await statusOf(kz, id)) === 'delivered' ? true : undefined), 40_000, 'delivered');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', id)).toBeDefined();
  });

  it('delivers at once when the partner comes back, without waiting out a long backoff', async () => {
    const slow = { initialMs: 600_000, maxMs: 600_000 };
    net = await makeNetwork(['KZ', 'KG'], { nodeOptions: () => ({ retry: slow }) });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await kg.node.stop();
    const id = await submit(kz);
    await waitFor(async () => ((await statusOf(kz, id)) === 'retrying' ? true : undefined), 20_000, 'retrying');
    // the next attempt is ten minutes away: only the partner's greeting on start can bring it forward
    await restartNode(kg, { retry: slow });
    await waitFor(async () => ((await statusOf(kz, id)) === 'delivered' ? true : undefined), 20_000, 'delivered');
  });

  it('resumes queued deliveries after the sending node restarts', async () => {
    net = await makeNetwork(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await kg.node.stop();
    const ids = [await submit(kz), await submit(kz), await submit(kz)];
    await kz.node.stop();
    await restartNode(kg);
    await restartNode(kz);
    for (const id of ids) await waitFor(async () => ((await statusOf(kz, id)) === 'delivered' ? true : undefined), 40_000, `delivered ${id}`);
    expect(kz.node.parts.store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get()).toEqual({ n: 0 });
  });

  it('marks a message expired when it could not be delivered before its expiry', async () => {
    net = await makeNetwork(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    await net.nodes.KG!.node.stop();
    const id = await submit(kz);
    kz.node.parts.store.db.prepare('UPDATE outbox SET expires_at = ? WHERE seq = (SELECT seq FROM messages WHERE id = ?)').run(Date.now() - 1, id);
    await waitFor(async () => ((await statusOf(kz, id)) === 'expired' ? true : undefined), 15_000, 'expired');
    const m = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
    expect(m.error.code).toBe('GNC_DELIVERY_EXPIRED');
  });
});
