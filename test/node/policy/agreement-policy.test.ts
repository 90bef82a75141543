/**
 * Why nothing may flow: the GNC_AGREEMENT_NONE sentence (a 403 to the integrator, a negative receipt's reason to
 * the partner) names what became of the agreement that would be in force now, not a renewal that starts later.
 * Two real nodes, the API.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { api, networkPerTest, openAgreementDraft, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const risk = 'pre-arrival-risk-assessment';

const network = networkPerTest();

describe('agreement policy', () => {
  it('says the agreement of the current period is suspended, not that a renewal signed in advance starts later', async () => {
    const renewal = openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01T00:00:00Z', validUntil: '2035-12-31T23:59:59Z' });
    const net = await network(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG' }, { a: 'KZ', b: 'KG', draft: renewal }] });
    const kz = net.nodes.KZ!;
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Data protection review', version: 1 })).status).toBe(202);
    const refused = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(refused.json.code).toBe('GNC_AGREEMENT_NONE');
    expect(refused.json.detail).toContain('KZ-KG-test@1 is suspended');
  });
});

describe('a message queued under an agreement that a renewal replaces before delivery', () => {
  it('ends expired saying which version replaced it and to submit it again, not that the agreement was suspended or ended', async () => {
    let offset = 0;
    const starts = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const renewal = openAgreementDraft('KZ', 'KG', { version: 2, validFrom: starts, validUntil: '2035-12-31T23:59:59Z' });
    const net = await network(['KZ', 'KG'], {
      agreements: [{ a: 'KZ', b: 'KG' }, { a: 'KZ', b: 'KG', draft: renewal }],
      nodeOptions: (c) => (c === 'KZ' ? { clock: () => Date.now() + offset } : {}),
    });
    const kz = net.nodes.KZ!;
    await net.nodes.KG!.node.stop();
    const queued = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(queued.status).toBe(202);
    expect(queued.json.agreement).toBe('KZ-KG-test@1');
    offset = 3 * 86_400_000; // the renewal has started: version 1 is superseded
    const m = await waitFor(async () => {
      const r = await api(kz, 'GET', `/v1/messages/${queued.json.id}`);
      return r.json.status === 'expired' ? r.json : undefined;
    }, 20_000);
    expect(m.error.code).toBe('GNC_AGREEMENT_NONE');
    expect(m.error.reason).toContain('KZ-KG-test@1 was superseded by KZ-KG-test@2');
    expect(m.error.reason).toContain('submit it again to send it under KZ-KG-test@2');
  });
});
