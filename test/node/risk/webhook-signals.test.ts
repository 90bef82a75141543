/**
 * A node running for months makes a webhook attempt per assessment event: nothing of an attempt may stay behind once it
 * has ended. Each attempt's signal follows stop()'s signal, which lives as long as the sender; composed with
 * AbortSignal.any, Node kept every attempt's signal in that one's set of dependants for good (nodejs/node#55351), one
 * per attempt. Here a real receiver on 127.0.0.1 takes some events and lets one attempt run into the time limit, which
 * is still told as such; afterwards stop()'s signal holds no dependant and no listener.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebhookSettings } from '../../../node/risk/rules.js';
import { WebhookSender } from '../../../node/risk/webhook.js';
import { waitFor } from '../../helpers/network.js';
import { webhookRig } from './webhook-rig.js';

const rig = webhookRig('gnc-webhook-signals-');

/** How many signals Node keeps as following `signal` (AbortSignal.any): its internal set, found by the symbol's name. */
function dependants(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  return key === undefined ? 0 : ((signal as unknown as Record<symbol, Set<unknown> | undefined>)[key]?.size ?? 0);
}

describe('risk webhook attempts over time', () => {
  it('leave nothing on the sender-long stop signal, and an attempt past the time limit is told as such', async () => {
    const EVENTS = 30;
    let held = false;
    const { origin, store, feed } = await rig((req, res) => {
      // the first attempt is held past the time limit; every other one is taken
      if (!held) {
        held = true;
        return;
      }
      req.resume().on('end', () => res.writeHead(204).end());
    });
    const settings: WebhookSettings = { url: `${origin}/hook`, secret: 'test-secret-0123456789', maxAttempts: 5, initialBackoffMs: 10, maxBackoffMs: 50, timeoutMs: 300, maxAgeMs: 3_600_000 };
    await store.commits.run(() => {
      for (let cid = 1; cid <= EVENTS; cid++) feed.record(cid, { type: 'assessment', change: 'new' } as never, Date.now(), settings.maxAgeMs);
    });
    const logs: Record<string, unknown>[] = [];
    const sender = new WebhookSender(store, feed, () => settings, Date.now, (msg, fields) => void logs.push({ msg, ...fields }));
    sender.start();
    try {
      const delivered = store.db.prepare(`SELECT COUNT(*) FROM risk_webhook WHERE state = 'delivered'`).pluck();
      await waitFor(() => (delivered.get() === EVENTS ? true : undefined), 15_000, 'every event delivered');
      expect(logs).toEqual([expect.objectContaining({ msg: 'risk webhook delivery failed', attempt: 1, error: 'no answer within 300 ms' })]);
      expect(dependants(sender.stopSignal)).toBe(0);
      expect(getEventListeners(sender.stopSignal, 'abort')).toHaveLength(0);
    } finally {
      await sender.stop();
    }
  }, 30_000);
});
