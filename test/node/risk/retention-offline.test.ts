/**
 * The purge `gnc backup` runs on its copy (offlineRiskPurge, no node running) rebuilds a consignment some of whose
 * messages it purged as the node does (retention-rebuild.test.ts): from the messages still held, the version in force
 * the one created latest (not the one received last), and nothing of the purged ones left. A real store, rows inserted
 * as the receiver inserts them, each message with its own retention end.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsignmentRepo } from '../../../node/risk/consignments.js';
import { offlineRiskPurge } from '../../../node/risk/purge.js';
import { RiskFeed } from '../../../node/risk/feed.js';
import { ArrivalQueries } from '../../../node/risk/query.js';
import { defaultRules } from '../../../node/risk/rules.js';
import { RetentionJob } from '../../../node/retention.js';
import { Store } from '../../../node/store/store.js';
import { receive, road, tempDir, variant } from './fixtures.js';
import { mentions } from './network.js';

const NOW = Date.parse('2026-11-23T08:00:00Z');
const DAY = 86_400_000;
/** The retention ends: the first purge (at SHORT) takes the messages ending then, LONG ones stay. */
const SHORT = NOW + DAY;
const LONG = NOW + 10 * DAY;

let dir: string;
let store: Store;
let risk: ReturnType<typeof offlineRiskPurge>;
let queries: ArrivalQueries;

/** Receives an ACI message kept until `until`. */
function aci(until: number, m: { body: Record<string, any>; ref?: string; created: string }): string {
  return receive(store, { partner: 'KZ', type: 'aci', ...m, retainUntil: until });
}

const named = (name: string, kind = 'amendment') =>
  variant(road(), (d) => {
    d.kind = kind;
    d.consignee.name = name;
  });

