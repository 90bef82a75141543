/**
 * A trust change replaces only the sessions it concerns: when UZ rotates its node key, KZ learns the new
 * certificate (a trust change), and KZ's stream to KG, whose peer id and addresses did not change, stays open
 * with whatever is in flight on it. Closing every session on every trust change failed unrelated requests.
 * And a partner's new certificate that is not valid yet here (its clock runs ahead, within the allowed skew)
 * does not make its peer id untrusted meanwhile: the certificate already valid still names it. A partner's
 * certificate naming another partner's peer id or node key is refused: the gater and the dialing would otherwise
 * take one partner's node for the other's. A partner's first certificate, issued by a clock running ahead of this
 * node's, is admitted on connections within the clock skew that envelope opening allows.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifyNode, IDENTITY_PATHS, loadIdentity, loadRootKey, newNodeKey } from '../../../certs/identity.js';
import { rotateNodeKeys } from '../../../node/keys/service.js';
import { api, finalMessage, makeNetwork, networkForFile, runCli, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const { net, nodes: { KZ: kz, UZ: uz } } = networkForFile(['KZ', 'KG', 'UZ'], {}, 90_000);

describe('sessions under trust changes', () => {
  it("keeps the stream to KG open when UZ's node key changes", async () => {
    const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
    expect(r.status).toBe(202);
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${r.json.id}`)).json.status === 'delivered' ? true : undefined), 15_000, 'delivery to KG');
    const session = kz.node.session('KG');
    const rotated = await runCli(['keys', 'rotate', '--dir', uz.dir]);
    expect(rotated.code, rotated.out.join('\n')).toBe(0);
    const newKid = loadIdentity(uz.dir).node.thumbprint;
    await waitFor(() => (kz.node.parts.trust.resolveKey(newKid) ? true : undefined), 20_000, "KZ learning UZ's new key");
    expect(kz.node.session('KG')).toBe(session);
    expect(session.isStale()).toBe(false);
  }, 60_000);

  it("refuses UZ's certificate naming KG's peer id, and KG's messages keep arriving as KG's", async () => {
    const kg = net.nodes.KG!;
    const ids = loadIdentity(uz.dir);
    // UZ's root certifies a key for a node that claims KG's libp2p peer id, valid longer than KG's certificate
    const certificate = certifyNode(loadRootKey(uz.dir, ids.root.thumbprint), newNodeKey(uz.dir), {
      country: 'UZ', name: ids.name, peerId: kg.node.parts.identity.peerId, addrs: ids.certPayload.addrs, now: Date.now(), validityMs: 2 * 365 * 86_400_000,
    });
    const a = await uz.node.submit.queueControl('KZ', 'key', { action: 'announce', certificate });
    uz.node.dispatcher.notify('KZ');
    const announced = await finalMessage(uz, a.id);
    expect(announced.status).toBe('rejected');
    expect(announced.receipt?.code ?? announced.error?.code).toBe('GNC_CERT_INVALID');
    // before, KZ took connections from KG's peer id for UZ's, and refused KG's messages as GNC_SENDER_MISMATCH
    expect(kz.node.parts.trust.peer(kg.node.parts.identity.peerId)?.country).toBe('KG');
    expect(kz.node.parts.trust.peerOf('KG')?.peerId).toBe(kg.node.parts.identity.peerId);
    const r = await api(kg, 'POST', '/v1/messages', { to: 'KZ', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
    expect(r.status).toBe(202);
    const m = await finalMessage(kg, r.json.id);
    expect(m.status).toBe('delivered');
  }, 60_000);
});

describe('certificates naming what another partner was certified for', () => {
  it("refuses UZ's certificate of KG's node key, and KZ dials KG's own node for KG", async () => {
    const kg = net.nodes.KG!;
    const ids = loadIdentity(uz.dir);
    const kgKey = loadIdentity(kg.dir).node; // only its public half is used: UZ has it from KG's certificate
    const certificate = certifyNode(loadRootKey(uz.dir, ids.root.thumbprint), kgKey, {
      country: 'UZ', name: ids.name, peerId: ids.peerId, addrs: ids.certPayload.addrs, now: Date.now(), validityMs: 2 * 365 * 86_400_000,
    });
    const a = await uz.node.submit.queueControl('KZ', 'key', { action: 'announce', certificate });
    uz.node.dispatcher.notify('KZ');
    const announced = await finalMessage(uz, a.id);
    expect(announced.status).toBe('rejected');
    expect(announced.receipt?.code ?? announced.error?.code).toBe('GNC_CERT_INVALID');
    // before, KG's certificate row took UZ's peer id and addresses: KZ sent what was meant for KG to UZ's node
    expect(kz.node.parts.trust.peerOf('KG')?.peerId).toBe(kg.node.parts.identity.peerId);
    expect(kz.node.parts.trust.resolveKey(kgKey.thumbprint)?.country).toBe('KG');
  }, 60_000);
});

describe('a new certificate of a partner whose clock runs ahead', () => {
  let net2: Awaited<ReturnType<typeof makeNetwork>>;
  beforeAll(async () => {
    net2 = await makeNetwork(['KZ', 'KG']);
  }, 60_000);
  afterAll(async () => net2?.close());

  it('keeps the peer trusted and reachable until the new certificate starts', async () => {
    const [kz2, kg2] = [net2.nodes.KZ!, net2.nodes.KG!];
    // KG's clock: a minute ahead of KZ's, well within the 300 s clock skew allowed; its new certificate starts then
    const rotated = await rotateNodeKeys(kg2.dir, { clock: () => Date.now() + 60_000 });
    await waitFor(() => (kz2.node.parts.trust.resolveKey(rotated.current) ? true : undefined), 20_000, "KZ learning KG's new key");
    // until it starts, the certificate in force names KG's peer id: before, the newer one replaced it and KZ
    // refused KG's connections and had no address to dial KG at for that minute
    const peerId = kg2.node.parts.identity.peerId;
    expect(kz2.node.parts.trust.peer(peerId)?.country).toBe('KG');
    expect(kz2.node.parts.trust.peerOf('KG')?.peerId).toBe(peerId);
    const r = await api(kz2, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
    expect(r.status).toBe(202);
    await waitFor(async () => ((await api(kz2, 'GET', `/v1/messages/${r.json.id}`)).json.status === 'delivered' ? true : undefined), 15_000, 'delivery to KG');
    // KG signs its receipts with the old key until the new certificate starts by its own clock: KZ would refuse them
    expect(kg2.node.parts.signer().kid).toBe(rotated.previous);
  }, 60_000);
});

describe("a partner's first certificate, issued by a clock running ahead", () => {
  /** KG's clock runs this far ahead of KZ's: well within the 300 s clock skew allowed. */
  const AHEAD_MS = 60_000;
  const { nodes: { KZ: kz3, KG: kg3 } } = networkForFile(['KZ', 'KG'], {
    // KG's root certifies its node key by KG's clock, before KZ pins KG: KG's only certificate starts a minute
    // after KZ's clock
    prepare: (dirs) => {
      const id = loadIdentity(dirs.KG!);
      const certificate = certifyNode(loadRootKey(dirs.KG!, id.root.thumbprint), id.node, {
        country: 'KG', name: id.name, peerId: id.peerId, addrs: id.certPayload.addrs, now: Date.now() + AHEAD_MS, validityMs: 365 * 86_400_000,
      });
      writeFileSync(join(dirs.KG!, IDENTITY_PATHS.certificate), certificate + '\n');
    },
    nodeOptions: (c) => (c === 'KG' ? { clock: () => Date.now() + AHEAD_MS } : {}),
  });

  it('is admitted on connections both ways, as its envelopes are, and messages flow', async () => {
    expect(kz3.node.parts.trust.peer(kg3.node.parts.identity.peerId)?.country).toBe('KG');
    const toKg = await api(kz3, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
    expect(toKg.status, toKg.text).toBe(202);
    expect((await finalMessage(kz3, toKg.json.id)).status).toBe('delivered');
    const toKz = await api(kg3, 'POST', '/v1/messages', { to: 'KZ', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
    expect(toKz.status, toKz.text).toBe(202);
    expect((await finalMessage(kg3, toKz.json.id)).status).toBe('delivered');
  }, 60_000);
});
