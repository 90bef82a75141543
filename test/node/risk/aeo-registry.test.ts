/**
 * The partner AEO registry on a real store: snapshots and changes are received as the receiver inserts them and
 * projected by the engine, in the order a partner may send them (removed and listed again, or an older message
 * arriving after a newer one). The current record must always agree with the history "at" answers from.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statusChanges } from '../../../node/risk/aeo-registry.js';
import { RiskEngine } from '../../../node/risk/engine.js';
import { RiskFeed } from '../../../node/risk/feed.js';
import { ArrivalQueries } from '../../../node/risk/query.js';
import { defaultRules } from '../../../node/risk/rules.js';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { nameQuery } from '../../../node/store/name-keys.js';
import { Store } from '../../../node/store/store.js';
import { days, receive, road, snapshot, tempDir, variant } from './fixtures.js';

let dir: string;
let store: Store;
let engine: RiskEngine;

beforeEach(() => {
  dir = tempDir('gnc-aeo-');
  store = Store.open(dir);
  engine = new RiskEngine({ store, feed: new RiskFeed(store.db), rules: defaultRules, clock: () => Date.parse('2026-11-23T08:00:00Z'), log: () => undefined });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(): void {
  for (let more = true; more; ) more = store.db.transaction(() => engine.step())().more;
}

/** Operator B: the first operator of the KZ snapshot, valid since 2024-01-01. */
const B = 'KZAEO981140001234';
const operatorB = (status = 'valid', statusDate = '2024-01-01'): Record<string, unknown> =>
  ({ ...snapshot()['operators'][0], status, statusDate, validFrom: '2024-01-01' });

/** A KZ snapshot as of `date`, listing B or not. */
function snapshotOn(date: string, listsB: boolean): Record<string, unknown> {
  return { kind: 'snapshot', asOf: `${date}T06:00:00+05:00`, operators: listsB ? [operatorB()] : [] };
}

function change(status: string, statusDate: string): Record<string, unknown> {
  return { kind: 'change', operator: operatorB(status, statusDate) };
}

function aeo(...bodies: Record<string, unknown>[]): void {
  for (const body of bodies) receive(store, { partner: 'KZ', type: 'aeo', body });
  run();
}

const history = (): [string, string][] => engine.aeo.history('KZ', B).map((h) => [h.effective, h.status]);

/** What the history says holds from the last recorded date on, which the current record must show. */
function latestInHistory(): string {
  return engine.aeo.validityAt('KZ', B, '9999-12-31').status;
}

