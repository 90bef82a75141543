/**
 * A control envelope the partner refuses as older than its acceptance window on arrival (SPEC section 4, check 15:
 * GNC_CLOCK_SKEW), although the sender's own check judged it young enough to send: sealed again, once, and delivered
 * (SPEC section 6), so the notice inside is not lost. On two real nodes: KG's clock runs ahead of KZ's by less than the
 * clock skew, and the time between KZ's check and the arrival (a suspended machine, a long GC) is a move of the clock
 * both share as the envelope reaches KG (pauseBeforeArrival). A copy refused as too old in turn is final; a business
 * message, and a control envelope refused as ahead of the partner's clock (check 14, the same code), end rejected as
 * before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_AGE_MS } from '../../../protocol/constants.js';
import { api, finalMessage, moveClockWhenIdle, networkPerTest, pauseBeforeArrival, restartNode, runCli, runCliAhead, sharedClockPerTest, type TestNode, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';
import { verifiedExport } from '../audit/helpers.js';

const MINUTE = 60_000;
/** KG's clock runs this far ahead of KZ's: less than the clock skew, so KZ accepts KG's receipts. */
const KG_AHEAD = 4 * MINUTE;
/** The time between KZ's check and the arrival: with KG_AHEAD, the envelope is past KG's window on arrival. */
const PAUSE = 3 * MINUTE;
const AGREEMENT = '/v1/agreements/KZ-KG-test';

const t = sharedClockPerTest();
const { clock } = t;
const kgClock = (): number => clock() + KG_AHEAD;
const networkOf = networkPerTest();

async function network(kzAhead = 0): Promise<{ kz: TestNode; kg: TestNode; log: string[] }> {
  const log: string[] = [];
  const net = await networkOf(['KZ', 'KG'], {
    nodeOptions: (c) => (c === 'KG' ? { clock: kgClock } : { clock: () => clock() + kzAhead, log: (l: string) => void log.push(l) }),
  });
  return { kz: net.nodes.KZ!, kg: net.nodes.KG!, log };
}

/**
 * KG is stopped while `queue` queues a message at KZ; the clocks move until the message is a minute short of KZ's limit
 * (the maximum age less the skew: KZ still sends it); KG comes back, and the envelopes reaching it take `pauses`.
 */
async function agedOnArrival(kz: TestNode, kg: TestNode, pauses: number[], queue: () => Promise<string>): Promise<string> {
  await kg.node.stop();
  const id = await queue();
  await moveClockWhenIdle(t, kz, 'KG', DEFAULT_MAX_MESSAGE_AGE_MS - DEFAULT_CLOCK_SKEW_MS - MINUTE);
  await restartNode(kg, { clock: kgClock });
  pauseBeforeArrival(kg, t, pauses);
  return id;
}

const suspend = (kz: TestNode) => async (): Promise<string> => {
  const r = await api(kz, 'POST', `${AGREEMENT}/suspend`, { reason: 'Review' });
  expect(r.status, r.text).toBe(202);
  return r.json.noticeMessage as string;
};

/**
 * `gnc audit export` of what `n` exchanged with `partner`, run at `n`'s time (`ahead` of the wall clock), then `gnc audit
 * verify` of the bundle under both roots and of `n`'s own log: both pass. The ids of the bundle's envelopes.
 */
async function auditedByCli(n: TestNode, partner: TestNode, ahead: number): Promise<string[]> {
  const file = join(n.dir, '..', `${n.country.toLowerCase()}-bundle.json`);
  const exported = await runCliAhead(ahead, ['audit', 'export', '--dir', n.dir, '--out', file, '--partner', partner.country]);
  expect(exported.code, exported.out.join('\n')).toBe(0);
  const roots = [n, partner].flatMap((x) => ['--root', `${x.country}=${loadIdentity(x.dir).root.thumbprint}`]);
  const verified = await runCliAhead(ahead, ['audit', 'verify', file, ...roots]);
  expect(verified.code, verified.out.join('\n')).toBe(0);
  const log = await runCli(['audit', 'verify', '--dir', n.dir]);
  expect(log.code, log.out.join('\n')).toBe(0);
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as { envelopes: { jws: { payload: string } }[] };
  return bundle.envelopes.map((e) => (JSON.parse(Buffer.from(e.jws.payload, 'base64url').toString('utf8')) as { id: string }).id);
}

