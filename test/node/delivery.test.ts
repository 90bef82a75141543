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

  it('gives the message about to expire its last attempt while its partner is down, not the oldest of the queue behind the gate', async () => {
    // the partner's one attempt at a time comes every 15-30 s: only the gate opening early for the expiry gives it one
    const slow = { initialMs: 30_000, maxMs: 30_000 };
    const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ retry: slow }) });
    const kz = net.nodes.KZ!;
    await net.nodes.KG!.node.stop();
    const first = await submit(kz);
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') || undefined), 10_000, 'KG found unreachable');
    // queued behind the gate, never tried: all of them due, and older than the first's next attempt
    const queued: string[] = [];
    for (let i = 0; i < 70; i++) queued.push(await submit(kz));
    await kz.node.stop();
    // the first, tried once, expires in a few seconds, its next attempt its last (as retryLater sets it); the restart
    // keeps KG unreachable (as found before it), and the gate, closed by the first attempt after it, opens for that expiry
    const expiresAt = Date.now() + 6_000;
    const store = Store.open(kz.dir);
    store.db.prepare('UPDATE outbox SET expires_at = ?, next_at = ? WHERE seq = (SELECT seq FROM messages WHERE id = ?)').run(expiresAt, expiresAt - LAST_ATTEMPT_LEAD_MS, first);
    store.close();
    await restartNode(kz, { retry: slow });
    await waitFor(async () => ((await statusOf(kz, first)) === 'expired' ? true : undefined), 15_000, 'the first to expire');
    const m = kz.node.parts.store.db.prepare('SELECT error_reason, updated_at FROM messages WHERE id = ?').get(first) as { error_reason: string; updated_at: number };
    // it expired after an attempt of its own (retryLater), not untried (the sweep's reason)
    expect(m.error_reason).toMatch(/^Delivery failed until expiry; last error GNC_PARTNER_UNREACHABLE/);
    expect(m.updated_at).toBeGreaterThanOrEqual(expiresAt - LAST_ATTEMPT_LEAD_MS);
    // and the gate kept its effect: one attempt after the restart, then the first's, the rest still untried
    const tried = kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM outbox WHERE attempts > 0`).pluck().get() as number;
    expect(tried).toBeLessThanOrEqual(2);
    expect((await Promise.all(queued.map((id) => statusOf(kz, id)))).filter((s) => s === 'queued').length).toBeGreaterThanOrEqual(68);
  }, 40_000);

  it('lifts the gate of a partner found unreachable once it answers an attempt (an error frame): it is up, its queue goes', async () => {
    // KZ gives up on a receipt after 300 ms; the gate's first steps are 0.5-1 s and 1-2 s
    const backoff = { initialMs: 1_000, maxMs: 2_000 };
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { retry: backoff, transport: { receiptTimeoutMs: 300 } } : {}) });
    const kz = net.nodes.KZ!;
    const db = net.nodes.KG!.node.parts.store.db;
    // KG's node hangs on a message (its insert stalls the process 800 ms, then fails): no receipt in time, and KZ takes KG
    // for unreachable over a connection that stays open, so no new connection comes to clear that
    db.function('test_stall', (ms: unknown) => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(ms));
      return 0;
    });
    db.exec(`CREATE TRIGGER test_fault BEFORE INSERT ON messages BEGIN SELECT test_stall(800); SELECT RAISE(ABORT, 'injected test fault'); END`);
    const first = await submit(kz);
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') || undefined), 15_000, 'KG found unreachable');
    // from now on KG answers each message at once, with an error frame (GNC_INTERNAL): up, and failing otherwise
    db.exec(`DROP TRIGGER test_fault; CREATE TRIGGER test_fault BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'injected test fault'); END`);
    const ids = [first];
    for (let i = 0; i < 20; i++) ids.push(await submit(kz));
    const row = (id: string): { status: string; error_code: string | null } =>
      kz.node.parts.store.db.prepare('SELECT status, error_code FROM messages WHERE id = ?').get(id) as { status: string; error_code: string | null };
    // the gate's next attempt is answered: KG is reachable again, and every queued message is tried on its own (gated, one
    // attempt at a time every 1-2 s would try a handful of the 21 in these 6 s)
    await waitFor(() => (ids.every((id) => row(id).error_code === 'GNC_INTERNAL') || undefined), 6_000, 'every message tried and answered');
    expect(kz.node.dispatcher.unreachableSince().has('KG')).toBe(false);
    expect(kz.node.parts.store.partners.unreachable()).toEqual([]);
    db.exec('DROP TRIGGER test_fault');
    await waitFor(() => (ids.every((id) => row(id).status === 'delivered') || undefined), 15_000, 'all delivered once KG works');
  }, 40_000);
});
