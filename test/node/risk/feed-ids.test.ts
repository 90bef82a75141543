/**
 * Event ids of the risk feed on a real store: a client resumes a stream after the last id it saw, so an id
 * must never be handed out twice, also after the hourly prune removed every old event or the retention purge
 * dropped the consignment of the newest one.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AssessmentEvent } from '../../../protocol/risk.js';
import { EVENT_RETENTION_MS, RiskFeed } from '../../../node/risk/feed.js';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { Store } from '../../../node/store/store.js';
import { tempDir } from '../../helpers/network.js';

let dir: string;
let store: Store;
let feed: RiskFeed;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const event = { type: 'assessment', consignment: 'c' } as unknown as Omit<AssessmentEvent, 'id'>;

beforeEach(() => {
  dir = tempDir('gnc-feed-');
  store = Store.open(dir);
  feed = new RiskFeed(store.db);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('risk feed event ids', () => {
  it('never hands out an id again after the prune removed every old event', () => {
    const ids = [1, 2, 3].map(() => feed.record(1, event, T0, undefined).id);
    feed.prune(T0 + EVENT_RETENTION_MS + 1);
    expect(feed.latestId()).toBe(ids[2]);
    expect(feed.after(0, 10).map((e) => e.id)).toEqual([ids[2]]);
    expect(feed.record(1, event, T0 + EVENT_RETENTION_MS + 2, undefined).id).toBe(ids[2]! + 1);
  });

  it('never hands out an id again after the retention purge dropped the consignment of the newest event', () => {
    const [, other, newest] = [1, 2, 1].map((cid) => feed.record(cid, event, T0, undefined).id);
    feed.dropConsignment(1);
    expect(feed.after(0, 10).map((e) => e.id)).toEqual([other]);
    expect(feed.latestId()).toBe(newest);
    expect(feed.record(3, event, T0, undefined).id).toBe(newest! + 1);
  });

  it('never hands out an id again after purges emptied the feed twice', () => {
    feed.record(1, event, T0, undefined);
    feed.dropConsignment(1);
    const newest = [2, 3].map((cid) => feed.record(cid, event, T0, undefined).id)[1]!;
    feed.dropConsignment(3);
    feed.dropConsignment(2);
    expect(feed.after(0, 10)).toEqual([]);
    expect(feed.record(4, event, T0, undefined).id).toBe(newest + 1);
  });

  it('prunes the events older than the retention period and keeps the newer ones', () => {
    feed.record(1, event, T0, undefined);
    const kept = feed.record(1, event, T0 + EVENT_RETENTION_MS, undefined).id;
    const newest = feed.record(1, event, T0 + EVENT_RETENTION_MS + 5, undefined).id;
    feed.prune(T0 + EVENT_RETENTION_MS + 1);
    expect(feed.after(0, 10).map((e) => e.id)).toEqual([kept, newest]);
  });
});

describe('the newest deleted event id', () => {
  it('is the newest event the prune deleted, not the newest event it kept', () => {
    const ids = [1, 2, 3].map(() => feed.record(1, event, T0, undefined).id);
    expect(feed.deletedThrough()).toBe(0);
    feed.prune(T0 + EVENT_RETENTION_MS + 1);
    expect(feed.deletedThrough()).toBe(ids[1]);
  });

  it('is the newest event dropped with its consignment, and never goes down', () => {
    const newest = [1, 2, 1].map((cid) => feed.record(cid, event, T0, undefined).id)[2];
    feed.dropConsignment(1);
    expect(feed.deletedThrough()).toBe(newest);
    // consignment 2's event is older
    feed.dropConsignment(2);
    expect(feed.deletedThrough()).toBe(newest);
  });

  it('is found by the upgrade in a store whose events were deleted before it', () => {
    const migration = MIGRATIONS.findIndex((m) => m.includes("'deletedEventId'"));
    [1, 2, 3, 4].forEach((cid) => feed.record(cid, event, T0, undefined));
    // what the deletions of earlier versions left: events 1 and 3 gone, nothing recorded
    store.db.prepare('DELETE FROM risk_events WHERE seq IN (1, 3)').run();
    store.db.exec(MIGRATIONS[migration]!);
    expect(feed.deletedThrough()).toBe(3);
    // the newest event itself gone: the id kept for it (lastEventId) counts
    feed.dropConsignment(4);
    store.db.prepare(`DELETE FROM risk_state WHERE key = 'deletedEventId'`).run();
    store.db.exec(MIGRATIONS[migration]!);
    expect(feed.deletedThrough()).toBe(4);
  });
});
