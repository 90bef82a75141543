/**
 * The webhook sender when its node cannot write (a full disk; here the store is made read-only): the receiver got
 * the event but the outcome cannot be recorded. The round's failure is logged, not left as an unhandled
 * rejection, and the sender does not call the receiver again in a tight loop; once the store can be written,
 * the next round sends the event again (receivers deduplicate by x-gnc-event-id) and records it delivered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookSettings } from '../../../node/risk/rules.js';
import { WebhookSender } from '../../../node/risk/webhook.js';
import { waitFor } from '../../helpers/network.js';
import { webhookRig } from './webhook-rig.js';

const rig = webhookRig('gnc-webhook-');
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);

afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('risk webhook on a node that cannot write', () => {
  it('logs the failed round, does not call the receiver in a loop, and delivers once it can write', async () => {
    process.on('unhandledRejection', onUnhandled);
    const posts: string[] = [];
    const { origin, store, feed } = await rig((req, res) => {
      posts.push(String(req.headers['x-gnc-event-id']));
      req.resume().on('end', () => res.writeHead(204).end());
    });
    const url = `${origin}/hook`;
    const settings: WebhookSettings = { url, secret: 'test-secret', maxAttempts: 5, initialBackoffMs: 10, maxBackoffMs: 50, timeoutMs: 2000, maxAgeMs: 3_600_000 };
    const event = await store.commits.run(() => feed.record(1, { type: 'assessment', change: 'new' } as never, Date.now(), settings.maxAgeMs));
    const logs: string[] = [];
    const sender = new WebhookSender(store, feed, () => settings, Date.now, (msg) => void logs.push(msg));
    store.db.pragma('query_only = ON'); // every write fails from now on
    try {
      sender.start();
      await waitFor(() => (logs.includes('risk webhook round failed; retrying') ? true : undefined), 5_000, 'the failed round');
      await new Promise((r) => setTimeout(r, 500));
      expect(posts).toEqual([String(event.id)]);
      expect(unhandled).toEqual([]);
      store.db.pragma('query_only = OFF');
      sender.kick(); // as a new event would
      await waitFor(() => (store!.db.prepare('SELECT state FROM risk_webhook WHERE event_seq = ?').pluck().get(event.id) === 'delivered' ? true : undefined), 5_000, 'delivery');
      expect(posts).toEqual([String(event.id), String(event.id)]);
    } finally {
      await sender.stop();
    }
  });
});
