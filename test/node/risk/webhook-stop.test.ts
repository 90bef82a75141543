/**
 * Stopping the node while the webhook receiver holds a delivery without answering (a hung risk engine, a proxy
 * waiting on it): the stop must not wait for webhook.timeoutMs (up to 60 s, longer than a service manager's
 * grace before it kills the process). The delivery is abandoned and not counted as an attempt: the event stays
 * queued and goes again after the restart (receivers deduplicate by x-gnc-event-id).
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { WebhookSettings } from '../../../node/risk/rules.js';
import { WebhookSender } from '../../../node/risk/webhook.js';
import { waitFor } from '../../helpers/network.js';
import { webhookRig } from './webhook-rig.js';

const rig = webhookRig('gnc-webhook-stop-');

describe('risk webhook stopped during a delivery the receiver does not answer', () => {
  it('stops without waiting for the timeout and leaves the event queued, its attempt not counted', async () => {
    const held: IncomingMessage[] = [];
    const { origin, store, feed } = await rig((req) => void held.push(req)); // never answers
    const url = `${origin}/hook`;
    const settings: WebhookSettings = { url, secret: 'test-secret-0123456789', maxAttempts: 5, initialBackoffMs: 10, maxBackoffMs: 50, timeoutMs: 60_000, maxAgeMs: 3_600_000 };
    const event = await store.commits.run(() => feed.record(1, { type: 'assessment', change: 'new' } as never, Date.now(), settings.maxAgeMs));
    const logs: string[] = [];
    const sender = new WebhookSender(store, feed, () => settings, Date.now, (msg) => void logs.push(msg));
    sender.start();
    await waitFor(() => (held.length > 0 ? true : undefined), 5_000, 'the receiver to hold the delivery');
    await sender.stop(); // the test's own timeout (30 s) is below webhook.timeoutMs
    expect(store.db.prepare('SELECT state, attempts, last_error FROM risk_webhook WHERE event_seq = ?').get(event.id)).toEqual({ state: 'pending', attempts: 0, last_error: null });
    expect(logs).toEqual([]);
  });
});
