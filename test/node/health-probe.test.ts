/**
 * A partner found unreachable with nothing queued for it is probed: the sender dials it (a connection, no message) on a
 * backoff of its own, so that GET /v1/health stops telling of it once it is back, also when it never dials the sender.
 * Real KZ and KG nodes sharing a clock the test moves; KG stopped, then back on its certified address as a raw libp2p
 * host with KG's key that listens and never dials (a partner whose greeting cannot reach KZ). Failed probes write
 * nothing; the one that connects clears the kept mark, as any connection does.
 */
import { describe, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import { api, networkForFile, sharedClockPerTest, waitFor, type TestNode } from '../helpers/network.js';
import { rawPeer } from '../helpers/raw-peer.js';
import { example } from '../protocol/messages/fixtures.js';

const HOUR = 3_600_000;
const t = sharedClockPerTest();
const { nodes } = networkForFile(['KZ', 'KG'], { nodeOptions: () => ({ clock: t.clock }) });
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

const unreachable = async (n: TestNode): Promise<string | undefined> => {
  const r = await api(n, 'GET', '/v1/health');
  expect(r.status, r.text).toBe(200);
  return (r.json as { checks: { code: string; detail: string }[] }).checks.find((c) => c.code === 'GNC_PARTNER_UNREACHABLE')?.detail;
};

describe('probing a partner found unreachable, nothing queued for it', () => {
  it('finds it back within a bounded time when it returns and never dials this node', async () => {
    const { KZ: kz, KG: kg } = nodes;
    await kg.node.stop();
    const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') ? true : undefined), 20_000, 'KG found unreachable');
    // nothing is delivered after: the message is taken back, and nothing is queued for KG any more
    const withdrawn = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'test' });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect(kz.node.parts.store.outbox.count()).toBe(0);
    t.ahead = 2 * HOUR;
    expect(await unreachable(kz)).toBeDefined();

    // probes that fail while KG is down write nothing (a temporary trigger on KZ's own connection counts the writes)
    const db = kz.node.parts.store.db;
    db.exec(`CREATE TEMP TABLE probe_writes (n INTEGER);
      CREATE TEMP TRIGGER probe_upd AFTER UPDATE ON main.partner_unreachable BEGIN INSERT INTO probe_writes VALUES (1); END;
      CREATE TEMP TRIGGER probe_ins AFTER INSERT ON main.partner_unreachable BEGIN INSERT INTO probe_writes VALUES (1); END;
      CREATE TEMP TRIGGER probe_del AFTER DELETE ON main.partner_unreachable BEGIN INSERT INTO probe_writes VALUES (1); END;`);
    const writes = (): number => db.prepare('SELECT count(*) FROM probe_writes').pluck().get() as number;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(writes()).toBe(0);
    expect(kz.node.dispatcher.unreachableSince().has('KG')).toBe(true);

    // KG is back on its address, and never dials KZ: KZ's probe connects, and health says so
    let back: Libp2p | undefined;
    try {
      back = await rawPeer(kg);
      const dialedOut = (): number => back!.getConnections().filter((c) => c.direction === 'outbound').length;
      await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') ? undefined : true), 20_000, 'KZ to find KG reachable again');
      expect(await unreachable(kz)).toBeUndefined();
      expect(db.prepare('SELECT count(*) FROM partner_unreachable').pluck().get()).toBe(0);
      expect(writes()).toBe(1);
      expect(dialedOut()).toBe(0);
    } finally {
      await back?.stop();
      db.exec('DROP TRIGGER probe_upd; DROP TRIGGER probe_ins; DROP TRIGGER probe_del; DROP TABLE probe_writes;');
    }
  }, 90_000);
});
