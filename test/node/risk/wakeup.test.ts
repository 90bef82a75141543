/**
 * The risk loop must not lose a wake-up. The receiver's commit and the loop's step share group commits; when
 * a message commits in the same batch as a step that ran just before it, the loop sees nothing new and ends,
 * and the receiver's kick arrives while the loop is still finishing. That kick must start another round, or
 * the message waits unassessed until the next one arrives (seen in the demo: the last declaration of a burst
 * never got its assessment). Likewise a step that failed is tried again by the loop itself.
 */
import { describe, expect, it } from 'vitest';
import { createRisk, STEP_BATCH_AT, type Risk } from '../../../node/risk/extension.js';
import type { Store } from '../../../node/store/store.js';
import { offlineNodePerTest, waitFor } from '../../helpers/network.js';
import { accepted, receive, road, variant } from './fixtures.js';

const offlineNode = offlineNodePerTest();

/** `count` declarations from KZ, each committed and handed to `risk` as the receiver does; their ids. */
async function receiveDeclarations(store: Store, risk: Risk, reference: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const body = variant(road(), (d) => (d.functionalReference = `${reference}-${n}`));
    const id = await store.commits.run(() => receive(store, { partner: 'KZ', type: 'aci', body }));
    risk.onAccepted(accepted(store, 'KZ', id, body));
    ids.push(id);
  }
  return ids;
}

describe('risk loop wake-up', () => {
  it('assesses a message committed in the same batch as the step that just ended', async () => {
    const { off } = await offlineNode('KG');
    const { store } = off.parts;
    // at once (no wait): the step must be queued in the group commit when the message's commit resolves
    const risk = createRisk(off.parts, { stepDelayMs: 0 });
    try {
      risk.start(); // its first step is now queued in the group commit
      const body = road();
      const id = await store.commits.run(() => receive(store, { partner: 'KZ', type: 'aci', body }));
      // as the receiver does: wake the loop once the message's own commit has resolved
      risk.onAccepted(accepted(store, 'KZ', id, body));
      await risk.idle();
      expect(risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 }).rows.map((r) => r.root_id)).toEqual([id]);
    } finally {
      await risk.stop();
    }
  });

  it('tries a failed step again by itself, without waiting for the next message', async () => {
    const logged: string[] = [];
    const { off } = await offlineNode('KG');
    const { store } = off.parts;
    const risk = createRisk({ ...off.parts, log: (msg) => void logged.push(msg) }, { stepRetryMs: 50 });
    let failures = 1;
    const record = risk.feed.record.bind(risk.feed);
    risk.feed.record = (...args: Parameters<typeof record>) => {
      // what better-sqlite3 throws on a full disk: a failure of the database, which fails the step as a whole
      if (failures-- > 0) throw Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
      return record(...args);
    };
    try {
      risk.start();
      const body = road();
      const id = await store.commits.run(() => receive(store, { partner: 'KZ', type: 'aci', body }));
      risk.onAccepted(accepted(store, 'KZ', id, body));
      await waitFor(() => (risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 }).rows.length > 0 ? true : undefined), 5_000, 'the retried assessment');
      expect(risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 }).rows.map((r) => r.root_id)).toEqual([id]);
      expect(logged).toContain('risk assessment step failed; retrying');
    } finally {
      await risk.stop();
    }
  });

  it('projects again the messages of a step whose batch rolled back whole (a full disk), without waiting for a restart', async () => {
    const logged: string[] = [];
    const { off } = await offlineNode('KG');
    const { store } = off.parts;
    const { db } = store;
    // at once (no wait): the step must share the batch of the insert that fills the disk
    const risk = createRisk({ ...off.parts, log: (msg) => void logged.push(msg) }, { stepRetryMs: 50, stepDelayMs: 0 });
    try {
      risk.start();
      await risk.idle();
      const body = road();
      const id = await store.commits.run(() => receive(store, { partner: 'KZ', type: 'aci', body }));
      db.exec('CREATE TABLE test_filler (b BLOB)');
      // room for the step, not for the unit after it in the same batch: SQLite drops the whole transaction, the step's
      // cursor with it, after the step itself went through
      db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 200}`);
      try {
        risk.onAccepted(accepted(store, 'KZ', id, body)); // the loop's step is now queued in the group commit
        const filler = store.commits.run(() => db.prepare('INSERT INTO test_filler (b) VALUES (zeroblob(8000000))').run());
        await expect(filler).rejects.toMatchObject({ code: 'GNC_STORAGE_FULL' });
      } finally {
        db.pragma('max_page_count = 1073741823');
        db.exec('DROP TABLE test_filler');
      }
      await waitFor(() => (risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 }).rows.length > 0 ? true : undefined), 5_000, 'the message projected again');
      expect(risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 }).rows.map((r) => r.root_id)).toEqual([id]);
      expect(logged).toContain('risk assessment step failed; retrying');
      expect(risk.engine.lag()).toBe(0);
    } finally {
      await risk.stop();
    }
  });

  it('projects the messages received within its wait in one step, after the wait, with nothing else to wake it', async () => {
    const { off } = await offlineNode('KG');
    const { store } = off.parts;
    const risk = createRisk(off.parts, { stepDelayMs: 200 });
    try {
      risk.start();
      await risk.idle();
      const ids = await receiveDeclarations(store, risk, 'KZEXP-WAIT', 3);
      const before = store.commits.committed;
      await new Promise((r) => setTimeout(r, 50));
      // still waiting: nothing projected, nothing committed
      expect(risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 }).rows).toEqual([]);
      expect(store.commits.committed).toBe(before);
      await waitFor(() => (risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 }).rows.length === 3 ? true : undefined), 5_000, 'the three messages projected');
      expect(risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 }).rows.map((r) => r.root_id).sort()).toEqual([...ids].sort());
      // one step, one commit, for the three
      expect(store.commits.committed).toBe(before + 1);
    } finally {
      await risk.stop();
    }
  });

  it('does not wait when STEP_BATCH_AT messages have arrived: their step runs at once', async () => {
    const { off } = await offlineNode('KG');
    const { store } = off.parts;
    // a wait no test would sit out: only the count starts the step
    const risk = createRisk(off.parts, { stepDelayMs: 60_000 });
    try {
      risk.start();
      await risk.idle();
      const ids = await receiveDeclarations(store, risk, 'KZEXP-BATCH', STEP_BATCH_AT);
      await waitFor(() => (risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 50 }).rows.length === STEP_BATCH_AT ? true : undefined), 5_000, 'the batch projected');
      expect(risk.queries.list({ borderCrossingPoint: 'ak-zhol', limit: 50 }).rows.map((r) => r.root_id).sort()).toEqual([...ids].sort());
    } finally {
      await risk.stop();
    }
  });
});
