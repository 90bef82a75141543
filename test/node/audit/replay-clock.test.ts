/**
 * Replay and clock rules on the receiving side (issue 6, item 6) over real nodes: an exact duplicate gets the
 * stored receipt again, the same id with other bytes is GNC_REPLAY, an envelope older than the acceptance
 * window or ahead of the receiver's clock by more than `clockSkewSeconds` (gnc.json) is GNC_CLOCK_SKEW.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNode } from '../../../node/compose.js';
import { sealEnvelope } from '../../../protocol/envelope/seal.js';
import { newMessageId } from '../../../protocol/ids.js';
import { makeNetwork, TEST_RETRY, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
/** KG runs with a tight clock skew, set in its gnc.json. */
const KG_SKEW_SECONDS = 5;
/** Added to KG's clock: lets a test make an envelope stale without predating the sender's certificate. */
let kgClockOffset = 0;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], { start: false });
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
  await kg.node.stop();
  const file = join(kg.dir, 'gnc.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), clockSkewSeconds: KG_SKEW_SECONDS }));
  kg.node = openNode(kg.dir, { apiPort: 0, log: () => undefined, retry: TEST_RETRY, clock: () => Date.now() + kgClockOffset });
  for (const n of [kz, kg]) {
    await n.node.start();
    n.url = n.node.apiUrl;
  }
}, 60_000);
afterAll(async () => net?.close());

function seal(overrides: Record<string, unknown> = {}) {
  return sealEnvelope(
    { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci, ...overrides } as never,
    kz.node.parts.signer(),
  );
}

async function send(bytes: Uint8Array): Promise<{ raw: Buffer; body: { status: string; code?: string; messageId: string } }> {
  // the first dial after KG's restart may race its listener: retry only "unreachable", never a refusal
  const answer = await waitFor(async () => {
    try {
      return await kz.node.session('KG').request(bytes);
    } catch (err) {
      if ((err as { code?: string }).code === 'GNC_PARTNER_UNREACHABLE') return undefined;
      throw err;
    }
  }, 10_000, 'a connection to KG');
  const raw = Buffer.from(answer);
  const jws = JSON.parse(raw.toString('utf8'));
  return { raw, body: JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')).body };
}

describe('replays', () => {
  it('answers an exact replay with the stored receipt and keeps one row', async () => {
    const s = seal();
    const first = await send(s.bytes);
    const again = await send(s.bytes);
    expect(first.body.status).toBe('accepted');
    expect(again.raw.equals(first.raw)).toBe(true);
    expect(kg.node.parts.store.messages.byId(first.body.messageId)).toHaveLength(1);
  });

  it('rejects the same id with other bytes as GNC_REPLAY', async () => {
    const id = newMessageId();
    expect((await send(seal({ id }).bytes)).body.status).toBe('accepted');
    expect((await send(seal({ id, body: { ...aci, functionalReference: 'REPLAYED-1' } }).bytes)).body).toMatchObject({ status: 'rejected', code: 'GNC_REPLAY' });
  });

  it('rejects a stale envelope older than the acceptance window as GNC_CLOCK_SKEW', async () => {
    const s = seal();
    kgClockOffset = kg.node.parts.config.maxMessageAgeHours * 3_600_000 + 60_000;
    try {
      expect((await send(s.bytes)).body).toMatchObject({ status: 'rejected', code: 'GNC_CLOCK_SKEW' });
    } finally {
      kgClockOffset = 0;
    }
  });
});

describe('clock skew from gnc.json', () => {
  it('reads clockSkewSeconds from the config file', () => {
    expect(kg.node.parts.config.clockSkewSeconds).toBe(KG_SKEW_SECONDS);
  });

  it('rejects an envelope ahead of the clock by more than the configured skew', async () => {
    const created = new Date(Date.now() + (KG_SKEW_SECONDS + 30) * 1000).toISOString();
    expect((await send(seal({ created }).bytes)).body).toMatchObject({ status: 'rejected', code: 'GNC_CLOCK_SKEW' });
  });

  it('accepts an envelope ahead of the clock by less than the configured skew', async () => {
    const created = new Date(Date.now() + 1000).toISOString();
    expect((await send(seal({ created }).bytes)).body.status).toBe('accepted');
  });
});
