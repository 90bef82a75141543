/**
 * Suspend, terminate and resume without a version: the notice is about the version of that id in force (or
 * suspended) now, not simply the highest version held, which may be a renewal signed in advance or a proposal
 * still awaiting the partner's signature. Two real nodes over the wire, the admin API.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { api, networkPerTest, openAgreementDraft, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const risk = 'pre-arrival-risk-assessment';

const network = networkPerTest();

/** Version 2 of the test agreement, a renewal that starts when version 1 ends. */
const renewal = () => openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01T00:00:00Z', validUntil: '2035-12-31T23:59:59Z' });

describe('agreement notices without a version', () => {
  it('suspends the version in force, not a renewal both signed in advance', async () => {
    const net = await network(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG' }, { a: 'KZ', b: 'KG', draft: renewal() }] });
    const kz = net.nodes.KZ!;
    const s = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Data protection incident' });
    expect(s.status, s.text).toBe(202);
    expect(s.json).toMatchObject({ version: 1, status: 'suspended' });
    const refused = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(refused.json.code).toBe('GNC_AGREEMENT_NONE');
    await waitFor(async () => ((await api(net.nodes.KG!, 'GET', '/v1/agreements/KZ-KG-test?version=1')).json.status === 'suspended' ? true : undefined));
  });

  it('suspends the version in force while a new version awaits the partner\'s signature', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    expect((await api(kz, 'POST', '/v1/agreements', { draft: renewal() })).json).toMatchObject({ version: 2, status: 'awaiting-signature' });
    const s = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Data protection incident' });
    expect(s.status, s.text).toBe(202);
    expect(s.json).toMatchObject({ version: 1, status: 'suspended' });
    const r = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'Incident closed' });
    expect(r.status, r.text).toBe(202);
    expect(r.json).toMatchObject({ version: 1, status: 'active' });
  });

  it('takes a date as the effective time of a notice, as SPEC 8.5 and the CLI do, and refuses a blank reason', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const s = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Scheduled system migration', effective: '2030-06-01' });
    expect(s.status, s.text).toBe(202);
    expect(s.json.notices).toMatchObject([{ action: 'suspend', effective: '2030-06-01' }]);
    const blank = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: '   ', effective: '2030-06-02' });
    expect(blank.status).toBe(422);
    expect(blank.json.issues[0].path).toBe('/reason');
  });
});
