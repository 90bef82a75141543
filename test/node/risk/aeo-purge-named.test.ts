/**
 * The retention purge finds the operators a purged AEO message may be quoted for in the message itself: the AEO ids it
 * names, read just before its content is cleared (node/retention.ts PurgedMessage.aeoIds), those a part of the same
 * snapshot still held names, and those of its history entries; not rows the registry writes for the purpose. A
 * message the record moves onto while it restates the status (daily snapshots, applied again by a purge's rebuild)
 * writes no history entry, and an assessment outside the recompute horizon that quotes it as the register's holder is
 * still reassessed when it is purged. Run as `gnc backup` purges its copy (offlineRiskPurge with the retention job): a
 * real store, rows inserted as the receiver inserts them, each message with its own retention end.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsignmentRepo } from '../../../node/risk/consignments.js';
import { offlineRiskPurge } from '../../../node/risk/purge.js';
import { ArrivalQueries } from '../../../node/risk/query.js';
import { defaultRules } from '../../../node/risk/rules.js';
import { RetentionJob } from '../../../node/retention.js';
import { Store } from '../../../node/store/store.js';
import { receive, road, snapshot, tempDir, variant } from './fixtures.js';
import { mentions } from './network.js';

const NOW = Date.parse('2026-11-23T08:00:00Z');
const DAY = 86_400_000;
/** Retention ends, in the order the purges reach them; LONG outlasts the test. */
const [T1, T2, T3, LONG] = [NOW + DAY, NOW + 2 * DAY, NOW + 3 * DAY, NOW + 10 * DAY];

const ops = snapshot()['operators'] as Record<string, string>[];
/** V, of the first part of a snapshot in parts; W, the operator whose changes are purged (each purge rebuilds KZ's list); R, of the second part. */
const [V, W, R] = [ops[1]!, ops[2]!, ops[3]!];

let dir: string;
let store: Store;
let risk: ReturnType<typeof offlineRiskPurge>;
let queries: ArrivalQueries;

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

/** Receives a KZ AEO message kept until `until`, and projects it. */
function aeo(until: number, body: Record<string, unknown>): string {
  const id = receive(store, { partner: 'KZ', type: 'aeo', body, retainUntil: until });
  risk.reassess();
  return id;
}

const daily = (date: string, operators = ops): Record<string, unknown> => ({ ...snapshot(), asOf: `${date}T06:00:00+05:00`, operators });
/** A change of W dated before every snapshot: its purge rebuilds the list from the latest snapshot held, changing nothing else. */
const wChange = (statusDate: string) => ({ kind: 'change', operator: { ...W, status: 'suspended', statusDate } });

/** The purge at `at`, then the reassessment, as purgeCopy (node/cli/commands/backup.ts) runs them. */
function purge(at: number): number {
  const purged = new RetentionJob(store, { clock: () => NOW, log: () => undefined, onPurge: risk.onPurge }).purge(at);
  if (purged > 0) risk.reassess();
  return purged;
}

const historyRows = () => store.db.prepare('SELECT COUNT(*) FROM risk_aeo_history').pluck().get() as number;
const rowsOf = (id: string) => store.db.prepare('SELECT COUNT(*) FROM risk_aeo_history WHERE message_id = ?').pluck().get(id) as number;
const holderOf = (aeoId: string) => store.db.prepare(`SELECT message_id FROM risk_aeo WHERE partner = 'KZ' AND aeo_id = ?`).pluck().get(aeoId);

/**
 * Receives a declaration expected 40 days ago (outside the 30-day recompute horizon) whose consignor quotes `aeoId`
 * under another trader id, the only AEO id it names: its assessment quotes the message the record rests on as the
 * register's holder.
 */
function borrowed(aeoId: string): string {
  const id = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => {
    d.expectedArrival = new Date(NOW - 40 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
    d.consignor.aeoId = aeoId;
    d.consignor.id = '990140009999';
    // no other AEO id: the consignment carries the borrowed one alone
    delete d.exporter.aeoId;
    delete d.carrier.aeoId;
  }) });
  risk.reassess();
  expect(queries.detail(id).assessment.indicators.map((i) => i.code)).toContain('aeo-not-listed');
  return id;
}

