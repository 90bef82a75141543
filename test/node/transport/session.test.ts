/**
 * PartnerSession against a partner that stops reading: a real KZ node sends to a raw libp2p host that holds
 * KG's libp2p key on KG's certified address and pauses every exchange stream (never grants the Yamux window).
 * The sending node must fail those requests for a retry, mark them as possibly held by the partner, and keep
 * running; before the fix the receipt timer rejected a promise nobody handled yet and the process exited.
 * Time limits are shortened through NodeOptions.transport (production: 30 s each).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import type { Stream } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { rawPeer } from '../../helpers/raw-peer.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** An ACI of 600 goods items, about 230 KB of JSON: a few of them fill a stream's 256 KiB Yamux window. */
function largeAci(): Record<string, unknown> {
  const item = (aci['goodsItems'] as Record<string, unknown>[])[0]!;
  const goodsItems = Array.from({ length: 600 }, (_, i) => ({ ...item, sequence: i + 1 }));
  return { ...aci, goodsItems, goodsItemCount: 600, totalPackages: 600 * 300, totalGrossMass: { value: 600 * 15060, unit: 'KGM' } };
}

const DRAIN_MS = 1000;
const RECEIPT_MS = 300;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let hostile: Libp2p;
/** Exchange streams the hostile KG was opened, all paused. */
const held: Stream[] = [];
const kzLog: string[] = [];

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], {
    nodeOptions: (c) => (c === 'KZ' ? { transport: { drainTimeoutMs: DRAIN_MS, receiptTimeoutMs: RECEIPT_MS }, log: (m: string) => void kzLog.push(m) } : {}),
  });
  kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  await kg.node.stop();
  hostile = await rawPeer(kg);
  await hostile.handle(EXCHANGE_PROTOCOL, (stream: Stream) => {
    stream.pause(); // reads nothing: no window update ever goes back to KZ
    held.push(stream);
  }, { maxInboundStreams: 1024 });
}, 30_000);
afterAll(async () => {
  await hostile?.stop();
  await net?.close();
});

describe('PartnerSession with a partner that stops reading', () => {
  it('fails the requests for a retry with GNC_PARTNER_UNREACHABLE and keeps the node serving its API', async () => {
    const body = largeAci();
    const ids: string[] = [];
    for (let i = 0; i < 64; i++) {
      const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body });
      expect(r.status).toBe(202);
      ids.push(r.json.id as string);
    }
    // the messages on the wire have been tried and failed (the first attempt waits out the drain limit), and KG is found
    // unreachable: the rest wait for its next attempt, one at a time
    await waitFor(() => ((kz.node.parts.store.db.prepare('SELECT COUNT(*) FROM outbox WHERE attempts > 0').pluck().get() as number) > 0 && kz.node.dispatcher.unreachableSince().has('KG')) || undefined, 20_000, 'a failed attempt');
    const m = await api(kz, 'GET', `/v1/messages/${ids[0]}`);
    expect(m.status).toBe(200);
    expect(m.json.status).toMatch(/^(retrying|sending)$/);
    const retrying = await waitFor(async () => {
      for (const id of ids) {
        const r = await api(kz, 'GET', `/v1/messages/${id}`);
        if (r.json.status === 'retrying') return r.json;
      }
      return undefined;
    }, 10_000, 'a message in status retrying');
    expect(retrying.error.code).toBe('GNC_PARTNER_UNREACHABLE');
    expect(held.length).toBeGreaterThan(0);
    expect(kzLog.some((l) => l.includes('the partner read nothing'))).toBe(true);
  }, 40_000);

  it('marks a message whose frame was handed to the stream as possibly held by the partner', async () => {
    // sent = 1: if its agreement ends now, it goes again to learn its fate instead of expiring as never sent
    const count = (where: string): number => kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM outbox WHERE ${where}`).pluck().get() as number;
    await waitFor(() => count('attempts > 0 AND sent = 0') === 0 || undefined, 10_000, 'sent flags');
    // every message tried is marked (and those on the wire now, whose attempt has not ended yet)
    expect(count('attempts > 0')).toBeGreaterThan(0);
    expect(count('sent = 1')).toBeGreaterThanOrEqual(count('attempts > 0'));
  }, 20_000);
});
