/**
 * A message the partner may hold when the sender's node key ends, between real nodes whose clocks are moved past the
 * end together (as in expired-recovery.test.ts): KG's message reached KZ but its receipt was lost, then KG's one-day
 * certificate ended. KG does not end it as expired (as it ends one never handed over): once KZ admits KG again (KG
 * rotated, KZ pinned its new identity file) it sends the same bytes once more, and KZ answers with the receipt it
 * stored (SPEC section 4, check 10), so the message ends `delivered` with that very receipt. A message KZ does not
 * hold, sealed with the same ended key and also handed over, is refused by KZ then (GNC_KEY_EXPIRED) and ends
 * `rejected`: nothing goes round again.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rotateNodeKeys } from '../../../node/keys/service.js';
import { api, finalMessage, loseFirstReceiptAndHold, oneDayKgForFile, outboxSent, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const DAY = 86_400_000;
const t = oneDayKgForFile('gnc-expired-held-');
const { nodes, clock } = t;
const send = (n: TestNode) => api(n, 'POST', '/v1/messages', { to: 'KZ', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
const message = async (n: TestNode, id: string): Promise<any> => (await api(n, 'GET', `/v1/messages/${id}`)).json;
const outbox = (id: string): number | undefined => outboxSent(nodes.KG!, 'KZ', id);

describe("a message handed over before the sender's key ended", () => {
  let held = '';
  let lacking = '';
  let release = (): void => undefined;

  it('is handed over, the partner storing one and losing the other, and no receipt comes back', async () => {
    // KZ commits the first envelope it gets and the connection drops before its receipt leaves; every later one is
    // dropped on arrival, unprocessed, until released
    const kz = nodes.KZ!;
    release = loseFirstReceiptAndHold(kz);

    const r = await send(nodes.KG!);
    expect(r.status).toBe(202);
    held = r.json.id as string;
    await waitFor(() => kz.node.parts.store.messages.byKey('in', 'KG', held), 10_000, 'KZ to store the first message');
    const r2 = await send(nodes.KG!);
    expect(r2.status).toBe(202);
    lacking = r2.json.id as string;
    // an attempt marks its row before the hand-off and settles the mark after it: 'retrying' with the mark kept is an
    // attempt that handed the envelope over (under load the first attempt of the second may fail before that)
    for (const id of [held, lacking]) {
      await waitFor(async () => (outbox(id) === 1 && (await message(nodes.KG!, id)).status === 'retrying' ? true : undefined), 20_000, `${id} handed over`);
    }
    expect(kz.node.parts.store.messages.byKey('in', 'KG', lacking)).toBeUndefined();
  }, 30_000);

  it('is not ended when the key that sealed it ends, as one never handed over is', async () => {
    t.ahead = 2 * DAY;
    // the dispatcher looks at every queued row at each sweep (2 s): it would have ended them by now
    await new Promise((res) => setTimeout(res, 5_000));
    for (const id of [held, lacking]) expect((await message(nodes.KG!, id)).status, id).toMatch(/^(queued|retrying|sending)$/);
  }, 30_000);

  it('gets the receipt the partner stored once the partner admits the node again, and a refusal for the other', async () => {
    const kg = nodes.KG!;
    const kz = nodes.KZ!;
    await rotateNodeKeys(kg.dir, { clock });
    release();
    await t.pinKgAtKz();

    const delivered = await finalMessage(kg, held, 30_000);
    expect(delivered.status).toBe('delivered');
    // the very receipt KZ signed when it accepted the message, two days before
    const atKz = kz.node.parts.store.messages.byKey('in', 'KG', held)!;
    const stored = Buffer.from(kz.node.parts.store.messages.receipt(atKz.seq)!.jws);
    const atKg = kg.node.parts.store.messages.byKey('out', 'KZ', held)!;
    expect(Buffer.from(kg.node.parts.store.messages.receipt(atKg.seq)!.jws).equals(stored)).toBe(true);
    expect(kz.node.parts.store.messages.byId(held)).toHaveLength(1);

    const refused = await finalMessage(kg, lacking, 30_000);
    expect(refused.status).toBe('rejected');
    expect(refused.error.code).toBe('GNC_KEY_EXPIRED');
    expect(outbox(lacking)).toBeUndefined();
    expect(kz.node.parts.store.messages.byKey('in', 'KG', lacking)).toBeUndefined();
  }, 60_000);
});
