/**
 * A full disk on either node, between two real nodes: SQLite's page limit (`max_page_count` at the current
 * size) makes every write that needs a new page fail with SQLITE_FULL, as a full volume does. The sender
 * refuses new submissions with GNC_STORAGE_FULL (507) and stores none of them; a receiver with a full disk
 * sends no final negative receipt but an error frame, so its partner keeps the message queued; nothing
 * already accepted is lost, no promise is left unhandled, and everything is delivered once space is back.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, makeNetwork, restartNode, waitFor, type TestNode } from '../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci };

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
const logs: Record<string, string[]> = { KZ: [], KG: [] };

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  net = await makeNetwork(['KZ', 'KG'], { nodeOptions: (c) => ({ log: (msg: string) => void logs[c]!.push(msg) }) });
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await net?.close();
});

/** The volume holding the node's data dir is full from now on (its free pages taken too) / has room again. */
function fill(n: TestNode): void {
  const db = n.node.parts.store.db;
  db.exec('CREATE TABLE IF NOT EXISTS test_filler (b BLOB)');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const add = db.prepare('INSERT INTO test_filler (b) VALUES (zeroblob(3000))');
  for (;;) {
    try {
      add.run();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_FULL') return;
      throw err;
    }
  }
}
function free(n: TestNode): void {
  const db = n.node.parts.store.db;
  db.pragma('max_page_count = 1073741823');
  db.exec('DROP TABLE test_filler');
}

const statusOf = async (id: string): Promise<any> => (await api(kz, 'GET', `/v1/messages/${id}`)).json;
const outCount = (): number => kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'out'`).pluck().get() as number;

describe('a full disk', () => {
  it('refuses a submission with GNC_STORAGE_FULL (507) and stores nothing of it', async () => {
    const before = outCount();
    fill(kz);
    try {
      const r = await api(kz, 'POST', '/v1/messages', submission);
      expect(r.status).toBe(507);
      expect(r.json).toMatchObject({ code: 'GNC_STORAGE_FULL', status: 507 });
      expect(r.json.detail).toMatch(/Nothing of this was stored; free space/);
      expect(outCount()).toBe(before);
    } finally {
      free(kz);
    }
    expect((await api(kz, 'POST', '/v1/messages', submission)).status).toBe(202);
  });

  it('keeps queued messages while the sender cannot record their receipts, and delivers them once it can', async () => {
    await kg.node.stop();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await api(kz, 'POST', '/v1/messages', submission)).json.id as string);
    fill(kz);
    try {
      await restartNode(kg, { log: (msg: string) => void logs.KG!.push(msg) });
      // KG stores them and answers; KZ cannot record the receipts, and says so
      await waitFor(() => (logs.KZ!.some((l) => l.includes('GNC_STORAGE_FULL')) ? true : undefined), 10_000, 'KZ to log the full disk');
      // (one attempt at a time goes while KG counts as unreachable here: one whose receipt found room is delivered)
      const statuses = await Promise.all(ids.map(async (id) => (await statusOf(id)).status as string));
      for (const s of statuses) expect(['queued', 'sending', 'retrying', 'delivered']).toContain(s);
      expect(statuses.filter((s) => s !== 'delivered').length).toBeGreaterThan(0);
    } finally {
      free(kz);
    }
    for (const id of ids) {
      await waitFor(async () => ((await statusOf(id)).status === 'delivered' ? true : undefined), 15_000, `delivery of ${id}`);
    }
    // each stored once at KG, with the receipt it sent the first time
    for (const id of ids) expect(kg.node.parts.store.messages.byKey('in', 'KZ', id)).toBeDefined();
    // and it stays so: no retry still pending from the full-disk time rewrites a delivered message (the backoff
    // of these tests is at most 1 s)
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of ids) expect((await statusOf(id)).status).toBe('delivered');
    expect(kz.node.parts.store.db.prepare('SELECT COUNT(*) FROM outbox').pluck().get()).toBe(0);
  });

  it('on the receiver is no verdict on the message: no negative receipt, the sender retries until there is room', async () => {
    fill(kg);
    let id: string;
    try {
      id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
      const waiting = await waitFor(async () => {
        const m = await statusOf(id);
        return m.status === 'retrying' ? m : undefined;
      }, 10_000, 'the retry after the error frame');
      expect(waiting.error).toMatchObject({ code: 'GNC_STORAGE_FULL' });
      expect(waiting.receipt).toBeNull();
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', id)).toBeUndefined();
      expect(logs.KG!.some((l) => l.includes('GNC_STORAGE_FULL'))).toBe(true);
    } finally {
      free(kg);
    }
    await waitFor(async () => ((await statusOf(id)).status === 'delivered' ? true : undefined), 15_000, 'delivery once KG has room');
    expect((await statusOf(id)).receipt).toMatchObject({ status: 'accepted' });
  });

  it('left no promise unhandled', () => {
    expect(unhandled.map(String)).toEqual([]);
  });
});
