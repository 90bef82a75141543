/**
 * AEO history entries written twice (the same status from the same date, from a later message): older versions wrote
 * them when their purge rebuilt the registry by applying the latest snapshot again; the upgrade removes them, keeping
 * the first, and the registry writes none now, also when the purge's rebuild applies a snapshot again. Real KZ and KG
 * nodes: KZ sends a change of another operator (so a purge of it alone rebuilds KZ's registry), two daily snapshots
 * and a change to operator A; KG is stopped, given the twin an older version would have written, taken back to the
 * schema before the migration, and restarted; then the change is purged. Then operator X is valid, suspended and valid
 * again on one date, and the suspension's message is purged first (its retention ending first): the purge leaves no
 * twin of the two valid entries, and looks at no operator it did not touch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { Store } from '../../../node/store/store.js';
import { api, restartNode, waitFor } from '../../helpers/network.js';
import { snapshot } from './fixtures.js';
import { riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
const ops = snapshot()['operators'] as Record<string, string>[];
/** Operator A, valid since D; operator V, valid since its own status date; W, of the change purged. */
const A = ops[0]!;
const D = A['statusDate']!;
const V = ops[1]!;
const W = ops[2]!;
const ids = { purged: '', first: '', second: '', suspended: '' };
const seqs: Record<string, number> = {};

const daily = (date: string): Record<string, unknown> => ({ ...snapshot(), asOf: `${date}T06:00:00+05:00` });
/** The migration that removes the twins, found by its statement (others may be appended after it). */
const DEDUPE = MIGRATIONS.findIndex((m) => m.includes('-- dedupe: risk_aeo_history twins'));

type Entry = { effective: string; status: string; messageId: string; reason: string | null };
async function historyOf(aeoId: string): Promise<[string, string, string][]> {
  const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${aeoId}`);
  expect(r.status, r.text).toBe(200);
  return (r.json.history as Entry[]).map((h) => [h.effective, h.status, h.messageId]);
}

beforeAll(async () => {
  net = await riskNetwork();
  ids.purged = await send(net.kz, 'aeo', { kind: 'change', operator: { ...W, status: 'suspended', statusDate: '2026-10-01' } });
  ids.first = await send(net.kz, 'aeo', daily('2026-11-01'));
  ids.second = await send(net.kz, 'aeo', daily('2026-11-10'));
  // a suspension from the same date as A's status, arriving after the newer snapshot: history only
  ids.suspended = await send(net.kz, 'aeo', { kind: 'change', operator: { ...A, status: 'suspended', statusDate: D }, reason: 'Under investigation' });
  const db = () => net.kg.node.parts.store.db;
  // the suspension, and A's status restated on the newer snapshot's date
  const rows = () => db().prepare(`SELECT COUNT(*) FROM risk_aeo_history WHERE aeo_id = ? AND seq = (SELECT seq FROM messages WHERE id = ? AND direction = 'in')`).pluck().get(A['aeoId'], ids.suspended);
  await waitFor(() => (rows() === 2 ? true : undefined), 10_000, 'the suspension');
  for (const [k, id] of Object.entries(ids)) seqs[k] = db().prepare(`SELECT seq FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(id) as number;
}, 60_000);
afterAll(async () => net?.close());

