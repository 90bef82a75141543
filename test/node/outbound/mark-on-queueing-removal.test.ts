/**
 * A partner removal (`POST /v1/partners/{country}/remove`) that lands in the same group commit as a mark of a message to
 * that partner as on its way, on real KZ and KG nodes: the mark a submission makes in the commit that queues its message
 * (Dispatcher.sendWithQueued), and the one a pump makes. The message is handed over only once that commit is done, so at
 * the removal nothing of it has left this node: the removal withdraws it, says so in its answer (`withdrawn`), and the
 * message never reaches the partner.
 */
import { describe, expect, it } from 'vitest';
import { delivered, holdNextUnitBehind, settled, SLOW_RETRY, submission, waitingForRetry } from '../../helpers/batched.js';
import { api, networkPerTest } from '../../helpers/network.js';

const network = networkPerTest();
const REASON = 'KG was removed as a partner (POST /v1/partners/KG/remove): KG left';

describe('a partner removal in the same commit as a mark of a message to that partner as on its way', () => {
  it('withdraws a message its submission marked in that commit, lists it, and hands nothing over', async () => {
    const net = await network(['KZ', 'KG']);
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    await delivered(kz); // connected, the partner's queue idle: the next message is marked in the commit that queues it
    const marked = kz.node.dispatcher.markedOnQueueing;
    let submitting = false;
    const { held } = holdNextUnitBehind(kz.node.parts.store, () => submitting);
    const removal = api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'KG left', despiteAgreement: true });
    await held;
    submitting = true;
    const submitted = kz.node.submit.submit(submission);
    submitting = false;
    const { result } = await submitted;
    const r = await removal;
    expect(r.status, r.text).toBe(200);
    expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
    expect(r.json.withdrawn).toEqual([result.id]);
    // never handed over, so the reason does not say KG may hold it (the mark set `sent`; the reason reads it as before)
    expect(await settled(kz, kg, result.id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(kz.node.parts.store.outbox.count()).toBe(0);
  }, 60_000);

  it('withdraws a message a pump marked in that commit, lists it, and hands nothing over', async () => {
    // KZ retries after a minute: the message waits until the test makes it due
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? SLOW_RETRY : {}) });
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    const { store } = kz.node.parts;
    await delivered(kz);
    const { id, pumped, due } = await waitingForRetry(kz, kg);
    // the pump that finds it due marks it in a commit of its own (read just before: outbox.due)
    const { held } = holdNextUnitBehind(store, pumped);
    const removal = api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'KG left', despiteAgreement: true });
    await held;
    await due();
    const r = await removal;
    expect(r.status, r.text).toBe(200);
    expect(pumped()).toBe(true);
    expect(r.json.withdrawn).toEqual([id]);
    expect(await settled(kz, kg, id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(store.outbox.count()).toBe(0);
  }, 60_000);
});
