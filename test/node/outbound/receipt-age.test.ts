/**
 * A stored receipt older than the sender's maximum message age (SPEC section 5), between real nodes configured
 * differently: KZ's message reached KG, KG stored it and signed its receipt, the receipt was lost, then KZ was
 * restarted keeping one hour (`maxMessageAgeHours: 1` in its gnc.json) while KG keeps the default 168 h. When KZ sends
 * the same bytes again two hours later, KG answers the receipt it stored then (SPEC section 4, check 10), and KZ accepts
 * it, since it names exactly the envelope sent: the message ends `delivered` with that very receipt, not refused as
 * stale and retried until it expires. Both nodes share a clock the test moves ahead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, loseFirstReceiptAndHold, networkForFile, outboxSent, restartNode, sharedClockPerTest, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

const HOUR = 3_600_000;
const t = sharedClockPerTest();
const { clock } = t;
const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], { nodeOptions: () => ({ clock }) });

/** The `created` of the receipt envelope `jws`. */
const createdOf = (jws: Uint8Array): number => Date.parse(JSON.parse(Buffer.from(JSON.parse(Buffer.from(jws).toString()).payload, 'base64url').toString()).created);

describe("a stored receipt older than the sender's maximum message age", () => {
  it('is accepted by the sender when it names exactly the envelope sent: the message ends delivered', async () => {
    // KG commits the first envelope it gets and the connection drops before its receipt leaves; every later one is
    // dropped on arrival, unprocessed, until released
    const release = loseFirstReceiptAndHold(kg);
    const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    expect(r.status).toBe(202);
    const id = r.json.id as string;
    await waitFor(() => kg.node.parts.store.messages.byKey('in', 'KZ', id), 10_000, 'KG to store the message');
    await waitFor(() => (outboxSent(kz, 'KG', id) === 1 ? true : undefined), 10_000, `${id} handed over`);
    const atKg = kg.node.parts.store.messages.byKey('in', 'KZ', id)!;
    const stored = Buffer.from(kg.node.parts.store.messages.receipt(atKg.seq)!.jws);

    // KZ keeps one hour from now on, KG the default; two hours pass before the retry that KG answers
    await kz.node.stop();
    const file = join(kz.dir, 'gnc.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), maxMessageAgeHours: 1 }));
    t.ahead = 2 * HOUR;
    await restartNode(kz, { clock });
    expect(kz.node.parts.config.maxMessageAgeHours).toBe(1);
    expect(kg.node.parts.config.maxMessageAgeHours).toBeGreaterThan(2);
    release();

    // the first answer after the release decides: delivered, or refused as stale (GNC_CLOCK_SKEW) and retried
    const m = await waitFor(async () => {
      const v = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
      return v.status === 'delivered' || v.error?.code === 'GNC_CLOCK_SKEW' ? v : undefined;
    }, 30_000, `${id} to be answered after the release`);
    expect(m.status, JSON.stringify(m.error)).toBe('delivered');
    // the very receipt KG signed when it accepted the message, older than KZ's maximum age by KZ's clock
    const received = Buffer.from(kz.node.parts.store.messages.receipt(kz.node.parts.store.messages.byKey('out', 'KG', id)!.seq)!.jws);
    expect(received.equals(stored)).toBe(true);
    expect(clock() - createdOf(received)).toBeGreaterThan(HOUR);
    expect(outboxSent(kz, 'KG', id)).toBeUndefined();
    expect(kg.node.parts.store.messages.byId(id)).toHaveLength(1);
  }, 60_000);
});
