/**
 * What the retention purge keeps of a purged version (risk_purged_versions) belongs to the partner that sent it: message
 * ids are unique per partner only, so another partner's consignment with the same id must not be taken for it, neither
 * when a later ref names it nor when `GET /v1/arrivals/{id}` answers 410 GNC_ARRIVAL_PURGED for it. A real SQLite file
 * (the node's migrations), the repository and the queries the API answers with.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGncError } from '../../../protocol/errors.js';
import { ConsignmentRepo } from '../../../node/risk/consignments.js';
import { ArrivalQueries } from '../../../node/risk/query.js';
import { openDb, type Db } from '../../../node/store/db.js';
import { tempDir } from '../../helpers/network.js';

let dir: string;
let db: Db;
let repo: ConsignmentRepo;
let queries: ArrivalQueries;
/** KZ's consignment ROOT, all purged (its amendment AMEND too); KG's consignment with the same id ROOT, held. */
const ROOT = 'shared-root-id';
const AMEND = 'kz-amendment-id';
const PURGED_AT = Date.parse('2026-01-02T00:00:00Z');

const fields = { current_seq: 2, current_created: '2026-01-01T00:00:00Z', expected_arrival: 0, office_of_entry: 'x', bcp: null, bcp_e: null, view: '{}' };

beforeAll(() => {
  dir = tempDir('gnc-purged-partners-');
  db = openDb(join(dir, 'gnc.sqlite'));
  repo = new ConsignmentRepo(db);
  queries = new ArrivalQueries(db, repo);
  // KG's consignment, held: its own declaration ROOT
  repo.create(2, 'KG', ROOT, fields, 0);
  // what the purge kept of KZ's consignment ROOT: its declaration and its amendment, nothing of it held
  const kept = db.prepare('INSERT INTO risk_purged_versions (message_id, partner, root_id, kind, created, purged_at) VALUES (?, ?, ?, ?, ?, ?)');
  kept.run(ROOT, 'KZ', ROOT, 'declaration', '2025-12-01T00:00:00Z', PURGED_AT);
  kept.run(AMEND, 'KZ', ROOT, 'amendment', '2025-12-02T00:00:00Z', PURGED_AT);
});
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

function refusal(id: string, partner?: string): { code: string; message: string } {
  try {
    queries.detail(id, partner);
  } catch (err) {
    if (isGncError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error(`GET /v1/arrivals/${id} answered`);
}

describe('a purged version whose consignment id another partner also used', () => {
  it("says the purged version's own consignment is no longer held, not pointing at the other partner's", () => {
    const r = refusal(AMEND);
    expect(r.code).toBe('GNC_ARRIVAL_PURGED');
    expect(r.message).toContain(`amendment ${AMEND} (from KZ)`);
    expect(r.message).toContain(`version of consignment ${ROOT}, of which no declaration or amendment is held any more`);
    expect(r.message).not.toContain('still held');
  });

  it("places another partner's ref to it nowhere: no join into KZ's consignment, no root taken from it", () => {
    expect(repo.cidOfRef('KG', AMEND)).toBeUndefined();
    expect(repo.rootOfRef('KG', AMEND)).toBe(AMEND);
    expect(repo.rootOfRef('KZ', AMEND)).toBe(ROOT);
    // KZ's later amendment naming AMEND does not go into KG's consignment ROOT either
    expect(repo.cidOfRef('KZ', AMEND)).toBeUndefined();
  });
});

describe('GET /v1/arrivals/{id} for an id that a purged version of one partner and a consignment of another have', () => {
  it('refuses it without a partner (409 GNC_CONFLICT naming both), instead of answering with the first partner\'s', () => {
    const r = refusal(ROOT);
    expect(r.code).toBe('GNC_CONFLICT');
    expect(r.message).toContain('of 2 partners, KG and KZ');
    expect(r.message).toContain(`add ?partner=XX to say whose, e.g. GET /v1/arrivals/${ROOT}?partner=KG`);
  });

  it("answers with a partner: KG's consignment held, KZ's purged declaration 410 (from KZ)", () => {
    expect(() => queries.detail(ROOT, 'KG')).not.toThrow();
    expect(repo.find(ROOT, 'KG')).toMatchObject({ partner: 'KG', root_id: ROOT });
    expect(repo.find(ROOT, 'KZ')).toBeUndefined();
    const r = refusal(ROOT, 'KZ');
    expect(r.code).toBe('GNC_ARRIVAL_PURGED');
    expect(r.message).toContain(`declaration ${ROOT} (from KZ)`);
    expect(refusal(AMEND, 'KG').code).toBe('GNC_NOT_FOUND');
  });

  it('refuses a purged version id two partners have without a partner, and points to the consignment held scoped to its partner', () => {
    const HELD = 'uz-root-held';
    const TWICE = 'purged-by-two';
    repo.create(3, 'UZ', HELD, fields, 0);
    const kept = db.prepare('INSERT INTO risk_purged_versions (message_id, partner, root_id, kind, created, purged_at) VALUES (?, ?, ?, ?, ?, ?)');
    kept.run(TWICE, 'UZ', HELD, 'amendment', '2025-12-03T00:00:00Z', PURGED_AT);
    kept.run(TWICE, 'KZ', ROOT, 'amendment', '2025-12-03T00:00:00Z', PURGED_AT);
    const r = refusal(TWICE);
    expect(r.code).toBe('GNC_CONFLICT');
    expect(r.message).toContain('of 2 partners, KZ and UZ');
    const uz = refusal(TWICE, 'UZ');
    expect(uz.code).toBe('GNC_ARRIVAL_PURGED');
    expect(uz.message).toContain(`amendment ${TWICE} (from UZ)`);
    expect(uz.message).toContain(`read it at GET /v1/arrivals/${HELD}?partner=UZ.`);
  });
});
