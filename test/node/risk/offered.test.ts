/**
 * The bodies the receiver hands the risk engine (RiskEngine.offer) against a real SQLite store: the step projects and
 * assesses them without reading them back from the store, and the risk view it builds is exactly the one it builds
 * reading every body from the store (a node that restarted, or a backlog past what is offered). The receiver's body is
 * the value whose JSON.stringify it stores: its zod copy must read back as itself.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH, RiskEngine } from '../../../node/risk/engine.js';
import { RiskFeed } from '../../../node/risk/feed.js';
import { defaultRules } from '../../../node/risk/rules.js';
import { DB_FILE, Store } from '../../../node/store/store.js';
import { parseBody, type BusinessType } from '../../../protocol/messages/registry.js';
import { certificate, example, receive, road, snapshot, tempDir, variant } from './fixtures.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An engine over a new store, or over a copy of `from`'s. */
function open(from?: Store): { store: Store; engine: RiskEngine; logged: string[] } {
  const dir = tempDir('gnc-risk-offered-');
  dirs.push(dir);
  from?.db.exec(`VACUUM INTO '${join(dir, DB_FILE)}'`);
  const store = Store.open(dir);
  stores.push(store);
  const logged: string[] = [];
  const rules = defaultRules();
  const engine = new RiskEngine({ store, feed: new RiskFeed(store.db), rules: () => rules, clock: () => Date.parse('2026-11-23T08:00:00Z'), log: (msg) => void logged.push(msg) });
  return { store, engine, logged };
}

function run(store: Store, engine: RiskEngine): void {
  for (let more = true; more; ) more = store.db.transaction(() => engine.step())().more;
}

/** Everything the risk view holds, in a stable order. */
function view(store: Store): Record<string, unknown[]> {
  const all = (sql: string): unknown[] => store.db.prepare(sql).all();
  return {
    consignments: all('SELECT * FROM risk_consignments ORDER BY cid'),
    assessments: all('SELECT * FROM risk_assessments ORDER BY cid'),
    versions: all('SELECT * FROM risk_versions ORDER BY seq'),
    keys: all('SELECT * FROM risk_keys ORDER BY cid, k, v'),
    events: all('SELECT seq, cid, at, payload FROM risk_events ORDER BY seq'),
    ecoo: all('SELECT * FROM risk_ecoo ORDER BY partner, number'),
    aeo: all('SELECT * FROM risk_aeo ORDER BY 1, 2'),
    aeoHistory: all('SELECT * FROM risk_aeo_history ORDER BY 1, 2, 3'),
    cursor: all(`SELECT * FROM risk_state ORDER BY key`),
  };
}

/** Road traffic of KZ: AEO data, declarations with their certificates, an amendment, a cancellation, a certificate cancelled. */
function traffic(declarations: number): { type: BusinessType; body: Record<string, any>; ref?: string; id: string; created?: string }[] {
  const out: { type: BusinessType; body: Record<string, any>; ref?: string; id: string; created?: string }[] = [{ type: 'aeo', body: snapshot(), id: 'aeo-1' }];
  for (let i = 0; i < declarations; i++) {
    const number = `KZ-CERT-${i}`;
    out.push({ type: 'ecoo', id: `cert-${i}`, body: variant(certificate(), (c) => (c.certificateNumber = number)) });
    out.push({ type: 'aci', id: `decl-${i}`, created: '2026-11-23T07:00:00.000Z', body: variant(road(), (d) => (d.functionalReference = `KZEXP-${i}`)) });
  }
  out.push({ type: 'aci', id: 'amend-0', ref: 'decl-0', created: '2026-11-23T07:30:00.000Z', body: variant(road(), (d) => ((d.kind = 'amendment'), (d.functionalReference = 'KZEXP-0'))) });
  out.push({ type: 'aci', id: 'cancel-1', ref: 'decl-1', body: example('aci-kz-kg-cancellation.json') });
  out.push({ type: 'ecoo', id: 'cert-2-cancelled', ref: 'cert-2', body: variant(example('ecoo-status-cancelled.json'), (c) => (c.certificateNumber = 'KZ-CERT-2')) });
  return out;
}

