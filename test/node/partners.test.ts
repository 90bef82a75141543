/**
 * Pinning a partner again after its root succession (node/partners.ts), between real nodes: KZ names a successor
 * root over the wire, KG applies it, and KZ's operator hands out a fresh identity export (as the README asks after
 * a key expired). KG accepts an identity of KZ's root in office, which its verified chain leads to from the pin,
 * and refuses a succeeded root or a root outside the chain (GNC_FINGERPRINT_MISMATCH, exit 3).
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../certs/identity.js';
import { jwkThumbprint } from '../../protocol/jwk.js';
import { makeNetwork, runCli, waitFor, type TestNode } from '../helpers/network.js';

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
let oldRoot: string;
let newRoot: string;
/** KZ's identity export after the succession: issued by the new root. */
let current: string;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
  oldRoot = loadIdentity(kz.dir).root.thumbprint;
  const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root', '--json']);
  expect(r.code, r.out.join('\n')).toBe(0);
  newRoot = JSON.parse(r.out[0]!).current as string;
  await waitFor(() => (kg.node.parts.trust.rootsOf('KZ').length === 2 ? true : undefined), 15_000, 'succession at KG');
  current = join(net.base, 'kz-after-succession.identity.json');
  expect((await runCli(['identity', 'export', '--dir', kz.dir, '--out', current])).code).toBe(0);
}, 60_000);
afterAll(async () => net?.close());

describe('gnc partner add for a partner pinned before its root succession', () => {
  it("pins again an identity of the partner's root in office and stores its certificates, keeping the pin where the chain starts", async () => {
    const r = await runCli(['partner', 'add', '--dir', kg.dir, current, `--fingerprint=${newRoot}`]);
    expect(r.code, r.out.join('\n')).toBe(0);
    const store = kg.node.parts.store;
    const certificates = (JSON.parse(readFileSync(current, 'utf8')) as { certificates: string[] }).certificates;
    expect(store.partners.certificates('KZ').map((c) => c.compact)).toEqual(expect.arrayContaining(certificates));
    expect(store.partners.get('KZ')!.fingerprint).toBe(oldRoot);
    kg.node.parts.trust.reload();
    expect(kg.node.parts.trust.rootsOf('KZ').map((j) => jwkThumbprint(j))).toEqual([oldRoot, newRoot]);
  });

  it('refuses an identity of the succeeded root with GNC_FINGERPRINT_MISMATCH, naming the root in office', async () => {
    // the identity file KZ handed out before the succession (written when the test network was set up)
    const r = await runCli(['partner', 'add', '--dir', kg.dir, join(net.base, 'KZ.identity.json'), `--fingerprint=${oldRoot}`]);
    expect(r.code).toBe(3);
    expect(r.out.join('\n')).toContain('GNC_FINGERPRINT_MISMATCH');
    expect(r.out.join('\n')).toContain(`root in office is ${newRoot}`);
  });

  it('refuses a root outside the chain with GNC_FINGERPRINT_MISMATCH, naming the root in office', async () => {
    const rogue = join(net.base, 'rogue-kz');
    expect((await runCli(['init', '--dir', rogue, '--country', 'KZ', '--name', 'Not the Customs of KZ', '--listen', '/ip4/127.0.0.1/tcp/0'])).code).toBe(0);
    const file = join(net.base, 'rogue-kz.identity.json');
    expect((await runCli(['identity', 'export', '--dir', rogue, '--out', file])).code).toBe(0);
    const r = await runCli(['partner', 'add', '--dir', kg.dir, file, `--fingerprint=${loadIdentity(rogue).root.thumbprint}`]);
    expect(r.code).toBe(3);
    expect(r.out.join('\n')).toContain('GNC_FINGERPRINT_MISMATCH');
    expect(r.out.join('\n')).toContain(`root in office ${newRoot}`);
  });
});
