/**
 * AEO snapshots sent in parts between two real nodes (SPEC 7.5): KZ sends a register too large for one message as
 * parts, KG accepts each with its own receipt and shows the snapshot in its AEO registry only once the last part
 * is in, whatever the order and across a restart; a part that contradicts the parts KG holds gets a negative
 * receipt and costs nothing already accepted; retention treats the parts as one snapshot. KZ itself refuses a part
 * that contradicts the parts it sent, before signing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealEnvelope } from '../../../protocol/envelope/seal.js';
import { newMessageId } from '../../../protocol/ids.js';
import { AeoPendingList, type AeoPendingSnapshot } from '../../../protocol/risk.js';
import { api, finalMessage, restartNode, waitFor, type TestNode } from '../../helpers/network.js';
import { riskNetwork, send, type RiskNetwork } from './network.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

let net: RiskNetwork;
beforeAll(async () => {
  net = await riskNetwork();
}, 60_000);
afterAll(async () => net?.close());

type Operator = Record<string, unknown> & { aeoId: string };

/** A KZ register of `n` operators, valid since 2024. */
function register(n: number): Operator[] {
  return Array.from({ length: n }, (_, i) => {
    const bin = String(100_000_000_000 + i);
    return {
      aeoId: `KZAEO${bin}`, nationalTraderId: bin, legalName: `Steppe Trading Company ${i} Limited Liability Partnership`,
      address: { line: `Abay Ave ${i % 500}`, city: 'Almaty', postcode: '050000', country: 'KZ' }, programme: 'both', status: 'valid',
      statusDate: '2024-01-01', validFrom: '2024-01-01',
    };
  });
}

const REGISTER = register(5000);
const asOf = (day: string): string => `2026-11-${day}T06:00:00+05:00`;

function part(day: string, number: number, of: number, operators: Operator[]): Record<string, unknown> {
  return { kind: 'snapshot', asOf: asOf(day), part: { number, of }, operators };
}

