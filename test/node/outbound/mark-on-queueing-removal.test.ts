/**
 * A partner removal (`POST /v1/partners/{country}/remove`) that lands in the same group commit as a mark of a message to
 * that partner as on its way, on real KZ and KG nodes: the mark a submission makes in the commit that queues its message
 * (Dispatcher.sendWithQueued), and the one a pump makes. The message is handed over only once that commit is done, so at
 * the removal nothing of it has left this node: the removal withdraws it, says so in its answer (`withdrawn`), and the
 * message never reaches the partner.
 */
import { describe, expect, it } from 'vitest';
import { GncError } from '../../../protocol/errors.js';
import type { Store } from '../../../node/store/store.js';
import { api, finalMessage, networkPerTest, waitFor, type TestNode } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

const network = networkPerTest();
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };
const REASON = 'KG was removed as a partner (POST /v1/partners/KG/remove): KG left';

/**
 * The next unit of work queued in `store`'s group commit (the removal's, once the test has sent it) is held back, and
 * queued again right behind the first unit queued after `trigger()` says so: both land in one batch, that one first.
 * `held` settles once a unit is held.
 */
function holdNextUnitBehind(store: Store, trigger: () => boolean): { held: Promise<void> } {
  const commits = store.commits;
  const run = commits.run.bind(commits);
  let release: (() => void) | undefined;
  let heldNow!: () => void;
  const held = new Promise<void>((resolve) => (heldNow = resolve));
  commits.run = <T>(work: () => T): Promise<T> => {
    if (release === undefined) {
      return new Promise<T>((resolve, reject) => {
        release = () => void run(work).then(resolve, reject);
        heldNow();
      });
    }
    const p = run(work);
    if (trigger()) {
      commits.run = run;
      release();
    }
    return p;
  };
  return { held };
}

async function delivered(kz: TestNode): Promise<void> {
  const r = await api(kz, 'POST', '/v1/messages', submission);
  expect(r.status, r.text).toBe(202);
  expect((await finalMessage(kz, r.json.id as string, 30_000)).status).toBe('delivered');
}

/** Message `id` a while after the removal: its status and withdrawal reason at KZ (its API), and whether KG holds it. */
async function settled(kz: TestNode, kg: TestNode, id: string): Promise<{ status: string; reason: string | undefined; atKg: boolean }> {
  await new Promise((r) => setTimeout(r, 1_000)); // a hand-over would have reached KG by now
  const m = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
  return { status: m.status, reason: m.withdrawn?.reason, atKg: kg.node.parts.store.messages.byKey('in', 'KZ', id) !== undefined };
}

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
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { retry: { initialMs: 60_000, maxMs: 60_000 } } : {}) });
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    const { store } = kz.node.parts;
    await delivered(kz);
    // KG answers the first attempt with an error frame (it did not process it): the message waits out its backoff
    const receiver = kg.node.receiver;
    const handle = receiver.handle;
    receiver.handle = async () => {
      throw new GncError('GNC_STORAGE_FULL', 'test: the disk is full');
    };
    const sent = await api(kz, 'POST', '/v1/messages', submission);
    expect(sent.status, sent.text).toBe(202);
    const id = sent.json.id as string;
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${id}`)).json.status === 'retrying' ? true : undefined), 15_000, 'the message to wait for a retry');
    receiver.handle = handle;
    const seq = store.messages.byKey('out', 'KG', id)!.seq;
    // the pump that finds it due marks it in a commit of its own (read just before: outbox.due)
    let pumped = false;
    const due = store.outbox.due.bind(store.outbox);
    store.outbox.due = (...args) => {
      const rows = due(...args);
      if (rows.some((r) => r.seq === seq)) pumped = true;
      return rows;
    };
    const { held } = holdNextUnitBehind(store, () => pumped);
    const removal = api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'KG left', despiteAgreement: true });
    await held;
    await store.commits.run(() => store.outbox.retryNow('KG', Date.now()));
    kz.node.dispatcher.notify('KG');
    const r = await removal;
    expect(r.status, r.text).toBe(200);
    expect(pumped).toBe(true);
    expect(r.json.withdrawn).toEqual([id]);
    expect(await settled(kz, kg, id)).toEqual({ status: 'withdrawn', reason: REASON, atKg: false });
    expect(store.outbox.count()).toBe(0);
  }, 60_000);
});
