/**
 * GET /v1/health's GNC_PARTNER_UNREACHABLE counts from the first failed attempt after a delivery, also across a restart
 * of the sender: real KZ and KG nodes sharing a clock the test moves, KG stopped, KZ restarted while it is down. The
 * database keeps since when (partner_unreachable), written when that changes only, never per attempt, and cleared
 * by the first delivery, by a connection with the partner (nothing queued for it), and by the partner's removal.
 */
import { describe, expect, it } from 'vitest';
import { api, finalMessage, networkForFile, restartNode, sharedClockPerTest, TEST_RETRY, waitFor, type TestNode } from '../helpers/network.js';
import { example } from '../protocol/messages/fixtures.js';

const HOUR = 3_600_000;
const t = sharedClockPerTest();
const { nodes } = networkForFile(['KZ', 'KG'], { nodeOptions: () => ({ clock: t.clock }) });
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

const health = async (n: TestNode): Promise<{ status: string; checks: { code: string; detail: string }[] }> => {
  const r = await api(n, 'GET', '/v1/health');
  expect(r.status, r.text).toBe(200);
  return r.json;
};
const unreachable = async (n: TestNode): Promise<string | undefined> => (await health(n)).checks.find((c) => c.code === 'GNC_PARTNER_UNREACHABLE')?.detail;
/** The kept rows, and a count of the writes to them from now on (a temporary trigger on the node's own connection). */
function watchRows(n: TestNode): { rows(): unknown[]; writes(): number } {
  const db = n.node.parts.store.db;
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS unreachable_writes (n INTEGER); DELETE FROM unreachable_writes;
    CREATE TEMP TRIGGER IF NOT EXISTS unreachable_ins AFTER INSERT ON main.partner_unreachable BEGIN INSERT INTO unreachable_writes VALUES (1); END;
    CREATE TEMP TRIGGER IF NOT EXISTS unreachable_upd AFTER UPDATE ON main.partner_unreachable BEGIN INSERT INTO unreachable_writes VALUES (1); END;
    CREATE TEMP TRIGGER IF NOT EXISTS unreachable_del AFTER DELETE ON main.partner_unreachable BEGIN INSERT INTO unreachable_writes VALUES (1); END;`);
  return {
    rows: () => db.prepare('SELECT country, since FROM partner_unreachable').all(),
    writes: () => db.prepare('SELECT count(*) FROM unreachable_writes').pluck().get() as number,
  };
}

describe('GNC_PARTNER_UNREACHABLE across a restart', () => {
  it('counts from the first failure before the restart, is written once, and is cleared by the first delivery', async () => {
    const { KZ: kz, KG: kg } = nodes;
    await kg.node.stop();
    const watch = watchRows(kz);
    const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
    const attempts = (): number => kz.node.parts.store.db.prepare('SELECT attempts FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.id = ?').pluck().get(id) as number;
    // TEST_RETRY backs off in milliseconds: several attempts fail, one write
    await waitFor(() => (attempts() >= 3 ? true : undefined), 20_000, 'three failed attempts');
    const since = kz.node.dispatcher.unreachableSince().get('KG')!;
    expect(since).toBeTypeOf('number');
    expect(watch.rows()).toEqual([{ country: 'KG', since }]);
    expect(watch.writes()).toBe(1);

    // KZ restarts while KG is still down, and runs past the hour: still counted from the first failure
    await kz.node.stop();
    await restartNode(kz, { clock: t.clock, retry: TEST_RETRY });
    expect(kz.node.dispatcher.unreachableSince().get('KG')).toBe(since);
    t.ahead = 2 * HOUR;
    const before = attempts();
    await waitFor(() => (attempts() > before ? true : undefined), 20_000, 'a failed attempt after the restart');
    expect(await unreachable(kz)).toContain(`since ${new Date(since).toISOString()}`);
    const after = watchRows(kz);
    await waitFor(() => (attempts() > before + 2 ? true : undefined), 20_000, 'more failed attempts');
    expect(after.writes()).toBe(0);

    // KG is back: the first delivery clears it, in the database too
    await restartNode(kg, { clock: t.clock });
    expect((await finalMessage(kz, id, 30_000)).status).toBe('delivered');
    expect(kz.node.dispatcher.unreachableSince().has('KG')).toBe(false);
    expect(after.rows()).toEqual([]);
    expect(after.writes()).toBe(1);
    expect(await unreachable(kz)).toBeUndefined();
    await kz.node.stop();
    await restartNode(kz, { clock: t.clock, retry: TEST_RETRY });
    expect(await unreachable(kz)).toBeUndefined();
  }, 90_000);

  it('is cleared when the partner connects again, with nothing queued for it that a delivery would clear it with', async () => {
    const { KZ: kz, KG: kg } = nodes;
    await kg.node.stop();
    const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
    const watch = watchRows(kz);
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') && watch.rows().length === 1 ? true : undefined), 20_000, 'KG found unreachable');
    // the message is taken back: nothing is queued for KG any more, and an hour later health still tells of it
    const withdrawn = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'test' });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect(kz.node.parts.store.outbox.count()).toBe(0);
    t.ahead = 2 * HOUR;
    expect(await unreachable(kz)).toBeDefined();

    // KG starts again and greets KZ: the connection says it is reachable, in the database too, without a delivery
    await restartNode(kg, { clock: t.clock });
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') ? undefined : true), 10_000, 'KZ to see KG reachable again');
    expect(watch.rows()).toEqual([]);
    expect(await unreachable(kz)).toBeUndefined();
    await kz.node.stop();
    await restartNode(kz, { clock: t.clock, retry: TEST_RETRY });
    expect(kz.node.dispatcher.unreachableSince().has('KG')).toBe(false);
  }, 90_000);

  it('is cleared when the partner is removed', async () => {
    const { KZ: kz, KG: kg } = nodes;
    await kg.node.stop();
    const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
    await waitFor(() => (kz.node.parts.store.messages.byId(id)[0]?.status === 'retrying' ? true : undefined), 20_000, 'a failed attempt');
    const watch = watchRows(kz);
    await waitFor(() => (watch.rows().length === 1 ? true : undefined), 5_000, 'KG kept as unreachable');
    const removed = await api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'test', despiteAgreement: true });
    expect(removed.status, removed.text).toBe(200);
    expect(watch.rows()).toEqual([]);
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') ? undefined : true), 10_000, 'KZ to forget that KG was unreachable');
    await kz.node.stop();
    await restartNode(kz, { clock: t.clock, retry: TEST_RETRY });
    expect(kz.node.dispatcher.unreachableSince().has('KG')).toBe(false);
    expect(kz.node.parts.store.db.prepare('SELECT count(*) FROM partner_unreachable').pluck().get()).toBe(0);
  }, 90_000);
});
