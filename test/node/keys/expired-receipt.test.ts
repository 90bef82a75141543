/**
 * A receipt signed by a key that has ended since (SPEC section 5), between real nodes whose clocks are moved past the
 * end together (as in expired-held.test.ts, with the roles swapped): KZ's message reached KG, KG stored it and signed
 * its receipt, the receipt was lost, then KG's one-day certificate ended. Once KZ admits KG again (KG rotated, KZ
 * pinned its new identity file) KZ sends the same bytes once more, KG answers the receipt it stored (signed by its
 * ended key, SPEC section 4), and KZ accepts it: the message ends `delivered` with that very receipt, not `expired`
 * after days of retries, and its audit export verifies offline.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { rotateNodeKeys } from '../../../node/keys/service.js';
import { api, finalMessage, loseFirstReceiptAndHold, oneDayKgForFile, outboxSent, runCli, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const DAY = 86_400_000;
const t = oneDayKgForFile('gnc-expired-receipt-');
const { base, nodes, clock } = t;
const kidOf = (jws: Buffer): string => JSON.parse(Buffer.from(JSON.parse(jws.toString()).protected, 'base64url').toString()).kid as string;
const outbox = (id: string): number | undefined => outboxSent(nodes.KZ!, 'KG', id);

describe("a receipt signed by the partner's key before it ended", () => {
  let id = '';
  let oldKid = '';
  let release = (): void => undefined;

  it('is signed and stored by KG, and lost on the way back', async () => {
    // KG commits the first envelope it gets and the connection drops before its receipt leaves; every later one is
    // dropped on arrival, unprocessed, until released
    const kg = nodes.KG!;
    release = loseFirstReceiptAndHold(kg);

    const r = await api(nodes.KZ!, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
    expect(r.status).toBe(202);
    id = r.json.id as string;
    await waitFor(() => kg.node.parts.store.messages.byKey('in', 'KZ', id), 10_000, 'KG to store the message');
    await waitFor(() => (outbox(id) === 1 ? true : undefined), 10_000, `${id} handed over`);
    oldKid = loadIdentity(kg.dir).node.thumbprint;
    const stored = kg.node.parts.store.messages.receipt(kg.node.parts.store.messages.byKey('in', 'KZ', id)!.seq)!;
    expect(stored.status).toBe('accepted');
    expect(kidOf(Buffer.from(stored.jws))).toBe(oldKid);
  }, 30_000);

  it("is accepted by KZ when KG answers the retry with it after KG's key ended: the message ends delivered", async () => {
    const kg = nodes.KG!;
    const kz = nodes.KZ!;
    t.ahead = 2 * DAY;
    await rotateNodeKeys(kg.dir, { clock });
    release();
    await t.pinKgAtKz();

    const delivered = await finalMessage(kz, id, 30_000);
    expect(delivered.status, JSON.stringify(delivered)).toBe('delivered');
    // the very receipt KG signed with its old key when it accepted the message, two days before
    const atKg = kg.node.parts.store.messages.byKey('in', 'KZ', id)!;
    const stored = Buffer.from(kg.node.parts.store.messages.receipt(atKg.seq)!.jws);
    const atKz = kz.node.parts.store.messages.byKey('out', 'KG', id)!;
    const received = Buffer.from(kz.node.parts.store.messages.receipt(atKz.seq)!.jws);
    expect(received.equals(stored)).toBe(true);
    expect(kidOf(received)).toBe(oldKid);
    expect(outbox(id)).toBeUndefined();
    expect(kg.node.parts.store.messages.byId(id)).toHaveLength(1);
  }, 60_000);

  it('leaves an audit export of the message, with that receipt, that verifies offline', async () => {
    const kz = nodes.KZ!;
    const file = join(base, 'delivered.json');
    const e = await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--message', id]);
    expect(e.code, e.out.join('\n')).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    const kids = (bundle.envelopes as { jws: { protected: string } }[]).map((env) => JSON.parse(Buffer.from(env.jws.protected, 'base64url').toString()).kid);
    expect(kids).toContain(oldKid);
    const roots = ['KZ', 'KG'].flatMap((c) => ['--root', `${c}=${loadIdentity(nodes[c]!.dir).root.thumbprint}`]);
    const v = await runCli(['audit', 'verify', file, ...roots]);
    expect(v.out.join('\n')).toContain('GNC evidence bundle: VERIFIED');
    expect(v.code, v.out.join('\n')).toBe(0);
  }, 30_000);
});
