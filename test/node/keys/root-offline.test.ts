/**
 * The README tells operators to move keys/root.jwk to offline storage after `init`: a real node then starts,
 * exchanges messages and exports its identity with the root's public half alone, and asks for the private key,
 * by name, only for what the root must sign.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_PATHS } from '../../../certs/identity.js';
import { api, makeNetwork, restartNode, runCli, waitFor, type TestNode } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let offline: string;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  await kz.node.stop();
  offline = join(net.base, 'root-offline.jwk'); // outside the data dir, removed with the network
  renameSync(join(kz.dir, IDENTITY_PATHS.rootKey), offline);
  await restartNode(kz);
});
afterAll(async () => net?.close());

describe('a node whose root key is offline', () => {
  it('keeps the root public key beside its certificate from init on', () => {
    expect(existsSync(join(kz.dir, IDENTITY_PATHS.rootKey))).toBe(false);
    const pub = JSON.parse(readFileSync(join(kz.dir, IDENTITY_PATHS.rootPublic), 'utf8')) as Record<string, unknown>;
    expect(pub).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(pub['d']).toBeUndefined();
  });

  it('starts and delivers a signed message to its partner', async () => {
    const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    expect(r.status, r.text).toBe(202);
    const m = await waitFor(async () => {
      const v = (await api(kz, 'GET', `/v1/messages/${r.json.id}`)).json;
      return v.status === 'delivered' ? v : undefined;
    });
    expect(m.receipt.status).toBe('accepted');
  });

  it('exports its public identity', async () => {
    const out = join(net.base, 'kz.identity.json');
    const { code } = await runCli(['identity', 'export', '--dir', kz.dir, '--out', out]);
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).root.fingerprint).toBe(kz.node.parts.identity.root.thumbprint);
  });

  it('asks for the private root key by name when the root must sign (409 GNC_IDENTITY_MISSING)', async () => {
    const r = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Review' });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('GNC_IDENTITY_MISSING');
    expect(r.json.detail).toContain(kz.node.parts.identity.root.thumbprint);
    expect(r.json.detail).toMatch(/offline storage/);
    expect((await api(kz, 'GET', '/v1/agreements/KZ-KG-test')).json.status).toBe('active');
  });

  it('signs again once the key is back, without a restart', async () => {
    renameSync(offline, join(kz.dir, IDENTITY_PATHS.rootKey));
    const r = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Review' });
    expect(r.status, r.text).toBe(202);
    expect(r.json.status).toBe('suspended');
  });
});
