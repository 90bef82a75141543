/**
 * Two real nodes (KZ sends, KG receives) for the risk tests: makeNetwork's identities, pinned roots and
 * agreement signed by both, then each node reopened by the composition root (which wires the risk
 * extension) after, where a test wants one, a rules file was put in its data dir (risk-rules.json, the
 * default location).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { openNode } from '../../../node/compose.js';
import { RiskFeed } from '../../../node/risk/feed.js';
import type { Db } from '../../../node/store/db.js';
import type { Store } from '../../../node/store/store.js';
import { AeoList, type AssessmentEvent } from '../../../protocol/risk.js';
import { api, finalMessage, makeNetwork, TEST_RETRY, type TestNode, waitFor } from '../../helpers/network.js';

/**
 * A webhook receiver on 127.0.0.1 (the national risk engine of a test): `answer` gets each POST with its whole body
 * and returns the status to answer with. `url` is the one to put in a rules file's webhook.
 */
export async function webhookReceiver(answer: (req: IncomingMessage, body: string) => number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => res.writeHead(answer(req, body)).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/risk-engine` };
}

export interface RiskNetwork {
  kz: TestNode;
  kg: TestNode;
  close(): Promise<void>;
}

/**
 * KZ and KG running, with `rules` (a rules document) in KG's data dir when given, under `agreement` when given, and
 * `riskRetryMs` as the risk loop's first retry wait when given.
 */
export async function riskNetwork(
  opts: { rules?: Record<string, unknown>; agreement?: Record<string, unknown>; log?: (msg: string, fields?: Record<string, unknown>) => void; riskRetryMs?: number } = {},
): Promise<RiskNetwork> {
  const net = await makeNetwork(['KZ', 'KG'], { start: false, ...(opts.agreement ? { agreements: [{ a: 'KZ', b: 'KG', draft: opts.agreement }] } : {}) });
  for (const t of Object.values(net.nodes)) {
    if (opts.rules && t.country === 'KG') writeFileSync(join(t.dir, 'risk-rules.json'), JSON.stringify(opts.rules, null, 2));
    t.node.parts.store.close();
    t.node = openNode(t.dir, { apiPort: 0, log: opts.log ?? (() => undefined), retry: TEST_RETRY, riskRetryMs: opts.riskRetryMs });
  }
  for (const t of Object.values(net.nodes)) {
    await t.node.start();
    t.url = t.node.apiUrl;
  }
  return { kz: net.nodes.KZ!, kg: net.nodes.KG!, close: () => net.close() };
}

const PURPOSE = { aci: 'pre-arrival-risk-assessment', ecoo: 'origin-verification', aeo: 'aeo-mra-benefits' } as const;

/** Submits a message at KZ for KG (for the type's usual purpose unless told) and waits for KG's signed receipt; returns the message id. */
export async function send(kz: TestNode, type: 'aci' | 'ecoo' | 'aeo', body: Record<string, unknown>, ref?: string, purpose: string = PURPOSE[type]): Promise<string> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type, purpose, ...(ref ? { ref } : {}), body });
  expect(r.status, r.text).toBe(202);
  const id = r.json.id as string;
  const m = await finalMessage(kz, id);
  expect(m.status, JSON.stringify(m.error)).toBe('delivered');
  return id;
}

/** GET `path` on `node`, which must answer 200: its JSON (a page of a list, as a client paging it reads it). */
export async function getOk(node: TestNode, path: string): Promise<any> {
  const r = await api(node, 'GET', path);
  expect(r.status, `${path}: ${r.text}`).toBe(200);
  return r.json;
}

/** Waits until KG's view of consignment `id` satisfies `ok` (assessment is asynchronous to the receipt). */
/**
 * Whether arrival view `a` is assessed as of message `messageId`, its current version: the step that projected that
 * version or a later one assessed it. Not a count of assessments: the risk loop projects what arrived within its wait
 * (STEP_DELAY_MS) in one step, so a declaration and its amendment sent one after the other may get one assessment.
 */
export function assessedAs(a: any, messageId: string): boolean {
  return a.currentMessageId === messageId && a.assessment?.revision >= 1 && Date.parse(a.assessment.assessedAt) >= Date.parse(a.updatedAt);
}

/**
 * The consignment id (cid) of the declaration `id` at `kg`, once projected: the risk loop projects a message within its
 * wait (STEP_DELAY_MS) of its commit, so not necessarily before the sender has its receipt.
 */
export function projectedCid(kg: TestNode, id: string): Promise<number> {
  const db = kg.node.parts.store.db;
  return waitFor(() => db.prepare('SELECT cid FROM risk_consignments WHERE root_id = ?').pluck().get(id) as number | undefined, 10_000, `the projection of ${id}`);
}

export async function arrival(kg: TestNode, id: string, ok: (a: any) => boolean = () => true): Promise<any> {
  let last: unknown;
  try {
    return await waitFor(async () => {
      const r = await api(kg, 'GET', `/v1/arrivals/${id}`);
      last = r.json;
      return r.status === 200 && ok(r.json) ? r.json : undefined;
    }, 10_000, `arrival ${id}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last answer: ${JSON.stringify(last)?.slice(0, 2000)}`);
  }
}

/**
 * The AEO ids of every page of `GET /v1/aeo?<query>` at `limit` per page, followed by nextCursor to the end (each
 * page checked: 200, at most `limit` items; at most `bound` pages, so a cursor that never ends fails the test).
 */
export async function aeoPages(kg: TestNode, query: string, limit: number, bound: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < bound; page++) {
    const r = await api(kg, 'GET', `/v1/aeo?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status, r.text).toBe(200);
    const list = AeoList.parse(r.json);
    expect(list.items.length).toBeLessThanOrEqual(limit);
    seen.push(...list.items.map((o) => o.aeoId));
    cursor = list.nextCursor;
    if (cursor === null) return seen;
  }
  throw new Error(`GET /v1/aeo?${query} still had a nextCursor after ${bound} pages`);
}

