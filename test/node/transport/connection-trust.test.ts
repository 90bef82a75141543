/**
 * Trust changes reach open connections: the gater decides at the handshake, and a connection whose peer id no
 * certificate of a pinned partner admits any more is closed with one log line naming the partner, the peer id and
 * why: a revocation taking effect, a certificate ending while the node runs, a certificate of the same node key
 * naming another peer id (messages then go to the new one). Real KZ and KG nodes over libp2p on 127.0.0.1.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { certifyNode, IDENTITY_PATHS, loadIdentity, loadRootKey } from '../../../certs/identity.js';
import { writePrivateFile } from '../../../certs/key-files.js';
import { exportIdentity } from '../../../certs/public-identity.js';
import { freePort } from '../../../node/cli/commands/init.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { signKeyNotice } from '../../../protocol/notice.js';
import { api, finalMessage, networkForFile, restartNode, runCli, waitFor, type TestNode } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

const DAY = 86_400_000;

function connections(n: TestNode, peerId: string): number {
  return n.node.host!.getConnections().filter((c) => c.remotePeer.toString() === peerId).length;
}

/**
 * `from` dials `to` again once neither holds a connection to the other (libp2p would reuse one still open), and
 * the connection does not last: `to`'s gater refuses it (on the dialing side the dial may have returned by then).
 */
async function dialRefused(from: TestNode, to: TestNode, toLog: string[]): Promise<void> {
  const [fromPeer, toPeer] = [from.node.parts.identity.peerId, to.node.parts.identity.peerId];
  const none = (): true | undefined => (connections(from, toPeer) === 0 && connections(to, fromPeer) === 0 ? true : undefined);
  await waitFor(none, 10_000, 'the connection to be closed on both sides');
  const refusals = toLog.filter((l) => l.startsWith(`refused untrusted peer ${fromPeer}`)).length;
  await from.node.host!.dial(to.node.host!.getMultiaddrs(), { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  const refused = (): true | undefined => (toLog.filter((l) => l.startsWith(`refused untrusted peer ${fromPeer}`)).length > refusals ? true : undefined);
  await waitFor(refused, 5_000, 'the gater to refuse the peer');
  await waitFor(none, 5_000, 'the refused connection to be closed');
}

/** Log lines of a node, each with the peer id it names, if any. */
function logInto(lines: string[]): (msg: string, fields?: Record<string, unknown>) => void {
  return (msg, fields) => {
    const peerId = fields?.peerId;
    lines.push(typeof peerId === 'string' && !msg.includes(peerId) ? `${msg} ${peerId}` : msg);
  };
}

/** Node options that put KZ's log lines into `lines` (the other nodes log nowhere). */
const kzLogInto = (lines: string[]) => (c: string) => (c === 'KZ' ? { log: logInto(lines) } : {});

/** The reason given in the line in which KZ says it closed its connections to KG's `peerId`, once it is logged. */
async function closedBecause(lines: string[], peerId: string): Promise<string> {
  const line = await waitFor(() => lines.find((l) => l.startsWith('closed')), 15_000, 'KZ to close the connections to KG');
  const prefix = new RegExp(`^closed (the connection|\\d connections) to KG's peer ${peerId}: `);
  expect(line).toMatch(prefix);
  return line.replace(prefix, '');
}

function patchConfig(dir: string, patch: Record<string, unknown>): void {
  const file = join(dir, 'gnc.json');
  writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), ...patch }, null, 2));
}

/** Submit a declaration from KZ to KG and wait for its final state. */
async function sendToKg(kz: TestNode): Promise<{ id: string; status: string }> {
  const body = example('aci-kz-kg-road');
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body });
  expect(r.status, r.text).toBe(202);
  return { id: r.json.id as string, status: (await finalMessage(kz, r.json.id, 30_000)).status as string };
}

/** KG's node key certified again by KG's root, with other fields. */
function recertify(dir: string, fields: { peerId?: string; addrs?: string[]; now?: number; validityMs?: number }): string {
  const id = loadIdentity(dir);
  return certifyNode(loadRootKey(dir, id.root.thumbprint), id.node, {
    country: id.country, name: id.name, peerId: fields.peerId ?? id.peerId, addrs: fields.addrs ?? id.certPayload.addrs,
    now: fields.now ?? Date.now(), validityMs: fields.validityMs ?? 365 * DAY,
  });
}

/** Pin KG again on KZ (its operator runs `gnc partner add` beside the running node) with this certificate. */
async function repin(kz: TestNode, kgDir: string, base: string, certificate: string): Promise<void> {
  const id = loadIdentity(kgDir);
  const file = join(base, `kg-${Date.now()}.identity.json`);
  writeFileSync(file, JSON.stringify({ ...exportIdentity(id), certificates: [certificate] }));
  const r = await runCli(['partner', 'add', '--dir', kz.dir, file, `--fingerprint=${id.root.thumbprint}`]);
  expect(r.code, r.out.join('\n')).toBe(0);
}

