/**
 * What an older version projected from messages sent for statistics leaves the risk view after the upgrade
 * (migration 20): no arrival, assessment, feed event, AEO record or e-CoO entry rests on such a message any more,
 * and a consignment one of its versions touched is projected again from the versions sent for risk assessment.
 * Real KZ and KG nodes under an agreement that allows statistics: KZ sends for risk assessment, KG projects; then,
 * with KG stopped, some of those messages are marked as sent for statistics (what an older KG would have projected
 * all the same), the database is taken back to the schema before the migration, and KG restarts on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { Store } from '../../../node/store/store.js';
import { api, openAgreementDraft, restartNode, waitFor } from '../../helpers/network.js';
import { certificate, road, snapshot, variant } from './fixtures.js';
import { arrival, codesOf, has, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
const ids = {} as Record<'snapshot' | 'certificate' | 'statsDeclaration' | 'kept' | 'amendment' | 'opened' | 'openedBy' | 'other', string>;
let otherRevision: number;
let eventsOf: (id: string) => number;

const declaration = (reference: string) => variant(road(), (d) => {
  d.functionalReference = reference;
});

beforeAll(async () => {
  const draft = variant(openAgreementDraft('KZ', 'KG'), (d) => {
    for (const direction of d.directions) for (const scope of direction.messages) scope.purposes.push('statistics');
  });
  net = await riskNetwork({ agreement: draft });
  const s = snapshot();
  ids.snapshot = await send(net.kz, 'aeo', s);
  ids.certificate = await send(net.kz, 'ecoo', certificate());
  ids.statsDeclaration = await send(net.kz, 'aci', declaration('UPG-STATS'));
  ids.kept = await send(net.kz, 'aci', declaration('UPG-KEPT'));
  ids.amendment = await send(net.kz, 'aci', variant(declaration('UPG-KEPT'), (d) => {
    d.kind = 'amendment';
    d.amendmentReason = 'Gross mass corrected';
    d.officeOfEntry.borderCrossingPoint = 'Kyzyl-Kiya';
  }), ids.kept);
  ids.opened = await send(net.kz, 'aci', declaration('UPG-OPENED'));
  ids.openedBy = await send(net.kz, 'aci', variant(declaration('UPG-OPENED'), (d) => {
    d.kind = 'amendment';
    d.amendmentReason = 'Packages corrected';
  }), ids.opened);
  ids.other = await send(net.kz, 'aci', declaration('UPG-OTHER'));
  const other = await arrival(net.kg, ids.other);
  await arrival(net.kg, ids.amendment, (a) => a.version === 2);
  expect(codesOf(other)).toContain('ecoo-confirmed');
  expect((await api(net.kg, 'GET', `/v1/aeo/KZ/${s.operators[0].aeoId}`)).status).toBe(200);
  otherRevision = other.assessment.revision;

  await net.kg.node.stop();
  const store = Store.open(net.kg.dir);
  try {
    const mark = store.db.prepare(`UPDATE messages SET purpose = 'statistics' WHERE direction = 'in' AND id = ?`);
    for (const id of [ids.snapshot, ids.certificate, ids.statsDeclaration, ids.amendment, ids.opened]) expect(mark.run(id).changes).toBe(1);
    expect(store.db.prepare('SELECT COUNT(*) FROM risk_aeo_history').pluck().get()).toBeGreaterThan(0);
    store.db.pragma(`user_version = ${MIGRATIONS.findIndex((m) => m.includes(`'aggregate-only-cleanup'`))}`);
  } finally {
    store.close();
  }
  await restartNode(net.kg);
  const db = net.kg.node.parts.store.db;
  eventsOf = (id: string) => db.prepare('SELECT COUNT(*) FROM risk_events e JOIN risk_versions v ON v.cid = e.cid WHERE v.message_id = ?').pluck().get(id) as number;
  await waitFor(() => (db.prepare(`SELECT COUNT(*) FROM risk_state WHERE key IN ('aggregate-only-cleanup', 'aeo-rebuild')`).pluck().get() === 0 ? true : undefined), 10_000, 'the clean-up');
}, 60_000);
afterAll(async () => net?.close());

describe('after the upgrade, what messages sent for statistics made', () => {
  it('is no arrival, and leaves no feed event', async () => {
    expect((await api(net.kg, 'GET', `/v1/arrivals/${ids.statsDeclaration}`)).status).toBe(404);
    expect(eventsOf(ids.statsDeclaration)).toBe(0);
    const listed = (await api(net.kg, 'GET', '/v1/arrivals?limit=100')).json.items.map((a: { id: string }) => a.id);
    expect(listed.sort()).toEqual([ids.kept, ids.opened, ids.other].sort());
  });

  it('is no version of a consignment: the declaration sent for risk assessment is in force again', async () => {
    const a = await arrival(net.kg, ids.kept, (x) => x.version === 1);
    expect(a).toMatchObject({ currentMessageId: ids.kept, officeOfEntry: { borderCrossingPoint: 'Ak-Zhol' } });
    expect(a.history.map((v: { messageId: string }) => v.messageId)).toEqual([ids.kept]);
  });

  it('is no version of a consignment: an amendment sent for risk assessment opens it, as the projection does now', async () => {
    // the consignment keeps the original's id (the amendment's ref), its content is the amendment's
    const a = await arrival(net.kg, ids.opened, (x) => x.version === 1);
    expect(a.currentMessageId).toBe(ids.openedBy);
    expect(a.history.map((v: { messageId: string }) => v.messageId)).toEqual([ids.openedBy]);
  });

  it('is no AEO record and no history entry', async () => {
    const aeoId = snapshot().operators[0].aeoId as string;
    expect((await api(net.kg, 'GET', `/v1/aeo/KZ/${aeoId}`)).status).toBe(404);
    expect(net.kg.node.parts.store.db.prepare('SELECT COUNT(*) FROM risk_aeo_history').pluck().get()).toBe(0);
  });

  it('is no certificate a declaration can rest on: the declarations naming it are reassessed', async () => {
    const a = await arrival(net.kg, ids.other, has('preferential-origin-without-ecoo'));
    expect(codesOf(a)).not.toContain('ecoo-confirmed');
    expect(a.assessment.revision).toBeGreaterThan(otherRevision);
  });
});
