/**
 * Retention of the risk views between two nodes: when KG's retention job purges the content of messages KZ
 * sent, what the risk projection derived from them goes too: the consignment leaves /v1/arrivals, the AEO
 * registry forgets what only purged snapshots said, and a consignment naming a purged certificate is
 * reassessed as if the certificate had never come. The purge runs with the cut-off set to a message's own
 * retain_until, so each step purges exactly what was received up to that message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/network.js';
import { certificateFor, road, snapshot, variant } from './fixtures.js';
import { arrival, codesOf, has, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
const ids: Record<'s1' | 'cert' | 'd1' | 'd2' | 's2', string> = { s1: '', cert: '', d1: '', d2: '', s2: '' };

/** Tomorrow: inside the recompute horizon whatever the date of the run. */
const TOMORROW = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The road declaration, expected tomorrow. */
function declaration(ref: string): Record<string, unknown> {
  return variant(road(), (d) => {
    d.functionalReference = ref;
    d.expectedArrival = TOMORROW;
  });
}

function retainUntil(id: string): number {
  return net.kg.node.parts.store.db.prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(id) as number;
}

/** Runs KG's retention job with the cut-off of message `id`. */
function purgeUpTo(id: string): number {
  return net.kg.node.retention.purge(retainUntil(id));
}