describe('partner AEO registry', () => {
  it('counts an operator a later snapshot lists again as valid from that snapshot', () => {
    aeo(snapshotOn('2026-11-01', true), snapshotOn('2026-11-10', false), snapshotOn('2026-11-20', true));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ listed: 1, status: 'valid', status_date: '2024-01-01' });
    expect(engine.aeo.validityAt('KZ', B, '2026-11-15')).toMatchObject({ valid: false, status: 'removed' });
    expect(engine.aeo.validityAt('KZ', B, '2026-11-25')).toMatchObject({ valid: true, status: 'valid', basis: 'recorded' });
  });

  it('records a re-listing once, on the date of the snapshot that lists the operator again', () => {
    aeo(snapshotOn('2026-11-01', true), snapshotOn('2026-11-10', false), snapshotOn('2026-11-20', true), snapshotOn('2026-11-21', true));
    expect(history()).toEqual([['2024-01-01', 'valid'], ['2026-11-10', 'removed'], ['2026-11-20', 'valid']]);
  });

  it('assesses a declaration naming a re-listed operator as a valid AEO', () => {
    aeo(snapshotOn('2026-11-01', true), snapshotOn('2026-11-10', false), snapshotOn('2026-11-20', true));
    const id = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => { for (const p of [d.consignor, d.exporter]) p.aeoId = B; }) });
    run();
    const codes = new ArrivalQueries(store.db, engine.consignments).detail(id).indicators.map((i) => i.code);
    expect(codes).toContain('aeo-valid');
    expect(codes).not.toContain('aeo-not-listed');
  });

  it('keeps a suspension current when a snapshot dated before it arrives later', () => {
    aeo(snapshotOn('2026-11-01', true), change('suspended', '2026-11-23'), snapshotOn('2026-11-20', true));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ listed: 1, status: 'suspended', status_date: '2026-11-23' });
    expect(latestInHistory()).toBe('suspended');
  });

  it('keeps a revocation current when a change with an earlier status date arrives later, and records both', () => {
    aeo(change('revoked', '2026-11-20'), change('valid', '2025-01-01'));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ status: 'revoked', status_date: '2026-11-20' });
    expect(history()).toEqual([['2025-01-01', 'valid'], ['2026-11-20', 'revoked']]);
    expect(engine.aeo.validityAt('KZ', B, '2026-11-25')).toMatchObject({ status: 'revoked' });
  });

  it('keeps an operator listed when an older snapshot that omits it arrives after a newer one that lists it', () => {
    aeo(snapshotOn('2026-11-20', true), snapshotOn('2026-11-10', false));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ listed: 1, status: 'valid' });
    expect(engine.aeo.validityAt('KZ', B, '2026-11-15')).toMatchObject({ status: 'removed' });
    expect(latestInHistory()).toBe('valid');
  });

  it('removes an operator that only an older snapshot arriving after a newer one lists, from the newer snapshot date', () => {
    const newer = receive(store, { partner: 'KZ', type: 'aeo', body: snapshotOn('2026-11-20', false) });
    aeo(snapshotOn('2026-11-10', true));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ listed: 0, message_id: newer, as_of: '2026-11-20' });
    expect(history()).toEqual([['2024-01-01', 'valid'], ['2026-11-20', 'removed']]);
    expect(engine.aeo.validityAt('KZ', B, '2026-11-15')).toMatchObject({ status: 'valid' });
    expect(latestInHistory()).toBe('removed');
  });

  it('keeps an operator removed when a snapshot listing it arrives after a newer one that still leaves it out', () => {
    aeo(snapshotOn('2026-11-01', true), snapshotOn('2026-11-10', false), snapshotOn('2026-11-20', false), snapshotOn('2026-11-15', true));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ listed: 0, as_of: '2026-11-20' });
    expect(history()).toEqual([['2024-01-01', 'valid'], ['2026-11-10', 'removed'], ['2026-11-15', 'valid'], ['2026-11-20', 'removed']]);
    expect(latestInHistory()).toBe('removed');
  });

  it('knows the snapshot a list projected by an older version rests on, after the upgrade (migration 18)', () => {
    aeo(snapshotOn('2026-11-20', false), snapshotOn('2026-11-01', false));
    // the registry as an older version left it, without the marker; then the migration
    store.db.prepare(`DELETE FROM risk_state WHERE key = 'aeo-snapshot:KZ'`).run();
    // migration 18 runs long before 42 moved the content out of `messages`: it reads the body there, as it was then
    store.db.exec('UPDATE messages SET body = (SELECT body FROM message_content c WHERE c.seq = messages.seq)');
    store.db.exec(MIGRATIONS.find((m) => m.includes("'aeo-snapshot:'"))!);
    store.db.exec('UPDATE messages SET body = NULL');
    aeo(snapshotOn('2026-11-10', true));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ listed: 0, as_of: '2026-11-20' });
  });

  it('makes a suspended operator valid from the date of a later snapshot that lists it as valid', () => {
    aeo(snapshotOn('2026-11-01', true), change('suspended', '2026-11-05'), snapshotOn('2026-11-20', true));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ status: 'valid' });
    expect(engine.aeo.validityAt('KZ', B, '2026-11-10')).toMatchObject({ status: 'suspended' });
    expect(engine.aeo.validityAt('KZ', B, '2026-11-20')).toMatchObject({ status: 'valid' });
  });

  it('raises aeo-not-listed, not aeo-unverified, for an AEO id of a partner whose first AEO data was an empty snapshot', () => {
    aeo(snapshotOn('2026-11-20', false));
    const id = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => { for (const p of [d.consignor, d.exporter]) p.aeoId = B; }) });
    run();
    const codes = new ArrivalQueries(store.db, engine.consignments).detail(id).indicators.map((i) => i.code);
    expect(codes).toContain('aeo-not-listed');
    expect(codes).not.toContain('aeo-unverified');
  });

  it('reassesses a declaration claiming an AEO id as not listed when the partner then sends an empty snapshot', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => { for (const p of [d.consignor, d.exporter]) p.aeoId = B; }) });
    run();
    const codes = (): string[] => new ArrivalQueries(store.db, engine.consignments).detail(id).indicators.map((i) => i.code);
    expect(codes()).toContain('aeo-unverified');
    aeo(snapshotOn('2026-11-20', false));
    expect(codes()).toContain('aeo-not-listed');
  });
});