/**
 * A declaration received and offered, whose stored body the step cannot read back (only the offered one can project it),
 * then a step run: its id and seq.
 */
function offerUnreadable(store: Store, engine: RiskEngine): { id: string; seq: number } {
  const body = road();
  const id = receive(store, { partner: 'KZ', type: 'aci', body });
  const seq = store.messages.byKey('in', 'KZ', id)!.seq;
  store.db.prepare(`UPDATE message_content SET body = '{not json' WHERE seq = ?`).run(seq);
  engine.offer(seq, parseBody('aci', body), 4096, 'pre-arrival-risk-assessment');
  run(store, engine);
  return { id, seq };
}

describe('bodies offered by the receiver', () => {
  it('build exactly the risk view that reading every body back from the store builds', () => {
    // more messages than a step takes and than are offered at once: the rest are read from the store
    const messages = traffic(BATCH);
    const read = open();
    read.store.db.transaction(() => messages.forEach((m) => receive(read.store, { partner: 'KZ', ...m })))();
    const offered = open(read.store);
    for (const m of messages) {
      // what the receiver offers once the row committed: its validated copy of the body
      const seq = offered.store.messages.byKey('in', 'KZ', m.id)!.seq;
      offered.engine.offer(seq, parseBody(m.type, m.body), 4096, 'pre-arrival-risk-assessment');
    }
    run(read.store, read.engine);
    run(offered.store, offered.engine);
    expect(offered.logged).toEqual(read.logged);
    expect(view(offered.store)).toEqual(view(read.store));
    expect(view(read.store).consignments).toHaveLength(BATCH);
  });

  it('are projected and assessed without reading the body back from the store', () => {
    const { store, engine, logged } = open();
    const { id, seq } = offerUnreadable(store, engine);
    expect(logged).toEqual([]);
    const row = engine.consignments.get(seq)!;
    expect(row).toMatchObject({ root_id: id, status: 'active', revision: 1 });
  });

  it('are not held for messages sent for statistics, which no step projects: the offers after them are taken', () => {
    const { store, engine, logged } = open();
    // a partner's statistics traffic, as many messages as a step takes: the step's query skips them all, so the cursor
    // never passes them, and bodies held for them would stay (and fill what is held) until an individual message comes
    const statistics = Array.from({ length: BATCH }, () => receive(store, { partner: 'KZ', type: 'aci', body: road() }));
    store.db.prepare(`UPDATE messages SET purpose = 'statistics' WHERE direction = 'in'`).run();
    for (const id of statistics) engine.offer(store.messages.byKey('in', 'KZ', id)!.seq, parseBody('aci', road()), 4096, 'statistics');
    run(store, engine);
    const { id, seq } = offerUnreadable(store, engine);
    expect(logged).toEqual([]);
    expect(engine.consignments.get(seq)).toMatchObject({ root_id: id, status: 'active' });
  });

  it('as the receiver validated them read back as themselves from their stored JSON', () => {
    const bodies: [BusinessType, string][] = [
      ['aci', 'aci-kz-kg-road.json'], ['aci', 'aci-kz-kg-amendment.json'], ['aci', 'aci-kz-kg-cancellation.json'], ['aci', 'aci-cn-kz-rail.json'],
      ['ecoo', 'ecoo-kz-kg-preferential.json'], ['ecoo', 'ecoo-status-cancelled.json'],
      ['aeo', 'aeo-kz-snapshot.json'], ['aeo', 'aeo-kz-suspension.json'], ['aeo', 'aeo-cn-snapshot-part.json'],
    ];
    for (const [type, file] of bodies) {
      const parsed = parseBody(type, example(file));
      expect(JSON.parse(JSON.stringify(parsed)), file).toStrictEqual(parsed);
    }
  });
});