beforeAll(async () => {
  net = await riskNetwork();
  // the order matters: each purge below takes everything received up to one message
  ids.s1 = await send(net.kz, 'aeo', snapshot());
  ids.d1 = await send(net.kz, 'aci', declaration('RET-T-1'));
  ids.cert = await send(net.kz, 'ecoo', certificateFor(TOMORROW));
  ids.d2 = await send(net.kz, 'aci', declaration('RET-T-2'));
  ids.s2 = await send(net.kz, 'aeo', variant(snapshot(), (s) => (s.asOf = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'))));
  await arrival(net.kg, ids.d1, has('ecoo-confirmed'));
  await arrival(net.kg, ids.d2, has('ecoo-confirmed'));
  // as if the ACI were kept longer than the certificate (another agreement): d2 outlives the e-CoO
  net.kg.node.parts.store.db.prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(retainUntil(ids.s2) + 86_400_000, ids.d2);
});
afterAll(async () => net?.close());

describe('risk views under the retention purge', () => {
  it('removes a consignment from /v1/arrivals when its declaration is purged', async () => {
    expect(purgeUpTo(ids.d1)).toBeGreaterThan(0);
    const one = await api(net.kg, 'GET', `/v1/arrivals/${ids.d1}`);
    expect(one.status).toBe(410);
    expect(one.json.code).toBe('GNC_ARRIVAL_PURGED');
    const list = await api(net.kg, 'GET', '/v1/arrivals?partner=KZ&limit=100');
    expect(list.json.items.map((a: any) => a.id)).not.toContain(ids.d1);
    expect(list.json.items.map((a: any) => a.id)).toContain(ids.d2);
    // the certificate came after d1: still held, so d2 keeps its confirmation
    expect(codesOf(await arrival(net.kg, ids.d2))).toContain('ecoo-confirmed');
  });

  it('leaves no derived row of a purged declaration in the store', () => {
    const db = net.kg.node.parts.store.db;
    expect(db.prepare('SELECT COUNT(*) FROM risk_versions WHERE message_id = ?').pluck().get(ids.d1)).toBe(0);
    expect(db.prepare(`SELECT COUNT(*) FROM risk_events WHERE payload LIKE ?`).pluck().get(`%${ids.d1}%`)).toBe(0);
  });

  it('keeps operators a later snapshot still lists when the first snapshot is purged, resting on the later one', async () => {
    const r = await api(net.kg, 'GET', '/v1/aeo/KZ/KZAEO981140001234');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'valid', listed: true, messageId: ids.s2 });
    expect(r.json.history.map((h: any) => h.messageId)).toEqual([ids.s2]);
    const byName = await api(net.kg, 'GET', '/v1/aeo?name=almaty%20flour');
    expect(byName.json.items).toEqual([r.json]);
  });

  it('empties the AEO registry of the partner once every AEO message is purged', async () => {
    purgeUpTo(ids.s2);
    const list = await api(net.kg, 'GET', '/v1/aeo?partner=KZ');
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([]);
    expect((await api(net.kg, 'GET', '/v1/aeo?name=almaty')).json.items).toEqual([]);
    expect(net.kg.node.parts.store.db.prepare(`SELECT COUNT(*) FROM risk_aeo_names WHERE partner = 'KZ'`).pluck().get()).toBe(0);
    const one = await api(net.kg, 'GET', '/v1/aeo/KZ/KZAEO981140001234?at=2026-01-01');
    expect(one.status).toBe(404);
    expect(one.json.code).toBe('GNC_NOT_FOUND');
  });

  it('reassesses a held consignment whose certificate and AEO data were purged', async () => {
    const a = await arrival(net.kg, ids.d2, has('preferential-origin-without-ecoo'));
    expect(codesOf(a)).not.toContain('ecoo-confirmed');
    expect(codesOf(a)).not.toContain('aeo-valid');
    expect(codesOf(a)).toContain('aeo-unverified');
  });
});

describe('the AEO registry rebuilt after a purge, from messages that arrived out of date order', () => {
  const A = 'KZAEO981140001234';
  const at = (asOf: string, status: 'valid' | 'suspended', statusDate: string) =>
    variant(snapshot(), (s) => {
      s.asOf = `${asOf}T06:00:00+05:00`;
      Object.assign(s.operators[0], { status, statusDate });
    });
  const t: Record<'first' | 'newest' | 'late' | 'olderChange', string> = { first: '', newest: '', late: '', olderChange: '' };

  beforeAll(async () => {
    t.first = await send(net.kz, 'aeo', at('2026-03-01', 'valid', '2024-03-15'));
    t.newest = await send(net.kz, 'aeo', at('2026-05-01', 'suspended', '2026-04-20'));
    // both dated before the newest snapshot, received after it: history only
    t.late = await send(net.kz, 'aeo', at('2026-04-01', 'valid', '2024-03-15'));
    t.olderChange = await send(net.kz, 'aeo', { kind: 'change', operator: { ...snapshot().operators[0], status: 'valid', statusDate: '2026-04-25' }, reason: 'reinstated' });
  });

  it('rests on the snapshot with the latest date, before and after the first is purged', async () => {
    const before = await api(net.kg, 'GET', `/v1/aeo/KZ/${A}`);
    expect(before.json).toMatchObject({ status: 'suspended', messageId: t.newest });
    expect(purgeUpTo(t.first)).toBeGreaterThan(0);
    const after = await api(net.kg, 'GET', `/v1/aeo/KZ/${A}`);
    expect(after.status).toBe(200);
    // neither the late snapshot nor the older change (received after the newest) may undo the suspension
    expect(after.json).toMatchObject({ status: 'suspended', statusDate: '2026-04-20', listed: true, messageId: t.newest });
    expect(after.json.history.map((h: any) => h.messageId)).not.toContain(t.first);
  });

  it('applies the held changes dated after the snapshot it rests on', async () => {
    const revoked = await send(net.kz, 'aeo', { kind: 'change', operator: { ...snapshot().operators[0], status: 'revoked', statusDate: '2026-06-01' }, reason: 'revoked' });
    expect((await api(net.kg, 'GET', `/v1/aeo/KZ/${A}`)).json).toMatchObject({ status: 'revoked', messageId: revoked });
    purgeUpTo(t.newest); // left: the late snapshot (2026-04-01) and both changes
    const after = await api(net.kg, 'GET', `/v1/aeo/KZ/${A}`);
    expect(after.json).toMatchObject({ status: 'revoked', statusDate: '2026-06-01', messageId: revoked });
    // the older change's "valid" (reinstated after the purged suspension) repeats the late snapshot's, valid since 2024:
    // shown once, the earlier (node/risk/aeo-registry.ts statusChanges), and kept, so valid holds on every date between
    expect(after.json.history.map((h: any) => [h.effective, h.status, h.messageId])).toEqual([['2024-03-15', 'valid', t.late], ['2026-06-01', 'revoked', revoked]]);
    const kept = net.kg.node.parts.store.db.prepare('SELECT effective, status FROM risk_aeo_history WHERE message_id = ?').all(t.olderChange);
    expect(kept).toEqual([{ effective: '2026-04-25', status: 'valid' }]);
    const at = await api(net.kg, 'GET', `/v1/aeo/KZ/${A}?at=2026-04-26`);
    expect(at.json.validity).toMatchObject({ valid: true, status: 'valid', basis: 'recorded', messageId: t.olderChange });
  });
});