describe('AEO history as GET /v1/aeo shows it (statusChanges)', () => {
  const C = 'KZAEO990140000077';
  const changeOf = (aeoId: string, status: string, statusDate: string): Record<string, unknown> =>
    ({ kind: 'change', operator: { ...operatorB(status, statusDate), aeoId, nationalTraderId: aeoId.slice(-12) } });
  const shown = (aeoId: string): [string, string][] => statusChanges(engine.aeo.history('KZ', aeoId)).map((h) => [h.effective, h.status]);
  const statusesOf = (aeoId: string, dates: string[]): unknown[] =>
    dates.map((d) => {
      const { valid, status, basis } = engine.aeo.validityAt('KZ', aeoId, d);
      return [d, valid, status, basis];
    });

  it('lists a status arriving out of date order as had the messages arrived in order, and keeps the entry it repeats', () => {
    aeo(change('suspended', '2026-11-01'), change('valid', '2026-11-20'), change('valid', '2026-11-10'));
    expect(history()).toEqual([['2026-11-01', 'suspended'], ['2026-11-10', 'valid'], ['2026-11-20', 'valid']]);
    expect(shown(B)).toEqual([['2026-11-01', 'suspended'], ['2026-11-10', 'valid']]);
    expect(engine.aeo.get('KZ', B)).toMatchObject({ status: 'valid', status_date: '2026-11-20' });
    // the same messages in date order: the same answer, and the same status on every date
    aeo(changeOf(C, 'suspended', '2026-11-01'), changeOf(C, 'valid', '2026-11-10'), changeOf(C, 'valid', '2026-11-20'));
    expect(shown(C)).toEqual(shown(B));
    const range = days('2026-10-25', '2026-11-25');
    expect(statusesOf(C, range)).toEqual(statusesOf(B, range));
  });

  it('leaves out a repeat whatever its date, but not a status with another validity period, and any two removals are one', () => {
    const row = (effective: string, status: 'valid' | 'suspended' | 'revoked' | 'removed', validFrom: string | null, validUntil: string | null, seq: number) =>
      ({ partner: 'KZ', aeo_id: B, effective, seq, status, valid_from: validFrom, valid_until: validUntil, kind: 'change' as const, message_id: `m${seq}`, path: '/operator/status', reason: null });
    const rows = [
      row('2026-01-01', 'valid', '2026-01-01', null, 1),
      row('2026-01-01', 'valid', '2026-01-01', null, 2),
      row('2026-02-01', 'valid', '2026-01-01', null, 3),
      row('2026-03-01', 'valid', '2026-01-01', '2027-12-31', 4),
      row('2026-04-01', 'removed', '2026-01-01', '2027-12-31', 5),
      row('2026-05-01', 'removed', null, null, 6),
      row('2026-06-01', 'valid', '2026-01-01', '2027-12-31', 7),
      row('2026-06-01', 'suspended', '2026-01-01', '2027-12-31', 8),
      row('2026-06-01', 'valid', '2026-01-01', '2027-12-31', 9),
    ];
    expect(statusChanges(rows).map((h) => h.message_id)).toEqual(['m1', 'm4', 'm5', 'm7', 'm8', 'm9']);
  });
});

describe('partner AEO registry by legal name', () => {
  /** An operator of `partner` named `legalName`, valid. */
  const named = (partner: string, n: number, legalName: string): Record<string, unknown> =>
    ({ ...operatorB(), aeoId: `${partner}AEO${String(n).padStart(6, '0')}`, nationalTraderId: String(n), legalName });
  const found = (query: string, partner?: string): string[] => engine.aeo.searchByName(partner, nameQuery(query).key, 100).map((r) => r.aeo_id);

  it('finds operators of every partner in the order of the matched words, or of one partner', () => {
    receive(store, { partner: 'KZ', type: 'aeo', body: { kind: 'snapshot', asOf: '2026-11-01T06:00:00+05:00', operators: [named('KZ', 1, 'Silk Road Trading LLP'), named('KZ', 2, 'Altyn Silk JSC')] } });
    receive(store, { partner: 'CN', type: 'aeo', body: { kind: 'snapshot', asOf: '2026-11-01T06:00:00+08:00', operators: [named('CN', 3, 'Silk Road Logistics Co., Ltd.')] } });
    run();
    expect(found('silk')).toEqual(['KZAEO000002', 'CNAEO000003', 'KZAEO000001']);
    expect(found('silk', 'KZ')).toEqual(['KZAEO000002', 'KZAEO000001']);
    expect(found('silk road', 'CN')).toEqual(['CNAEO000003']);
  });

  it('finds the operators of a snapshot sent in parts once its last part is in, not before', () => {
    const asOf = '2026-11-24T06:00:00+05:00';
    receive(store, { partner: 'KZ', type: 'aeo', body: { kind: 'snapshot', asOf, part: { number: 1, of: 2 }, operators: [named('KZ', 1, 'Caspian Grain LLP')] } });
    run();
    expect(found('caspian')).toEqual([]);
    receive(store, { partner: 'KZ', type: 'aeo', body: { kind: 'snapshot', asOf, part: { number: 2, of: 2 }, operators: [named('KZ', 2, 'Caspian Cargo LLP')] } });
    run();
    expect(found('caspian')).toEqual(['KZAEO000002', 'KZAEO000001']);
  });

  it('finds an operator by the name a later change gives it, and no more by the one it replaced', () => {
    aeo({ kind: 'snapshot', asOf: '2026-11-01T06:00:00+05:00', operators: [named('KZ', 1, 'Great Silk Road Transit JSC')] });
    aeo({ kind: 'change', operator: { ...named('KZ', 1, 'Caravanserai Transit JSC'), statusDate: '2026-11-05' } });
    expect(found('caravanserai')).toEqual(['KZAEO000001']);
    expect(found('great silk')).toEqual([]);
    expect(found('transit')).toEqual(['KZAEO000001']);
  });

  it('keeps no name of a partner whose registry is forgotten, as before a rebuild', () => {
    aeo({ kind: 'snapshot', asOf: '2026-11-01T06:00:00+05:00', operators: [named('KZ', 1, 'Silk Road Trading LLP')] });
    engine.aeo.forget('KZ');
    expect(store.db.prepare(`SELECT COUNT(*) FROM risk_aeo_names WHERE partner = 'KZ'`).pluck().get()).toBe(0);
  });
});
