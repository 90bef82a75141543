/**
 * How the node's SQLite file is opened: the durability settings the contract relies on (WAL, a sync at every
 * commit), and temporary data (savepoint journals, sorts) kept in memory instead of files in /var/tmp.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../../helpers/errors.js';
import { migrate, openDb, type Db } from '../../../node/store/db.js';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { registerFold } from '../../../node/store/fold.js';
import { nameQuery, registerNameKeys } from '../../../node/store/name-keys.js';
import { OutboxRepo } from '../../../node/store/outbox.js';
import { AeoRegistry } from '../../../node/risk/aeo-registry.js';
import { ConsignmentRepo } from '../../../node/risk/consignments.js';
import { ArrivalQueries } from '../../../node/risk/query.js';
import { tempDir } from '../../helpers/network.js';
import { Store } from '../../../node/store/store.js';
import { TrustIndex } from '../../../node/trust.js';
import { decodeNodeCertificate, issueNodeCertificate } from '../../../protocol/certificate.js';
import { keyObjectSigner, type Signer } from '../../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf, type Ed25519PublicJwk } from '../../../protocol/jwk.js';

let dir: string | undefined;
let db: Db | undefined;

afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  db = undefined;
  dir = undefined;
});

function open(): Db {
  dir = tempDir('gnc-db-');
  db = openDb(join(dir, 'gnc.sqlite'));
  return db;
}

/**
 * A database as the version before the migration holding `marker` left it (in `dir`), with the functions earlier
 * migrations call, as migrate() provides them (this file holds no certificate to read).
 */
function olderVersion(marker: string): { old: Database.Database; version: number; file: string } {
  dir = tempDir('gnc-db-');
  const file = join(dir, 'gnc.sqlite');
  const version = MIGRATIONS.findIndex((m) => m.includes(marker));
  expect(version).toBeGreaterThan(0);
  const old = new Database(file);
  registerFold(old);
  registerNameKeys(old);
  old.function('jws_payload', (_compact: unknown) => null);
  for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
  old.pragma(`user_version = ${version}`);
  return { old, version, file };
}

/** AEO records an older version held (`old`), each with the name keys that version made for it. */
function heldNames(old: Database.Database, held: readonly [partner: string, aeoId: string, name: string, keys: string[]][]): void {
  const add = old.prepare(`INSERT INTO risk_aeo (partner, aeo_id, national_trader_id, legal_name, programme, status, status_date, valid_from, listed, message_id, path, as_of, updated_at)
    VALUES (?, ?, '1', ?, 'both', 'valid', '2024-01-01', '2024-01-01', 1, 'm1', '/operators/0/status', '2024-01-01', 0)`);
  const key = old.prepare('INSERT INTO risk_aeo_names (partner, aeo_id, key) VALUES (?, ?, ?)');
  for (const [partner, aeoId, name, keys] of held) {
    add.run(partner, aeoId, name);
    for (const k of keys) key.run(partner, aeoId, k);
  }
  old.close();
}

/** Applied again (the schema version set back to `version`), the migrations after it make the same name keys. */
function expectSameNameKeysAgain(d: Db, version: number): void {
  const keys = d.prepare('SELECT partner, aeo_id, key FROM risk_aeo_names ORDER BY 1, 2, 3').all();
  d.pragma(`user_version = ${version}`);
  migrate(d);
  expect(d.prepare('SELECT partner, aeo_id, key FROM risk_aeo_names ORDER BY 1, 2, 3').all()).toEqual(keys);
}

