/**
 * No statement of a running node reads a table that grows with traffic from end to end. Every SQL statement
 * two real nodes prepare while they exchange, project, answer the API and purge is collected, and SQLite's
 * own plan for it (EXPLAIN QUERY PLAN, on the receiving node's file) must reach rows of those tables through
 * an index or the rowid: a full scan costs nothing in a test and ~60 ms per call at a million messages.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/network.js';
import { certificate, road, snapshot, variant } from '../risk/fixtures.js';
import { arrival, riskNetwork, send, type RiskNetwork } from '../risk/network.js';

/** Tables with a row (or several) per message exchanged. */
const GROWING = new Set([
  'messages', 'message_content', 'receipts', 'rejections', 'evidence', 'checkpoints', 'idempotency_keys',
  'risk_consignments', 'risk_versions', 'risk_keys', 'risk_events', 'risk_webhook', 'risk_aeo_history', 'risk_ecoo', 'risk_aeo', 'risk_assessments',
  'aeo_parts', 'risk_aeo_names', 'risk_purged_versions',
]);

/**
 * Scans that stop early: the newest row, read backwards along the rowid; the newest messages page, whose only
 * filters (a direction, the cursor) match the rows walked back from the newest densely, or whose upper time
 * bound (`until`) is passed after the rows newer than it; a wide `since` window (NOT INDEXED, chosen only when
 * the window holds SINCE_NARROW_ROWS or more, so its rows lie densely among the newest); the AEO registry's
 * first page, read in the order of its primary key (a WITHOUT ROWID table) up to LIMIT.
 */
const BOUNDED_SCAN = [
  /ORDER BY seq DESC LIMIT 1\s*$/,
  /^SELECT \* FROM risk_aeo ORDER BY partner, aeo_id LIMIT \?$/,
  /^SELECT (m\.\w+, )+c\.jws, c\.body FROM messages m LEFT JOIN message_content c ON c\.seq = m\.seq (WHERE (\+m\.direction = \?|m\.created < \?|m\.seq < \?)( AND (\+m\.direction = \?|m\.created < \?|m\.seq < \?))* )?ORDER BY m\.seq DESC LIMIT \?$/,
  /^SELECT (m\.\w+, )+c\.jws, c\.body FROM messages m NOT INDEXED LEFT JOIN message_content c ON c\.seq = m\.seq WHERE (\+m\.direction = \? AND )?m\.created >= \?( AND m\.created < \?)?( AND m\.seq < \?)? ORDER BY m\.seq DESC LIMIT \?$/,
];

const prepared = new Set<string>();
const original = Database.prototype.prepare;
let net: RiskNetwork;

beforeAll(async () => {
  Database.prototype.prepare = function (this: Database.Database, sql: string) {
    prepared.add(sql);
    return original.call(this, sql);
  } as typeof original;
  net = await riskNetwork();
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const declaration = variant(road(), (d) => (d.expectedArrival = tomorrow));
  await send(net.kz, 'aeo', snapshot());
  // a snapshot in parts: the second part is checked against the first and completes the snapshot
  const [first, ...rest] = snapshot()['operators'] as Record<string, unknown>[];
  await send(net.kz, 'aeo', { ...snapshot(), asOf: '2026-11-24T06:00:00+05:00', part: { number: 1, of: 2 }, operators: [first] });
  await send(net.kz, 'aeo', { ...snapshot(), asOf: '2026-11-24T06:00:00+05:00', part: { number: 2, of: 2 }, operators: rest });
  await send(net.kz, 'ecoo', certificate());
  const d1 = await send(net.kz, 'aci', declaration);
  const a1 = await send(net.kz, 'aci', variant(declaration, (d) => (d.kind = 'amendment')), d1);
  await arrival(net.kg, a1);
  const kg = net.kg;
  const hourAgo = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
  for (const path of [
    '/v1/health', '/v1/partners', `/v1/messages/${d1}`, `/v1/messages/${d1}/evidence`, `/v1/messages/${d1}/evidence?direction=in`,
    '/v1/messages?direction=in&partner=KZ&type=aci&status=accepted&limit=5', '/v1/messages', '/v1/messages?direction=in', '/v1/messages?type=aeo',
    '/v1/messages?status=accepted&direction=in', `/v1/messages?since=${hourAgo}`, `/v1/messages?direction=in&since=${hourAgo}`, `/v1/messages?since=${hourAgo}&cursor=999999`,
    `/v1/messages?until=${hourAgo}&direction=out`, '/v1/messages?cursor=999999',
    '/v1/arrivals?partner=KZ', `/v1/arrivals?borderCrossingPoint=${encodeURIComponent('Biləsuvar')}&hsPrefix=84`, '/v1/arrivals?borderCrossingPoint=Bilesuvar', `/v1/arrivals?from=${encodeURIComponent(new Date().toISOString())}&borderCrossingPoint=KG-AKJOL`, '/v1/arrivals?hsPrefix=84&level=low',
    '/v1/arrivals?trader=KZ123&includeCancelled=true', '/v1/arrivals?aeoId=KZAEO981140001234', '/v1/arrivals?container=MSKU1234567',
    '/v1/arrivals?transportMeans=123ABC02&officeOfEntry=KG417000', `/v1/arrivals?to=${encodeURIComponent(new Date(Date.now() + 7 * 86_400_000).toISOString())}`,
    '/v1/arrivals/export?partner=KZ', '/v1/arrivals/export?format=jsonl&level=low', '/v1/aeo?id=KZAEO981140001234', '/v1/aeo?limit=5',
    `/v1/arrivals/${d1}`, `/v1/arrivals/${a1}`, '/v1/aeo?partner=KZ', '/v1/aeo/KZ/KZAEO981140001234', '/v1/aeo/KZ/KZAEO981140001234?at=2026-01-01',
    '/v1/aeo/pending', '/v1/aeo/pending?partner=KZ', '/v1/aeo/KZ/KZAEO999999999999',
    '/v1/audit/verify', '/v1/agreements',
  ]) {
    const r = await api(kg, 'GET', path);
    expect(r.status, `${path}: ${r.text}`).toBeLessThan(500);
  }
  // by name, across partners and of one, and the page after the first of each
  for (const path of ['/v1/aeo?name=pro&limit=1', '/v1/aeo?partner=KZ&name=pro&limit=1']) {
    const first = await api(kg, 'GET', path);
    expect(first.status, `${path}: ${first.text}`).toBe(200);
    expect(first.json.nextCursor, path).not.toBeNull();
    const next = await api(kg, 'GET', `${path}&cursor=${first.json.nextCursor}`);
    expect(next.status, `${path}: ${next.text}`).toBe(200);
  }
  expect(kg.node.retention.purge(Date.now() + 20 * 365 * 86_400_000)).toBeGreaterThan(0);
});