/**
 * Every row of the risk tables and the feed of database `db` that mentions `text` (an assessment, a list view, a search
 * key, an event), named by table and id: for the tests of what the retention purge leaves.
 */
export function mentions(db: Db, text: string): string[] {
  const like = `%${text}%`;
  const rows = (table: string, id: string, column: string): string[] =>
    (db.prepare(`SELECT ${id} FROM ${table} WHERE ${column} LIKE ?`).pluck().all(like) as number[]).map((n) => `${table} ${n}`);
  return [...rows('risk_assessments', 'cid', 'assessment'), ...rows('risk_consignments', 'cid', 'view'), ...rows('risk_keys', 'cid', 'v'), ...rows('risk_events', 'seq', 'payload')];
}

export const codesOf = (a: { indicators: { code: string }[] }): string[] => a.indicators.map((i) => i.code);
export const has = (code: string) => (a: { indicators: { code: string }[] }): boolean => codesOf(a).includes(code);

/** `n` consignments in the projection as the risk engine leaves them (their list view padded to 4 KB), committed: what the export tests stream. */
export function paddedConsignments(db: Db, n: number): void {
  const add = db.prepare(`INSERT INTO risk_consignments (office_of_entry, expected_arrival, cid, partner, root_id, status, current_seq, current_created, versions, updated_at, view)
    VALUES ('KGAKZ001', ?, ?, 'KZ', ?, 'active', ?, '2026-01-01T00:00:00Z', 1, 0, ?)`);
  db.transaction(() => {
    for (let i = 1; i <= n; i++) add.run(Date.UTC(2026, 0, 1) + i * 60_000, 1_000_000 + i, `x-${i}`, 1_000_000 + i, JSON.stringify({ id: `x-${i}`, pad: randomBytes(2_000).toString('hex') }));
  })();
}

/**
 * A client of the API that stalls: opens GET `path` over a raw socket (no client library that would buffer for
 * it), reads until `until` has arrived, then stops reading (until the caller resumes it). Returns the socket (destroy it) and what it read.
 */
export async function stalledClient(baseUrl: string, token: string, path: string, until: string): Promise<{ socket: Socket; got: string }> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  let got = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (got.includes(until)) {
        // paused until the caller reads on (resume())
        socket.off('data', onData);
        socket.pause();
        resolve();
      }
    };
    socket.on('data', onData);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  });
  return { socket, got };
}

/** Reads SSE events from a stream until `done` says so (bounded by a timeout). */
export async function readEvents(res: Response, done: (events: any[]) => boolean): Promise<any[]> {
  const reader = res.body!.getReader();
  const events: any[] = [];
  let buf = '';
  const deadline = Date.now() + 10_000;
  try {
    while (!done(events)) {
      if (Date.now() > deadline) throw new Error(`stream gave ${events.length} event(s)`);
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += Buffer.from(value).toString('utf8');
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        if (data) events.push({ id: Number(id), event: /^event: (.*)$/m.exec(block)?.[1], data: JSON.parse(data) });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

/**
 * The node's own risk feed, the one its streams subscribe to: caught when the first stream subscribes. `restore()`
 * ends the watch (call it in a finally).
 */
export function watchFeed(): { feed(): RiskFeed | undefined; restore(): void } {
  let feed: RiskFeed | undefined;
  const subscribe = RiskFeed.prototype.subscribe;
  const spy = vi.spyOn(RiskFeed.prototype, 'subscribe').mockImplementation(function (this: RiskFeed, fn) {
    feed = this;
    return subscribe.call(this, fn);
  });
  return { feed: () => feed, restore: () => spy.mockRestore() };
}

/**
 * Records and publishes `batches` of `perBatch` events, each padded with `padBytes` random bytes (twice that in hex),
 * as the risk engine does (one commit and one publication a batch), yielding to the event loop between batches.
 */
export async function publishPadded(store: Store, feed: RiskFeed, batches: number, perBatch: number, padBytes: number): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const events = await store.commits.run(() => {
      const out: AssessmentEvent[] = [];
      for (let i = 0; i < perBatch; i++) out.push(feed.record(b * perBatch + i + 1, { type: 'assessment', change: 'new', pad: randomBytes(padBytes).toString('hex') } as never, Date.now(), undefined));
      return out;
    });
    feed.publish(events);
    await new Promise((r) => setImmediate(r));
  }
}
