/**
 * Both administrations sign the same new version on their own: proposals that cross on the wire, or one signed here
 * (not proposed) before the partner proposes the same document. A copy signed by one side never takes away the other
 * side's signature held already: the node keeps both, holds the agreement complete, and returns it countersigned,
 * so that both nodes' views agree. Proposals of different documents under one version are refused both ways.
 * Two real nodes over the wire, the admin API.
 */
import { describe, expect, it } from 'vitest';
import { api, finalMessage, networkPerTest, openAgreementDraft, waitFor, type TestNode } from '../../helpers/network.js';

const network = networkPerTest();

/** Version 2 of the test agreement, a renewal that starts when version 1 ends. */
const renewal = (over: Record<string, unknown> = {}) => openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01T00:00:00Z', validUntil: '2035-12-31T23:59:59Z', ...over });

async function version2(n: TestNode): Promise<{ status: string; signedBy: string[]; complete: boolean }> {
  return (await api(n, 'GET', '/v1/agreements/KZ-KG-test?version=2')).json;
}

/** Both nodes hold version 2 signed by both, with the same status, in the list too. */
async function completeOnBoth(kz: TestNode, kg: TestNode): Promise<void> {
  for (const n of [kz, kg]) {
    const v = await waitFor(async () => {
      const got = await version2(n);
      return got.complete ? got : undefined;
    }, 15_000, `version 2 complete at ${n.country}`);
    expect(new Set(v.signedBy)).toEqual(new Set(['KZ', 'KG']));
    expect(v.status).toBe('not-yet-valid');
    const listed = (await api(n, 'GET', '/v1/agreements')).json.items.find((i: { version: number }) => i.version === 2);
    expect(listed).toMatchObject({ status: 'not-yet-valid', complete: true });
  }
}

describe('the same new version signed by both administrations on their own', () => {
  it('crossing proposals of one document: each node keeps its own signature and holds the agreement complete', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const [a, b] = await Promise.all([
      api(kz, 'POST', '/v1/agreements', { draft: renewal(), propose: true }),
      api(kg, 'POST', '/v1/agreements', { draft: renewal(), propose: true }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((await finalMessage(kz, a.json.proposedAs)).status).toBe('delivered');
    expect((await finalMessage(kg, b.json.proposedAs)).status).toBe('delivered');
    await completeOnBoth(kz, kg);
  });

  it('a proposal of a document signed here already: held complete at once and returned countersigned to the proposer', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    expect((await api(kz, 'POST', '/v1/agreements', { draft: renewal() })).json).toMatchObject({ status: 'awaiting-signature', signedBy: ['KZ'] });
    const b = await api(kg, 'POST', '/v1/agreements', { draft: renewal(), propose: true });
    expect((await finalMessage(kg, b.json.proposedAs)).status).toBe('delivered');
    await completeOnBoth(kz, kg);
    // nothing left to sign at KZ
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/sign?version=2')).json.code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('crossing proposals of different documents under one version: each refuses the other, and a higher version settles it', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const [a, b] = await Promise.all([
      api(kz, 'POST', '/v1/agreements', { draft: renewal({ title: 'Renewal as KZ drafted it' }), propose: true }),
      api(kg, 'POST', '/v1/agreements', { draft: renewal({ title: 'Renewal as KG drafted it' }), propose: true }),
    ]);
    for (const [n, id] of [[kz, a.json.proposedAs], [kg, b.json.proposedAs]] as const) {
      const m = await finalMessage(n, id);
      expect(m.status).toBe('rejected');
      expect(m.error.code).toBe('GNC_AGREEMENT_OVERLAP');
    }
    // each holds its own draft, signed by itself only; neither took the other's
    expect(await version2(kz)).toMatchObject({ signedBy: ['KZ'], status: 'awaiting-signature' });
    expect(await version2(kg)).toMatchObject({ signedBy: ['KG'], status: 'awaiting-signature' });
    const v3 = await api(kz, 'POST', '/v1/agreements', { draft: renewal({ version: 3 }), propose: true });
    expect((await finalMessage(kz, v3.json.proposedAs)).status).toBe('delivered');
    expect((await api(kg, 'POST', '/v1/agreements/KZ-KG-test/sign?version=3')).json).toMatchObject({ status: 'not-yet-valid', complete: true });
    await waitFor(async () => ((await api(kz, 'GET', '/v1/agreements/KZ-KG-test?version=3')).json.complete ? true : undefined));
  });
});