/** Message `id` at `n` once it is final, a re-sealed one included. */
async function settled(n: TestNode, id: string): Promise<any> {
  return waitFor(async () => {
    const m = (await api(n, 'GET', `/v1/messages/${id}`)).json;
    return ['delivered', 'rejected', 'expired', 'resealed'].includes(m.status) ? m : undefined;
  }, 20_000, `message ${id} to be final`);
}

describe('a control envelope the partner refuses as too old on arrival', () => {
  it('is sealed again, delivered, and the partner applies the notice', async () => {
    const { kz, kg, log } = await network();
    const id = await agedOnArrival(kz, kg, [PAUSE], suspend(kz));
    const first = await settled(kz, id);
    expect(`${first.status}:${first.receipt?.code ?? ''}`).toBe('resealed:GNC_CLOCK_SKEW');
    expect(first.receipt.status).toBe('rejected');
    const last = await finalMessage(kz, first.resealedAs as string, 20_000);
    expect(`${last.status}:${last.receipt?.code ?? ''}`).toBe('delivered:');
    expect(last.body).toEqual(first.body);
    expect(log.some((l) => l.includes(`${id} to KG (a control envelope) was refused by KG as older than its acceptance window`) && l.includes(last.id))).toBe(true);
    const agreement = (await api(kg, 'GET', AGREEMENT)).json;
    expect(agreement.status).toBe('suspended');
    expect(agreement.notices).toHaveLength(1);
    // KZ holds both envelopes, the refusal and the receipt of the one sealed again; KG the rejection and the notice
    await verifiedExport(kz, 'KG');
    await verifiedExport(kg, 'KZ');
    const atKz = await auditedByCli(kz, kg, t.ahead);
    expect(atKz).toEqual(expect.arrayContaining([id, first.receipt.id, last.id, last.receipt.id]));
    expect(await auditedByCli(kg, kz, t.ahead + KG_AHEAD)).toEqual(expect.arrayContaining([last.id, last.receipt.id]));
  }, 60_000);

  it('is sealed again once: the copy refused as too old in turn ends rejected, and the log says why', async () => {
    const { kz, kg, log } = await network();
    const id = await agedOnArrival(kz, kg, [PAUSE, DEFAULT_MAX_MESSAGE_AGE_MS + MINUTE], suspend(kz));
    const first = await settled(kz, id);
    expect(first.status).toBe('resealed');
    const again = await finalMessage(kz, first.resealedAs as string, 20_000);
    expect(`${again.status}:${again.receipt?.code ?? ''}:${again.resealedAs}`).toBe('rejected:GNC_CLOCK_SKEW:null');
    expect(again.error.reason).toContain(`sealed again from ${id}, which KG refused as too old too, so it is not sealed again`);
    expect(log.some((l) => l.startsWith(`${again.id} to KG (a control envelope) was refused as too old`) && l.includes('not sealed again'))).toBe(true);
    // no third envelope, now or later
    await new Promise((r) => setTimeout(r, 500));
    const notices = kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'out' AND type = 'agreement' AND kind = ?`).pluck().get(first.kind);
    expect(notices).toBe(2);
    expect((await api(kg, 'GET', AGREEMENT)).json.status).not.toBe('suspended');
    // KG holds no envelope of KZ's (two rejections): nothing to export there
    await verifiedExport(kz, 'KG');
  }, 60_000);

  it('leaves a business message refused as too old rejected, as before', async () => {
    const { kz, kg } = await network();
    const id = await agedOnArrival(kz, kg, [PAUSE], async () => {
      const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
      expect(r.status, r.text).toBe(202);
      return r.json.id as string;
    });
    const m = await settled(kz, id);
    expect(`${m.status}:${m.receipt?.code ?? ''}:${m.resealedAs}`).toBe('rejected:GNC_CLOCK_SKEW:null');
  }, 60_000);

  it('leaves one refused as ahead of the partner\'s clock (the same code) rejected: sealed again, it would be refused alike', async () => {
    // KZ's clock runs more than the skew ahead of KG's (KG's receipts are then older than KZ's clock, which it accepts)
    const { kz } = await network(KG_AHEAD + DEFAULT_CLOCK_SKEW_MS + 2 * MINUTE);
    const id = await suspend(kz)();
    const m = await settled(kz, id);
    expect(`${m.status}:${m.receipt?.code ?? ''}:${m.resealedAs}`).toBe('rejected:GNC_CLOCK_SKEW:null');
    expect(m.receipt.reason).toContain('ahead of this node');
  }, 60_000);
});
