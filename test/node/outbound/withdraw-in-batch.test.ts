/**
 * Withdrawing one message (`POST /v1/messages/{id}/withdraw`, withdrawMessage) in the same group commit as the mark of
 * that message as on its way, on real KZ and KG nodes: the mark a pump makes, and the one its submission makes in the
 * commit that queues it (Dispatcher.sendWithQueued). The message is handed over only once that commit is done, so
 * nothing of it has left this node: it is withdrawn, as a partner removal in that commit withdraws it
 * (mark-on-queueing-removal.test.ts), and never reaches the partner. A message really on the wire is refused.
 */
import { describe, expect, it } from 'vitest';
import { withdrawMessage } from '../../../node/outbound/withdraw.js';
import { example } from '../../protocol/messages/fixtures.js';
import { inPumpBatch, inSubmissionBatch, settled } from '../../helpers/batched.js';
import { api, finalMessage, holdReceipts, networkPerTest, runCli, waitFor } from '../../helpers/network.js';

const network = networkPerTest();
const REASON = 'Sent to the wrong partner';
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

describe('a withdrawal in the same commit as a mark of its message as on its way', () => {
  it('withdraws a message a pump marked in that commit (the API), and hands nothing over', async () => {
    const { kz, kg, id, answer: r } = await inPumpBatch(network, (kz, id) => api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: REASON }));
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ id, status: 'withdrawn', withdrawn: { reason: REASON } });
    // never handed over (KG did not process the first attempt), so nothing says KG may hold it
    expect(await settled(kz, kg, id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(kz.node.parts.store.outbox.count()).toBe(0);
  }, 60_000);

  it('withdraws a message its submission marked in that commit, and hands nothing over', async () => {
    // by the function the route runs: the id is known only inside the batch
    const { kz, kg, id, answer: w } = await inSubmissionBatch(network, (kz, newest) => {
      const { store } = kz.node.parts;
      return store.commits.run(() => withdrawMessage(store, newest(), REASON, Date.now()));
    });
    expect({ id: w.message.id, status: w.message.status, already: w.already }).toEqual({ id, status: 'withdrawn', already: false });
    expect(await settled(kz, kg, id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(kz.node.parts.store.outbox.count()).toBe(0);
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
