/**
 * Purpose limitation on the receiving node: a message sent for statistics (aggregate only, never a decision about
 * an individual trader: SPEC section 8.1, AGGREGATE_ONLY_PURPOSES) is accepted, stored and listed, and stays out
 * of the risk view: no arrival, no assessment, no AEO record. Real KZ and KG nodes under an agreement that allows
 * statistics for every type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, openAgreementDraft, runCli } from '../../helpers/network.js';
import { example, road, snapshot, variant } from './fixtures.js';
import { arrival, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;

beforeAll(async () => {
  const draft = variant(openAgreementDraft('KZ', 'KG'), (d) => {
    for (const direction of d.directions) for (const scope of direction.messages) scope.purposes.push('statistics');
  });
  net = await riskNetwork({ agreement: draft });
});
afterAll(async () => net?.close());

const declaration = (reference: string) => variant(road(), (d) => {
  d.functionalReference = reference;
});

describe('a message sent for statistics', () => {
  it('is stored and listed, but is no arrival, while the declaration sent for risk assessment after it is', async () => {
    const statistics = await send(net.kz, 'aci', declaration('STATS-ACI-1'), undefined, 'statistics');
    const assessed = await send(net.kz, 'aci', declaration('RISK-ACI-1'));
    await arrival(net.kg, assessed);
    const stored = await api(net.kg, 'GET', `/v1/messages/${statistics}`);
    expect(stored.status).toBe(200);
    expect(stored.json.purpose).toBe('statistics');
    expect((await api(net.kg, 'GET', `/v1/arrivals/${statistics}`)).status).toBe(404);
    const listed = await api(net.kg, 'GET', '/v1/arrivals?limit=100');
    expect(listed.json.items.map((a: { id: string }) => a.id)).toEqual([assessed]);
  });

  it('does not count as a message waiting to be assessed', async () => {
    // the last message KG received: the projection never takes it, and it must not wait for it either
    await send(net.kz, 'aci', declaration('STATS-ACI-2'), undefined, 'statistics');
    const r = await runCli(['arrivals', '--dir', net.kg.dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out.join('\n')).not.toContain('not assessed yet');
  });

  it('leaves the AEO registry as it was: an operator only a statistics snapshot lists is not an AEO there', async () => {
    const snapshot = example('aeo-kz-snapshot.json');
    await send(net.kz, 'aeo', snapshot, undefined, 'statistics');
    // projection runs in receive order: once the declaration after it is assessed, the snapshot was passed over
    await arrival(net.kg, await send(net.kz, 'aci', declaration('RISK-ACI-2')));
    const aeoId = snapshot.operators[0].aeoId as string;
    expect((await api(net.kg, 'GET', `/v1/aeo/KZ/${aeoId}`)).status).toBe(404);
    expect((await api(net.kg, 'GET', '/v1/aeo?partner=KZ')).json.items).toEqual([]);
  });

  it('is passed over when the AEO registry is rebuilt after a retention purge', async () => {
    const operator = snapshot().operators[0];
    const held = await send(net.kz, 'aeo', { kind: 'snapshot', asOf: '2026-01-01T00:00:00Z', operators: [operator] });
    await send(net.kz, 'aeo', { kind: 'snapshot', asOf: '2026-06-01T00:00:00Z', operators: [{ ...operator, status: 'revoked', statusDate: '2026-05-01' }] }, undefined, 'statistics');
    await arrival(net.kg, await send(net.kz, 'aci', declaration('RISK-ACI-3')));
    expect((await api(net.kg, 'GET', `/v1/aeo/KZ/${operator.aeoId}`)).json).toMatchObject({ status: 'valid', messageId: held });
    // everything received up to the snapshot sent for risk assessment: the statistics snapshot after it is held
    const cutoff = net.kg.node.parts.store.db.prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(held) as number;
    expect(net.kg.node.retention.purge(cutoff)).toBeGreaterThan(0);
    // the rebuild rests on no snapshot (none sent for risk assessment is held), never on the statistics one
    expect((await api(net.kg, 'GET', `/v1/aeo/KZ/${operator.aeoId}`)).status).toBe(404);
  });
});
