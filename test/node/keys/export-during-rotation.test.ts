/**
 * An identity export lets a partner that pins from it verify whatever the node signs, at any moment of a key
 * rotation. KZ rotates while UZ (stopped) has not acknowledged the announcement, so KZ keeps signing with the old
 * key; KG pins KZ from an export made then, and messages and receipts flow both ways, before and after KZ switches.
 * And an export made before the rotation, pinned after it, gets the new key from KZ's announcement.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import {
  api, finalMessage, initNode, makeNetwork, openAgreementDraft, pinEachOther, runCli, signAgreementBoth, startTestNode, waitFor,
  type Network, type TestNode,
} from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

async function cli(args: string[]): Promise<string[]> {
  const r = await runCli(args);
  expect(r.code, r.out.join('\n')).toBe(0);
  return r.out;
}

/** The file `gnc identity export` writes for the node in `from` now. */
async function exportFile(base: string, from: string, name: string): Promise<string> {
  const file = join(base, name);
  await cli(['identity', 'export', '--dir', from, '--out', file, '--force']);
  return file;
}

async function pin(dir: string, file: string, partnerDir: string): Promise<void> {
  await cli(['partner', 'add', '--dir', dir, file, '--fingerprint', loadIdentity(partnerDir).root.thumbprint]);
}


async function send(from: TestNode, to: string): Promise<{ status: string; error?: { code: string } }> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  return finalMessage(from, r.json.id as string, 20_000);
}

describe('an identity export made while a key rotation waits for a partner', () => {
  let net: Network;
  let oldKid: string;
  let newKid: string;

  beforeAll(async () => {
    // UZ never starts: KZ's announcement to it stays undelivered, so KZ keeps signing with the old key
    net = await makeNetwork([], { start: false });
    const dirs = { KZ: await initNode(net.base, 'KZ'), UZ: await initNode(net.base, 'UZ') };
    await pinEachOther(dirs, net.base);
    oldKid = loadIdentity(dirs.KZ).node.thumbprint;
    await cli(['keys', 'rotate', '--dir', dirs.KZ]);
    newKid = loadIdentity(dirs.KZ).node.thumbprint;
    const kgDir = await initNode(net.base, 'KG');
    await pin(kgDir, await exportFile(net.base, dirs.KZ, 'kz-during.identity.json'), dirs.KZ);
    await pin(dirs.KZ, await exportFile(net.base, kgDir, 'kg.identity.json'), kgDir);
    await signAgreementBoth({ KZ: dirs.KZ, KG: kgDir }, 'KZ', 'KG', openAgreementDraft('KZ', 'KG'));
    net.nodes.KZ = await startTestNode('KZ', dirs.KZ);
    net.nodes.KG = await startTestNode('KG', kgDir);
    net.dirs.UZ = dirs.UZ;
  }, 60_000);
  afterAll(async () => net?.close());

  it('carries the certificate of the key the node still signs with, beside the new one', () => {
    const file = JSON.parse(readFileSync(join(net.base, 'kz-during.identity.json'), 'utf8')) as { certificates: string[] };
    const kids = file.certificates.map((c) => JSON.parse(Buffer.from(c.split('.')[1]!, 'base64url').toString('utf8')).sub);
    expect(kids).toEqual([newKid, oldKid]);
    expect(net.nodes.KZ!.node.parts.signer().kid).toBe(oldKid);
  });

  it('lets the partner that pinned from it accept what the old key signs, both ways', async () => {
    expect(await send(net.nodes.KZ!, 'KG')).toMatchObject({ status: 'delivered' });
    expect(await send(net.nodes.KG!, 'KZ')).toMatchObject({ status: 'delivered' });
  });

  it('and what the new key signs once the node switched, both ways', async () => {
    const kz = net.nodes.KZ!;
    net.nodes.UZ = await startTestNode('UZ', net.dirs.UZ!);
    await waitFor(() => kz.node.parts.signer().kid === newKid, 20_000, 'KZ to switch to its new key');
    expect(await send(kz, 'KG')).toMatchObject({ status: 'delivered' });
    expect(await send(net.nodes.KG!, 'KZ')).toMatchObject({ status: 'delivered' });
  });
});

describe('an identity export made before a key rotation and pinned after it', () => {
  let net: Network;
  let newKid: string;

  beforeAll(async () => {
    net = await makeNetwork([], { start: false });
    const kzDir = await initNode(net.base, 'KZ');
    const kgDir = await initNode(net.base, 'KG');
    const before = await exportFile(net.base, kzDir, 'kz-before.identity.json');
    await pin(kzDir, await exportFile(net.base, kgDir, 'kg.identity.json'), kgDir);
    await cli(['keys', 'rotate', '--dir', kzDir]);
    newKid = loadIdentity(kzDir).node.thumbprint;
    await pin(kgDir, before, kzDir);
    await signAgreementBoth({ KZ: kzDir, KG: kgDir }, 'KZ', 'KG', openAgreementDraft('KZ', 'KG'));
    net.nodes.KZ = await startTestNode('KZ', kzDir);
    net.nodes.KG = await startTestNode('KG', kgDir);
  }, 60_000);
  afterAll(async () => net?.close());

  it("gives the partner the new key by the node's announcement, and messages flow both ways after the switch", async () => {
    const { KZ: kz, KG: kg } = net.nodes;
    await waitFor(() => kz!.node.parts.signer().kid === newKid, 20_000, 'KZ to switch to its new key');
    expect(await send(kz!, 'KG')).toMatchObject({ status: 'delivered' });
    expect(await send(kg!, 'KZ')).toMatchObject({ status: 'delivered' });
  });
});
