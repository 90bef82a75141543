/**
 * Notices and versions that take effect later: enforcement and the agreement views of both nodes switch at the
 * effective time, without a restart; what was queued before is judged when it would go; what was received under a
 * version keeps that version's terms after a newer one with other terms took over. Two real nodes sharing a moved
 * clock, the API.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { api, finalMessage, networkPerTest, openAgreementDraft, restartNode, sharedClockPerTest, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const risk = 'pre-arrival-risk-assessment';
const HOUR = 3_600_000;

const shared = sharedClockPerTest();
const network = networkPerTest();

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
const send = (from: TestNode, to: string) => api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: risk, body: aci });

/** Status and version of KZ-KG-test@`version` as each node reports it, from the list. */
async function views(nodes: TestNode[], version: number): Promise<{ status: string; notices: unknown[] }[]> {
  return Promise.all(nodes.map(async (n) => {
    const item = (await api(n, 'GET', '/v1/agreements')).json.items.find((i: { version: number }) => i.version === version);
    return { status: item.status, notices: item.notices };
  }));
}

describe('a notice effective later', () => {
  it('switches enforcement and both views at its effective time, and expires a message queued before it that had not gone', async () => {
    const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ clock: shared.clock }) });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const at = iso(shared.clock() + HOUR);
    const s = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Planned audit', effective: at });
    expect(s.status, s.text).toBe(202);
    expect(s.json.status).toBe('active');
    await waitFor(async () => ((await views([kg], 1))[0]!.notices.length === 1 ? true : undefined));
    expect(await views([kz, kg], 1)).toEqual([{ status: 'active', notices: [expect.objectContaining({ action: 'suspend', effective: at })] }, { status: 'active', notices: [expect.objectContaining({ action: 'suspend', effective: at })] }]);
    // before its effective time messages flow both ways
    expect((await finalMessage(kz, (await send(kz, 'KG')).json.id)).status).toBe('delivered');
    expect((await finalMessage(kg, (await send(kg, 'KZ')).json.id)).status).toBe('delivered');
    // queued while KG is away, not sent before the suspension takes effect: expired, not sent
    await kg.node.stop();
    const queued = await send(kz, 'KG');
    expect(queued.status).toBe(202);
    shared.ahead = 2 * HOUR;
    const m = await finalMessage(kz, queued.json.id, 20_000);
    expect(m.status).toBe('expired');
    expect(m.error.code).toBe('GNC_AGREEMENT_NONE');
    expect(m.error.reason).toContain('KZ-KG-test@1 was suspended');
    await restartNode(kg, { clock: shared.clock });
    expect((await views([kz, kg], 1)).map((v) => v.status)).toEqual(['suspended', 'suspended']);
    expect((await send(kz, 'KG')).json.code).toBe('GNC_AGREEMENT_NONE');
    expect((await send(kg, 'KZ')).json.code).toBe('GNC_AGREEMENT_NONE');
    // a resume effective later still: suspended until then on both, active from then on both
    const later = iso(shared.clock() + HOUR);
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'Audit closed', effective: later })).json.status).toBe('suspended');
    await waitFor(async () => ((await views([kg], 1))[0]!.notices.length === 2 ? true : undefined));
    expect((await views([kz, kg], 1)).map((v) => v.status)).toEqual(['suspended', 'suspended']);
    shared.ahead = 4 * HOUR;
    expect((await views([kz, kg], 1)).map((v) => v.status)).toEqual(['active', 'active']);
    expect((await finalMessage(kz, (await send(kz, 'KG')).json.id)).status).toBe('delivered');
  });
});

describe('a new version with other terms taking over', () => {
  it('keeps a message received under the old version on the old retention, and takes the next ones under the new version', async () => {
    const start = shared.clock() + HOUR;
    // version 1 keeps ACI one day; version 2, starting in an hour, keeps it 30 days and drops the ACI from KG to KZ
    const v1 = openAgreementDraft('KZ', 'KG');
    for (const d of v1['directions'] as { messages: { retentionDays: number }[] }[]) for (const s of d.messages) s.retentionDays = 1;
    const v2 = openAgreementDraft('KZ', 'KG', { version: 2, validFrom: iso(start), validUntil: '2035-12-31T23:59:59Z' });
    const dirs = v2['directions'] as { from: string; messages: { type: string; retentionDays: number }[] }[];
    for (const d of dirs) for (const s of d.messages) s.retentionDays = 30;
    dirs[1]!.messages = dirs[1]!.messages.filter((s) => s.type !== 'aci');
    const net = await network(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft: v1 }, { a: 'KZ', b: 'KG', draft: v2 }], nodeOptions: () => ({ clock: shared.clock }) });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const first = await send(kz, 'KG');
    expect(first.json.agreement).toBe('KZ-KG-test@1');
    expect((await finalMessage(kz, first.json.id)).status).toBe('delivered');
    shared.ahead = 2 * HOUR;
    expect((await views([kz, kg], 1)).map((v) => v.status)).toEqual(['superseded', 'superseded']);
    expect((await views([kz, kg], 2)).map((v) => v.status)).toEqual(['active', 'active']);
    // narrowed: KG may no longer send ACI, on both sides
    expect((await send(kg, 'KZ')).json.code).toBe('GNC_AGREEMENT_TYPE');
    const second = await send(kz, 'KG');
    expect(second.json.agreement).toBe('KZ-KG-test@2');
    expect((await finalMessage(kz, second.json.id)).status).toBe('delivered');
    const held = (await api(kg, 'GET', `/v1/messages/${first.json.id}`)).json;
    expect(held.terms).toMatchObject({ agreement: 'KZ-KG-test@1' });
    shared.ahead = 25 * HOUR + 60_000;
    const purged = (await api(kg, 'GET', `/v1/messages/${first.json.id}`)).json;
    expect(purged.purged).not.toBeNull();
    expect(purged.body).toBeNull();
    const kept = (await api(kg, 'GET', `/v1/messages/${second.json.id}`)).json;
    expect(kept.purged).toBeNull();
    expect(kept.terms).toMatchObject({ agreement: 'KZ-KG-test@2' });
  });
});
