/**
 * Withdrawing one message (`POST /v1/messages/{id}/withdraw`, withdrawMessage) in the same group commit as the mark of
 * that message as on its way, on real KZ and KG nodes: the mark a pump makes, and the one its submission makes in the
 * commit that queues it (Dispatcher.sendWithQueued). The message is handed over only once that commit is done, so
 * nothing of it has left this node: it is withdrawn, as a partner removal in that commit withdraws it
 * (mark-on-queueing-removal.test.ts), and never reaches the partner. A message really on the wire is refused.
 */
import { describe, expect, it } from 'vitest';
import { withdrawMessage } from '../../../node/outbound/withdraw.js';
import { delivered, holdNextUnitBehind, settled, SLOW_RETRY, submission, waitingForRetry } from '../../helpers/batched.js';
import { api, finalMessage, holdReceipts, networkPerTest, runCli, waitFor } from '../../helpers/network.js';

const network = networkPerTest();
const REASON = 'Sent to the wrong partner';

describe('a withdrawal in the same commit as a mark of its message as on its way', () => {
  it('withdraws a message a pump marked in that commit (the API), and hands nothing over', async () => {
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? SLOW_RETRY : {}) });
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    const { store } = kz.node.parts;
    await delivered(kz);
    const { id, pumped, due } = await waitingForRetry(kz, kg);
    // the withdrawal's unit goes right behind the one of the pump that finds the message due and marks it
    const { held } = holdNextUnitBehind(store, pumped);
    const withdrawal = api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: REASON });
    await held;
    await due();
    const r = await withdrawal;
    expect(pumped()).toBe(true);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ id, status: 'withdrawn', withdrawn: { reason: REASON } });
    // never handed over (KG did not process the first attempt), so nothing says KG may hold it
    expect(await settled(kz, kg, id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(store.outbox.count()).toBe(0);
  }, 60_000);

  it('withdraws a message its submission marked in that commit, and hands nothing over', async () => {
    const net = await network(['KZ', 'KG']);
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    const { store } = kz.node.parts;
    await delivered(kz); // connected, the partner's queue idle: the next message is marked in the commit that queues it
    const marked = kz.node.dispatcher.markedOnQueueing;
    let submitting = false;
    const { held } = holdNextUnitBehind(store, () => submitting);
    // the id is known only inside the batch (the client learns it once the submission has committed): the unit reads
    // the message the submission's unit, just before it, queued
    const newest = (): string => store.db.prepare(`SELECT id FROM messages WHERE direction = 'out' ORDER BY seq DESC LIMIT 1`).pluck().get() as string;
    const withdrawal = store.commits.run(() => withdrawMessage(store, newest(), REASON, Date.now()));
    await held;
    submitting = true;
    const submitted = kz.node.submit.submit(submission);
    submitting = false;
    const { result } = await submitted;
    const w = await withdrawal;
    expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
    expect({ id: w.message.id, status: w.message.status, already: w.already }).toEqual({ id: result.id, status: 'withdrawn', already: false });
    expect(await settled(kz, kg, result.id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(store.outbox.count()).toBe(0);
  }, 60_000);

  it('refuses a message on the wire (API 409, CLI exit 2) with GNC_CONFLICT, which the partner then receives', async () => {
    const net = await network(['KZ', 'KG']);
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    // KG takes the envelope and holds its receipt: KZ's message stays on the wire
    const { arrived, release } = holdReceipts(kg);
    const sent = await api(kz, 'POST', '/v1/messages', submission);
    expect(sent.status, sent.text).toBe(202);
    const id = sent.json.id as string;
    await waitFor(() => (arrived.includes(id) ? true : undefined), 10_000, 'the message at KG');
    expect((await api(kz, 'GET', `/v1/messages/${id}`)).json.status).toBe('sending');
    const onWire = new RegExp(`^Message ${id} is being handed to KG now \\(an attempt in progress\\), so KG may hold it: it cannot be withdrawn now\\.`);
    const r = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: REASON });
    expect(r.status, r.text).toBe(409);
    expect(r.json.code).toBe('GNC_CONFLICT');
    expect(r.json.detail).toMatch(onWire);
    const c = await runCli(['messages', 'withdraw', '--dir', kz.dir, id, '--reason', REASON]);
    expect(c.code).toBe(2);
    expect(c.out.join('\n')).toMatch(new RegExp(`GNC_CONFLICT: ${onWire.source.slice(1)}`));
    release();
    expect((await finalMessage(kz, id, 30_000)).status).toBe('delivered');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', id)).toBeDefined();
  }, 60_000);
});