beforeEach(() => {
  dir = tempDir('gnc-risk-');
  store = Store.open(dir);
  risk = offlineRiskPurge(store, () => NOW, defaultRules);
  queries = new ArrivalQueries(store.db, new ConsignmentRepo(store.db));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The copy's purge at `at`, then its reassessment, as purgeCopy (node/cli/commands/backup.ts) runs them. */
function purge(at: number): number {
  const purged = new RetentionJob(store, { clock: () => NOW, log: () => undefined, onPurge: risk.onPurge }).purge(at);
  if (purged > 0) risk.reassess();
  return purged;
}

describe('the offline purge of a consignment some of whose messages ended', () => {
  it('rebuilds it from the amendments held, the one created latest in force', () => {
    const id = aci(SHORT, { body: named('Original Only Consignee', 'declaration'), created: '2026-11-23T07:00:00.000Z' });
    const newer = aci(LONG, { body: named('Newer Amendment Consignee'), ref: id, created: '2026-11-23T07:40:00.000Z' });
    // created before the newer one, received after it
    const older = aci(LONG, { body: named('Older Amendment Consignee'), ref: id, created: '2026-11-23T07:20:00.000Z' });
    risk.reassess();
    expect(queries.detail(id)).toMatchObject({ version: 3, currentMessageId: newer });
    expect(purge(SHORT)).toBe(1);
    const d = queries.detail(id);
    expect(d).toMatchObject({ version: 2, currentMessageId: newer, consignee: { name: 'Newer Amendment Consignee' }, assessment: { revision: 1 } });
    expect(d.history.map((h) => [h.messageId, h.current])).toEqual([[newer, true], [older, false]]);
    expect(mentions(store.db, 'Original Only Consignee')).toEqual([]);
  });

  it('puts the declaration back in force when its amendment is purged first', () => {
    const id = aci(LONG, { body: named('Declared Consignee', 'declaration'), created: '2026-11-23T07:00:00.000Z' });
    aci(SHORT, { body: named('Short-Kept Amendment Consignee'), ref: id, created: '2026-11-23T07:30:00.000Z' });
    risk.reassess();
    expect(queries.detail(id)).toMatchObject({ version: 2, consignee: { name: 'Short-Kept Amendment Consignee' } });
    expect(purge(SHORT)).toBe(1);
    expect(queries.detail(id)).toMatchObject({ version: 1, currentMessageId: id, consignee: { name: 'Declared Consignee' }, assessment: { revision: 1 } });
    expect(mentions(store.db, 'Short-Kept Amendment Consignee')).toEqual([]);
  });

  it('drops it when only a cancellation is held', () => {
    const id = aci(SHORT, { body: named('Cancelled Consignee', 'declaration'), created: '2026-11-23T07:00:00.000Z' });
    aci(LONG, { body: { kind: 'cancellation', reason: 'Withdrawn by the exporter' }, ref: id, created: '2026-11-23T07:30:00.000Z' });
    risk.reassess();
    expect(queries.list({ includeCancelled: true, limit: 10 }).rows).toHaveLength(1);
    expect(purge(SHORT)).toBe(1);
    expect(queries.list({ includeCancelled: true, limit: 10 }).rows).toHaveLength(0);
    expect(store.db.prepare('SELECT COUNT(*) FROM risk_versions').pluck().get()).toBe(0);
    expect(mentions(store.db, 'Cancelled Consignee')).toEqual([]);
  });

  it('leaves out a held version sent for statistics, also one an older version projected', () => {
    const id = aci(SHORT, { body: named('Ended Declared Consignee', 'declaration'), created: '2026-11-23T07:00:00.000Z' });
    const counted = aci(LONG, { body: named('Counted Amendment Consignee'), ref: id, created: '2026-11-23T07:20:00.000Z' });
    const statistics = aci(LONG, { body: named('Statistics Amendment Consignee'), ref: id, created: '2026-11-23T07:40:00.000Z' });
    risk.reassess();
    // created latest and projected (as by a version before purposes counted), then found to be sent for statistics
    expect(queries.detail(id)).toMatchObject({ version: 3, currentMessageId: statistics });
    store.db.prepare(`UPDATE messages SET purpose = 'statistics' WHERE id = ? AND direction = 'in'`).run(statistics);
    expect(purge(SHORT)).toBe(1);
    expect(queries.detail(id)).toMatchObject({ id, version: 1, currentMessageId: counted, consignee: { name: 'Counted Amendment Consignee' } });
    expect(queries.detail(id).history.map((h) => h.messageId)).toEqual([counted]);
    expect(mentions(store.db, 'Statistics Amendment Consignee')).toEqual([]);
    expect(mentions(store.db, 'Ended Declared Consignee')).toEqual([]);
  });

  it('keeps of a purged amendment what places a later reference to it, says it was newer than the version in force, and answers its id as purged', () => {
    const id = aci(LONG, { body: named('Declared Held Consignee', 'declaration'), created: '2026-11-23T07:00:00.000Z' });
    const short = aci(SHORT, { body: named('Offline Purged Amendment Consignee'), ref: id, created: '2026-11-23T07:30:00.000Z' });
    risk.reassess();
    expect(purge(SHORT)).toBe(1);
    const d = queries.detail(id);
    expect(d).toMatchObject({ currentMessageId: id, purgedVersions: [{ messageId: short, kind: 'amendment', created: '2026-11-23T07:30:00.000Z', purgedAt: new Date(SHORT).toISOString() }] });
    expect(d.assessment.explanation).toContain(`the newer amendment ${short}`);
    expect(() => queries.detail(short)).toThrow(expect.objectContaining({ code: 'GNC_ARRIVAL_PURGED', message: expect.stringContaining(`GET /v1/arrivals/${id}`) }));
    expect(mentions(store.db, 'Offline Purged Amendment Consignee')).toEqual([]);
    // received after the copy was restored: an amendment naming the purged one is a version of the same consignment
    const later = aci(LONG, { body: named('Later Amendment Consignee'), ref: short, created: '2026-11-23T07:50:00.000Z' });
    risk.reassess();
    expect(queries.detail(id)).toMatchObject({ currentMessageId: later, version: 2 });
    expect(queries.detail(id).purgedVersions).toBeUndefined();
    expect(queries.list({ includeCancelled: true, limit: 10 }).rows.map((r) => r.root_id)).toEqual([id]);
  });

  it("records the rebuilt consignment's event in the copy, after the deleted ones, for a node restored from it to give", () => {
    const feed = new RiskFeed(store.db);
    const id = aci(SHORT, { body: named('Evented Original Consignee', 'declaration'), created: '2026-11-23T07:00:00.000Z' });
    const held = aci(LONG, { body: named('Evented Amendment Consignee'), ref: id, created: '2026-11-23T07:20:00.000Z' });
    risk.reassess();
    const before = feed.latestId();
    expect(before).toBeGreaterThan(0);
    expect(purge(SHORT)).toBe(1);
    // nobody listens offline: the event is stored (a resumed stream or the webhook of the restored node reads it there)
    expect(feed.deletedThrough()).toBe(before);
    expect(feed.after(0, 10).map((e) => [e.arrival.id, e.change, e.arrival.currentMessageId])).toEqual([[id, 'new', held]]);
    expect(feed.latestId()).toBe(before + 1);
  });
});
