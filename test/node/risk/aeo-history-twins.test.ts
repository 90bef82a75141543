/**
 * AEO history entries that repeat the status of the entry before them ("twins"): GET /v1/aeo shows each status change
 * once, the earlier entry, whatever the dates; the node keeps every entry its messages wrote, as validity on a date
 * and the retention purge read them. Real KZ and KG nodes: KZ sends a change of another operator (so a purge of it
 * alone rebuilds KZ's registry), two daily snapshots and a change to operator A. KG is given the twins an older
 * version wrote (its purge applied the latest snapshot again; a late message repeated a status); then the change is
 * purged. Then other operators: valid, suspended and valid again on one date or across dates, the suspension's message
 * purged first (its retention ending first); a status arriving out of date order that the next entry repeats; and an
 * assessment outside the recompute horizon quoting, as the record's holder, the message of a repeated status, which
 * must be reassessed when that message is purged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, waitFor } from '../../helpers/network.js';
import { days, road, snapshot, variant } from './fixtures.js';
import { arrival, has, mentions as mentionsIn, riskNetwork, send, type RiskNetwork } from './network.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

let net: RiskNetwork;
const ops = snapshot()['operators'] as Record<string, string>[];
/** Operator A, valid since D; operator V, valid since its own status date; W, of the change purged. */
const A = ops[0]!;
const D = A['statusDate']!;
const V = ops[1]!;
const W = ops[2]!;
/** Operator R, revoked since its status date: given twins across dates. */
const R = ops[3]!;
const ids = { purged: '', first: '', second: '', suspended: '' };
const seqs: Record<string, number> = {};

const daily = (date: string): Record<string, unknown> => ({ ...snapshot(), asOf: `${date}T06:00:00+05:00` });
const db = () => net.kg.node.parts.store.db;
const seqOf = (id: string) => db().prepare(`SELECT seq FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(id) as number;
/** Every row of KG's risk tables (and the feed) that mentions `text`. */
const mentions = (text: string): string[] => mentionsIn(db(), text);
/** How many history entries a message has in KG's table (shown or not). */
const rowsOf = (id: string) => db().prepare('SELECT COUNT(*) FROM risk_aeo_history WHERE message_id = ?').pluck().get(id) as number;

type Entry = { effective: string; status: string; messageId: string; reason: string | null };
async function historyOf(aeoId: string): Promise<[string, string, string][]> {
  const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${aeoId}`);
  expect(r.status, r.text).toBe(200);
  return (r.json.history as Entry[]).map((h) => [h.effective, h.status, h.messageId]);
}

