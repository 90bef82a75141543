/**
 * The webhook towards a receiver that answers a redirect (a moved endpoint, http -> https, a login page): a
 * redirected POST comes back as a GET without the body (301, 302, 303), and any redirect may lead to another
 * host, which would get the signed assessment. A redirect is not a delivery: the event stays queued and the log
 * says where the receiver pointed, so the operator can correct webhook.url.
 */
import { describe, expect, it } from 'vitest';
import type { WebhookSettings } from '../../../node/risk/rules.js';
import { WebhookSender } from '../../../node/risk/webhook.js';
import { waitFor } from '../../helpers/network.js';
import { webhookRig } from './webhook-rig.js';

const rig = webhookRig('gnc-webhook-redirect-');

describe('risk webhook answered with a redirect', () => {
  it.each([301, 302, 303, 307])('keeps the event queued after %i and follows no redirect', async (status) => {
    const requests: string[] = [];
    const { origin, store, feed } = await rig((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume().on('end', () => (req.url === '/hook' ? res.writeHead(status, { location: '/moved?ticket=abc' }).end() : res.writeHead(200).end('ok')));
    });
    const settings: WebhookSettings = { url: `${origin}/hook`, secret: 'test-secret-0123456789', maxAttempts: 5, initialBackoffMs: 60_000, maxBackoffMs: 60_000, timeoutMs: 2000, maxAgeMs: 3_600_000 };
    const event = await store.commits.run(() => feed.record(1, { type: 'assessment', change: 'new' } as never, Date.now(), settings.maxAgeMs));
    const logs: Record<string, unknown>[] = [];
    const sender = new WebhookSender(store, feed, () => settings, Date.now, (msg, fields) => void logs.push({ msg, ...fields }));
    const row = (): { state: string; attempts: number; last_error: string | null } =>
      store!.db.prepare('SELECT state, attempts, last_error FROM risk_webhook WHERE event_seq = ?').get(event.id) as never;
    try {
      sender.start();
      await waitFor(() => (row().attempts > 0 ? true : undefined), 5_000, 'the first attempt to be recorded');
    } finally {
      await sender.stop();
    }
    expect(requests).toEqual(['POST /hook']);
    expect(row()).toMatchObject({ state: 'pending', attempts: 1 });
    const error = `HTTP ${status}, a redirect to ${origin}/moved (not followed: set webhook.url to the address that takes the POST)`;
    expect(row().last_error).toBe(error);
    expect(logs.find((l) => l.msg === 'risk webhook delivery failed')?.error).toBe(error);
  });
});
