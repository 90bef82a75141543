/**
 * A node whose own certificate expired (it was down, or nobody rotated in time) gets back in touch with its partners,
 * between real nodes whose clocks are moved past the expiry together. `gnc keys rotate` after expiry certifies a new
 * key that signs at once, the announcement included (the expired key signs nothing); but partners refuse the node's
 * connections, since no valid certificate they hold names its peer id any more (SPEC section 6), so nothing reaches
 * them over the wire until they pin the node's new identity file (`gnc partner add` again). What the expired key
 * sealed and is still queued ends sensibly: a message at once as `expired` GNC_KEY_EXPIRED (partners would refuse it),
 * not after days of retries; a control envelope is sealed again with the new key (`resealed`) and goes on. After the
 * new pin everything else flows, the partner's messages held back meanwhile included.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { rotateNodeKeys } from '../../../node/keys/service.js';
import { api, finalMessage, oneDayKgForFile, openAgreementDraft, restartNode, runCli, waitFor, type TestNode } from '../../helpers/network.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const DAY = 86_400_000;
const t = oneDayKgForFile('gnc-expired-recovery-');
const { base, nodes, clock } = t;
const send = (n: TestNode) => api(n, 'POST', '/v1/messages', { to: n.country === 'KZ' ? 'KG' : 'KZ', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
const kidOf = (jws: Buffer | string): string => JSON.parse(Buffer.from(JSON.parse(jws.toString()).protected, 'base64url').toString()).kid as string;
const outJws = (n: TestNode, partner: string, id: string): Buffer => n.node.parts.store.db.prepare(`SELECT jws FROM (${MESSAGE_SELECT}) WHERE direction = 'out' AND partner = ? AND id = ?`).pluck().get(partner, id) as Buffer;
const message = async (n: TestNode, id: string): Promise<any> => (await api(n, 'GET', `/v1/messages/${id}`)).json;

async function cli(args: string[]): Promise<string[]> {
  const r = await runCli(args);
  expect(r.code, r.out.join('\n')).toBe(0);
  return r.out;
}

describe('a node whose key expired gets back in touch', () => {
  let sealedBefore = '';
  let proposal = '';
  let fromKz = '';
  let announcement = '';
  let retirement = '';
  let oldKid = '';
  let newKid = '';

  it('queues a message sealed with the key before it expires, while the partner is down', async () => {
    const r0 = await send(nodes.KG!);
    expect((await finalMessage(nodes.KG!, r0.json.id as string)).status).toBe('delivered');
    await nodes.KZ!.node.stop();
    const r = await send(nodes.KG!);
    expect(r.status).toBe(202);
    sealedBefore = r.json.id as string;
    // and a control envelope: a proposal of a second agreement
    const draft = join(base, 'second.json');
    writeFileSync(draft, JSON.stringify(openAgreementDraft('KG', 'KZ', { id: 'KG-KZ-second' })));
    await cli(['agreement', 'draft', '--dir', nodes.KG!.dir, draft, '--out', `${draft}.draft`, '--force']);
    await cli(['agreement', 'sign', '--dir', nodes.KG!.dir, `${draft}.draft`, '--propose']);
    proposal = nodes.KG!.node.parts.store.db.prepare(`SELECT id FROM messages WHERE direction = 'out' AND type = 'agreement' ORDER BY seq DESC LIMIT 1`).pluck().get() as string;
    oldKid = loadIdentity(nodes.KG!.dir).node.thumbprint;
    for (const id of [sealedBefore, proposal]) expect(kidOf(outJws(nodes.KG!, 'KZ', id))).toBe(oldKid);
  }, 30_000);

  it('ends the message the expired key sealed at once as expired GNC_KEY_EXPIRED, and keeps the control envelope queued', async () => {
    t.ahead = 2 * DAY;
    const m = await waitFor(async () => {
      const v = await message(nodes.KG!, sealedBefore);
      return v.status === 'expired' ? v : undefined;
    }, 10_000, 'the end of the message sealed with the expired key');
    expect(m.error.code).toBe('GNC_KEY_EXPIRED');
    expect(m.error.reason).toContain('gnc keys rotate');
    expect(m.receipt).toBeNull();
    // nothing can seal it again yet (the node has no valid key): it waits, never rejected nor expired
    await new Promise((res) => setTimeout(res, 1_500));
    expect((await message(nodes.KG!, proposal)).status).toMatch(/^(queued|retrying|sending)$/);
  }, 30_000);

  it('after expiry, rotates to a new key that signs the announcement itself, which the partner cannot take over the wire', async () => {
    await restartNode(nodes.KZ!, { clock });
    // KZ's message to KG, whose key expired: no connection (KZ does not dial a peer id no valid certificate names)
    const r = await send(nodes.KZ!);
    expect(r.status).toBe(202);
    fromKz = r.json.id as string;

    const rotated = await rotateNodeKeys(nodes.KG!.dir, { clock });
    newKid = rotated.current;
    announcement = rotated.announcements.KZ!;
    expect(rotated.previous).toBe(oldKid);
    // the expired key signs nothing: the announcement and the retirement of the old key are signed by the new one
    const queued = nodes.KG!.node.parts.store.db.prepare(`SELECT id FROM messages WHERE direction = 'out' AND type = 'key' ORDER BY seq`).pluck().all() as string[];
    expect(queued[0]).toBe(announcement);
    retirement = queued[1]!;
    for (const id of [announcement, retirement]) expect(kidOf(outJws(nodes.KG!, 'KZ', id))).toBe(newKid);
    // the running node sees the rotation within EXTERNAL_CHANGE_POLL_MS; until then its signer refuses (expired key)
    await waitFor(() => {
      try {
        return nodes.KG!.node.parts.signer().kid === newKid ? true : undefined;
      } catch {
        return undefined;
      }
    }, 10_000, 'the new key signing');

    // key envelopes go ahead of the rest (SPEC section 6): the proposal the expired key sealed waits behind the
    // announcement and the retirement, to be sealed again by the new key when its turn comes
    const order = nodes.KG!.node.parts.store.db.prepare(`SELECT m.id FROM outbox o JOIN messages m ON m.seq = o.seq WHERE o.partner = 'KZ' ORDER BY o.position`).pluck().all() as string[];
    expect(order.slice(0, 3)).toEqual([announcement, retirement, proposal]);

    // KZ's gater refuses KG's peer id: its only certificate KZ knows ended (SPEC section 6), so nothing gets through
    await new Promise((res) => setTimeout(res, 3_000));
    for (const id of [proposal, announcement]) expect((await message(nodes.KG!, id)).status, id).toMatch(/^(queued|retrying|sending)$/);
    expect((await message(nodes.KZ!, fromKz)).status).toMatch(/^(queued|retrying|sending)$/);
    expect(nodes.KZ!.node.parts.store.partners.certificates('KG').map((c) => c.kid)).not.toContain(newKid);
  }, 60_000);

  it('once the partner pins the new identity file, delivers the announcement, the proposal and everything after them', async () => {
    await t.pinKgAtKz();

    for (const id of [announcement, retirement]) expect((await finalMessage(nodes.KG!, id, 20_000)).status, id).toBe('delivered');
    // then the proposal, sealed again by the new key (its first envelope's key has ended)
    const resealed = await waitFor(async () => {
      const v = await message(nodes.KG!, proposal);
      return v.status === 'resealed' ? v : undefined;
    }, 20_000, 'the proposal sealed again');
    proposal = resealed.resealedAs as string;
    expect(kidOf(outJws(nodes.KG!, 'KZ', proposal))).toBe(newKid);
    expect((await finalMessage(nodes.KG!, proposal, 20_000)).status).toBe('delivered');
    expect(nodes.KZ!.node.parts.store.db.prepare(`SELECT id FROM agreements WHERE partner = 'KG'`).pluck().all()).toContain('KG-KZ-second');
    // the expired key is accepted for nothing new: KZ holds the retirement, and the old certificate has ended
    expect(nodes.KZ!.node.parts.trust.resolveKey(oldKid)?.revokedAt).toBeDefined();
    const after = await send(nodes.KG!);
    expect(after.status).toBe(202);
    expect(kidOf(outJws(nodes.KG!, 'KZ', after.json.id as string))).toBe(newKid);
    expect((await finalMessage(nodes.KG!, after.json.id as string, 20_000)).status).toBe('delivered');
    expect((await finalMessage(nodes.KZ!, fromKz, 20_000)).status).toBe('delivered');
  }, 90_000);
});