/** The status of an operator on each date, as GET /v1/aeo/{partner}/{aeoId}?at= answers it (without the pointer). */
async function statusesOf(aeoId: string, dates: string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const d of dates) {
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${aeoId}?at=${d}`);
    expect(r.status, r.text).toBe(200);
    const { valid, status, basis } = r.json.validity as { valid: boolean; status: string; basis: string };
    out.push([d, valid, status, basis]);
  }
  return out;
}

/** Purges `id` alone: its retention made to end before that of every other message held. */
function purgeAlone(id: string): void {
  const cutoff = Math.min(...(db().prepare(`SELECT retain_until FROM (${MESSAGE_SELECT}) WHERE direction = 'in' AND jws IS NOT NULL`).pluck().all() as number[])) - 1;
  db().prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(cutoff, id);
  expect(net.kg.node.retention.purge(cutoff)).toBe(1);
}

/** Another operator of KZ, sent by changes only. */
const operator = (n: number, legalName: string, status: string, statusDate: string) =>
  ({ ...W, aeoId: `KZAEO99014000000${n}`, nationalTraderId: `99014000000${n}`, legalName, status, statusDate });

/**
 * Sends a declaration expected 40 days ago (outside the 30-day recompute horizon) whose consignor quotes `aeoId` under
 * another trader id, so its assessment quotes the message the record rests on as the register's holder.
 */
async function borrowed(ref: string, aeoId: string): Promise<string> {
  const id = await send(net.kz, 'aci', variant(road(), (d) => {
    d.functionalReference = ref;
    d.expectedArrival = new Date(Date.now() - 40 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    d.consignor.aeoId = aeoId;
    d.consignor.id = '990140009999';
  }));
  await arrival(net.kg, id, has('aeo-not-listed'));
  return id;
}

/** Waits until KG's record of `aeoId` rests on message `id`. */
const restsOn = (aeoId: string, id: string) =>
  waitFor(async () => ((await api(net.kg, 'GET', `/v1/aeo/KZ/${aeoId}`)).json.messageId === id ? true : undefined), 10_000, `${aeoId} resting on ${id}`);

beforeAll(async () => {
  net = await riskNetwork();
  ids.purged = await send(net.kz, 'aeo', { kind: 'change', operator: { ...W, status: 'suspended', statusDate: '2026-10-01' } });
  ids.first = await send(net.kz, 'aeo', daily('2026-11-01'));
  ids.second = await send(net.kz, 'aeo', daily('2026-11-10'));
  // a suspension from the same date as A's status, arriving after the newer snapshot: history only
  ids.suspended = await send(net.kz, 'aeo', { kind: 'change', operator: { ...A, status: 'suspended', statusDate: D }, reason: 'Under investigation' });
  // the suspension, and A's status restated on the newer snapshot's date
  const rows = () => db().prepare(`SELECT COUNT(*) FROM risk_aeo_history WHERE aeo_id = ? AND seq = ?`).pluck().get(A['aeoId'], seqOf(ids.suspended));
  await waitFor(() => (rows() === 2 ? true : undefined), 10_000, 'the suspension');
  for (const [k, id] of Object.entries(ids)) seqs[k] = seqOf(id);
}, 60_000);
afterAll(async () => net?.close());

describe('AEO history twins', () => {
  it('written by an older version are shown once, the first, on one date or across dates, and kept; a status that changed back on one date shows each change', async () => {
    const range = days('2026-05-10', '2026-11-15');
    const before = await statusesOf(R['aeoId']!, range);
    const add = db().prepare(`INSERT INTO risk_aeo_history (partner, aeo_id, effective, seq, status, valid_from, valid_until, kind, message_id, path, reason)
      VALUES ('KZ', ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`);
    // what the purge's rebuild of an older version wrote, applying the newer snapshot again: A's status under its seq
    add.run(A['aeoId'], D, seqs['second'], 'valid', A['validFrom'], null, 'snapshot', ids.second, '/operators/0/status');
    // V suspended and valid again on its status date: history, not twins
    add.run(V['aeoId'], V['statusDate'], seqs['second'], 'suspended', V['validFrom'], V['validUntil'], 'change', ids.second, '/operator/status');
    add.run(V['aeoId'], V['statusDate'], seqs['suspended'], 'valid', V['validFrom'], V['validUntil'], 'change', ids.suspended, '/operator/status');
    // R revoked from after its status date on (as it was), removed and revoked again, each status stated again on a
    // later date (a removal with another period too)
    const rFrom = R['validFrom'];
    add.run(R['aeoId'], '2026-06-01', seqs['second'], 'revoked', rFrom, null, 'snapshot', ids.second, '/operators/3/status');
    add.run(R['aeoId'], '2026-07-01', seqs['second'], 'removed', rFrom, null, 'snapshot', ids.second, '/operators');
    add.run(R['aeoId'], '2026-08-01', seqs['suspended'], 'removed', null, null, 'snapshot', ids.suspended, '/operators');
    add.run(R['aeoId'], '2026-09-01', seqs['second'], 'revoked', rFrom, null, 'snapshot', ids.second, '/operators/3/status');
    add.run(R['aeoId'], '2026-10-01', seqs['suspended'], 'revoked', rFrom, null, 'change', ids.suspended, '/operator/status');
    expect(await historyOf(R['aeoId']!)).toEqual([
      [R['statusDate'], 'revoked', ids.first],
      ['2026-07-01', 'removed', ids.second],
      ['2026-09-01', 'revoked', ids.second],
    ]);
    // all kept: the status on every date is what the entries say (revoked, removed from July 1, revoked from September 1)
    expect(db().prepare('SELECT COUNT(*) FROM risk_aeo_history WHERE aeo_id = ?').pluck().get(R['aeoId'])).toBe(6);
    expect(await statusesOf(R['aeoId']!, range)).toEqual(before.map((s) => {
      const [d] = s as [string];
      return d >= '2026-07-01' && d < '2026-09-01' ? [d, false, 'removed', 'recorded'] : s;
    }));
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

  it('are shown once after the purge rebuilt the registry from the snapshot it rests on', async () => {
    purgeAlone(ids.purged);
    expect(await historyOf(A['aeoId']!)).toEqual([
      [D, 'valid', ids.first],
      [D, 'suspended', ids.suspended],
      ['2026-11-10', 'valid', ids.first],
    ]);
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${A['aeoId']}?at=2026-11-12`);
    expect(r.json).toMatchObject({ status: 'valid', validity: { valid: true, status: 'valid' } });
  });

  it('are shown once, and kept, when the purge takes the message of a status between two of the same status on one date', async () => {
    const X = operator(1, 'Twin Purge Test LLP', 'valid', '2026-11-15');
    const x = { valid: '', suspended: '', again: '' };
    x.valid = await send(net.kz, 'aeo', { kind: 'change', operator: X });
    x.suspended = await send(net.kz, 'aeo', { kind: 'change', operator: { ...X, status: 'suspended' }, reason: 'Under investigation' });
    x.again = await send(net.kz, 'aeo', { kind: 'change', operator: X, reason: 'Investigation closed' });
    await waitFor(async () => ((await historyOf(X.aeoId)).length === 3 ? true : undefined), 10_000, "X's history");
    expect((await historyOf(X.aeoId)).map(([, status]) => status)).toEqual(['valid', 'suspended', 'valid']);
    purgeAlone(x.suspended);
    expect(await historyOf(X.aeoId)).toEqual([['2026-11-15', 'valid', x.valid]]);
    expect(rowsOf(x.again)).toBe(1);
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${X.aeoId}?at=2026-11-16`);
    expect(r.json).toMatchObject({ status: 'valid', messageId: x.valid, validity: { valid: true, status: 'valid' } });
  }, 60_000);

  it('are shown once when the purge takes the message of a status between two of the same status on other dates', async () => {
    const P = operator(2, 'Twin Dates Purge LLP', 'valid', '2026-11-15');
    const p = { valid: '', suspended: '', again: '' };
    p.valid = await send(net.kz, 'aeo', { kind: 'change', operator: P });
    p.suspended = await send(net.kz, 'aeo', { kind: 'change', operator: { ...P, status: 'suspended', statusDate: '2026-11-17' }, reason: 'Under investigation' });
    p.again = await send(net.kz, 'aeo', { kind: 'change', operator: { ...P, statusDate: '2026-11-19' }, reason: 'Investigation closed' });
    await waitFor(async () => ((await historyOf(P.aeoId)).length === 3 ? true : undefined), 10_000, "P's history");
    const range = days('2026-11-10', '2026-11-25');
    const before = await statusesOf(P.aeoId, range);
    purgeAlone(p.suspended);
    expect(await historyOf(P.aeoId)).toEqual([['2026-11-15', 'valid', p.valid]]);
    // valid where the suspension held; every other date as before
    expect(await statusesOf(P.aeoId, range)).toEqual(before.map((s) => {
      const [d] = s as [string];
      return d >= '2026-11-17' && d < '2026-11-19' ? [d, true, 'valid', 'recorded'] : s;
    }));
  }, 60_000);

  it('are shown once when a status arrives out of date order that the entry after it repeats: the earlier is listed', async () => {
    const Q = operator(3, 'Twin Dates Late LLP', 'suspended', '2026-11-18');
    const q = { suspended: '', later: '', late: '' };
    q.suspended = await send(net.kz, 'aeo', { kind: 'change', operator: Q, reason: 'Under investigation' });
    q.later = await send(net.kz, 'aeo', { kind: 'change', operator: { ...Q, status: 'valid', statusDate: '2026-11-22' }, reason: 'Investigation closed' });
    await waitFor(async () => ((await historyOf(Q.aeoId)).length === 2 ? true : undefined), 10_000, "Q's history");
    const range = days('2026-11-10', '2026-11-28');
    const before = await statusesOf(Q.aeoId, range);
    // the message saying it was valid already from an earlier date arrives late
    q.late = await send(net.kz, 'aeo', { kind: 'change', operator: { ...Q, status: 'valid', statusDate: '2026-11-20' }, reason: 'Investigation closed' });
    await waitFor(async () => ((await historyOf(Q.aeoId)).some(([, , id]) => id === q.late) ? true : undefined), 10_000, 'the late message');
    expect(await historyOf(Q.aeoId)).toEqual([
      ['2026-11-18', 'suspended', q.suspended],
      ['2026-11-20', 'valid', q.late],
    ]);
    expect(rowsOf(q.later)).toBe(1);
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${Q.aeoId}`);
    expect(r.json).toMatchObject({ status: 'valid', statusDate: '2026-11-22', messageId: q.later });
    // valid from the late message's date on; every other date as before
    expect(await statusesOf(Q.aeoId, range)).toEqual(before.map((s) => {
      const [d] = s as [string];
      return d >= '2026-11-20' && d < '2026-11-22' ? [d, true, 'valid', 'recorded'] : s;
    }));
  }, 60_000);

  it('keep their message findable by the purge: an assessment outside the recompute horizon quoting a repeat as the record holder is reassessed when its message is purged', async () => {
    const Y = operator(4, 'Twin Quote Test LLP', 'valid', '2026-11-15');
    const y = { valid: '', suspended: '', again: '', d: '' };
    y.valid = await send(net.kz, 'aeo', { kind: 'change', operator: Y });
    y.suspended = await send(net.kz, 'aeo', { kind: 'change', operator: { ...Y, status: 'suspended' }, reason: 'Under investigation' });
    y.again = await send(net.kz, 'aeo', { kind: 'change', operator: Y, reason: 'Investigation closed' });
    await waitFor(async () => ((await api(net.kg, 'GET', `/v1/aeo/KZ/${Y.aeoId}`)).json.messageId === y.again ? true : undefined), 10_000, "Y's record");
    // arrived 40 days ago (outside the 30-day recompute horizon); its consignor quotes Y's AEO id under another trader
    // id, so the assessment quotes the message the record rests on (y.again) as the register's holder
    y.d = await send(net.kz, 'aci', variant(road(), (d) => {
      d.functionalReference = 'TWIN-QUOTE-1';
      d.expectedArrival = new Date(Date.now() - 40 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      d.consignor.aeoId = Y.aeoId;
      d.consignor.id = '990140009999';
    }));
    await arrival(net.kg, y.d, has('aeo-not-listed'));
    expect(mentions(y.again).length).toBeGreaterThan(0);
    // the suspension's message goes first: the registry now rests on y.valid, y.again's entry repeats its status
    purgeAlone(y.suspended);
    expect(await historyOf(Y.aeoId)).toEqual([['2026-11-15', 'valid', y.valid]]);
    expect(rowsOf(y.again)).toBe(1);
    // outside the horizon, the consignment keeps the assessment that quotes y.again (still held)
    expect(mentions(y.again).length).toBeGreaterThan(0);
    purgeAlone(y.again);
    // found through y.again's history entry, reassessed: it quotes y.valid as the holder, nothing quotes y.again
    const a = await arrival(net.kg, y.d, (x) => !JSON.stringify(x).includes(y.again));
    expect(JSON.stringify(a)).toContain(y.valid);
    expect(mentions(y.again)).toEqual([]);
  }, 60_000);

  it('find the operators whose record rests on a purged message that repeats the status with a new national trader id: an assessment outside the horizon quoting it is reassessed', async () => {
    const Z = operator(5, 'Twin Holder Test LLP', 'valid', '2026-11-15');
    const z = { valid: '', corrected: '', d: '' };
    z.valid = await send(net.kz, 'aeo', { kind: 'change', operator: Z });
    // the same status on the same date, with the trader id corrected: the record rests on it
    z.corrected = await send(net.kz, 'aeo', { kind: 'change', operator: { ...Z, nationalTraderId: '990140000055' }, reason: 'Trader id corrected' });
    await restsOn(Z.aeoId, z.corrected);
    // no entry: the purge finds Z in the message itself
    expect(rowsOf(z.corrected)).toBe(0);
    z.d = await borrowed('TWIN-HOLDER-1', Z.aeoId);
    expect(mentions(z.corrected).length).toBeGreaterThan(0);
    // one status change shown, whatever the node keeps to find the message's operator
    expect(await historyOf(Z.aeoId)).toEqual([['2026-11-15', 'valid', z.valid]]);
    purgeAlone(z.corrected);
    const a = await arrival(net.kg, z.d, (x) => !JSON.stringify(x).includes(z.corrected));
    expect(JSON.stringify(a)).toContain(z.valid);
    expect(mentions(z.corrected)).toEqual([]);
    const r = await api(net.kg, 'GET', `/v1/aeo/KZ/${Z.aeoId}`);
    expect(r.json).toMatchObject({ nationalTraderId: Z.nationalTraderId, messageId: z.valid });
  }, 60_000);

  it('find the operators whose record rested on a purged message and moved on to a later one: an assessment outside the horizon quoting it is reassessed', async () => {
    const H = operator(6, 'Twin Holder Moved LLP', 'valid', '2026-11-15');
    const h = { valid: '', corrected: '', renamed: '', d: '' };
    h.valid = await send(net.kz, 'aeo', { kind: 'change', operator: H });
    h.corrected = await send(net.kz, 'aeo', { kind: 'change', operator: { ...H, nationalTraderId: '990140000066' }, reason: 'Trader id corrected' });
    await restsOn(H.aeoId, h.corrected);
    h.d = await borrowed('TWIN-HOLDER-2', H.aeoId);
    expect(mentions(h.corrected).length).toBeGreaterThan(0);
    // the record moves on to a later message of the same status and date (the trader id corrected again); the
    // consignment, outside the horizon, keeps quoting h.corrected
    h.renamed = await send(net.kz, 'aeo', { kind: 'change', operator: { ...H, nationalTraderId: '990140000067', legalName: 'Twin Holder Moved Again LLP' } });
    await restsOn(H.aeoId, h.renamed);
    expect(mentions(h.corrected).length).toBeGreaterThan(0);
    expect(await historyOf(H.aeoId)).toEqual([['2026-11-15', 'valid', h.valid]]);
    purgeAlone(h.corrected);
    const a = await arrival(net.kg, h.d, (x) => !JSON.stringify(x).includes(h.corrected));
    expect(JSON.stringify(a)).toContain(h.renamed);
    expect(mentions(h.corrected)).toEqual([]);
  }, 60_000);

  it('find the operators whose record rests on a purged message that has no entry, as the message names them', async () => {
    const L = operator(7, 'Twin Holder Legacy LLP', 'valid', '2026-11-15');
    const l = { valid: '', corrected: '', d: '' };
    l.valid = await send(net.kz, 'aeo', { kind: 'change', operator: L });
    l.corrected = await send(net.kz, 'aeo', { kind: 'change', operator: { ...L, nationalTraderId: '990140000077' }, reason: 'Trader id corrected' });
    await restsOn(L.aeoId, l.corrected);
    l.d = await borrowed('TWIN-HOLDER-3', L.aeoId);
    // the record moved onto the message without an entry (nor did an older version write one): only its body names L
    expect(rowsOf(l.corrected)).toBe(0);
    purgeAlone(l.corrected);
    const a = await arrival(net.kg, l.d, (x) => !JSON.stringify(x).includes(l.corrected));
    expect(JSON.stringify(a)).toContain(l.valid);
    expect(mentions(l.corrected)).toEqual([]);
  }, 60_000);
});
