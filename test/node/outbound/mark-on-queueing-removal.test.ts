/**
 * A partner removal (`POST /v1/partners/{country}/remove`) that lands in the same group commit as a mark of a message to
 * that partner as on its way, on real KZ and KG nodes: the mark a submission makes in the commit that queues its message
 * (Dispatcher.sendWithQueued), and the one a pump makes. The message is handed over only once that commit is done, so at
 * the removal nothing of it has left this node: the removal withdraws it, says so in its answer (`withdrawn`), and the
 * message never reaches the partner.
 */
import { describe, expect, it } from 'vitest';
import { inPumpBatch, inSubmissionBatch, settled } from '../../helpers/batched.js';
import { api, networkPerTest, type TestNode } from '../../helpers/network.js';

const network = networkPerTest();
const REASON = 'KG was removed as a partner (POST /v1/partners/KG/remove): KG left';
const remove = (kz: TestNode) => api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'KG left', despiteAgreement: true });

describe('a partner removal in the same commit as a mark of a message to that partner as on its way', () => {
  it('withdraws a message its submission marked in that commit, lists it, and hands nothing over', async () => {
    const { kz, kg, id, answer: r } = await inSubmissionBatch(network, remove);
    expect(r.status, r.text).toBe(200);
    expect(r.json.withdrawn).toEqual([id]);
    // never handed over, so the reason does not say KG may hold it (the mark set `sent`; the reason reads it as before)
    expect(await settled(kz, kg, id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(kz.node.parts.store.outbox.count()).toBe(0);
  }, 60_000);

  it('withdraws a message a pump marked in that commit, lists it, and hands nothing over', async () => {
    const { kz, kg, id, answer: r } = await inPumpBatch(network, remove);
    expect(r.status, r.text).toBe(200);
    expect(r.json.withdrawn).toEqual([id]);
    expect(await settled(kz, kg, id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(kz.node.parts.store.outbox.count()).toBe(0);
  }, 60_000);
});
