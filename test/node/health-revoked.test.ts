/**
 * GET /v1/health says GNC_KEY_REVOKED when the key this node signs with is revoked and no other key signs: here KG's
 * identity was restored from a copy older than its rotation and the revocation of its old key (an operator's restore of
 * the wrong backup), so the node signs again with the key partners refuse. Real KZ and KG nodes, real `gnc keys`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IDENTITY_PATHS, loadIdentity } from '../../certs/identity.js';
import { api, networkForFile, restartNode, runCli, waitFor } from '../helpers/network.js';

const { nodes } = networkForFile(['KZ', 'KG']);

describe('GET /v1/health of a node signing with a revoked key', () => {
  it('is ok while the key that signs is not revoked, and says GNC_KEY_REVOKED once it is', async () => {
    const kg = nodes.KG;
    const certificate = join(kg.dir, IDENTITY_PATHS.certificate);
    const older = readFileSync(certificate);
    const oldKid = loadIdentity(kg.dir).node.thumbprint;
    const rotated = await runCli(['keys', 'rotate', '--dir', kg.dir, '--json']);
    expect(rotated.code, rotated.out.join('\n')).toBe(0);
    const { current } = JSON.parse(rotated.out[0]!) as { current: string };
    await waitFor(() => (kg.node.parts.signer().kid === current ? true : undefined), 20_000, 'the switch to the new key');
    const revoked = await runCli(['keys', 'revoke', '--dir', kg.dir, '--kid', oldKid, '--reason', 'retired after rotation']);
    expect(revoked.code, revoked.out.join('\n')).toBe(0);
    expect((await api(kg, 'GET', '/v1/health')).json).toMatchObject({ status: 'ok', checks: [], kid: current });

    await kg.node.stop();
    writeFileSync(certificate, older);
    await restartNode(kg);
    const h = await api(kg, 'GET', '/v1/health');
    expect(h.status, h.text).toBe(200);
    expect(h.json).toMatchObject({ status: 'degraded', kid: oldKid });
    expect(h.json.checks.map((c: { code: string }) => c.code)).toEqual(['GNC_KEY_REVOKED']);
    expect(h.json.checks[0].detail).toMatch(new RegExp(`^This node's signing key ${oldKid} is revoked from .*gnc keys rotate`));
  }, 60_000);
});
