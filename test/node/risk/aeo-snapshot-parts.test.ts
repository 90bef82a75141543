/**
 * AEO snapshots sent in parts, as the registry applies them on a real store (SPEC 7.5): parts are received as the
 * receiver stores them and projected by the engine; the snapshot takes effect once its last part is in, whatever the
 * order, as if it had arrived whole then; retention and the rebuild after it treat the parts as one snapshot.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RiskEngine } from '../../../node/risk/engine.js';
import { RiskFeed } from '../../../node/risk/feed.js';
import { RiskPurge } from '../../../node/risk/purge.js';
import { defaultRules } from '../../../node/risk/rules.js';
import { RetentionJob } from '../../../node/retention.js';
import { Store } from '../../../node/store/store.js';
import { receive, snapshot, tempDir } from './fixtures.js';

const NOW = Date.parse('2026-11-23T08:00:00Z');
let dir: string;
let store: Store;
let engine: RiskEngine;
let retention: RetentionJob;

beforeEach(() => {
  dir = tempDir('gnc-aeo-parts-');
  store = Store.open(dir);
  const feed = new RiskFeed(store.db);
  engine = new RiskEngine({ store, feed, rules: defaultRules, clock: () => NOW, log: () => undefined });
  const purge = new RiskPurge(store.db, engine, feed, () => NOW);
  retention = new RetentionJob(store, { clock: () => NOW, log: () => undefined, onPurge: (purged) => purge.run(purged) });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(): void {
  for (let more = true; more; ) more = store.db.transaction(() => engine.step())().more;
}

/** Operators B and C of the KZ snapshot, valid since 2024-01-01. */
const B = 'KZAEO981140001234';
const C = 'KZAEO150940012345';
const operator = (aeoId: string, status = 'valid', statusDate = '2024-01-01'): Record<string, unknown> => {
  const o = snapshot()['operators'].find((x: { aeoId: string }) => x.aeoId === aeoId);
  return { ...o, status, statusDate, validFrom: '2024-01-01', validUntil: undefined };
};
const asOf = (date: string): string => `${date}T06:00:00+05:00`;

/** Part `number` of `of` of the KZ snapshot as of `date`. */
function part(date: string, number: number, of: number, ...operators: Record<string, unknown>[]): Record<string, unknown> {
  return { kind: 'snapshot', asOf: asOf(date), part: { number, of }, operators };
}

function whole(date: string, ...operators: Record<string, unknown>[]): Record<string, unknown> {
  return { kind: 'snapshot', asOf: asOf(date), operators };
}

function aeo(...bodies: Record<string, unknown>[]): string[] {
  const ids = bodies.map((body) => receive(store, { partner: 'KZ', type: 'aeo', body: JSON.parse(JSON.stringify(body)) }));
  run();
  return ids;
}

const listed = (): string[] => engine.aeo.search('KZ', undefined, 100).filter((r) => r.listed).map((r) => r.aeo_id);
const history = (aeoId: string): [string, string][] => engine.aeo.history('KZ', aeoId).map((h) => [h.effective, h.status]);

/** Purges the content of the messages `ids` as the retention job does when their period ends. */
function purge(...ids: string[]): void {
  for (const id of ids) store.db.prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(NOW - 1, id);
  retention.purge(NOW);
}

describe('AEO snapshot in parts', () => {
  it('shows nothing of a snapshot while a part is missing, and all of it once the last part is in, in any order', () => {
    const [second] = aeo(part('2026-11-20', 2, 2, operator(C)));
    expect(listed()).toEqual([]);
    expect(engine.aeo.hasData('KZ')).toBe(false);
    const [first] = aeo(part('2026-11-20', 1, 2, operator(B)));
    expect(listed()).toEqual([C, B].sort());
    // each record rests on the part that lists it
    expect(engine.aeo.get('KZ', B)).toMatchObject({ message_id: first, path: '/operators/0/status' });
    expect(engine.aeo.get('KZ', C)).toMatchObject({ message_id: second, path: '/operators/0/status' });
  });

  it('removes an operator that no part lists, from the snapshot date', () => {
    aeo(whole('2026-11-10', operator(B), operator(C)));
    const [, last] = aeo(part('2026-11-20', 1, 2, operator(B)), part('2026-11-20', 2, 2));
    expect(engine.aeo.get('KZ', C)).toMatchObject({ listed: 0, message_id: last });
    expect(history(C)).toEqual([['2024-01-01', 'valid'], ['2026-11-20', 'removed']]);
    expect(engine.aeo.get('KZ', B)).toMatchObject({ listed: 1 });
  });

  it('lets a change received between the parts of a snapshot of the same date give way to the snapshot, which took effect after it', () => {
    aeo(part('2026-11-20', 1, 2, operator(B)), { kind: 'change', operator: operator(B, 'suspended', '2026-11-20') }, part('2026-11-20', 2, 2, operator(C)));
    expect(engine.aeo.get('KZ', B)).toMatchObject({ status: 'valid' });
    expect(engine.aeo.validityAt('KZ', B, '2026-11-21')).toMatchObject({ status: 'valid' });
  });

  it('keeps the registry of a newer snapshot when the parts of an older one complete after it', () => {
    aeo(part('2026-11-10', 1, 2, operator(B)), whole('2026-11-20', operator(C)), part('2026-11-10', 2, 2));
    expect(listed()).toEqual([C]);
    expect(engine.aeo.get('KZ', B)).toMatchObject({ listed: 0 });
    expect(engine.aeo.validityAt('KZ', B, '2026-11-15')).toMatchObject({ status: 'valid' });
  });

  it('counts a part that arrives again once, before and after the snapshot took effect', () => {
    aeo(part('2026-11-20', 1, 2, operator(B)), part('2026-11-20', 1, 2, operator(B)));
    expect(listed()).toEqual([]);
    aeo(part('2026-11-20', 2, 2, operator(C)));
    expect(listed()).toEqual([C, B].sort());
    const before = store.db.prepare('SELECT * FROM risk_aeo_history ORDER BY aeo_id, effective, seq').all();
    aeo(part('2026-11-20', 2, 2, operator(C)));
    expect(store.db.prepare('SELECT * FROM risk_aeo_history ORDER BY aeo_id, effective, seq').all()).toEqual(before);
  });

  it('drops what a snapshot said when retention purges one of its parts, and rebuilds the registry from the previous complete snapshot', () => {
    aeo(whole('2026-11-10', operator(B)));
    const [first] = aeo(part('2026-11-20', 1, 2, operator(C)), part('2026-11-20', 2, 2));
    expect(listed()).toEqual([C]);
    purge(first!);
    expect(listed()).toEqual([B]);
    expect(history(C)).toEqual([]);
    expect(history(B)).toEqual([['2024-01-01', 'valid']]);
  });

  it('rebuilds from a complete snapshot in parts, dated after a whole one and a newer incomplete one', () => {
    const [old] = aeo(whole('2026-11-01', operator(B)));
    aeo(part('2026-11-10', 1, 2, operator(C)), part('2026-11-10', 2, 2), part('2026-11-20', 1, 2, operator(B)));
    purge(old!);
    expect(listed()).toEqual([C]);
    expect(engine.aeo.get('KZ', B)).toBeUndefined();
  });
});
