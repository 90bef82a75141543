/**
 * The mark made in the commit that queues a message (Dispatcher.sendWithQueued), on real KZ and KG nodes, where that
 * commit meets something else: a batch that rolls back whole (the disk is full) takes the mark back and leaves the
 * partner's queue free for the next message; a node that stops between that commit and the hand-over hands nothing
 * over, and its restart sends the message; an agreement that ends between the submission's checks and its commit keeps
 * the message from being marked and sent (it ends expired, GNC_AGREEMENT_NONE), as the dispatcher's own checks would;
 * a resume notice marked so goes first, and a message submitted while it is on the wire waits until it is delivered.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../../node/store/store.js';
import { api, finalMessage, holdReceipts, networkForFile, openAgreementDraft, outboxSent, restartNode, submitAndWait, waitFor, type TestNode } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

const HOUR = 3_600_000;
const AGREEMENT = '/v1/agreements/KZ-KG-test';
// KZ's clock, which the last test moves past the end of the agreement (in force for two hours from now)
let ahead = 0;
const clock = (): number => Date.now() + ahead;
const validUntil = new Date(Date.now() + 2 * HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z');
const { nodes } = networkForFile(['KZ', 'KG'], {
  agreements: [{ a: 'KZ', b: 'KG', draft: openAgreementDraft('KZ', 'KG', { validUntil }) }],
  nodeOptions: (c) => (c === 'KZ' ? { clock } : {}),
});

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

/** How many messages `n` holds that it sent (`out`) or received (`in`). */
const count = (n: TestNode, direction: 'in' | 'out'): number => n.node.parts.store.db.prepare('SELECT COUNT(*) FROM messages WHERE direction = ?').pluck().get(direction) as number;

describe('the mark made in the commit that queues a message, when that commit meets something else', () => {
  it('is taken back with a batch that rolls back whole, and the partner\'s queue goes on with the next message', async () => {
    const { KZ: kz, KG: kg } = nodes;
    const { store } = kz.node.parts;
    const { db } = store;
    expect((await submitAndWait(kz, submission)).status).toBe('delivered');
    const marked = kz.node.dispatcher.markedOnQueueing;
    const before = count(kz, 'out');
    const received = count(kg, 'in');
    db.exec('CREATE TABLE test_filler (b BLOB)');
    // room for the submission, not for the unit after it in the same batch: SQLite drops the whole transaction
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 200}`);
    let submitted: Promise<unknown>;
    let filler: Promise<unknown>;
    try {
      submitted = kz.node.submit.submit(submission);
      filler = store.commits.run(() => db.prepare('INSERT INTO test_filler (b) VALUES (zeroblob(8000000))').run());
      await expect(filler).rejects.toMatchObject({ code: 'GNC_STORAGE_FULL' });
      await expect(submitted).rejects.toMatchObject({ code: 'GNC_STORAGE_FULL' });
    } finally {
      db.pragma('max_page_count = 1073741823');
      db.exec('DROP TABLE test_filler');
    }
    // it was marked in its unit, and rolled back with it: nothing stored, nothing sent
    expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
    expect(count(kz, 'out')).toBe(before);
    // the partner's queue is idle again (the mark's message left the dispatcher's messages on the wire): the next
    // message is marked in its own submission's commit, and delivered
    const next = await submitAndWait(kz, submission);
    expect(next.status).toBe('delivered');
    expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(2);
    expect(count(kg, 'in') - received).toBe(1);
  });

  it('hands nothing over when the node stops after that commit, before the hand-over; the restart sends the message', async () => {
    const { KZ: kz, KG: kg } = nodes;
    const { store } = kz.node.parts;
    const marked = kz.node.dispatcher.markedOnQueueing;
    // a unit ahead of the submission in the same batch, whose caller stops the node as soon as it has committed: the
    // dispatcher stops after the commit that carries the mark, before the submission's hand-over runs
    const stopped = store.commits.run(() => undefined).then(() => kz.node.stop());
    const { result } = await kz.node.submit.submit(submission);
    await stopped;
    expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', result.id)).toBeUndefined();
    // committed as on its way, the partner may hold it: a restart must not take it for never sent
    const after = Store.open(kz.dir);
    try {
      const m = after.messages.byKey('out', 'KG', result.id)!;
      expect(m.status).toBe('sending');
      expect(after.db.prepare('SELECT sent FROM outbox WHERE seq = ?').pluck().get(m.seq)).toBe(1);
    } finally {
      after.close();
    }
    await restartNode(kz, { clock });
    expect((await finalMessage(kz, result.id, 30_000)).status).toBe('delivered');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', result.id)).toBeDefined();
    expect(outboxSent(kz, 'KG', result.id)).toBeUndefined();
  }, 60_000);

  it('puts a resume notice first, and a message submitted while the notice is on the wire waits until it is delivered', async () => {
    const { KZ: kz, KG: kg } = nodes;
    const suspend = await api(kz, 'POST', `${AGREEMENT}/suspend`, { reason: 'Review' });
    expect(suspend.status, suspend.text).toBe(202);
    expect((await finalMessage(kz, suspend.json.noticeMessage as string, 30_000)).status).toBe('delivered');
    const held = holdReceipts(kg);
    try {
      const marked = kz.node.dispatcher.markedOnQueueing;
      const resume = await api(kz, 'POST', `${AGREEMENT}/resume`, { reason: 'Review done' });
      expect(resume.status, resume.text).toBe(202);
      const notice = resume.json.noticeMessage as string;
      await waitFor(() => held.arrived.includes(notice) || undefined, 15_000, 'KG to store the resume notice');
      // the notice was marked with its queueing; the message after it is not, and is not sent while the notice is unanswered
      const sent = await api(kz, 'POST', '/v1/messages', submission);
      expect(sent.status, sent.text).toBe(202);
      const id = sent.json.id as string;
      await new Promise((r) => setTimeout(r, 500)); // the dispatcher's turns after the submission
      expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
      expect((await api(kz, 'GET', `/v1/messages/${id}`)).json.status).toBe('queued');
      expect(held.arrived).toEqual([notice]);
      held.release();
      for (const m of [notice, id]) expect(`${m} ${(await finalMessage(kz, m, 30_000)).status}`).toBe(`${m} delivered`);
      expect(held.arrived).toEqual([notice]);
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', id)?.status).toBe('accepted');
    } finally {
      held.release();
    }
  }, 60_000);

  it('is not made for a message whose agreement ends between the submission\'s checks and its commit, which is not sent', async () => {
    const { KZ: kz, KG: kg } = nodes;
    const marked = kz.node.dispatcher.markedOnQueueing;
    try {
      // checked and sealed now, under the agreement in force; committed once it has ended
      const submitted = kz.node.submit.submit(submission);
      ahead = 3 * HOUR;
      const { result } = await submitted;
      const m = await finalMessage(kz, result.id, 30_000);
      expect(m.status).toBe('expired');
      expect(m.error.code).toBe('GNC_AGREEMENT_NONE');
      expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(0);
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', result.id)).toBeUndefined();
    } finally {
      ahead = 0;
    }
  }, 60_000);
});
