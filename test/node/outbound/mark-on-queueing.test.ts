/**
 * The "partner may hold it" mark made in the commit that queues a message, on real KZ and KG nodes: a message to a
 * partner whose queue is idle costs the sender two durable commits (the submission, which carries the mark, and the
 * receipt), one fewer than when the dispatcher marks it in a commit of its own; one queued while another is on the wire
 * goes the usual way, through the pump, and both are delivered; so do one queued behind a message waiting out a backoff
 * (an amendment of it: sent ahead, it would be refused) and one for a partner whose last attempt found it unreachable.
 */
import { describe, expect, it } from 'vitest';
import { GncError } from '../../../protocol/errors.js';
import { api, holdReceipts, networkForFile, outboxSent, payloadId, restartNode, submitAndWait, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

// KZ retries after a minute: a message for the offline KG stays retrying once its attempt has failed
const { nodes } = networkForFile(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { retry: { initialMs: 60_000, maxMs: 60_000 } } : {}) });

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

describe('the mark made in the commit that queues a message', () => {
  it('saves the sender one commit per message when the partner\'s queue is idle', async () => {
    const { KZ: kz } = nodes;
    const store = kz.node.parts.store;
    // the first exchange connects the nodes (and commits what a new connection commits)
    expect((await submitAndWait(kz, submission)).status).toBe('delivered');
    for (let i = 0; i < 3; i++) {
      const commits = store.commits.committed;
      const marked = kz.node.dispatcher.markedOnQueueing;
      const m = await submitAndWait(kz, submission);
      expect(m.status).toBe('delivered');
      // the submission (message, outbox row, mark, `sent` entry) and the receipt: no commit of its own for the mark
      expect(store.commits.committed - commits).toBe(2);
      expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
    }
  });

  it('marks a message queued while another is on the wire in the pump\'s commit, and delivers both', async () => {
    const { KZ: kz, KG: kg } = nodes;
    const held = holdReceipts(kg);
    try {
      const marked = kz.node.dispatcher.markedOnQueueing;
      const first = await api(kz, 'POST', '/v1/messages', submission);
      expect(first.status, first.text).toBe(202);
      await waitFor(() => held.arrived.includes(first.json.id) || undefined, 15_000, 'KG to store the first message');
      // on the wire, and the partner may hold it: the mark committed with the submission
      expect(outboxSent(kz, 'KG', first.json.id)).toBe(1);
      const second = await api(kz, 'POST', '/v1/messages', submission);
      expect(second.status, second.text).toBe(202);
      await waitFor(() => held.arrived.includes(second.json.id) || undefined, 15_000, 'KG to store the second message');
      expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
      held.release();
      for (const id of [first.json.id, second.json.id]) {
        const m = (await api(kz, 'GET', `/v1/messages/${id}?wait=30`)).json;
        expect(`${id} ${m.status}`).toBe(`${id} delivered`);
      }
    } finally {
      held.release();
    }
  });

  it('leaves a message queued behind one waiting out a backoff to the pump, which sends it after that one', async () => {
    const { KZ: kz, KG: kg } = nodes;
    // KG fails itself on the first envelope (an error frame, no verdict): KZ keeps it for a minute's backoff
    const receiver = kg.node.receiver;
    const handle = receiver.handle.bind(receiver);
    const arrived: string[] = [];
    let failed = 0;
    receiver.handle = (bytes, peer) => {
      arrived.push(payloadId(bytes));
      return failed++ === 0 ? Promise.reject(new GncError('GNC_INTERNAL', 'test fault')) : handle(bytes, peer);
    };
    const marked = kz.node.dispatcher.markedOnQueueing;
    const original = await api(kz, 'POST', '/v1/messages', submission);
    expect(original.status, original.text).toBe(202);
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${original.json.id}`)).json.status === 'retrying' ? true : undefined), 15_000, 'the original to wait out its backoff');
    const amendment = await api(kz, 'POST', '/v1/messages', { ...submission, ref: original.json.id, body: { ...example('aci-kz-kg-road'), kind: 'amendment' } });
    expect(amendment.status, amendment.text).toBe(202);
    expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
    // KG restarted greets KZ, which retries the original at once, then the amendment
    await kg.node.stop();
    await restartNode(kg);
    for (const id of [original.json.id, amendment.json.id]) {
      const m = (await api(kz, 'GET', `/v1/messages/${id}?wait=30`)).json;
      expect(`${id} ${m.status}`).toBe(`${id} delivered`);
    }
    // the amendment never went ahead of it
    expect(arrived).toEqual([original.json.id]);
  });

  it('leaves a message for a partner found unreachable to the pump, which holds it for the partner\'s next attempt', async () => {
    const { KZ: kz, KG: kg } = nodes;
    await kg.node.stop();
    try {
      const marked = kz.node.dispatcher.markedOnQueueing;
      const status = async (id: string): Promise<string> => (await api(kz, 'GET', `/v1/messages/${id}`)).json.status as string;
      const first = await api(kz, 'POST', '/v1/messages', submission);
      expect(first.status, first.text).toBe(202);
      await waitFor(async () => ((await status(first.json.id)) === 'retrying' ? true : undefined), 15_000, 'the first attempt to fail');
      // nothing is left of the partner's queue, but its last attempt found it unreachable
      const withdrawn = await api(kz, 'POST', `/v1/messages/${first.json.id}/withdraw`, { reason: 'Sent in error' });
      expect(withdrawn.status, withdrawn.text).toBe(200);
      const second = await api(kz, 'POST', '/v1/messages', submission);
      expect(second.status, second.text).toBe(202);
      // not marked in its queueing commit, nor sent by the pump before KG's next attempt (a minute away)
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await status(second.json.id)).toBe('queued');
      expect(kz.node.dispatcher.inFlight('KG')).toBe(0);
      expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
    } finally {
      await restartNode(kg);
    }
  });
});
