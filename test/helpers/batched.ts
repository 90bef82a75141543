/**
 * Tests of a withdrawal (one message's, or a partner removal's) that lands in the same group commit as the
 * dispatcher's mark of a message as on its way, on real KZ and KG nodes: how the two units are put in one batch, how a
 * message is made to wait for the pump that marks it, and what became of the message once a hand-over would be done.
 */
import { expect } from 'vitest';
import { GncError } from '../../protocol/errors.js';
import type { Store } from '../../node/store/store.js';
import { example } from '../protocol/messages/fixtures.js';
import { api, finalMessage, waitFor, type networkPerTest, type TestNode } from './network.js';

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

/** KZ's retries after a minute: a message that waits out its backoff stays until the test makes it due (retryNow). */
const SLOW_RETRY = { retry: { initialMs: 60_000, maxMs: 60_000 } };

/**
 * The next unit of work queued in `store`'s group commit (the withdrawal's, once the test has sent it) is held back,
 * and queued again right behind the first unit queued after `trigger()` says so: both land in one batch, that one
 * first. `held` settles once a unit is held.
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

/** A message delivered from KZ to KG: connected, and KG's queue idle (the next message is marked as it is queued). */
async function delivered(kz: TestNode): Promise<void> {
  const r = await api(kz, 'POST', '/v1/messages', submission);
  expect(r.status, r.text).toBe(202);
  expect((await finalMessage(kz, r.json.id as string, 30_000)).status).toBe('delivered');
}

/**
 * A message to KG that waits out its backoff at KZ (started with SLOW_RETRY), never handed over: KG answered its first
 * attempt with an error frame (it did not process it). `pumped()`: a pump has read it due since (outbox.due), and is
 * about to mark it in a commit of its own; `due()` makes it due and tells the dispatcher.
 */
async function waitingForRetry(kz: TestNode, kg: TestNode): Promise<{ id: string; pumped: () => boolean; due: () => Promise<void> }> {
  const { store } = kz.node.parts;
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
  let pumped = false;
  const dueRows = store.outbox.due.bind(store.outbox);
  store.outbox.due = (...args) => {
    const rows = dueRows(...args);
    if (rows.some((r) => r.seq === seq)) pumped = true;
    return rows;
  };
  const due = async (): Promise<void> => {
    await store.commits.run(() => store.outbox.retryNow('KG', Date.now()));
    kz.node.dispatcher.notify('KG');
  };
  return { id, pumped: () => pumped, due };
}

/** Message `id` a while after its withdrawal: its status and withdrawal reason at KZ (its API), and whether KG holds it. */
export async function settled(kz: TestNode, kg: TestNode, id: string): Promise<{ status: string; reason: string | undefined; atKg: boolean }> {
  await new Promise((r) => setTimeout(r, 1_000)); // a hand-over would have reached KG by now
  const m = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
  return { status: m.status, reason: m.withdrawn?.reason, atKg: kg.node.parts.store.messages.byKey('in', 'KZ', id) !== undefined };
}

/** What a test of one batch gets: KZ and KG, the message marked in it, and what `withdraw` answered. */
export interface Batched<T> {
  kz: TestNode;
  kg: TestNode;
  id: string;
  answer: T;
}

/**
 * On a new KZ-KG network: a message to KG waits out its backoff at KZ, never handed over; `withdraw` starts its unit
 * of work (the withdrawal's, the removal's), which lands in one group commit right behind the pump that finds the
 * message due and marks it.
 */
export async function inPumpBatch<T>(network: ReturnType<typeof networkPerTest>, withdraw: (kz: TestNode, id: string) => Promise<T>): Promise<Batched<T>> {
  const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? SLOW_RETRY : {}) });
  const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
  await delivered(kz);
  const { id, pumped, due } = await waitingForRetry(kz, kg);
  // the pump that finds it due marks it in a commit of its own (read just before: outbox.due)
  const { held } = holdNextUnitBehind(kz.node.parts.store, pumped);
  const answer = withdraw(kz, id);
  await held;
  await due();
  const r = await answer;
  expect(pumped()).toBe(true);
  return { kz, kg, id, answer: r };
}

/**
 * On a new KZ-KG network, connected and KG's queue idle: `withdraw` starts its unit of work, which lands in one group
 * commit right behind a submission's, which marks the message it queues (Dispatcher.sendWithQueued). The id is known
 * only inside that batch (`newest` reads it there: a client learns it once the submission has committed).
 */
export async function inSubmissionBatch<T>(network: ReturnType<typeof networkPerTest>, withdraw: (kz: TestNode, newest: () => string) => Promise<T>): Promise<Batched<T>> {
  const net = await network(['KZ', 'KG']);
  const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
  const { store } = kz.node.parts;
  await delivered(kz); // connected, the partner's queue idle: the next message is marked in the commit that queues it
  const marked = kz.node.dispatcher.markedOnQueueing;
  let submitting = false;
  const { held } = holdNextUnitBehind(store, () => submitting);
  const newest = (): string => store.db.prepare(`SELECT id FROM messages WHERE direction = 'out' ORDER BY seq DESC LIMIT 1`).pluck().get() as string;
  const answer = withdraw(kz, newest);
  await held;
  submitting = true;
  const submitted = kz.node.submit.submit(submission);
  submitting = false;
  const { result } = await submitted;
  const r = await answer;
  expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
  return { kz, kg, id: result.id, answer: r };
}
