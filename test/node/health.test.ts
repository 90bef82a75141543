/**
 * GET /v1/health tells an operator and monitoring what needs them: `status: degraded` with a `checks` entry (stable
 * code, what to do) per condition, still 200 (the process is alive). Real KZ and KG nodes, KG's certificate valid for
 * one day; both clocks run `ahead` of the wall clock when a test moves them. No entry names a partner or message id:
 * the answer has no token.
 */
import { describe, expect, it } from 'vitest';
import { api, oneDayKgForFile, restartNode, waitFor, type TestNode } from '../helpers/network.js';
import { example } from '../protocol/messages/fixtures.js';

const t = oneDayKgForFile('gnc-health-');
const HOUR = 3_600_000;
const health = async (n: TestNode): Promise<any> => {
  const r = await api(n, 'GET', '/v1/health');
  expect(r.status, r.text).toBe(200);
  return r.json;
};
const codes = (h: any): string[] => h.checks.map((c: { code: string }) => c.code);

describe('GET /v1/health', () => {
  it('is ok with no checks on a node that needs nothing, and degraded with GNC_KEY_EXPIRING when its certificate ends within 30 days', async () => {
    expect(await health(t.nodes.KZ!)).toMatchObject({ status: 'ok', checks: [] });
    const kg = await health(t.nodes.KG!);
    expect(kg.status).toBe('degraded');
    expect(codes(kg)).toEqual(['GNC_KEY_EXPIRING']);
    expect(kg.checks[0].detail).toMatch(/^This node's certificate ends at .*, in less than a day: .*gnc keys rotate/);
  });

  it('says messages wait long in the outbox (GNC_DELIVERY_DELAYED) and the partner is unreachable (GNC_PARTNER_UNREACHABLE), naming neither', async () => {
    const kz = t.nodes.KZ!;
    await t.nodes.KG!.node.stop();
    const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    expect(r.status, r.text).toBe(202);
    const id = r.json.id as string;
    await waitFor(() => (kz.node.parts.store.messages.byId(id)[0]?.status === 'retrying' ? true : undefined), 20_000, 'a failed attempt');
    // just queued and just unreachable: nothing for the operator yet
    expect(await health(kz)).toMatchObject({ status: 'ok', checks: [] });
    t.ahead = 2 * HOUR;
    const h = await health(kz);
    expect(h.status).toBe('degraded');
    expect(codes(h)).toEqual(['GNC_DELIVERY_DELAYED', 'GNC_PARTNER_UNREACHABLE']);
    expect(h.checks[0].detail).toMatch(/^Messages have waited in the outbox since .* \(the oldest: \d+ attempts?, the last failed with GNC_PARTNER_UNREACHABLE\)/);
    expect(h.checks[1].detail).toMatch(/^1 partner unreachable for more than 60 minutes/);
    for (const c of h.checks) {
      expect(c.detail).not.toContain('KG');
      expect(c.detail).not.toContain(id);
    }
  });

  it('says GNC_KEY_EXPIRED once the node certificate has ended, and no longer GNC_KEY_EXPIRING', async () => {
    t.ahead = 2 * 24 * HOUR;
    const kg = t.nodes.KG!;
    await restartNode(kg, { clock: t.clock });
    const h = await health(kg);
    expect(h.status).toBe('degraded');
    expect(codes(h)).toEqual(['GNC_KEY_EXPIRED']);
    expect(h.checks[0].detail).toMatch(/^This node's signing key .* expired at .*gnc keys rotate/);
  });
});
