/**
 * The retention purge and a rebuilt consignment whose assessment throws: the purge goes through all the same (the
 * content is gone at its retention end, not held while every sweep rolls back), the consignment is rebuilt and left
 * queued for assessment, the failure is logged with its code and without content, and the risk loop assesses it once
 * it can. Real KZ and KG nodes; KG's SQLite refuses the assessment of that one consignment (a trigger on the node's
 * connection, as a failing indicator or write would refuse it) until the test drops the trigger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, waitFor } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, assessedAs, mentions, riskNetwork, send, type RiskNetwork } from './network.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

let net: RiskNetwork;
const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
const ids = { declaration: '', amendment: '' };
let cid: number;

/** Tomorrow: inside the recompute horizon whatever the date of the run. */
const TOMORROW = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** What only the purged declaration carries. */
const PURGED = 'Assess Fails Purged Consignee LLP';
const HELD = 'Assess Fails Held Consignee LLC';
/** What the refused write says: the purge's log line does not quote it (it stands for an error message quoting content). */
const REFUSAL = 'assessment refused for the test';

const declaration = (kind: 'declaration' | 'amendment', consignee: string): Record<string, unknown> =>
  variant(road(), (d) => {
    d.kind = kind;
    if (kind === 'amendment') d.amendmentReason = 'Consignee corrected';
    d.functionalReference = 'ASSESS-FAILS-1';
    d.expectedArrival = TOMORROW;
    d.consignee.name = consignee;
  });

const db = () => net.kg.node.parts.store.db;

beforeAll(async () => {
  net = await riskNetwork({ log: (msg, fields) => void logged.push({ msg, ...(fields ? { fields } : {}) }) });
  ids.declaration = await send(net.kz, 'aci', declaration('declaration', PURGED));
  ids.amendment = await send(net.kz, 'aci', declaration('amendment', HELD), ids.declaration);
  await arrival(net.kg, ids.declaration, (a) => assessedAs(a, ids.amendment));
  cid = db().prepare('SELECT cid FROM risk_consignments WHERE root_id = ?').pluck().get(ids.declaration) as number;
  db().exec(`CREATE TEMP TRIGGER assessment_refused BEFORE INSERT ON risk_assessments WHEN NEW.cid = ${cid}
    BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
}, 60_000);
afterAll(async () => net?.close());

describe('a purge whose reassessment of a rebuilt consignment throws', () => {
  it('purges the content on time, rebuilds the consignment and leaves it queued, logging the failure by code', async () => {
    const retainUntil = db().prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(ids.declaration) as number;
    expect(net.kg.node.retention.purge(retainUntil)).toBe(1);
    const row = db().prepare(`SELECT jws, body FROM (${MESSAGE_SELECT}) WHERE id = ? AND direction = 'in'`).get(ids.declaration) as { jws: unknown; body: unknown };
    expect(row).toEqual({ jws: null, body: null });
    // nothing derived from the purged declaration is left; the consignment is built again from the amendment
    expect(mentions(db(), PURGED)).toEqual([]);
    expect(db().prepare('SELECT COUNT(*) FROM risk_pending WHERE cid = ?').pluck().get(cid)).toBe(1);
    const r = await api(net.kg, 'GET', `/v1/arrivals/${ids.declaration}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ currentMessageId: ids.amendment, consignee: { name: HELD }, assessment: { revision: 0, explanation: expect.stringMatching(/^not assessed yet: its assessment failed/) } });
    const line = logged.find((l) => l.msg.startsWith('retention purge: a rebuilt consignment could not be assessed'));
    expect(line?.fields).toEqual({ code: 'GNC_INTERNAL', cid, error: 'SqliteError SQLITE_CONSTRAINT_TRIGGER' });
  });

  it('is assessed by the risk loop once the assessment can be stored', async () => {
    db().exec('DROP TRIGGER temp.assessment_refused');
    // the loop's own retry once the failed assessment's backoff (about STEP_RETRY_MS at first) ends
    const a = await arrival(net.kg, ids.declaration, (x) => x.assessment.revision >= 1);
    expect(a).toMatchObject({ currentMessageId: ids.amendment, consignee: { name: HELD } });
    await waitFor(() => (db().prepare('SELECT COUNT(*) FROM risk_pending WHERE cid = ?').pluck().get(cid) === 0 ? true : undefined), 10_000, 'the queue to empty');
  }, 30_000);
});

describe('a purge whose transaction SQLite rolled back during the assessment of a rebuilt consignment (a full disk, an I/O error)', () => {
  const later = { declaration: '', amendment: '' };
  const ROLLED_BACK = 'transaction rolled back for the test';

  it('fails with that error, purging nothing, and does not log that the purge went on; the next sweep purges', async () => {
    later.declaration = await send(net.kz, 'aci', declaration('declaration', PURGED));
    later.amendment = await send(net.kz, 'aci', declaration('amendment', HELD), later.declaration);
    await arrival(net.kg, later.declaration, (a) => assessedAs(a, later.amendment));
    const laterCid = db().prepare('SELECT cid FROM risk_consignments WHERE root_id = ?').pluck().get(later.declaration) as number;
    // as SQLite does on SQLITE_FULL or SQLITE_IOERR in a statement it cannot undo alone: the whole transaction goes
    db().exec(`CREATE TEMP TRIGGER whole_rollback BEFORE INSERT ON risk_assessments WHEN NEW.cid = ${laterCid}
      BEGIN SELECT RAISE(ROLLBACK, '${ROLLED_BACK}'); END`);
    const retainUntil = db().prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(later.declaration) as number;
    const before = logged.length;
    try {
      expect(() => net.kg.node.retention.purge(retainUntil)).toThrow(ROLLED_BACK);
      expect(db().inTransaction).toBe(false);
      expect(db().prepare(`SELECT body IS NOT NULL FROM (${MESSAGE_SELECT}) WHERE id = ? AND direction = 'in'`).pluck().get(later.declaration)).toBe(1);
      expect(logged.slice(before).filter((l) => l.msg.includes('the purge went on'))).toEqual([]);
    } finally {
      db().exec('DROP TRIGGER temp.whole_rollback');
    }
    expect(net.kg.node.retention.purge(retainUntil)).toBeGreaterThanOrEqual(1);
    expect(mentions(db(), PURGED)).toEqual([]);
    const a = await arrival(net.kg, later.declaration, (x) => x.assessment.explanation !== 'not assessed yet');
    expect(a).toMatchObject({ currentMessageId: later.amendment, consignee: { name: HELD } });
  }, 30_000);
});