describe('openDb', () => {
  it('uses WAL with a sync at every commit, so a committed row survives a power cut', () => {
    const d = open();
    expect(d.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(d.pragma('synchronous', { simple: true })).toBe(2); // FULL
  });

  it('keeps temporary data in memory and enforces foreign keys', () => {
    const d = open();
    expect(d.pragma('temp_store', { simple: true })).toBe(2); // MEMORY
    expect(d.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('applies every migration once, also when opened again', () => {
    open().close();
    db = openDb(join(dir!, 'gnc.sqlite'));
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('maintains no index on the evidence log but the one its reads use (by message id): each append writes fewer pages', () => {
    const d = open();
    const indexes = (): string[] => d.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'evidence' ORDER BY name`).pluck().all() as string[];
    expect(indexes()).toEqual(['evidence_message']);
    // a file from before migration 40 loses evidence_peer_at when it is opened; applied again, the migration changes nothing
    const version = MIGRATIONS.findIndex((m) => m.includes('DROP INDEX IF EXISTS evidence_peer_at'));
    d.exec('CREATE INDEX evidence_peer_at ON evidence(peer, at)');
    d.pragma(`user_version = ${version}`);
    migrate(d);
    expect(indexes()).toEqual(['evidence_message']);
    d.pragma(`user_version = ${version}`);
    migrate(d);
    expect(d.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('refuses a database a newer version wrote (GNC_STORAGE_VERSION) and leaves it as that version left it', () => {
    open().close();
    const newer = new Database(join(dir!, 'gnc.sqlite'));
    newer.exec('CREATE TABLE from_the_future (k INTEGER PRIMARY KEY)');
    newer.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    newer.close();
    expect(codeOf(() => (db = openDb(join(dir!, 'gnc.sqlite'))))).toBe('GNC_STORAGE_VERSION');
    expect(() => openDb(join(dir!, 'gnc.sqlite'))).toThrow(`schema version ${MIGRATIONS.length + 1}`);
    const after = new Database(join(dir!, 'gnc.sqlite'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    expect(after.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'from_the_future'`).pluck().get()).toBe(1);
    after.close();
  });

  it('applies each migration once when another process migrates the same file between its version check and its first write', () => {
    dir = tempDir('gnc-db-');
    const file = join(dir, 'gnc.sqlite');
    const version = MIGRATIONS.findIndex((m) => m.includes('ADD COLUMN as_of'));
    const old = new Database(file);
    for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
    old.pragma(`user_version = ${version}`);
    old.close();
    // two processes start on the upgraded file at once (`gnc start` and a `gnc messages` beside it): the other one
    // commits every migration right after this one read the version
    const other = new Database(file);
    db = new Database(file);
    const pragma = db.pragma.bind(db);
    let raced = false;
    db.pragma = ((source: string, options?: Database.PragmaOptions) => {
      const result = pragma(source, options);
      if (!raced && source === 'user_version') {
        raced = true;
        migrate(other);
      }
      return result;
    }) as typeof db.pragma;
    try {
      migrate(db);
    } finally {
      other.close();
    }
    expect(raced).toBe(true);
    expect(pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect((pragma('table_info(risk_aeo)') as { name: string }[]).filter((c) => c.name === 'as_of')).toHaveLength(1);
  });

  it('dates an AEO record held before the as_of column by its latest history entry', () => {
    dir = tempDir('gnc-db-');
    const version = MIGRATIONS.findIndex((m) => m.includes('ADD COLUMN as_of'));
    expect(version).toBeGreaterThan(0);
    const old = new Database(join(dir, 'gnc.sqlite'));
    for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
    old.pragma(`user_version = ${version}`);
    old.exec(`INSERT INTO risk_aeo VALUES ('KZ', 'KZAEO1', '1', 'A', 'both', 'valid', '2024-01-01', '2024-01-01', NULL, 0, 'm2', '/operators', 0);
      INSERT INTO risk_aeo_history VALUES ('KZ', 'KZAEO1', '2024-01-01', 1, 'valid', '2024-01-01', NULL, 'snapshot', 'm1', '/operators/0/status', NULL);
      INSERT INTO risk_aeo_history VALUES ('KZ', 'KZAEO1', '2026-11-10', 2, 'removed', '2024-01-01', NULL, 'snapshot', 'm2', '/operators', NULL);`);
    old.close();
    db = openDb(join(dir, 'gnc.sqlite'));
    expect(db.prepare(`SELECT as_of FROM risk_aeo WHERE aeo_id = 'KZAEO1'`).pluck().get()).toBe('2026-11-10');
  });

  it('upper-cases stored certificate numbers and search keys, keeping one key where both cases were stored', () => {
    dir = tempDir('gnc-db-');
    const version = MIGRATIONS.findIndex((m) => m.includes('UPDATE OR IGNORE risk_ecoo'));
    expect(version).toBeGreaterThan(0);
    const old = new Database(join(dir, 'gnc.sqlite'));
    for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
    old.pragma(`user_version = ${version}`);
    old.exec(`INSERT INTO risk_ecoo (partner, number, seq, message_id, preference, status, updated_at) VALUES ('KZ', 'kz-st1-1', 1, 'm1', 'preferential', 'issued', 0);
      INSERT INTO risk_keys VALUES ('e', 'kz-st1-1', 7), ('e', 'kz-st1-2', 7), ('e', 'KZ-ST1-2', 7), ('c', 'abc', 7);`);
    old.close();
    db = openDb(join(dir, 'gnc.sqlite'));
    expect(db.prepare('SELECT number FROM risk_ecoo').pluck().all()).toEqual(['KZ-ST1-1']);
    expect(db.prepare('SELECT k, v FROM risk_keys ORDER BY k, v').all()).toEqual([{ k: 'c', v: 'abc' }, { k: 'e', v: 'KZ-ST1-1' }, { k: 'e', v: 'KZ-ST1-2' }]);
  });

  it('folds the trader, AEO, transport means and container keys an older version held upper-cased only, so a full-width id is found', () => {
    const { old, version, file } = olderVersion(`SET v = gnc_fold(v)`);
    const add = old.prepare(`INSERT INTO risk_consignments (office_of_entry, expected_arrival, cid, partner, root_id, status, current_seq, current_created, versions, updated_at, view)
      VALUES ('KGAKZ001', 0, ?, 'KZ', ?, 'active', ?, '2026-01-01T00:00:00Z', 1, 0, '{}')`);
    add.run(1, 'm1', 1);
    add.run(2, 'm2', 2);
    // as the older version stored them: upper-cased; consignment 2 holds both forms of one container
    old.exec(`INSERT INTO risk_keys VALUES ('c', 'ＭＳＣＵ１２３４５６７', 1), ('m', 'ＡＰＩ０９', 1), ('t', 'ＫＺ１２３４５', 1), ('t', 'ÖZ1', 1),
      ('c', 'ＴＫＲＵ４５２８７１０', 2), ('c', 'TKRU4528710', 2), ('m', 'API01', 2), ('e', 'ＫＺ-１', 2), ('h', '8471300000', 2);`);
    old.close();
    db = openDb(file);
    expect(db.prepare('SELECT k, v, cid FROM risk_keys ORDER BY cid, k, v').all()).toEqual([
      { k: 'c', v: 'MSCU1234567', cid: 1 }, { k: 'm', v: 'API09', cid: 1 }, { k: 't', v: 'KZ12345', cid: 1 }, { k: 't', v: 'ÖZ1', cid: 1 },
      // the certificate keys stay as certificateKey makes them
      { k: 'c', v: 'TKRU4528710', cid: 2 }, { k: 'e', v: 'ＫＺ-１', cid: 2 }, { k: 'h', v: '8471300000', cid: 2 }, { k: 'm', v: 'API01', cid: 2 },
    ]);
    const queries = new ArrivalQueries(db, new ConsignmentRepo(db));
    const found = (filters: Record<string, string>): number[] => queries.list({ ...filters, includeCancelled: true, limit: 10 }).rows.map((r) => r.cid);
    expect(found({ container: 'mscu1234567' })).toEqual([1]);
    expect(found({ transportMeans: 'ＡＰＩ０９' })).toEqual([1]);
    expect(found({ container: 'TKRU4528710' })).toEqual([2]);
  });

  it('queues the consignments expected within the recompute horizon for reassessment, as their assessments predate migrations 11 and 12', () => {
    dir = tempDir('gnc-db-');
    const version = MIGRATIONS.findIndex((m) => m.includes('INSERT OR IGNORE INTO risk_pending'));
    expect(version).toBeGreaterThan(0);
    const old = new Database(join(dir, 'gnc.sqlite'));
    for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
    old.pragma(`user_version = ${version}`);
    const day = 86_400_000;
    const add = old.prepare(`INSERT INTO risk_consignments (office_of_entry, expected_arrival, cid, partner, root_id, status, current_seq, current_created, versions, updated_at, view)
      VALUES ('KGAKZ001', ?, ?, 'KZ', ?, 'active', ?, '2026-01-01T00:00:00Z', 1, 0, '{}')`);
    add.run(Date.now() + day, 1, 'm1', 1); // arriving tomorrow
    add.run(Date.now() - 29 * day, 2, 'm2', 2); // inside the 30 days
    add.run(Date.now() - 60 * day, 3, 'm3', 3); // crossed long ago: keeps the assessment it had
    old.close();
    db = openDb(join(dir, 'gnc.sqlite'));
    expect(db.prepare('SELECT cid FROM risk_pending ORDER BY cid').pluck().all()).toEqual([1, 2]);
  });

  it.each([
    ['30', 'ecoo-partly-confirmed, ecoo-issued-retrospectively', 29],
    ['32', 'ecoo-issued-retrospectively, negated endorsements', 31],
  ])('queues the consignments that name a certificate, expected within the recompute horizon, for the e-CoO indicators of migration %s', (_n, marker, before) => {
    const { old, version, file } = olderVersion(marker);
    expect(version).toBe(before);
    const day = 86_400_000;
    const add = old.prepare(`INSERT INTO risk_consignments (office_of_entry, expected_arrival, cid, partner, root_id, status, current_seq, current_created, versions, updated_at, view)
      VALUES ('KGAKZ001', ?, ?, 'KZ', ?, 'active', ?, '2026-01-01T00:00:00Z', 1, 0, '{}')`);
    add.run(Date.now() + day, 1, 'm1', 1); // arriving tomorrow, naming a certificate
    add.run(Date.now() - 29 * day, 2, 'm2', 2); // inside the 30 days, naming a certificate
    add.run(Date.now() - 60 * day, 3, 'm3', 3); // crossed long ago: keeps the assessment it had
    add.run(Date.now() + day, 4, 'm4', 4); // no certificate: nothing of it changes
    old.exec(`INSERT INTO risk_keys VALUES ('e', 'KZ-ST1-1', 1), ('h', '1101001500', 1), ('e', 'KZ-ST1-2', 2), ('e', 'KZ-ST1-3', 3), ('h', '1101001500', 4);`);
    old.close();
    db = openDb(file);
    expect(db.prepare('SELECT cid FROM risk_pending ORDER BY cid').pluck().all()).toEqual([1, 2]);
  });

  it.each([
    ['30', 'ecoo-partly-confirmed, ecoo-issued-retrospectively'],
    ['32', 'ecoo-issued-retrospectively, negated endorsements'],
  ])('reads, in migration %s, the consignments within the recompute horizon through their arrival index and their certificate keys by consignment, not every certificate key held', (_n, marker) => {
    db = open();
    const statement = MIGRATIONS.find((m) => m.includes(marker))!.replace(/^\s*--.*$/gm, '').trim();
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${statement}`).all().map((r) => (r as { detail: string }).detail);
    // as migration 13 reads them: a range of risk_cons_arrival, never the certificate keys of the whole history
    expect(plan).toEqual([
      expect.stringMatching(/^SEARCH c USING (COVERING )?INDEX risk_cons_arrival \(expected_arrival>\?\)$/),
      expect.stringMatching(/^SEARCH k EXISTS USING (COVERING )?INDEX risk_keys_cid \(cid=\? AND k=\?\)$/),
    ]);
  });

  it('folds the border crossing points and offices held, so that a filter in another case of Cyrillic finds them', () => {
    dir = tempDir('gnc-db-');
    const version = MIGRATIONS.findIndex((m) => m.includes('gnc_fold('));
    expect(version).toBeGreaterThan(0);
    const old = new Database(join(dir, 'gnc.sqlite'));
    for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
    old.pragma(`user_version = ${version}`);
    const add = old.prepare(`INSERT INTO risk_consignments (office_of_entry, expected_arrival, cid, partner, root_id, bcp, status, current_seq, current_created, versions, updated_at, view)
      VALUES (?, 0, ?, 'MN', ?, ?, 'active', ?, '2026-01-01T00:00:00Z', 1, 0, '{}')`);
    add.run('MNЗАМ001', 1, 'm1', 'Замын-Үүд', 1);
    add.run('KZMAI001', 2, 'm2', 'Майкапшагай'.normalize('NFD'), 2);
    add.run('KGAKZ001', 3, 'm3', null, 3);
    old.close();
    db = openDb(join(dir, 'gnc.sqlite'));
    const queries = new ArrivalQueries(db, new ConsignmentRepo(db));
    const ids = (f: { borderCrossingPoint?: string; officeOfEntry?: string }) => queries.list({ ...f, limit: 10 }).rows.map((r) => r.root_id);
    expect(ids({ borderCrossingPoint: 'ЗАМЫН-ҮҮД' })).toEqual(['m1']);
    expect(ids({ officeOfEntry: 'mnзам001' })).toEqual(['m1']);
    expect(ids({ borderCrossingPoint: 'майкапшагай' })).toEqual(['m2']);
    expect(ids({ officeOfEntry: 'kgakz001' })).toEqual(['m3']);
  });

  it('finds a crossing point held with an Azerbaijani schwa by its reading with "e" after migration 44, and no name without one by it', () => {
    const { old, version, file } = olderVersion('CREATE TABLE risk_consignments_44');
    expect(version).toBe(43);
    const add = old.prepare(`INSERT INTO risk_consignments (office_of_entry, expected_arrival, cid, partner, root_id, bcp, status, current_seq, current_created, versions, updated_at, view)
      VALUES ('AZBIL001', ?, ?, 'AZ', ?, gnc_fold_place(?), 'active', ?, '2026-01-01T00:00:00Z', 1, 0, ?)`);
    // as migration 43 left them: bcp folded (the schwa read "a"), the name as sent in the view
    const view = (bcp: string) => JSON.stringify({ officeOfEntry: { id: 'AZBIL001', borderCrossingPoint: bcp } });
    add.run(1, 1, 'm1', 'Biləsuvar', 1, view('Biləsuvar'));
    add.run(2, 2, 'm2', 'Bilasuvar', 2, view('Bilasuvar'));
    add.run(3, 3, 'm3', 'Bilesuvar', 3, view('Bilesuvar'));
    add.run(4, 4, 'm4', 'SƏDƏRƏK', 4, view('SƏDƏRƏK'));
    add.run(5, 5, 'm5', 'Sadarak', 5, '{}'); // a view without the name: nothing to read the schwa from
    old.close();
    db = openDb(file);
    const queries = new ArrivalQueries(db, new ConsignmentRepo(db));
    const ids = (borderCrossingPoint: string) => queries.list({ borderCrossingPoint, limit: 10 }).rows.map((r) => r.root_id);
    expect(ids('Bilesuvar')).toEqual(['m1', 'm3']);
    expect(ids('Bilasuvar')).toEqual(['m1', 'm2']);
    expect(ids('Biləsuvar')).toEqual(['m1', 'm2', 'm3']);
    expect(ids('Sederek')).toEqual(['m4']);
    expect(ids('sadarak')).toEqual(['m4', 'm5']);
    // the second reading is held for the names with a schwa only
    expect(db.prepare('SELECT root_id, bcp_e FROM risk_consignments WHERE bcp_e IS NOT NULL ORDER BY cid').all()).toEqual([
      { root_id: 'm1', bcp_e: 'BILESUVAR' },
      { root_id: 'm4', bcp_e: 'SEDEREK' },
    ]);
    // applied again (its schema version set back), it makes the same table, its indexes too
    const rows = db.prepare('SELECT * FROM risk_consignments ORDER BY cid').all();
    const indexes = () => db!.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'risk_consignments' ORDER BY name`).all();
    const before = indexes();
    expect(before.map((i: any) => i.name)).toContain('risk_cons_bcp_e');
    db.pragma(`user_version = ${version}`);
    migrate(db);
    expect(db.prepare('SELECT * FROM risk_consignments ORDER BY cid').all()).toEqual(rows);
    expect(indexes()).toEqual(before);
    expect(ids('Bilesuvar')).toEqual(['m1', 'm3']);
  });

  it('reads the rows of a crossing point with a schwa along its two indexes in page order, never sorting them whole', () => {
    const d = open();
    const prepared: string[] = [];
    const prepare = d.prepare.bind(d);
    d.prepare = ((sql: string) => (prepared.push(sql), prepare(sql))) as typeof d.prepare;
    const queries = new ArrivalQueries(d, new ConsignmentRepo(d));
    for (const borderCrossingPoint of ['Bilesuvar', 'Biləsuvar']) {
      prepared.length = 0;
      queries.list({ borderCrossingPoint, from: '2026-01-01T00:00:00Z', limit: 10 });
      const sql = prepared.find((s) => s.includes('FROM risk_consignments c'))!;
      const plan = prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...new Array<null>(sql.match(/\?/g)!.length).fill(null)).map((r) => (r as { detail: string }).detail);
      expect(plan.filter((p) => p.startsWith('SEARCH c')), borderCrossingPoint).toEqual(
        expect.arrayContaining([expect.stringMatching(/^SEARCH c USING INDEX risk_cons_bcp \(bcp=\? AND expected_arrival>\?\)$/), expect.stringMatching(/^SEARCH c USING INDEX risk_cons_bcp_e \(bcp_e=\? AND expected_arrival>\?\)$/)]),
      );
      expect(plan.filter((p) => p.startsWith('SCAN') || p === 'USE TEMP B-TREE FOR ORDER BY'), borderCrossingPoint).toEqual([]);
    }
  });

  it("sets aside the partner certificates naming another country's node key or peer id that older versions kept, as evidence", () => {
    dir = tempDir('gnc-db-');
    const version = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE IF NOT EXISTS certificate_conflicts'));
    expect(version).toBeGreaterThan(0);
    const old = new Database(join(dir, 'gnc.sqlite'));
    registerFold(old); // an earlier migration folds names with it, as migrate() provides
    for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
    old.pragma(`user_version = ${version}`);
    const key = (): { jwk: Ed25519PublicJwk; signer: Signer } => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const jwk = publicJwkOf(privateKey);
      return { jwk, signer: keyObjectSigner(jwkThumbprint(jwk), privateKey) };
    };
    const roots = { KG: key(), UZ: key() };
    const certificate = (country: 'KG' | 'UZ', node: ReturnType<typeof key>, peerId: string): string => issueNodeCertificate({
      v: 1, iss: roots[country].signer.kid, sub: node.signer.kid, country, name: `Customs of ${country}`, jwk: node.jwk, peerId, addrs: [],
      iat: new Date(Date.now() - 86_400_000).toISOString(), nbf: new Date(Date.now() - 86_400_000).toISOString(), exp: new Date(Date.now() + 86_400_000).toISOString(),
    }, roots[country].signer);
    for (const c of ['KG', 'UZ'] as const) {
      old.prepare(`INSERT INTO partners VALUES (?, ?, ?, ?, '[]', '{}', '2026-01-01T00:00:00.000Z')`)
        .run(c, `Customs of ${c}`, JSON.stringify(roots[c].jwk), roots[c].signer.kid);
    }
    const put = old.prepare('INSERT INTO certificates (kid, country, peer_id, compact, not_before, not_after, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const store = (country: string, compact: string, addedAt: string): string => {
      const p = decodeNodeCertificate(compact);
      put.run(p.sub, country, p.peerId, compact, Date.parse(p.nbf), Date.parse(p.exp), addedAt);
      return p.sub;
    };
    const [kg1, kg2, kg3, uz1, uz2] = [key(), key(), key(), key(), key()];
    // KG's key, whose row UZ's certificate of that key (with UZ's peer id) overwrote, keeping the row's country
    const claimedKey = store('KG', certificate('UZ', kg1, 'peer-UZ-node'), '2026-01-01T00:00:00.000Z');
    const uzOwn = store('UZ', certificate('UZ', uz1, 'peer-UZ-node'), '2026-02-01T00:00:00.000Z');
    // KG's peer id, named by KG's certificate first, then by UZ's (a claim), then by KG's next certificate
    const kgFirst = store('KG', certificate('KG', kg2, 'peer-KG-node'), '2026-03-01T00:00:00.000Z');
    const claimedPeer = store('UZ', certificate('UZ', uz2, 'peer-KG-node'), '2026-04-01T00:00:00.000Z');
    const kgNext = store('KG', certificate('KG', kg3, 'peer-KG-node'), '2026-05-01T00:00:00.000Z');
    const held = old.prepare('SELECT kid, compact FROM certificates').all() as { kid: string; compact: string }[];
    old.close();

    const opened = Store.open(dir);
    db = opened.db;
    expect(db.prepare('SELECT kid FROM certificates ORDER BY added_at').pluck().all()).toEqual([uzOwn, kgFirst, kgNext]);
    const setAside = db.prepare('SELECT kid, country, compact, conflict FROM certificate_conflicts ORDER BY added_at').all();
    expect(setAside).toEqual([
      { kid: claimedKey, country: 'KG', compact: held.find((r) => r.kid === claimedKey)!.compact, conflict: 'node-key' },
      { kid: claimedPeer, country: 'UZ', compact: held.find((r) => r.kid === claimedPeer)!.compact, conflict: 'peer-id' },
    ]);
    const trust = new TrustIndex(opened);
    expect(trust.peer('peer-UZ-node')?.country).toBe('UZ');
    expect(trust.peer('peer-KG-node')?.country).toBe('KG');
    expect(trust.peerOf('KG')?.peerId).toBe('peer-KG-node');
    expect(trust.resolveKey(claimedKey)).toBeUndefined();
    expect(trust.resolveKey(claimedPeer)).toBeUndefined();
    // applied again (its schema version set back), it moves nothing more
    db.pragma(`user_version = ${version}`);
    migrate(db);
    expect(db.prepare('SELECT kid FROM certificates ORDER BY added_at').pluck().all()).toEqual([uzOwn, kgFirst, kgNext]);
    expect(db.prepare('SELECT COUNT(*) FROM certificate_conflicts').pluck().get()).toBe(2);
  });

  it('puts the key envelopes an older version queued ahead of the business messages and agreement notices queued before them', () => {
    dir = tempDir('gnc-db-');
    const version = MIGRATIONS.findIndex((m) => m.includes('4503599627370496'));
    expect(version).toBeGreaterThan(0);
    const old = new Database(join(dir, 'gnc.sqlite'));
    registerFold(old);
    registerNameKeys(old);
    old.function('jws_payload', (_compact: unknown) => null);
    for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
    old.pragma(`user_version = ${version}`);
    const message = old.prepare(`INSERT INTO messages (seq, id, direction, partner, type, created, status, sha256, stored_at, updated_at)
      VALUES (?, ?, 'out', 'KG', ?, '2026-01-01T00:00:00Z', 'retrying', 'x', 0, 0)`);
    const outbox = old.prepare('INSERT INTO outbox (seq, partner, next_at, expires_at, control, position) VALUES (?, ?, 0, 9e15, ?, ?)');
    for (const [seq, type] of [[1, 'aci'], [2, 'agreement'], [3, 'aci'], [4, 'key'], [5, 'aci']] as const) {
      message.run(seq, `m${seq}`, type);
      outbox.run(seq, 'KG', type === 'aci' ? 0 : 1, seq);
    }
    old.close();
    db = openDb(join(dir, 'gnc.sqlite'));
    const due = (): number[] => new OutboxRepo(db!).due('KG', 1, 10, new Set()).map((r) => r.seq);
    expect(due()).toEqual([4]);
    expect(new OutboxRepo(db).waiting('KG').map((r) => r.seq)).toEqual([4, 1, 2, 3, 5]);
    // applied again (its schema version set back), it moves nothing more
    db.pragma(`user_version = ${version}`);
    migrate(db);
    expect(due()).toEqual([4]);
    db.prepare('DELETE FROM outbox WHERE seq = 4').run();
    expect(due()).toEqual([1, 2]);
  });

  it('fills the name lookup of the AEO records held, so that a search by name finds the operators an older version received', () => {
    const { old, version, file } = olderVersion('CREATE TABLE IF NOT EXISTS risk_aeo_names');
    const add = old.prepare(`INSERT INTO risk_aeo (partner, aeo_id, national_trader_id, legal_name, programme, status, status_date, valid_from, listed, message_id, path, as_of, updated_at)
      VALUES (?, ?, '1', ?, 'both', ?, '2024-01-01', '2024-01-01', ?, 'm1', '/operators/0/status', '2024-01-01', 0)`);
    add.run('KZ', 'KZAEO1', 'ТОО «Шёлковый Путь»', 'valid', 1);
    add.run('CN', 'CNAEO2', '丝绸之路物流有限公司', 'suspended', 1);
    add.run('KG', 'KGAEO3', 'Silk Road Transit LLC'.normalize('NFD'), 'valid', 0);
    old.close();
    db = openDb(file);
    const registry = new AeoRegistry(db);
    const found = (query: string, partner?: string): string[] => registry.searchByName(partner, nameQuery(query).key, 10).map((r) => `${r.partner}:${r.aeo_id}`);
    expect(found('шёлковый ПУТЬ')).toEqual(['KZ:KZAEO1']);
    expect(found('物流')).toEqual(['CN:CNAEO2']);
    expect(found('SILK-ROAD')).toEqual(['KG:KGAEO3']);
    expect(found('road', 'KG')).toEqual(['KG:KGAEO3']);
    expect(found('road', 'KZ')).toEqual([]);
    // applied again (its schema version set back), it adds nothing
    const rows = db.prepare('SELECT COUNT(*) FROM risk_aeo_names').pluck().get();
    db.pragma(`user_version = ${version}`);
    migrate(db);
    expect(db.prepare('SELECT COUNT(*) FROM risk_aeo_names').pluck().get()).toBe(rows);
  });

  it('keys again the AEO names with й or ў that an older version keyed as и and у, so a search tells the two apart', () => {
    const { old, version, file } = olderVersion(`GLOB '*[йЙўЎ`);
    // the keys as the older version made them: the breve left out
    heldNames(old, [
      ['KZ', 'KZAEO1', 'ТОО «Айсберг Транс»', ['АИСБЕРГ ТРАНС', 'ТРАНС']],
      ['KZ', 'KZAEO2', 'ТОО «Аисберг»', ['АИСБЕРГ']],
      ['UZ', 'UZAEO3', 'Ўзбекистон Темир Йўллари МЧЖ'.normalize('NFD'), ['УЗБЕКИСТОН ТЕМИР ИУЛЛАРИ', 'ТЕМИР ИУЛЛАРИ', 'ИУЛЛАРИ']],
      ['KG', 'KGAEO4', 'ОсОО «Шёлковый Путь»', ['ШЕЛКОВЫИ ПУТЬ', 'ПУТЬ']],
      ['KZ', 'KZAEO5', 'Özbek Trans LLP', ['OZBEK TRANS', 'TRANS']],
    ]);
    db = openDb(file);
    const registry = new AeoRegistry(db);
    const found = (query: string): string[] => registry.searchByName(undefined, nameQuery(query).key, 10).map((r) => r.aeo_id);
    expect(found('Айсберг')).toEqual(['KZAEO1']);
    expect(found('Аисберг')).toEqual(['KZAEO2']);
    expect(found('ўзбекистон')).toEqual(['UZAEO3']);
    // since migration 41 "ў" is "у" (typed so on a Russian keyboard), as Tajik "ӯ" was
    expect(found('узбекистон')).toEqual(['UZAEO3']);
    expect(found('йўллари')).toEqual(['UZAEO3']);
    expect(found('Шелковый путь')).toEqual(['KGAEO4']);
    expect(found('OZBEK')).toEqual(['KZAEO5']);
    // a name without either letter keeps its keys as they were
    expect(db.prepare(`SELECT key FROM risk_aeo_names WHERE aeo_id = 'KZAEO5' ORDER BY key`).pluck().all()).toEqual(['OZBEK TRANS', 'TRANS']);
    expectSameNameKeysAgain(db, version);
  });

  it('keys again, in migration 41, the AEO names with Kazakh, Uzbek, Tajik or Mongolian letters or an apostrophe inside a word, so a name written without them finds the operator', () => {
    const { old, version, file } = olderVersion(`GLOB '*[''\`]*'`);
    expect(version).toBe(40);
    // the keys as the version before made them: the letters kept, the apostrophe a word break
    heldNames(old, [
      ['KZ', 'KZAEO1', 'ТОО «Қазақстан Темір Жолы»', ['ҚАЗАҚСТАН ТЕМІР ЖОЛЫ', 'ТЕМІР ЖОЛЫ', 'ЖОЛЫ']],
      ['MN', 'MNAEO2', 'Өлзий Түмэн ХХК', ['ӨЛЗИЙ ТҮМЭН', 'ТҮМЭН']],
      ['UZ', 'UZAEO3', "O'zbekiston Galla MChJ", ['O ZBEKISTON GALLA', 'ZBEKISTON GALLA', 'GALLA']],
      ['TJ', 'TJAEO4', 'Ҳисор Ғалла', ['ҲИСОР ҒАЛЛА', 'ҒАЛЛА']],
      ['KZ', 'KZAEO5', 'Silk Road LLP', ['SILK ROAD', 'ROAD', 'KEPT AS IT WAS']],
    ]);
    db = openDb(file);
    const registry = new AeoRegistry(db);
    const found = (query: string): string[] => registry.searchByName(undefined, nameQuery(query).key, 10).map((r) => r.aeo_id).sort();
    const expected: Record<string, string> = {
      'Казакстан темир': 'KZAEO1', 'Қазақстан Темір': 'KZAEO1', Олзий: 'MNAEO2', тумэн: 'MNAEO2',
      Oʻzbekiston: 'UZAEO3', 'ozbekiston galla': 'UZAEO3', zbekiston: 'UZAEO3', 'Хисор Галла': 'TJAEO4',
    };
    for (const [query, aeoId] of Object.entries(expected)) expect(found(query), query).toEqual([aeoId]);
    // an ASCII name without an apostrophe keeps its keys as they were
    expect(db.prepare(`SELECT key FROM risk_aeo_names WHERE aeo_id = 'KZAEO5' ORDER BY key`).pluck().all()).toEqual(['KEPT AS IT WAS', 'ROAD', 'SILK ROAD']);
    expectSameNameKeysAgain(db, version);
  });

  it('keys again, in migration 43, the AEO names with Azerbaijani ə, ҹ or ј, so a name typed on a plain Latin or Russian keyboard finds the operator', () => {
    const { old, version, file } = olderVersion(`GLOB '*[əǝƏƎҹҸјЈ]*'`);
    expect(version).toBe(42);
    // the keys as the version before made them: ə, ҹ and ј kept as they are
    heldNames(old, [
      ['AZ', 'AZAEO1', 'Azərbaycan Dəmir Yolları QSC', ['AZƏRBAYCAN DƏMIR YOLLARI QSC', 'DƏMIR YOLLARI QSC', 'YOLLARI QSC', 'QSC']],
      ['AZ', 'AZAEO2', 'Əliyev Ticarət MMC', ['ƏLIYEV TICARƏT MMC', 'TICARƏT MMC', 'MMC']],
      ['AZ', 'AZAEO3', 'Ҹәлилабад Јолчу', ['ҸАЛИЛАБАД ЈОЛЧУ', 'ЈОЛЧУ']],
      ['TM', 'TMAEO4', 'Türkmenistanyň Demir Ýollary', ['TURKMENISTANYN DEMIR YOLLARY', 'DEMIR YOLLARY', 'YOLLARY', 'KEPT AS IT WAS']],
    ]);
    db = openDb(file);
    const registry = new AeoRegistry(db);
    const found = (query: string): string[] => registry.searchByName(undefined, nameQuery(query).key, 10).map((r) => r.aeo_id).sort();
    const expected: Record<string, string> = {
      // as a plain Latin keyboard types ə, as passports and Turkmen ä read it, and as written
      'azerbaycan demir': 'AZAEO1', 'Azarbaycan': 'AZAEO1', 'Azərbaycan Dəmir': 'AZAEO1', Aliyev: 'AZAEO2', 'eliyev ticaret': 'AZAEO2', 'Əliyev': 'AZAEO2',
      // Azerbaijani Cyrillic as a Russian keyboard types it
      'Чалилабад Йолчу': 'AZAEO3', йолчу: 'AZAEO3', 'Ҹәлилабад': 'AZAEO3',
      'turkmenistanyn demir': 'TMAEO4',
    };
    for (const [query, aeoId] of Object.entries(expected)) expect(found(query), query).toEqual([aeoId]);
    // "ə" is not merged with either letter for every name: a query that reads it as "a" does not find an "e" there
    expect(found('Azarbaycan Demir')).toEqual([]);
    // a name without these letters keeps its keys as they were
    expect(db.prepare(`SELECT key FROM risk_aeo_names WHERE aeo_id = 'TMAEO4' ORDER BY key`).pluck().all()).toEqual(['DEMIR YOLLARY', 'KEPT AS IT WAS', 'TURKMENISTANYN DEMIR YOLLARY', 'YOLLARY']);
    expectSameNameKeysAgain(db, version);
  });

  it('folds again, in migration 43, the offices and crossing points held, and shows the UN numbers of the views and events held', () => {
    const { old, version, file } = olderVersion(`gnc_fold_place(bcp)`);
    const declaration = (unNumbers: (string | string[] | undefined)[]): string =>
      JSON.stringify({ kind: 'declaration', goodsItems: unNumbers.map((u, i) => ({ sequence: i + 1, ...(Array.isArray(u) ? { unNumbers: u } : u !== undefined ? { unNumber: u } : {}) })) });
    // the view and event as the version before stored them: goods without unNumbers
    const view = (id: string): string => JSON.stringify({ id, currentMessageId: id, goods: { items: 1, hsCodes: ['2710'], grossMassKg: 1, packages: 1 } });
    const message = old.prepare(`INSERT INTO messages (seq, id, direction, partner, type, created, status, sha256, stored_at, updated_at) VALUES (?, ?, 'in', 'AZ', 'aci', '2026-01-01T00:00:00Z', 'accepted', 'x', 0, 0)`);
    const content = old.prepare('INSERT INTO message_content (seq, jws, body) VALUES (?, ?, ?)');
    const add = old.prepare(`INSERT INTO risk_consignments (office_of_entry, expected_arrival, cid, partner, root_id, bcp, status, current_seq, current_created, versions, updated_at, view)
      VALUES (?, 0, ?, 'AZ', ?, ?, 'active', ?, '2026-01-01T00:00:00Z', 1, 0, ?)`);
    const version_ = old.prepare(`INSERT INTO risk_versions (seq, cid, partner, message_id, kind, created, received_at) VALUES (?, ?, 'AZ', ?, 'declaration', '2026-01-01T00:00:00Z', 0)`);
    const held: [office: string, bcp: string | null, unNumbers: (string | string[] | undefined)[]][] = [
      // as the version before folded them: letter case only
      ['AZ ASTARA 01', 'ASTARA-ASTARA', ['1202', ['1993', '1202'], undefined, ['3082', '1993']]],
      ['AZBIL001', 'БИЛƏСУВАР', []],
      ['AZLAG001', null, ['1203']],
    ];
    held.forEach(([office, bcp, un], i) => {
      const seq = i + 1;
      message.run(seq, `m${seq}`);
      content.run(seq, Buffer.from('jws'), declaration(un));
      add.run(office, seq, `m${seq}`, bcp, seq, view(`m${seq}`));
      version_.run(seq, seq, `m${seq}`);
    });
    // a consignment whose content is gone shows none; an event of another kind is left as it is
    message.run(4, 'm4');
    add.run('AZXXX001', 4, 'm4', null, 4, view('m4'));
    old.prepare('INSERT INTO risk_events (seq, cid, at, payload) VALUES (?, ?, 0, ?)').run(1, 1, JSON.stringify({ type: 'assessment', change: 'new', arrival: JSON.parse(view('m1')) }));
    old.prepare('INSERT INTO risk_events (seq, cid, at, payload) VALUES (?, ?, 0, ?)').run(2, 2, JSON.stringify({ type: 'other' }));
    old.close();
    db = openDb(file);
    const queries = new ArrivalQueries(db, new ConsignmentRepo(db));
    const ids = (f: { borderCrossingPoint?: string; officeOfEntry?: string }) => queries.list({ ...f, limit: 10 }).rows.map((r) => r.root_id);
    expect(ids({ officeOfEntry: 'azastara01' })).toEqual(['m1']);
    expect(ids({ borderCrossingPoint: 'astara astara' })).toEqual(['m1']);
    expect(ids({ borderCrossingPoint: 'Биласувар' })).toEqual(['m2']);
    const unNumbers = (cid: number): unknown => JSON.parse(db!.prepare('SELECT view FROM risk_consignments WHERE cid = ?').pluck().get(cid) as string).goods.unNumbers;
    expect([1, 2, 3, 4].map(unNumbers)).toEqual([['1202', '1993', '3082'], [], ['1203'], []]);
    const events = db.prepare('SELECT payload FROM risk_events ORDER BY seq').pluck().all().map((p) => JSON.parse(p as string));
    expect(events[0].arrival.goods.unNumbers).toEqual(['1202', '1993', '3082']);
    expect(events[1]).toEqual({ type: 'other' });
    // applied again (its schema version set back), it changes nothing
    const before = db.prepare('SELECT cid, office_of_entry, bcp, view FROM risk_consignments ORDER BY cid').all();
    db.pragma(`user_version = ${version}`);
    migrate(db);
    expect(db.prepare('SELECT cid, office_of_entry, bcp, view FROM risk_consignments ORDER BY cid').all()).toEqual(before);
  });

  it('forgets, in migration 34, the claimed ids that are no message id in the rejection records an older version kept, overwriting them in the file', () => {
    // the previous release (before migration 31) kept whatever string a refused envelope claimed as its id
    const { old, file } = olderVersion("UPDATE rejections SET message_id = NULL");
    const now = Date.now();
    const add = old.prepare('INSERT INTO rejections (partner, message_id, sha256, code, reason, receipt, at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const secret = `Secret Trader Name ${'Z'.repeat(5000)}`;
    add.run('KZ', secret, 'a'.repeat(64), 'GNC_SCHEMA_INVALID', `received "${secret}"`, Buffer.from('receipt'), now - 86_400_000);
    // older than the reason's retention: the reason and receipt went already, the id stayed
    add.run('KZ', 'id with spaces', 'b'.repeat(64), 'GNC_SCHEMA_INVALID', 'Reason removed', null, now - 40 * 86_400_000);
    add.run('KZ', '', 'c'.repeat(64), 'GNC_SCHEMA_INVALID', 'empty id', null, now - 86_400_000);
    add.run('KG', 'x'.repeat(65), 'd'.repeat(64), 'GNC_SCHEMA_INVALID', 'too long', null, now - 86_400_000);
    add.run('KZ', '01a20de6-7129-7764-a086-e15951e4ccbb', 'e'.repeat(64), 'GNC_AGREEMENT_NONE', 'no agreement', Buffer.from('receipt'), now - 86_400_000);
    add.run('KZ', null, 'f'.repeat(64), 'GNC_ENVELOPE_MALFORMED', 'no id', null, now - 86_400_000);
    old.close();
    db = openDb(file);
    expect(db.prepare('SELECT sha256, message_id FROM rejections ORDER BY seq').all()).toEqual([
      { sha256: 'a'.repeat(64), message_id: null },
      { sha256: 'b'.repeat(64), message_id: null },
      { sha256: 'c'.repeat(64), message_id: null },
      { sha256: 'd'.repeat(64), message_id: null },
      // a message id stays, as the receiver keeps it today
      { sha256: 'e'.repeat(64), message_id: '01a20de6-7129-7764-a086-e15951e4ccbb' },
      { sha256: 'f'.repeat(64), message_id: null },
    ]);
    // the reason of a record within its retention stays until its end, as before
    expect(db.prepare('SELECT reason FROM rejections WHERE seq = 1').pluck().get()).toContain('Secret Trader Name');
    // the connection is left as it was (secure_delete OFF), and the cleared ids are overwritten in the file: the one
    // copy of the long name left is the reason's
    expect(db.pragma('secure_delete', { simple: true })).toBe(0);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(file).toString('latin1');
    expect(bytes.split('Secret Trader Name').length - 1).toBe(1);
  });

  /** Files this process holds open that SQLite made for temporary data (unlinked at once, so only /proc shows them). */
  const tempFiles = (): string[] =>
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [];
      }
    }).filter((target) => target.includes('etilqs_'));

  it.runIf(process.platform === 'linux')('keeps the journal of a savepoint larger than 64 KB in memory, not in a temporary file', () => {
    const d = open();
    d.exec('CREATE TABLE big (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const ins = d.prepare('INSERT INTO big (k, v) VALUES (?, ?)');
    d.transaction(() => {
      for (let i = 0; i < 200; i++) ins.run(i, 'x'.repeat(4000));
    })();
    // a group commit: one transaction, each unit in its own savepoint; this unit rewrites ~800 KB of stored pages
    let during: string[] = [];
    d.transaction(() => {
      d.prepare(`UPDATE big SET v = 'first' WHERE k = 0`).run();
      d.transaction(() => {
        d.prepare(`UPDATE big SET v = replace(v, 'x', 'y')`).run();
        during = tempFiles();
      })();
    })();
    expect(d.prepare(`SELECT COUNT(*) FROM big WHERE v LIKE 'y%'`).pluck().get()).toBe(199);
    expect(during).toEqual([]);
  });
});
