/**
 * Stopping the node while the webhook receiver holds a delivery without answering (a hung risk engine, a proxy
 * waiting on it): the stop must not wait for webhook.timeoutMs (up to 60 s, longer than a service manager's
 * grace before it kills the process). The delivery is abandoned and not counted as an attempt: the event stays
 * queued and goes again after the restart (receivers deduplicate by x-gnc-event-id).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RiskFeed } from '../../../node/risk/feed.js';
import type { WebhookSettings } from '../../../node/risk/rules.js';
import { WebhookSender } from '../../../node/risk/webhook.js';
import { Store } from '../../../node/store/store.js';
import { waitFor } from '../../helpers/network.js';
import { tempDir } from './fixtures.js';

let dir: string | undefined;
let store: Store | undefined;
let server: Server | undefined;

afterEach(async () => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

describe('risk webhook stopped during a delivery the receiver does not answer', () => {
  it('stops without waiting for the timeout and leaves the event queued, its attempt not counted', async () => {
    const held: IncomingMessage[] = [];
    server = createServer((req) => void held.push(req)); // never answers
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    dir = tempDir('gnc-webhook-stop-');
    store = Store.open(dir);
    const feed = new RiskFeed(store.db);
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