describe('a revocation of the only certificate naming a peer id', () => {
  const lines: string[] = [];
  const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], { nodeOptions: kzLogInto(lines) });

  it('closes its connections once the revocation takes effect, and the peer cannot connect again', async () => {
    expect((await sendToKg(kz)).status).toBe('delivered');
    const peerId = kg.node.parts.identity.peerId;
    expect(connections(kz, peerId)).toBeGreaterThan(0);
    // KG's root revokes the key of this node (its host was compromised) from a few seconds on: KZ learns it at once
    // and closes the connections when it takes effect
    const id = loadIdentity(kg.dir);
    const revokedAt = new Date(Date.now() + 3_000).toISOString();
    const kid = id.node.thumbprint;
    const root = loadRootKey(kg.dir, id.root.thumbprint);
    const notice = signKeyNotice({ v: 1, kind: 'revocation', country: 'KG', kid, reason: 'host compromised', revokedAt }, root.signer);
    const queued = await kg.node.submit.queueControl('KZ', 'key', { action: 'revoke', notice });
    kg.node.dispatcher.notify('KZ');
    expect((await finalMessage(kg, queued.id)).status).toBe('delivered');
    expect(await closedBecause(lines, peerId)).toBe(`node key ${kid}, whose certificate names this peer id, is revoked from ${revokedAt}`);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(revokedAt));
    expect(connections(kz, peerId)).toBe(0);
    await dialRefused(kg, kz, lines);
    expect(lines.filter((l) => l.startsWith('closed'))).toHaveLength(1);
  }, 60_000);
});

describe('a certificate that ends while the node runs', () => {
  const lines: string[] = [];
  const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], {
    // a clock skew of 1 s: the certificate stops counting one second after its end
    prepare: (dirs) => patchConfig(dirs.KZ!, { clockSkewSeconds: 1 }),
    nodeOptions: kzLogInto(lines),
  });

  it('closes the connections of its peer id when it ends (plus the clock skew)', async () => {
    expect((await sendToKg(kz)).status).toBe('delivered');
    const peerId = kg.node.parts.identity.peerId;
    // KZ's operator pins KG again with a certificate of the same key that ends in three seconds
    const certificate = recertify(kg.dir, { validityMs: 3_000 });
    const ends = Date.parse(decodeNodeCertificate(certificate).exp);
    await repin(kz, kg.dir, net.base, certificate);
    const kid = kg.node.parts.identity.node.thumbprint;
    expect(await closedBecause(lines, peerId)).toMatch(new RegExp(`^the certificate naming this peer id \\(node key ${kid}\\) ended at `));
    expect(Date.now()).toBeGreaterThan(ends + 1_000);
    expect(connections(kz, peerId)).toBe(0);
  }, 60_000);
});

describe('a certificate of the same node key naming another peer id', () => {
  const lines: string[] = [];
  const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], { nodeOptions: kzLogInto(lines) });

  it('closes the connections to the old peer id, which cannot connect again, and delivers to the new one', async () => {
    expect((await sendToKg(kz)).status).toBe('delivered');
    const oldPeer = kg.node.parts.identity.peerId;
    // KG moves its node to a new host: the same data dir copied, a new libp2p identity and address, the node key
    // certified again for them. The old node runs on under its old peer id
    await kg.node.stop();
    const dir2 = join(net.base, 'kg2');
    cpSync(kg.dir, dir2, { recursive: true });
    await restartNode(kg);
    // a delivery to the restarted node: KZ holds a live connection to the old peer id
    expect((await sendToKg(kz)).status).toBe('delivered');
    const key = await generateKeyPair('Ed25519');
    const newPeer = peerIdFromPrivateKey(key).toString();
    const addr = `/ip4/127.0.0.1/tcp/${await freePort('127.0.0.1')}`;
    const certificate = recertify(dir2, { peerId: newPeer, addrs: [addr] });
    rmSync(join(dir2, IDENTITY_PATHS.libp2pKey));
    writePrivateFile(join(dir2, IDENTITY_PATHS.libp2pKey), privateKeyToProtobuf(key));
    writeFileSync(join(dir2, IDENTITY_PATHS.certificate), certificate + '\n');
    patchConfig(dir2, { listen: [addr], announce: [addr] });
    const kg2: TestNode = { country: 'KG', dir: dir2, node: kg.node, token: kg.token, url: '' };
    await restartNode(kg2);
    net.nodes.KG2 = kg2; // stopped with the network
    await repin(kz, dir2, net.base, certificate);

    const kid = kg.node.parts.identity.node.thumbprint;
    expect(await closedBecause(lines, oldPeer)).toBe(`the certificate of node key ${kid} names peer id ${newPeer} now`);
    expect(connections(kz, oldPeer)).toBe(0);
    const sent = await sendToKg(kz);
    expect(sent.status).toBe('delivered');
    expect((await api(kg2, 'GET', `/v1/messages/${sent.id}`)).json.direction).toBe('in');
    expect((await api(kg, 'GET', `/v1/messages/${sent.id}`)).status).toBe(404);
    await dialRefused(kg, kz, lines);
    expect(lines.filter((l) => l.startsWith('closed'))).toHaveLength(1);
  }, 90_000);
});
