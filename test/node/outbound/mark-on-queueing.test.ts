/**
 * The "partner may hold it" mark made in the commit that queues a message, on real KZ and KG nodes: a message to a
 * partner whose queue is idle costs the sender two durable commits (the submission, which carries the mark, and the
 * receipt), one fewer than when the dispatcher marks it in a commit of its own; one queued while another is on the wire
 * goes the usual way, through the pump, and both are delivered.
 */
import { describe, expect, it } from 'vitest';
import { api, networkForFile, outboxSent, waitFor, type TestNode } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

const { nodes } = networkForFile(['KZ', 'KG']);

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

/** Submits and waits for the final status, as an integrator with `Prefer: wait` does. */
async function exchange(kz: TestNode): Promise<{ id: string; status: string }> {
  const r = await api(kz, 'POST', '/v1/messages', submission, { prefer: 'wait=30, return=minimal' });
  expect(r.status, r.text).toBe(200);
  return r.json as { id: string; status: string };
}

/** KG holds every receipt back until `release()`, after committing the message. */
function holdReceipts(kg: TestNode): { arrived: string[]; release: () => void } {
  const receiver = kg.node.receiver;
  const handle = receiver.handle.bind(receiver);
  const arrived: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  receiver.handle = async (bytes, peer) => {
    const receipt = await handle(bytes, peer);
    const jws = JSON.parse(new TextDecoder().decode(bytes)) as { payload: string };
    arrived.push((JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as { id: string }).id);
    await released;
    return receipt;
  };
  return {
    arrived,
    release: () => {
      receiver.handle = handle;
      release();
    },
  };
}

describe('the mark made in the commit that queues a message', () => {
  it('saves the sender one commit per message when the partner\'s queue is idle', async () => {
    const { KZ: kz } = nodes;
    const store = kz.node.parts.store;
    // the first exchange connects the nodes (and commits what a new connection commits)
    expect((await exchange(kz)).status).toBe('delivered');
    for (let i = 0; i < 3; i++) {
      const commits = store.commits.committed;
      const marked = kz.node.dispatcher.markedOnQueueing;
      const m = await exchange(kz);
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
});
