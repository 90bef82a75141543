/**
 * The retention purge of a large AEO snapshot (5,000 operators, in two parts) finds the assessments that quote it with
 * one search per purged message, not one per operator it names: the same consignments are queued for reassessment and
 * the same feed events go as when each operator was searched alone. Run as `gnc backup` purges its copy
 * (offlineRiskPurge with the retention job): a real store, rows inserted as the receiver inserts them.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { offlineRiskPurge } from '../../../node/risk/purge.js';
import { defaultRules } from '../../../node/risk/rules.js';
import { RetentionJob } from '../../../node/retention.js';
import { Store } from '../../../node/store/store.js';
import { receive, road, snapshot, tempDir, variant } from './fixtures.js';
import { mentions } from './network.js';

const NOW = Date.parse('2026-11-23T08:00:00Z');
const DAY = 86_400_000;
const [T1, LONG] = [NOW + DAY, NOW + 10 * DAY];
const OPERATORS = 5_000;

const template = (snapshot()['operators'] as Record<string, unknown>[])[0]!;
/** Operator i of the register: its own AEO id and national trader id. */
const operator = (i: number): Record<string, unknown> => {
  const n = String(990_140_000_000 + i);
  return { ...template, aeoId: `KZAEO${n}`, nationalTraderId: n, legalName: `Register Operator ${i} LLP`, status: 'valid', statusDate: '2024-03-15', validFrom: '2024-03-15' };
};
const register = Array.from({ length: OPERATORS }, (_, i) => operator(i));

let dir: string;
let store: Store;
let risk: ReturnType<typeof offlineRiskPurge>;

beforeEach(() => {
  dir = tempDir('gnc-risk-');
  store = Store.open(dir);
  risk = offlineRiskPurge(store, () => NOW, defaultRules);
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

/** A declaration expected 40 days ago (outside the recompute horizon) whose consignor is `op`, the only AEO id it names. */
function declaration(op: Record<string, unknown>): number {
  const id = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => {
    d.expectedArrival = new Date(NOW - 40 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
    d.consignor.aeoId = op['aeoId'];
    d.consignor.id = op['nationalTraderId'];
    delete d.exporter.aeoId;
    delete d.carrier.aeoId;
  }) });
  risk.reassess();
  return store.db.prepare(`SELECT cid FROM risk_versions WHERE message_id = ?`).pluck().get(id) as number;
}

const pending = () => store.db.prepare('SELECT cid FROM risk_pending ORDER BY cid').pluck().all() as number[];
const eventsOf = (cid: number) => store.db.prepare('SELECT COUNT(*) FROM risk_events WHERE cid = ?').pluck().get(cid) as number;

/** How many times statements searching stored assessments or events for a quote (instr) run while `work` runs. */
function quoteSearches(work: () => void): number {
  const st = Object.getPrototypeOf(store.db.prepare('SELECT 1')) as Database.Statement;
  const { run, all } = st;
  let n = 0;
  const count = function (this: Database.Statement): void {
    if (this.source.includes('instr(')) n++;
  };
  st.run = function (this: Database.Statement, ...args: unknown[]) {
    count.call(this);
    return run.apply(this, args);
  } as typeof run;
  st.all = function (this: Database.Statement, ...args: unknown[]) {
    count.call(this);
    return all.apply(this, args);
  } as typeof all;
  try {
    work();
  } finally {
    st.run = run;
    st.all = all;
  }
  return n;
}

describe('the retention purge of a snapshot of 5,000 operators', () => {
  it('queues the consignments whose assessment quotes it and drops their events, with one search per purged message', () => {
    const part = (number: number, operators: Record<string, unknown>[]) => ({ ...snapshot(), asOf: '2026-11-20T06:00:00+05:00', part: { number, of: 2 }, operators });
    const half = OPERATORS / 2;
    const p1 = aeo(T1, part(1, register.slice(0, half)));
    const p2 = aeo(LONG, part(2, register.slice(half)));
    // one consignor listed in each part, one listed in neither (its assessment quotes no part)
    const a = declaration(register[17]!);
    const b = declaration(register[half + 1_242]!);
    const c = declaration(register[OPERATORS - 1]!);
    const outside = declaration(operator(OPERATORS + 7));
    expect(mentions(store.db, p1).length).toBeGreaterThan(0);
    expect(mentions(store.db, p2).length).toBeGreaterThan(0);
    for (const cid of [a, b, c, outside]) expect(eventsOf(cid)).toBeGreaterThan(0);
    expect(pending()).toEqual([]);
    const outsideEvents = eventsOf(outside);

    // part 1 goes: part 2, still held, no longer counts, and so goes with it
    let purged = 0;
    const searches = quoteSearches(() => {
      purged = new RetentionJob(store, { clock: () => NOW, log: () => undefined, onPurge: risk.onPurge }).purge(T1);
    });
    expect(purged).toBe(1);
    // two searches (assessments, events) per message no view may quote any more: the two parts
    expect(searches).toBeLessThanOrEqual(4);
    expect(pending()).toEqual([a, b, c].sort((x, y) => x - y));
    for (const cid of [a, b, c]) expect(eventsOf(cid)).toBe(0);
    expect(eventsOf(outside)).toBe(outsideEvents);

    risk.reassess();
    expect(mentions(store.db, p1)).toEqual([]);
    expect(mentions(store.db, p2)).toEqual([]);
  });
});
