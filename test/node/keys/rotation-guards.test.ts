/**
 * What `gnc keys` refuses while a rotation waits for a partner (KG is stopped, so KZ's announcement stays
 * queued): a second rotation, which would make KZ sign with a key KG has not acknowledged; revoking the key KZ
 * is about to switch to; a revocation time that is not an unambiguous instant. And a root succession with the
 * root kept offline is refused before a successor root key is written.
 */
import { readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { makeNetwork, runCli, type TestNode } from '../../helpers/network.js';

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let oldKid: string;
let pendingKid: string;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  await net.nodes.KG!.node.stop();
  oldKid = loadIdentity(kz.dir).node.thumbprint;
  const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
  expect(r.code, r.out.join('\n')).toBe(0);
  pendingKid = loadIdentity(kz.dir).node.thumbprint;
}, 60_000);
afterAll(async () => net?.close());

describe('gnc keys while a rotation waits for a partner', () => {
  it('refuses a second rotation until the first has completed (exit 2, GNC_CONFLICT)', async () => {
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toContain(`GNC_CONFLICT: The rotation to key ${pendingKid} is still waiting`);
    expect(loadIdentity(kz.dir).node.thumbprint).toBe(pendingKid);
    expect(kz.node.parts.signer().kid).toBe(oldKid);
  });

  it('refuses to revoke the key it still signs with, saying to wait for the rotation under way, not to rotate again', async () => {
    const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', oldKid, '--reason', 'compromised']);
    expect(r.code).toBe(2);
    const said = r.out.join('\n');
    expect(said).toContain(`GNC_CONFLICT: Key ${oldKid} is the key this node signs with: the rotation to ${pendingKid} is under way: wait until`);
    // the advice it gives is one that works: a second `gnc keys rotate` now is refused (the case above)
    expect(said).not.toContain('rotate first');
    expect(kz.node.parts.signer().kid).toBe(oldKid);
  });

  it('refuses to revoke the key it is rotating to (exit 2, GNC_CONFLICT)', async () => {
    const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', pendingKid, '--reason', 'typed the wrong kid']);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toContain('is the key this node is rotating to');
  });

  for (const at of ['1', '2026-03-01', 'March 1, 2026 08:00']) {
    it(`refuses --at ${JSON.stringify(at)}, which is no RFC 3339 instant with its zone (exit 2, GNC_CONFIG_INVALID)`, async () => {
      const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', oldKid, '--reason', 'test', '--at', at]);
      expect(r.code).toBe(2);
      expect(r.out.join('\n')).toContain('GNC_CONFIG_INVALID: --at must be an RFC 3339 time');
      expect(r.out[0]).toMatch(/: fix --at, then run the command again\.$/);
    });
  }
});

describe('gnc keys rotate --root with the root key offline', () => {
  it('asks for the root key before it writes a successor root key (exit 4, GNC_IDENTITY_MISSING)', async () => {
    const listing = () => [...readdirSync(join(kz.dir, 'keys')), ...readdirSync(join(kz.dir, 'identity'))].sort();
    const offline = join(net.base, 'kz-root-offline.jwk');
    renameSync(join(kz.dir, 'keys', 'root.jwk'), offline);
    try {
      const before = listing();
      const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root']);
      expect(r.code).toBe(4);
      expect(r.out.join('\n')).toContain('GNC_IDENTITY_MISSING');
      expect(listing()).toEqual(before);
    } finally {
      renameSync(offline, join(kz.dir, 'keys', 'root.jwk'));
    }
  });
});
