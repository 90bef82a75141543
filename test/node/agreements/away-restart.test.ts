/**
 * Negotiation across restarts and a partner away longer than the maximum message age (SPEC section 6): a proposal
 * queued for a stopped partner, with the proposer restarted meanwhile, is sealed again and arrives; a countersignature
 * queued for a stopped proposer arrives the same way, and both nodes' views agree. Two real nodes sharing a clock
 * moved past the default maximum age (168 h) while one of them is stopped.
 */
import { describe, expect, it } from 'vitest';
import { api, networkPerTest, openAgreementDraft, restartNode, sharedClockPerTest, waitFor, type TestNode } from '../../helpers/network.js';

const AWAY = 8 * 86_400_000;
const t = sharedClockPerTest();
const network = networkPerTest();
const renewal = () => openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01T00:00:00Z', validUntil: '2035-12-31T23:59:59Z' });

async function version2(n: TestNode): Promise<{ status: string; signedBy: string[] } | undefined> {
  const r = await api(n, 'GET', '/v1/agreements/KZ-KG-test?version=2');
  return r.status === 200 ? r.json : undefined;
}

/** Follows a control message through its re-sealings to the final one. */
async function finalCarrier(n: TestNode, id: string): Promise<{ id: string; status: string }> {
  return waitFor(async () => {
    let m = (await api(n, 'GET', `/v1/messages/${id}`)).json;
    while (m.status === 'resealed') m = (await api(n, 'GET', `/v1/messages/${m.resealedAs}`)).json;
    return ['delivered', 'rejected'].includes(m.status) ? m : undefined;
  }, 20_000, `${id} to be final`);
}

describe('an agreement negotiated while the partner is away longer than the maximum message age', () => {
  it('delivers the proposal and the countersignature sealed again, across restarts of both nodes', async () => {
    const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ clock: t.clock }) });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await kg.node.stop();
    const proposed = await api(kz, 'POST', '/v1/agreements', { draft: renewal(), propose: true });
    expect(proposed.status).toBe(201);
    // KZ restarts with the proposal queued; KG comes back after the maximum age
    await kz.node.stop();
    t.ahead += AWAY;
    await restartNode(kz, { clock: t.clock });
    await restartNode(kg, { clock: t.clock });
    const p = await finalCarrier(kz, proposed.json.proposedAs);
    expect(p.status).toBe('delivered');
    expect(p.id).not.toBe(proposed.json.proposedAs);
    expect(await version2(kg)).toMatchObject({ status: 'awaiting-signature', signedBy: ['KZ'] });
    // KZ goes away; KG countersigns; KZ comes back after the maximum age
    await kz.node.stop();
    const signed = await api(kg, 'POST', '/v1/agreements/KZ-KG-test/sign?version=2');
    expect(signed.json).toMatchObject({ status: 'not-yet-valid', complete: true });
    const countersigned = kg.node.parts.store.outbox.waitingControl('KZ', 'agreement');
    expect(countersigned).toHaveLength(1);
    await kg.node.stop();
    t.ahead += AWAY;
    await restartNode(kg, { clock: t.clock });
    await restartNode(kz, { clock: t.clock });
    expect((await finalCarrier(kg, countersigned[0]!)).status).toBe('delivered');
    for (const n of [kz, kg]) expect(await version2(n)).toMatchObject({ status: 'not-yet-valid', complete: true });
  }, 60_000);
});