describe('AEO history twins', () => {
  it('written by an older version are removed by the upgrade, keeping the first; a status that changed back on one date stays', async () => {
    expect(DEDUPE).toBeGreaterThan(0);
    await net.kg.node.stop();
    const store = Store.open(net.kg.dir);
    try {
      const add = store.db.prepare(`INSERT INTO risk_aeo_history (partner, aeo_id, effective, seq, status, valid_from, valid_until, kind, message_id, path, reason)
        VALUES ('KZ', ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`);
      // what the purge's rebuild of an older version wrote, applying the newer snapshot again: A's status under its seq
      add.run(A['aeoId'], D, seqs['second'], 'valid', A['validFrom'], null, 'snapshot', ids.second, '/operators/0/status');
      // V suspended and valid again on its status date: history, not twins
      add.run(V['aeoId'], V['statusDate'], seqs['second'], 'suspended', V['validFrom'], V['validUntil'], 'change', ids.second, '/operator/status');
      add.run(V['aeoId'], V['statusDate'], seqs['suspended'], 'valid', V['validFrom'], V['validUntil'], 'change', ids.suspended, '/operator/status');
      store.db.pragma(`user_version = ${DEDUPE}`);
    } finally {
      store.close();
    }
    await restartNode(net.kg);
    expect(await historyOf(A['aeoId']!)).toEqual([
      [D, 'valid', ids.first],
      [D, 'suspended', ids.suspended],
      ['2026-11-10', 'valid', ids.first],
    ]);
    expect(await historyOf(V['aeoId']!)).toEqual([
      [V['statusDate'], 'valid', ids.first],
      [V['statusDate'], 'suspended', ids.second],
      [V['statusDate'], 'valid', ids.suspended],
    ]);
  }, 60_000);

  it('are not written by the purge rebuilding the registry from the snapshot it rests on', async () => {
    const retainUntil = net.kg.node.parts.store.db.prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(ids.purged) as number;
    expect(net.kg.node.retention.purge(retainUntil)).toBe(1);
    expect(await historyOf(A['aeoId']!)).toEqual([
      [D, 'valid', ids.first],
      [D, 'suspended', ids.suspended],
      ['2026-11-10', 'valid', ids.first],
    ]);
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${A['aeoId']}?at=2026-11-12`);
    expect(r.json).toMatchObject({ status: 'valid', validity: { valid: true, status: 'valid' } });
  });

  it('are not left by the purge taking the message of a status between two of the same status on one date', async () => {
    const db = net.kg.node.parts.store.db;
    const X = { ...W, aeoId: 'KZAEO990140000001', nationalTraderId: '990140000001', legalName: 'Twin Purge Test LLP', status: 'valid', statusDate: '2026-11-15' };
    const x = { valid: '', suspended: '', again: '' };
    x.valid = await send(net.kz, 'aeo', { kind: 'change', operator: X });
    x.suspended = await send(net.kz, 'aeo', { kind: 'change', operator: { ...X, status: 'suspended' }, reason: 'Under investigation' });
    x.again = await send(net.kz, 'aeo', { kind: 'change', operator: X, reason: 'Investigation closed' });
    await waitFor(async () => ((await historyOf(X.aeoId)).length === 3 ? true : undefined), 10_000, "X's history");
    expect((await historyOf(X.aeoId)).map(([, status]) => status)).toEqual(['valid', 'suspended', 'valid']);
    // a twin of V, which the purge does not touch: not the purge's to look at
    const vBefore = await historyOf(V['aeoId']!);
    const seqOf = (id: string) => db.prepare(`SELECT seq FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(id) as number;
    db.prepare(`INSERT INTO risk_aeo_history (partner, aeo_id, effective, seq, status, valid_from, valid_until, kind, message_id, path, reason)
      VALUES ('KZ', ?, ?, ?, 'valid', ?, ?, 'change', ?, '/operator/status', NULL)`).run(V['aeoId'], V['statusDate'], seqOf(x.again), V['validFrom'], V['validUntil'], x.again);
    // the suspension's retention ends first, as under an agreement version that shortened it
    const cutoff = Math.min(...(db.prepare(`SELECT retain_until FROM messages WHERE direction = 'in' AND jws IS NOT NULL`).pluck().all() as number[])) - 1;
    db.prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(cutoff, x.suspended);
    expect(net.kg.node.retention.purge(cutoff)).toBe(1);
    expect(await historyOf(X.aeoId)).toEqual([['2026-11-15', 'valid', x.valid]]);
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${X.aeoId}?at=2026-11-16`);
    expect(r.json).toMatchObject({ status: 'valid', messageId: x.valid, validity: { valid: true, status: 'valid' } });
    expect(await historyOf(V['aeoId']!)).toEqual([...vBefore, [V['statusDate'], 'valid', x.again]]);
  }, 60_000);
});
