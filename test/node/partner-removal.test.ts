/**
 * Ending a partnership (`gnc partner remove`) on real KZ and KG nodes over libp2p on 127.0.0.1, run beside the
 * running node as an operator would: refused while an agreement binds the partner (unless --despite-agreement); from
 * then on the partner's connection is closed with one log line and its envelopes refused; what was queued for it, a
 * control envelope included, ends withdrawn and is never sealed again; its evidence stays (a bundle of a message
 * exchanged before verifies); `gnc partner add` makes it a partner again. The same removal by the local API
 * (`POST /v1/partners/{country}/remove`, admin scope), applied by the running node before it answers.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GncError } from '../../protocol/errors.js';
import { rotateNodeKeys } from '../../node/keys/service.js';
import { removedBy } from '../../node/partners.js';
import { Store } from '../../node/store/store.js';
import { loadIdentity } from '../../certs/identity.js';
import { api, finalMessage, networkPerTest, restartNode, runCli, waitFor, type TestNode } from '../helpers/network.js';
import { example } from '../protocol/messages/fixtures.js';
import { verifiedExport } from './audit/helpers.js';

const DAY = 86_400_000;
const AGREEMENT = '/v1/agreements/KZ-KG-test';

const network = networkPerTest();

function connections(n: TestNode, peerId: string): number {
  return n.node.host!.getConnections().filter((c) => c.remotePeer.toString() === peerId).length;
}

async function sendToKg(kz: TestNode): Promise<string> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
  expect(r.status, r.text).toBe(202);
  return r.json.id as string;
}

describe('gnc partner remove', () => {
  it('is refused while an agreement with the partner is in force, and names the way out', async () => {
    const net = await network(['KZ', 'KG']);
    const r = await runCli(['partner', 'remove', '--dir', net.dirs.KZ!, 'KG', '--reason', 'Pilot ended']);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toMatch(/GNC_CONFLICT: KG is a party to KZ-KG-test@1 \(active\): terminate it first .*--despite-agreement/);
    expect(net.nodes.KZ!.node.parts.trust.isPartner('KG')).toBe(true);
    expect((await runCli(['partner', 'remove', '--dir', net.dirs.KZ!, 'UZ', '--reason', 'x'])).out.join('\n')).toMatch(/GNC_PARTNER_UNKNOWN: UZ is not a partner/);
  }, 60_000);

  it('closes the open connection, refuses the partner, keeps its evidence, and pins it again with partner add', async () => {
    const lines: string[] = [];
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { log: (m) => void lines.push(m) } : {}) });
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    const before = await sendToKg(kz);
    expect((await finalMessage(kz, before, 30_000)).status).toBe('delivered');
    // the agreement ends first, and its notice reaches KG while KG is pinned
    const t = await api(kz, 'POST', `${AGREEMENT}/terminate`, { reason: 'Pilot ended' });
    expect(t.status, t.text).toBe(202);
    expect((await finalMessage(kz, t.json.noticeMessage as string, 30_000)).status).toBe('delivered');
    const kgPeer = kg.node.parts.identity.peerId;
    expect(connections(kz, kgPeer)).toBeGreaterThan(0);

    const r = await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'Pilot ended']);
    expect(r.out.join('\n')).toMatch(/^Removed KG \(Customs of KG\) at \S+: trusted no more; 0 queued message\(s\) withdrawn/);
    expect(r.code).toBe(0);
    const closed = await waitFor(() => lines.find((l) => l.startsWith('closed')), 15_000, 'KZ to close the connection to KG');
    expect(closed).toMatch(new RegExp(`^closed (the connection|\\d connections) to KG's peer ${kgPeer}: KG is no longer a pinned partner$`));
    expect(lines.filter((l) => l.startsWith('closed'))).toHaveLength(1);
    await waitFor(() => (connections(kz, kgPeer) === 0 ? true : undefined), 10_000, 'no connection to KG');
    // KG's envelopes: its node key resolves no more at KZ (GNC_KEY_UNKNOWN), and KG's next one, a key announcement,
    // does not get through (KZ's gater refuses KG's peer)
    expect(kz.node.parts.trust.resolveKey(kg.node.parts.signer().kid)).toBeUndefined();
    const rotated = await rotateNodeKeys(kg.dir, {});
    const announcement = rotated.announcements.KZ!;
    await waitFor(async () => ((await api(kg, 'GET', `/v1/messages/${announcement}`)).json.status === 'retrying' ? true : undefined), 15_000, 'KG to fail to deliver');
    expect(kz.node.parts.store.messages.byKey('in', 'KG', announcement)).toBeUndefined();
    // nothing deleted: the partner is listed as removed, and the evidence of the message before still verifies
    const list = await runCli(['partner', 'list', '--dir', kz.dir]);
    expect(list.out.join('\n')).toMatch(/^KG {2}Customs of KG .* REMOVED \S+ \(Pilot ended\)$/m);
    expect((await runCli(['partner', 'list', '--dir', kz.dir, '--pinned'])).out.join('\n')).not.toMatch(/^KG /m);
    const partners = await api(kz, 'GET', '/v1/partners');
    expect(partners.json.items[0].removed).toMatchObject({ reason: 'Pilot ended' });
    expect((await api(kz, 'GET', '/v1/health')).json.partners).toBe(0);
    // a submission to it says it was removed, not only that it is no partner
    const refused = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ code: 'GNC_PARTNER_UNKNOWN' });
    expect(refused.json.detail).toMatch(/^KG was removed as a partner of this node at \S+ \(gnc partner remove\): nothing is sent to it\. Pin it again with `gnc partner add`/);
    expect((await api(kz, 'GET', `/v1/messages/${before}`)).json.status).toBe('delivered');
    await verifiedExport(kz, 'KG');
    // pinned again: KG is a partner, and its queued announcement gets through
    const file = join(net.base, 'KG.identity.json');
    const again = await runCli(['partner', 'add', '--dir', kz.dir, file, `--fingerprint=${loadIdentity(kg.dir).root.thumbprint}`]);
    expect(again.out.join('\n')).toMatch(/^Pinned KG \(Customs of KG\), a partner again \(removed at \S+\)/);
    expect((await runCli(['partner', 'list', '--dir', kz.dir, '--pinned'])).out.join('\n')).toMatch(/^KG {2}Customs of KG /m);
    expect((await finalMessage(kg, announcement, 30_000)).status).toBe('delivered');
  }, 90_000);

  it('withdraws what is queued for the partner, a control envelope included, and never seals it again', async () => {
    let offset = 0;
    const clock = (): number => Date.now() + offset;
    // KZ retries after a minute: once the first attempt failed, both messages wait, none on the wire at the removal (the
    // notice, queued once KG was found unreachable, waits for KG's next attempt without one of its own)
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => ({ clock, ...(c === 'KZ' ? { retry: { initialMs: 60_000, maxMs: 60_000 } } : {}) }) });
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    await kg.node.stop();
    const aci = await sendToKg(kz);
    const notice = (await api(kz, 'POST', `${AGREEMENT}/suspend`, { reason: 'Review' })).json.noticeMessage as string;
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${aci}`)).json.status === 'retrying' ? true : undefined), 10_000, `${aci} to be retrying`);
    await waitFor(() => (kz.node.dispatcher.inFlight('KG') === 0 || undefined), 10_000, 'nothing of KG on the wire');
    expect((await api(kz, 'GET', `/v1/messages/${notice}`)).json.status).toBe('queued');
    // the suspended agreement and the undelivered notice each refuse the removal
    const refused = await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'KG left']);
    expect(refused.out.join('\n')).toMatch(/GNC_CONFLICT: KG is a party to KZ-KG-test@1 \(suspended\)/);
    expect(kz.node.dispatcher.unreachableSince().has('KG')).toBe(true);
    const r = await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'KG left', '--despite-agreement']);
    expect(r.code, r.out.join('\n')).toBe(0);
    // the dispatcher lets go of what it kept about KG (KG pinned again is not unreachable since before its removal)
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') ? undefined : true), 10_000, 'KZ to forget that KG was unreachable');
    // and the node its session for KG, which never reached KG since KG stopped
    await waitFor(() => (kz.node.sessions.has('KG') ? undefined : true), 10_000, 'KZ to drop its session for KG');
    expect(r.out.join('\n')).toMatch(/2 queued message\(s\) withdrawn[\s\S]*Not told to KG, and left as they are here: KZ-KG-test@1 \(suspended\)/);
    for (const id of [aci, notice]) {
      const m = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
      expect(m.status).toBe('withdrawn');
      expect(m.withdrawn.reason).toBe('KG was removed as a partner (gnc partner remove): KG left');
    }
    const listed = await api(kz, 'GET', '/v1/messages?status=withdrawn');
    expect(listed.json.items.map((m: { id: string }) => m.id).sort()).toEqual([aci, notice].sort());
    // past the maximum message age, with KG back: nothing is sealed again, nothing sent
    offset = 8 * DAY;
    await restartNode(kg, { clock });
    const outbound = (): number => kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'out'`).pluck().get() as number;
    const count = outbound();
    await new Promise((r) => setTimeout(r, 5_000)); // two outbox sweeps
    expect(outbound()).toBe(count);
    expect(kz.node.parts.store.outbox.count()).toBe(0);
    expect((await api(kz, 'GET', `/v1/messages/${notice}`)).json.status).toBe('withdrawn');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', notice)).toBeUndefined();
    // the withdrawn envelopes stay as sealed, with their `sent` entries: the evidence still verifies
    await verifiedExport(kz, 'KG');
  }, 90_000);

  // the reason names what removed KG: the CLI beside the node, or the node's own API
  const removers = [
    { by: 'gnc partner remove', remove: async (kz: TestNode) => (await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'KG left', '--despite-agreement'])).out.join('\n') },
    { by: 'POST /v1/partners/KG/remove', remove: async (kz: TestNode) => (await api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'KG left', despiteAgreement: true })).text },
  ];
  it.each(removers)('leaves a message on the wire at the removal ($by) to its attempt, then withdraws it saying the partner may hold it and what removed it', async ({ by, remove }) => {
    const net = await network(['KZ', 'KG']);
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    // KG takes the envelope and holds its answer: KZ's message stays on the wire
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const handle = kg.node.receiver.handle.bind(kg.node.receiver);
    let arrived = false;
    kg.node.receiver.handle = async (bytes, peer) => {
      arrived = true;
      await held;
      return handle(bytes, peer);
    };
    const id = await sendToKg(kz);
    // at KG (`sending` alone is not enough: a message is marked so in the commit that queues it, before it is written)
    await waitFor(() => (arrived ? true : undefined), 10_000, 'the message on the wire');
    expect(await remove(kz)).toMatch(/0 queued message\(s\) withdrawn|"withdrawn":\[\]/);
    // the removal closes the connection, which ends the attempt; then the dispatcher withdraws it
    const m = await waitFor(async () => {
      const v = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
      return v.status === 'withdrawn' ? v : undefined;
    }, 15_000, 'the message to be withdrawn');
    expect(m.withdrawn.reason).toBe(`KG is no longer a partner of this node (${by}): the message will not be sent. An earlier attempt handed it to KG's node and no receipt came back: KG may hold it.`);
    expect(m.receipt).toBeNull();
    release();
    // what removed KG is in the file (partner_removals.removed_by), not only in the running process: a restart that
    // withdraws such a message later names it too
    const reopened = Store.open(kz.dir);
    try {
      expect(removedBy(reopened, 'KG')).toBe(by);
    } finally {
      reopened.close();
    }
  }, 60_000);
});

describe('a receipt that comes after the removal of its partner', () => {
  it('is recorded with its message, which ends delivered: signed by the key trusted when the message went', async () => {
    const net = await network(['KZ', 'KG']);
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    expect((await finalMessage(kz, await sendToKg(kz), 30_000)).status).toBe('delivered');
    // KZ reads KG's receipt, and handles it only once it has seen the removal (the message was on the wire)
    const session = kz.node.sessions.get('KG')!;
    const request = session.request.bind(session);
    session.request = async (envelope, onWire) => {
      const receipt = await request(envelope, onWire);
      await waitFor(() => (kz.node.parts.trust.isPartner('KG') ? undefined : true), 15_000, 'KZ to see the removal');
      return receipt;
    };
    const id = await sendToKg(kz);
    await waitFor(() => kg.node.parts.store.messages.byKey('in', 'KZ', id), 10_000, 'KG to accept the message');
    const r = await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'KG left', '--despite-agreement']);
    expect(r.code, r.out.join('\n')).toBe(0);
    const m = await finalMessage(kz, id, 30_000);
    expect(m.status).toBe('delivered');
    const stored = kg.node.parts.store.messages.receipt(kg.node.parts.store.messages.byKey('in', 'KZ', id)!.seq)!;
    expect(m.receipt.id).toBe(stored.receipt_id);
    await verifiedExport(kz, 'KG');
  }, 60_000);
});

describe('a partner pinned again after a removal that withdrew agreement notices', () => {
  it('is queued again the termination it never got, not the suspension the termination supersedes, once', async () => {
    const net = await network(['KZ', 'KG']);
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    await kg.node.stop();
    const suspend = (await api(kz, 'POST', `${AGREEMENT}/suspend`, { reason: 'Review' })).json.noticeMessage as string;
    const terminate = (await api(kz, 'POST', `${AGREEMENT}/terminate`, { reason: 'Pilot ended' })).json.noticeMessage as string;
    const r = await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'KG left', '--despite-agreement']);
    expect(r.out.join('\n')).toMatch(/2 queued message\(s\) withdrawn/);
    const pin = ['partner', 'add', '--dir', kz.dir, join(net.base, 'KG.identity.json'), `--fingerprint=${loadIdentity(kg.dir).root.thumbprint}`];
    const again = await runCli(pin);
    expect(again.code, again.out.join('\n')).toBe(0);
    const text = again.out.join('\n');
    const requeued = new RegExp(`^Queued to KG again, as its removal withdrew them: ${terminate} as (\\S+) \\(agreement messages that still apply\\)`, 'm').exec(text)?.[1];
    expect(requeued, text).toBeDefined();
    expect(text).toContain(`Not queued again: ${suspend}, withdrawn at the removal, since KZ-KG-test@1 is terminated, which supersedes this suspend.`);
    // the withdrawn envelope stays withdrawn and names the one that carries its notice on
    expect((await api(kz, 'GET', `/v1/messages/${terminate}`)).json).toMatchObject({ status: 'withdrawn', resealedAs: requeued });
    expect((await api(kz, 'GET', `/v1/messages/${suspend}`)).json).toMatchObject({ status: 'withdrawn', resealedAs: null });
    // pinned once more: nothing is queued twice
    expect((await runCli(pin)).out.join('\n')).not.toMatch(/^Queued to KG again/m);
    await restartNode(kg);
    expect((await finalMessage(kz, requeued!, 30_000)).status).toBe('delivered');
    expect((await api(kg, 'GET', '/v1/agreements/KZ-KG-test')).json.status).toBe('terminated');
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', suspend)).toBeUndefined();
  }, 90_000);
});

describe('an agreement notice to a removed partner', () => {
  it('is refused before anything is signed or stored, since it cannot reach the partner (GNC_PARTNER_UNKNOWN)', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.dirs.KZ!;
    const removed = await runCli(['partner', 'remove', '--dir', kz, 'KG', '--reason', 'Pilot ended', '--despite-agreement']);
    expect(removed.code, removed.out.join('\n')).toBe(0);
    const held = (): { notices: number; entries: number } => {
      const store = Store.open(kz);
      try {
        return {
          notices: store.db.prepare('SELECT COUNT(*) FROM agreement_notices').pluck().get() as number,
          entries: store.db.prepare('SELECT COUNT(*) FROM evidence').pluck().get() as number,
        };
      } finally {
        store.close();
      }
    };
    const before = held();
    const r = await runCli(['agreement', 'terminate', '--dir', kz, '--id', 'KZ-KG-test', '--reason', 'Pilot ended']);
    // nothing of it applied here: the agreement reads as before, and the log has no entry of a notice never sent
    expect(held()).toEqual(before);
    expect(r.out.join('\n')).toMatch(/GNC_PARTNER_UNKNOWN: .*KG was removed as a partner/);
    expect(r.code).not.toBe(0);
    const list = await runCli(['agreement', 'list', '--dir', kz]);
    expect(list.out.join('\n')).toMatch(/KZ-KG-test.*active/);
  }, 60_000);
});

describe('a submission racing a removal', () => {
  it('is refused once the removal is committed, before the running node has reread its partners (GNC_PARTNER_UNKNOWN)', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    // the row `gnc partner remove` commits beside the running node, written on the node's own connection, so that its
    // trust index (which rereads the file when another connection changed it) still counts KG when the API answers
    kz.node.parts.store.partners.markRemoved('KG', new Date().toISOString(), 'Pilot ended');
    expect(kz.node.parts.trust.isPartner('KG')).toBe(true);
    const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    expect(r.status, r.text).toBe(422);
    expect(r.json.code).toBe('GNC_PARTNER_UNKNOWN');
    expect(r.json.detail).toMatch(/^KG was removed as a partner of this node at \S+ \(gnc partner remove\): nothing is sent to it\./);
    expect(kz.node.parts.store.db.prepare("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND partner = 'KG' AND type = 'aci'").pluck().get()).toBe(0);
  }, 60_000);
});

describe('POST /v1/partners/{country}/remove', () => {
  it('refuses a token without the admin scope and an unknown partner, and changes nothing', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    for (const scope of ['read', 'submit'] as const) {
      const { token } = kz.node.parts.store.tokens.create(`tooling-${scope}`, [scope]);
      const r = await api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'Pilot ended', despiteAgreement: true }, { authorization: `Bearer ${token}` });
      expect(r.status, r.text).toBe(403);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.json.code).toBe('GNC_AUTH_SCOPE');
    }
    const unknown = await api(kz, 'POST', '/v1/partners/UZ/remove', { reason: 'x' });
    expect(unknown.status, unknown.text).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect(unknown.json).toMatchObject({ code: 'GNC_NOT_FOUND', detail: expect.stringMatching(/^UZ is not a partner of this node: GET \/v1\/partners lists/) });
    // the reason is required, as `gnc partner remove --reason` is
    const noReason = await api(kz, 'POST', '/v1/partners/KG/remove', { despiteAgreement: true });
    expect(noReason.status, noReason.text).toBe(422);
    expect(noReason.json.issues[0].path).toBe('/reason');
    expect(kz.node.parts.trust.isPartner('KG')).toBe(true);
    expect(kz.node.parts.store.partners.get('KG')!.removed_at).toBeNull();
  }, 60_000);

  it('is refused (409) under a binding agreement; with despiteAgreement it withdraws what is queued and closes the connection at once', async () => {
    const lines: string[] = [];
    // KZ retries after a minute: once their first attempt failed, the messages wait, none on the wire at the removal
    const net = await network(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { log: (m) => void lines.push(m), retry: { initialMs: 60_000, maxMs: 60_000 } } : {}) });
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    expect((await finalMessage(kz, await sendToKg(kz), 30_000)).status).toBe('delivered');
    const kgPeer = kg.node.parts.identity.peerId;
    expect(connections(kz, kgPeer)).toBeGreaterThan(0);
    // KG, connected, cannot store for now: it answers each envelope with an error frame, and KZ's messages wait
    kg.node.receiver.handle = async () => {
      throw new GncError('GNC_STORAGE_FULL', 'test: the disk is full');
    };
    const queued = [await sendToKg(kz), await sendToKg(kz)];
    await waitFor(async () => {
      const s = await Promise.all(queued.map(async (id) => (await api(kz, 'GET', `/v1/messages/${id}`)).json.status as string));
      return s.every((x) => x === 'queued' || x === 'retrying') && s.includes('retrying') ? true : undefined;
    }, 15_000, 'the messages to wait for a retry');
    expect(connections(kz, kgPeer)).toBeGreaterThan(0);

    const refused = await api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'KG left' });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.json.code).toBe('GNC_CONFLICT');
    expect(refused.json.detail).toMatch(/^KG is a party to KZ-KG-test@1 \(active\): terminate it first \(POST \/v1\/agreements\/KZ-KG-test\/terminate with \{"version": 1, "reason": "\.\.\."\}\) and remove KG once the notice is delivered, .*; or send "despiteAgreement": true to remove KG now/);
    expect(kz.node.parts.trust.isPartner('KG')).toBe(true);

    // a client waiting for one of them is answered when it is withdrawn, not when its wait ends
    const waiting = api(kz, 'GET', `/v1/messages/${queued[0]}?wait=30`);
    const r = await api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'KG left', despiteAgreement: true });
    expect(r.status, r.text).toBe(200);
    // the running node applied it before answering: KG trusted no more, its connection closed with one log line
    expect(kz.node.parts.trust.isPartner('KG')).toBe(false);
    expect(lines.filter((l) => l.startsWith('closed'))).toEqual([expect.stringMatching(new RegExp(`^closed (the connection|\\d connections) to KG's peer ${kgPeer}: KG is no longer a pinned partner$`))]);
    await waitFor(() => (connections(kz, kgPeer) === 0 ? true : undefined), 5_000, 'no connection to KG');
    expect(r.json).toMatchObject({ country: 'KG', name: 'Customs of KG', reason: 'KG left', already: false, agreements: ['KZ-KG-test@1 (active)'] });
    expect([...r.json.withdrawn].sort()).toEqual([...queued].sort());
    const doc = (await api(kz, 'GET', '/v1/openapi.json')).json;
    const schema = z.fromJSONSchema(doc.components.schemas.PartnerRemoval);
    expect(schema.safeParse(r.json).error?.issues ?? []).toEqual([]);
    expect((await waiting).json.status).toBe('withdrawn');
    for (const id of queued) {
      const m = (await api(kz, 'GET', `/v1/messages/${id}`)).json;
      expect(m.status).toBe('withdrawn');
      expect(m.withdrawn.reason).toBe('KG was removed as a partner (POST /v1/partners/KG/remove): KG left');
    }
    expect(kz.node.parts.store.outbox.count()).toBe(0);
    expect((await api(kz, 'GET', '/v1/partners')).json.items[0].removed).toEqual({ at: r.json.removedAt, reason: 'KG left' });

    // a retry after a lost answer is safe: answered with that removal, nothing done again
    const again = await api(kz, 'POST', '/v1/partners/KG/remove', { reason: 'Another reason' });
    expect(again.status, again.text).toBe(200);
    expect(again.json).toEqual({ country: 'KG', name: 'Customs of KG', removedAt: r.json.removedAt, reason: 'KG left', already: true, withdrawn: [], agreements: [] });

    // what is refused after it names the API that removed KG, not the CLI: a submission, and an agreement notice
    const late = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    expect(late.json.code, late.text).toBe('GNC_PARTNER_UNKNOWN');
    expect(late.json.detail).toMatch(/^KG was removed as a partner of this node at \S+ \(POST \/v1\/partners\/KG\/remove\): nothing is sent to it\./);
    const notice = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/terminate', { reason: 'KG left' });
    expect(notice.json.code, notice.text).toBe('GNC_PARTNER_UNKNOWN');
    expect(notice.json.detail).toMatch(/^KG was removed as a partner at \S+ \(POST \/v1\/partners\/KG\/remove\): a terminate notice cannot reach it/);
  }, 90_000);
});
