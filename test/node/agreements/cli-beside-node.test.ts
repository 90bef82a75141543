/**
 * `gnc agreement` on the data dir of a running node: a notice the CLI signs is enforced by the running node and its
 * API view from then on (it reads the store again when another process committed), and reaches the partner through
 * the running node's outbox; a proposal the CLI countersigns goes back the same way. Two real nodes, the CLI in
 * this process on KZ's data dir.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { api, networkPerTest, openAgreementDraft, runCli, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const risk = 'pre-arrival-risk-assessment';
const network = networkPerTest();

const statusAt = async (n: TestNode, version = 1): Promise<string> => (await api(n, 'GET', `/v1/agreements/KZ-KG-test?version=${version}`)).json.status;
const until = (n: TestNode, status: string, version = 1) => waitFor(async () => ((await statusAt(n, version)) === status ? true : undefined), 15_000, `${n.country} to see ${status}`);

describe('gnc agreement beside the running node', () => {
  it('suspends and resumes: the running node enforces it and both views agree', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const s = await runCli(['agreement', 'suspend', '--dir', kz.dir, '--id', 'KZ-KG-test', '--reason', 'Incident under investigation']);
    expect(s.code, s.out.join('\n')).toBe(0);
    await until(kz, 'suspended');
    expect((await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci })).json.code).toBe('GNC_AGREEMENT_NONE');
    await until(kg, 'suspended');
    expect((await api(kg, 'POST', '/v1/messages', { to: 'KZ', type: 'aci', purpose: risk, body: aci })).json.code).toBe('GNC_AGREEMENT_NONE');
    const r = await runCli(['agreement', 'resume', '--dir', kz.dir, '--id', 'KZ-KG-test', '--reason', 'Closed']);
    expect(r.code, r.out.join('\n')).toBe(0);
    await until(kz, 'active');
    await until(kg, 'active');
    expect((await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci })).status).toBe(202);
  });

  it("countersigns the partner's proposal, which goes back through the running node", async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const draft = openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01T00:00:00Z', validUntil: '2035-12-31T23:59:59Z' });
    expect((await api(kg, 'POST', '/v1/agreements', { draft, propose: true })).status).toBe(201);
    await until(kz, 'awaiting-signature', 2);
    const c = await runCli(['agreement', 'sign', '--dir', kz.dir, '--id', 'KZ-KG-test', '--version', '2']);
    expect(c.code, c.out.join('\n')).toBe(0);
    expect(c.out.join('\n')).toContain('Countersigned copy queued for KG');
    await until(kz, 'not-yet-valid', 2);
    await until(kg, 'not-yet-valid', 2);
  });
});