describe('the retention purge of an AEO message', () => {
  it('finds the operators a snapshot restating unchanged statuses names, though it wrote no history entry: an assessment quoting it is reassessed', () => {
    const s1 = aeo(LONG, daily('2026-11-01'));
    aeo(T1, wChange('2026-10-01'));
    aeo(T2, wChange('2026-10-02'));
    const rows = historyRows();
    // a daily snapshot of the same list: no entry
    const s2 = aeo(T3, daily('2026-11-10'));
    expect(historyRows()).toBe(rows);
    expect(holderOf(V['aeoId']!)).toBe(s1);
    // the purge of a change rebuilds the list from the latest snapshot: the records rest on s2, still without an entry
    const c1Rows = rowsOf(store.db.prepare(`SELECT id FROM messages WHERE retain_until = ?`).pluck().get(T1) as string);
    expect(purge(T1)).toBe(1);
    expect(holderOf(V['aeoId']!)).toBe(s2);
    expect(historyRows()).toBe(rows - c1Rows);
    expect(rowsOf(s2)).toBe(0);
    const d = borrowed(V['aeoId']!);
    expect(mentions(store.db, s2).length).toBeGreaterThan(0);
    // the next daily snapshot, and a rebuild onto it: the records move on, the assessment (outside the horizon) stays
    const s3 = aeo(LONG, daily('2026-11-20'));
    const c2Rows = rowsOf(store.db.prepare(`SELECT id FROM messages WHERE retain_until = ?`).pluck().get(T2) as string);
    expect(historyRows()).toBe(rows - c1Rows);
    expect(purge(T2)).toBe(1);
    expect(holderOf(V['aeoId']!)).toBe(s3);
    expect(historyRows()).toBe(rows - c1Rows - c2Rows);
    expect(mentions(store.db, s2).length).toBeGreaterThan(0);
    // s2 goes: it names V, so the assessment quoting it is reassessed, quoting s3
    expect(purge(T3)).toBe(1);
    expect(JSON.stringify(queries.detail(d).assessment)).toContain(s3);
    expect(mentions(store.db, s2)).toEqual([]);
  });

  it('finds the operators the held parts of a snapshot in parts name when one part is purged: the snapshot goes whole', () => {
    aeo(LONG, daily('2026-11-01'));
    aeo(T1, wChange('2026-10-01'));
    const part = (number: number, operators: Record<string, string>[]) => ({ ...daily('2026-11-10', operators), part: { number, of: 2 } });
    aeo(T2, part(1, ops.slice(0, 2)));
    const p2 = aeo(LONG, part(2, ops.slice(2)));
    expect(purge(T1)).toBe(1);
    expect(holderOf(R['aeoId']!)).toBe(p2);
    const d = borrowed(R['aeoId']!);
    expect(mentions(store.db, p2).length).toBeGreaterThan(0);
    // part 1 goes: part 2, still held, no longer counts, and the assessment quoting it is reassessed
    expect(purge(T2)).toBe(1);
    expect(mentions(store.db, p2)).toEqual([]);
    expect(queries.detail(d).assessment.indicators.map((i) => i.code)).toContain('aeo-not-listed');
  });

  it('reassesses an assessment quoting a name only a purged change gave the operator (the record rests on the message that renamed it)', () => {
    aeo(LONG, daily('2026-11-01'));
    const X = { ...W, aeoId: 'KZAEO990140000031', nationalTraderId: '990140000031', legalName: 'Named Once Trading LLP', status: 'valid', statusDate: '2026-11-15' };
    const named = aeo(LONG, { kind: 'change', operator: X });
    // the same status on the same date under another name: no entry, the record rests on it
    const renamed = aeo(T1, { kind: 'change', operator: { ...X, legalName: 'Renamed Briefly Trading LLP' } });
    expect(rowsOf(renamed)).toBe(0);
    expect(holderOf(X.aeoId)).toBe(renamed);
    const d = borrowed(X.aeoId);
    expect(mentions(store.db, 'Renamed Briefly Trading').length).toBeGreaterThan(0);
    expect(purge(T1)).toBe(1);
    expect(mentions(store.db, 'Renamed Briefly Trading')).toEqual([]);
    expect(mentions(store.db, renamed)).toEqual([]);
    expect(JSON.stringify(queries.detail(d).assessment)).toContain(named);
  });
});
