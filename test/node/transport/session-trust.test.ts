/**
 * A trust change replaces only the sessions it concerns: when UZ rotates its node key, KZ learns the new
 * certificate (a trust change), and KZ's stream to KG, whose peer id and addresses did not change, stays open
 * with whatever is in flight on it. Closing every session on every trust change failed unrelated requests.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { api, makeNetwork, runCli, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let uz: TestNode;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG', 'UZ']);
  kz = net.nodes.KZ!;
  uz = net.nodes.UZ!;
}, 90_000);
afterAll(async () => net?.close());

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
});
