/**
 * Delivery guarantees with real nodes: retry with backoff while the partner is down, resume after a restart
 * of the sender, expiry when a message cannot be delivered in time. Each test stops and restarts real
 * libp2p hosts on the same data dirs (same ports, from the certificates).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAST_ATTEMPT_LEAD_MS } from '../../node/outbound/dispatcher.js';
import { Store } from '../../node/store/store.js';
import { api, networkPerTest, restartNode, runCli, waitFor, type TestNode } from '../helpers/network.js';
import { EXAMPLES_DIR } from '../protocol/messages/fixtures.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const network = networkPerTest();

async function statusOf(n: TestNode, id: string): Promise<string> {
  return (await api(n, 'GET', `/v1/messages/${id}`)).json.status as string;
}

async function submit(n: TestNode, to = 'KG'): Promise<string> {
  const r = await api(n, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  return r.json.id as string;
}

describe('delivery', () => {
  it('tries a partner that is down one message at a time on its own backoff, not each queued message on its own', async () => {
    // a backoff of 100-400 ms: each of 60 messages retried on its own would make ~400 attempts in the 3 s below
    const fast = { initialMs: 100, maxMs: 400 };
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { retry: fast } : {}) });
    const kz = net.nodes.KZ!;
    await net.nodes.KG!.node.stop();
    const first = await submit(kz);
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') || undefined), 10_000, 'KG found unreachable');
    const ids = [first];
    for (let i = 0; i < 59; i++) ids.push(await submit(kz));
    const attempts = (): number => kz.node.parts.store.db.prepare('SELECT COALESCE(SUM(attempts), 0) FROM outbox').pluck().get() as number;
    const before = attempts();
    await new Promise((r) => setTimeout(r, 3_000));
    // one attempt at a time, the gaps growing from 50-100 ms to 200-400 ms: about a dozen in 3 s
    expect(attempts() - before).toBeLessThanOrEqual(25);
    expect(kz.node.dispatcher.inFlight('KG')).toBeLessThanOrEqual(1);
    // queued since KG was found unreachable, and not tried on their own
    expect((await Promise.all(ids.slice(1).map((id) => statusOf(kz, id)))).filter((s) => s === 'queued').length).toBeGreaterThan(40);
    // back (its start-up greeting connects): everything goes at once
    await restartNode(net.nodes.KG!);
    await waitFor(async () => ((await Promise.all(ids.map((id) => statusOf(kz, id)))).every((s) => s === 'delivered') || undefined), 10_000, 'all 60 delivered');
  }, 30_000);

  it('retries while the partner is down and delivers when it is back', async () => {
    const net = await network(['KZ', 'KG']);
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
    const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ retry: slow }) });
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
    const net = await network(['KZ', 'KG']);
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
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    await net.nodes.KG!.node.stop();
    const id = await submit(kz);
    kz.node.parts.store.db.prepare('UPDATE outbox SET expires_at = ? WHERE seq = (SELECT seq FROM messages WHERE id = ?)').run(Date.now() - 1, id);
    await waitFor(async () => ((await statusOf(kz, id)) === 'expired' ? true : undefined), 15_000, 'expired');
    const m = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
    expect(m.error.code).toBe('GNC_DELIVERY_EXPIRED');
  });

  it('makes a last attempt just before the expiry instead of expiring a message whose backoff overshoots it', async () => {
    // a backoff (15-30 s) longer than the message has left (4 s)
    const slow = { initialMs: 30_000, maxMs: 30_000 };
    const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ retry: slow }) });
    const kz = net.nodes.KZ!;
    await net.nodes.KG!.node.stop();
    // queued while KZ is stopped, so that the expiry is set before the first attempt
    await kz.node.stop();
    const r = await runCli(['send', '--dir', kz.dir, '--to', 'KG', '--purpose', 'pre-arrival-risk-assessment', '--type', 'aci', '--json', join(EXAMPLES_DIR, 'aci-kz-kg-road.json')]);
    expect(r.code, r.out.join('\n')).toBe(0);
    const id = (JSON.parse(r.out[0]!) as { id: string }).id;
    const store = Store.open(kz.dir);
    const expiresAt = Date.now() + 4_000;
    store.db.prepare('UPDATE outbox SET expires_at = ? WHERE seq = (SELECT seq FROM messages WHERE id = ?)').run(expiresAt, id);
    store.close();
    await restartNode(kz, { retry: slow });
    await waitFor(async () => ((await statusOf(kz, id)) === 'retrying' ? true : undefined), 10_000, 'the first attempt to fail and wait');
    const row = kz.node.parts.store.db.prepare('SELECT o.attempts, o.next_at FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.id = ?').get(id) as { attempts: number; next_at: number };
    expect(row).toEqual({ attempts: 1, next_at: expiresAt - LAST_ATTEMPT_LEAD_MS });
    await waitFor(async () => ((await statusOf(kz, id)) === 'expired' ? true : undefined), 10_000, 'expired after the last attempt');
    const m = kz.node.parts.store.db.prepare('SELECT error_code, error_reason, updated_at FROM messages WHERE id = ?').get(id) as { error_code: string; error_reason: string; updated_at: number };
    expect(m.error_code).toBe('GNC_DELIVERY_EXPIRED');
    expect(m.error_reason).toMatch(/last error GNC_PARTNER_UNREACHABLE/);
    expect(m.updated_at).toBeGreaterThanOrEqual(expiresAt - LAST_ATTEMPT_LEAD_MS);
  }, 30_000);
});
