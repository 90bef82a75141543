/**
 * A webhook receiver behind HTTP basic authentication, its user and password written in webhook.url
 * (`https://user:password@host/path`): fetch refuses a URL with credentials, so they go as an Authorization
 * header, and neither they nor the URL's query reach the log.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../../node/risk/rules.js';
import { WebhookSender } from '../../../node/risk/webhook.js';
import { waitFor } from '../../helpers/network.js';
import { webhookRig } from './webhook-rig.js';

const PASSWORD = 'p@ss:w/rd-4711';

const rig = webhookRig('gnc-webhook-auth-');

describe('risk webhook to a receiver with basic authentication', () => {
  it('sends the user and password of webhook.url as an Authorization header, never in a log line', async () => {
    const requests: { url: string | undefined; authorization: string | undefined }[] = [];
    const { origin, dir, store, feed } = await rig((req, res) => {
      requests.push({ url: req.url, authorization: req.headers.authorization });
      // the first attempt fails, so the delivery is logged with its target
      req.resume().on('end', () => res.writeHead(requests.length === 1 ? 503 : 204).end());
    });
    const port = new URL(origin).port;
    const rulesFile = join(dir, 'risk-rules.json');
    const url = `http://risk-engine:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/hook?ticket=abc`;
    writeFileSync(rulesFile, JSON.stringify({ v: 1, webhook: { url, secretEnv: 'GNC_TEST_AUTH_SECRET', initialBackoffMs: 10, maxBackoffMs: 10 } }));
    const settings = loadRules(rulesFile, { GNC_TEST_AUTH_SECRET: 'auth-test-secret-0123456789' }).webhook!;
    const event = await store.commits.run(() => feed.record(1, { type: 'assessment', change: 'new' } as never, Date.now(), settings.maxAgeMs));
    const logs: string[] = [];
    const sender = new WebhookSender(store, feed, () => settings, Date.now, (msg, fields) => void logs.push(JSON.stringify({ msg, ...fields })));
    const state = (): unknown => store!.db.prepare('SELECT state FROM risk_webhook WHERE event_seq = ?').pluck().get(event.id);
    try {
      sender.start();
      await waitFor(() => (state() !== 'pending' ? true : undefined), 5_000, 'the event to be settled');
    } finally {
      await sender.stop();
    }
    expect(state()).toBe('delivered');
    const basic = `Basic ${Buffer.from(`risk-engine:${PASSWORD}`).toString('base64')}`;
    expect(requests).toEqual([{ url: '/hook?ticket=abc', authorization: basic }, { url: '/hook?ticket=abc', authorization: basic }]);
    expect(logs.some((l) => l.includes(`"target":"http://127.0.0.1:${port}/hook"`))).toBe(true);
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'risk-engine', 'ticket']) expect(logs.join('\n')).not.toContain(secret);
  });
});