afterAll(async () => {
  Database.prototype.prepare = original;
  await net?.close();
});

/** Parameters as NULLs: enough for SQLite to plan the statement (anonymous ones first, then the named ones). */
function plan(db: Database.Database, sql: string): string[] {
  const st = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  // parameters outside string literals only: a JSON path such as '$.operator.statusDate' names none
  const code = sql.replace(/'(?:[^']|'')*'/g, "''");
  const named = [...new Set([...code.matchAll(/[@:$]([A-Za-z_]\w*)/g)].map((m) => m[1]!))];
  const anonymous = new Array<null>((code.match(/\?/g) ?? []).length).fill(null);
  const args: unknown[] = named.length ? [...anonymous, Object.fromEntries(named.map((n) => [n, null]))] : anonymous;
  return (st.all(...args) as { detail: string }[]).map((r) => r.detail);
}

/** Table names behind the aliases of a statement (`FROM risk_versions v JOIN ...`). */
function aliases(sql: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of sql.matchAll(/\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    out.set(m[1]!, m[1]!);
    if (m[2] && !/^(WHERE|JOIN|LEFT|INNER|ON|ORDER|GROUP|LIMIT|SET|VALUES)$/i.test(m[2])) out.set(m[2], m[1]!);
  }
  return out;
}

describe('query plans', () => {
  it('covers the exchange, the projection, the API and the purge', () => {
    const text = [...prepared].join('\n');
    for (const part of ['INSERT INTO messages', 'INSERT INTO message_content', 'DELETE FROM message_content', 'risk_versions', 'risk_events', 'FROM evidence', 'DELETE FROM risk_consignments', 'FROM aeo_parts', 'FROM risk_aeo_names', 'DELETE FROM risk_aeo_names', 'INSERT OR IGNORE INTO risk_purged_versions', 'DELETE FROM risk_purged_versions']) expect(text).toContain(part);
  });

  it('reaches rows of every growing table through an index or the rowid, never by a full scan', () => {
    const db = net.kg.node.parts.store.db;
    const found: string[] = [];
    for (const sql of prepared) {
      const flat = sql.replace(/\s+/g, ' ').trim();
      if (!/^(SELECT|UPDATE|DELETE|INSERT|WITH)\b/i.test(flat) || BOUNDED_SCAN.some((b) => b.test(flat))) continue;
      const names = aliases(sql);
      const steps = plan(db, sql);
      // a scan along an index is bounded only by a LIMIT (it reads the index in order until the page is full), and
      // only when that order is the one asked for: a page sorted afterwards was read whole first
      const bounded = /\bLIMIT\b/i.test(flat) && !steps.includes('USE TEMP B-TREE FOR ORDER BY');
      for (const step of steps) {
        const scan = /^SCAN (\w+)(?! USING (?:COVERING )?INDEX)/.exec(step) ?? (bounded ? null : /^SCAN (\w+) USING (?:COVERING )?INDEX/.exec(step));
        const table = scan ? names.get(scan[1]!) ?? scan[1]! : undefined;
        // (direction, partner, id) finds one message; by direction, or direction and partner, it reads them all
        const byDirection = /USING INDEX sqlite_autoindex_messages_1 \(direction=\?(?: AND partner=\?)?\)$/.test(step);
        // by partner or type alone it reads all of that partner's (type's) messages, unless it walks them newest
        // first and stops at a page (the (column, seq) index in seq order up to a LIMIT); a status is looked up
        // only for the transient ones ('sending' at a restart), which few messages have at a time
        const byFewValues = /USING INDEX messages_(?:partner|type) \((?:partner|type)=\?\)$/.test(step) && !/ORDER BY (m\.)?seq DESC LIMIT \?$/.test(flat);
        if ((table && GROWING.has(table)) || byDirection || byFewValues) found.push(`${step}: ${flat}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('finds what a purged AEO message wrote by its id, not by reading all its partner wrote', () => {
    const db = net.kg.node.parts.store.db;
    const byMessage = [...prepared].filter((sql) => /^\s*(SELECT|DELETE)\b/.test(sql) && /\bFROM risk_aeo(_history)?\b/.test(sql) && /\bWHERE\b.*\bmessage_id = [?@]/s.test(sql));
    // the purge's: the operators of a message's history entries, and its entries deleted
    expect(byMessage.length).toBeGreaterThanOrEqual(2);
    for (const sql of byMessage) {
      for (const step of plan(db, sql).filter((p) => /\brisk_aeo/.test(p))) expect(step, sql).toMatch(/message_id=\?/);
    }
  });
});