/** Waits until KG's risk projection has passed message `id` (what it shows then is what the message made of it). */
async function projected(id: string): Promise<void> {
  const db = () => net.kg.node.parts.store.db;
  await waitFor(() => {
    const seq = db().prepare(`SELECT seq FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(id) as number | undefined;
    const cursor = db().prepare(`SELECT value FROM risk_state WHERE key = 'cursor'`).pluck().get() as number | undefined;
    return seq !== undefined && cursor !== undefined && cursor >= seq ? true : undefined;
  }, 15_000, `KG to project ${id}`);
}

async function sendPart(body: Record<string, unknown>): Promise<string> {
  const id = await send(net.kz, 'aeo', body);
  await projected(id);
  return id;
}

/** KG's snapshots in parts that lack a part (GET /v1/aeo/pending), checked against the OpenAPI schema. */
async function pending(): Promise<AeoPendingSnapshot[]> {
  const r = await api(net.kg, 'GET', '/v1/aeo/pending?partner=KZ');
  expect(r.status, r.text).toBe(200);
  return AeoPendingList.parse(r.json).items;
}

const listed = (): number => net.kg.node.parts.store.db.prepare(`SELECT COUNT(*) FROM risk_aeo WHERE partner = 'KZ' AND listed = 1`).pluck().get() as number;
const lookup = (aeoId: string): ReturnType<typeof api> => api(net.kg, 'GET', `/v1/aeo/KZ/${aeoId}`);

/** An AEO snapshot part sealed with KZ's node key and put on the wire to KG as it is, past KZ's own checks; KG's receipt body. */
async function deliverAsKz(kz: TestNode, body: Record<string, unknown>): Promise<{ status: string; code?: string; reason?: string; messageId: string }> {
  const sealed = sealEnvelope(
    { v: 1, id: newMessageId(), type: 'aeo', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'aeo-mra-benefits', body } as never,
    kz.node.parts.identity.node.signer,
  );
  const answer = JSON.parse(Buffer.from(await kz.node.session('KG').request(sealed.bytes)).toString('utf8'));
  return JSON.parse(Buffer.from(answer.payload, 'base64url').toString('utf8')).body;
}

describe('AEO snapshot in parts between two nodes', () => {
  const thirds = [REGISTER.slice(0, 1700), REGISTER.slice(1700, 3400), REGISTER.slice(3400)];
  const day1 = { ids: [] as string[] };

  it('shows a register of 5,000 operators sent in 3 parts only once the last part is in, out of order and across a restart of the receiver', async () => {
    day1.ids[2] = await sendPart(part('10', 3, 3, thirds[2]!));
    day1.ids[0] = await sendPart(part('10', 1, 3, thirds[0]!));
    expect(listed()).toBe(0);
    expect((await lookup(thirds[0]![0]!.aeoId)).status).toBe(404);
    expect(await pending()).toEqual([{ partner: 'KZ', asOf: asOf('10'), of: 3, missing: [2], held: [
      { number: 1, messageId: day1.ids[0], operators: 1700 }, { number: 3, messageId: day1.ids[2], operators: 1600 },
    ] }]);
    await net.kg.node.stop();
    await restartNode(net.kg);
    day1.ids[1] = await sendPart(part('10', 2, 3, thirds[1]!));
    expect(listed()).toBe(5000);
    expect(await pending()).toEqual([]);
    for (const [i, third] of thirds.entries()) {
      const r = await lookup(third.at(-1)!.aeoId);
      expect(r.status, r.text).toBe(200);
      expect(r.json).toMatchObject({ listed: true, status: 'valid', messageId: day1.ids[i] });
    }
  }, 60_000);

  it('answers a part that contradicts the parts held with a negative receipt, GNC_AEO_PART_CONFLICT, and keeps what was accepted', async () => {
    const [a, b, c] = [REGISTER.slice(0, 2), REGISTER.slice(2, 4), REGISTER.slice(4, 6)] as [Operator[], Operator[], Operator[]];
    await sendPart(part('12', 1, 2, a));
    const missing = await lookup('KZAEO999999999999');
    expect(missing.json).toMatchObject({ code: 'GNC_NOT_FOUND', detail: expect.stringContaining(`snapshot as of ${asOf('12')} lacks part 2 of 2`) });
    const otherCount = await deliverAsKz(net.kz, part('12', 2, 3, b));
    expect(otherCount).toMatchObject({ status: 'rejected', code: 'GNC_AEO_PART_CONFLICT', reason: expect.stringContaining('same number of parts') });
    const otherContent = await deliverAsKz(net.kz, part('12', 1, 2, c));
    expect(otherContent).toMatchObject({ status: 'rejected', code: 'GNC_AEO_PART_CONFLICT', reason: expect.stringContaining('other operators') });
    const listedTwice = await deliverAsKz(net.kz, part('12', 2, 2, [...b, a[1]!]));
    expect(listedTwice).toMatchObject({ status: 'rejected', code: 'GNC_AEO_PART_CONFLICT', reason: expect.stringContaining(a[1]!.aeoId) });
    // the register of the 10th is still in force, and the snapshot of the 12th still completes with a part that fits
    expect(listed()).toBe(5000);
    await sendPart(part('12', 2, 2, b));
    expect(listed()).toBe(4);
  });

  it('keeps a newer complete snapshot in force when the parts of an older one complete after it', async () => {
    await sendPart({ kind: 'snapshot', asOf: asOf('20'), operators: REGISTER.slice(0, 3) });
    await sendPart(part('15', 1, 2, REGISTER.slice(0, 2)));
    await sendPart(part('15', 2, 2, REGISTER.slice(10, 12)));
    expect(listed()).toBe(3);
    const r = await lookup(REGISTER[10]!.aeoId);
    expect(r.json).toMatchObject({ listed: false });
    // listed on the 10th, left out on the 12th, listed on the 15th (which arrived last), left out on the 20th
    expect(r.json.history.map((h: any) => [h.effective, h.status])).toEqual([['2024-01-01', 'valid'], ['2026-11-12', 'removed'], ['2026-11-15', 'valid'], ['2026-11-20', 'removed']]);
  });

  it('rebuilds the registry after a purge from the latest snapshot whose parts are all still held', async () => {
    const db = net.kg.node.parts.store.db;
    const expire = (...ids: string[]): void => {
      for (const id of ids) db.prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(Date.now() - 1, id);
      net.kg.node.retention.purge();
    };
    const whole = db.prepare(`SELECT id FROM (${MESSAGE_SELECT}) WHERE direction = 'in' AND type = 'aeo' AND json_extract(body, '$.asOf') = ?`).pluck();
    expire(whole.get(asOf('20')) as string);
    // the snapshot of the 15th, in two parts, is the latest complete one held
    expect((await lookup(REGISTER[10]!.aeoId)).json).toMatchObject({ listed: true });
    expect(listed()).toBe(4);
    expire(...(whole.all(asOf('15')) as string[]).slice(0, 1));
    // the 15th lacks a part now: the 12th is the latest complete snapshot
    expect((await lookup(REGISTER[10]!.aeoId)).status).toBe(404);
    expect((await lookup(REGISTER[3]!.aeoId)).json).toMatchObject({ listed: true });
    expect(listed()).toBe(4);
  });
});

describe('AEO snapshot parts at the sending node', () => {
  const submit = (body: Record<string, unknown>) => api(net.kz, 'POST', '/v1/messages', { to: 'KG', type: 'aeo', purpose: 'aeo-mra-benefits', body });
  const sentCount = (): number => net.kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'out'`).pluck().get() as number;

  it('refuses with 422 GNC_AEO_PART_CONFLICT, queueing nothing, a part that contradicts a part it sent for the same snapshot', async () => {
    const [a, b] = [REGISTER.slice(20, 22), REGISTER.slice(22, 24)] as [Operator[], Operator[]];
    await send(net.kz, 'aeo', part('25', 1, 2, a));
    const before = sentCount();
    for (const [body, says] of [
      [part('25', 2, 3, b), 'same number of parts'],
      [part('25', 1, 2, b), 'other operators'],
      [part('25', 2, 2, [...b, a[0]!]), a[0]!.aeoId],
    ] as const) {
      const r = await submit(body);
      expect(r.status, r.text).toBe(422);
      expect(r.json).toMatchObject({ code: 'GNC_AEO_PART_CONFLICT', detail: expect.stringContaining(says) });
    }
    expect(sentCount()).toBe(before);
    const r = await submit(part('25', 2, 2, b));
    expect(r.status, r.text).toBe(202);
  });

  it('holds no part the partner refused against the parts sent after it', async () => {
    const [a, b] = [REGISTER.slice(30, 32), REGISTER.slice(32, 34)] as [Operator[], Operator[]];
    // KG holds part 1 with a, which KZ does not know (as after restoring its data dir from an older backup)
    expect(await deliverAsKz(net.kz, part('26', 1, 2, a))).toMatchObject({ status: 'accepted' });
    const refused = await submit(part('26', 1, 2, b));
    expect(refused.status, refused.text).toBe(202);
    expect(await finalMessage(net.kz, refused.json.id)).toMatchObject({ status: 'rejected', error: { code: 'GNC_AEO_PART_CONFLICT' } });
    await send(net.kz, 'aeo', part('26', 1, 2, a));
  });
});
