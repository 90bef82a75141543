/**
 * A partner found unreachable (and probed, nothing queued for it) that is removed and pinned again is not told
 * unreachable from before its removal (Dispatcher.forget), also when the node restarted since it was found so: the mark
 * then comes from the database (start), and the partner had nothing queued or on the wire after the restart. Real KZ
 * and KG nodes; KG stays down; the removal and the pinning again by the CLI (`gnc partner remove`, `gnc partner add`).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../certs/identity.js';
import { api, networkForFile, restartNode, runCli, waitFor } from '../helpers/network.js';
import { example } from '../protocol/messages/fixtures.js';
import { SWEEP_INTERVAL_MS } from '../../node/outbound/dispatcher.js';

const { net, nodes } = networkForFile(['KZ', 'KG']);

describe('a partner found unreachable before a restart, then removed and pinned again', () => {
  it('is not told unreachable from before its removal', async () => {
    const { KZ: kz, KG: kg } = nodes;
    await kg.node.stop();
    const id = (await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') })).json.id as string;
    await waitFor(() => (kz.node.dispatcher.unreachableSince().has('KG') ? true : undefined), 20_000, 'KG found unreachable');
    expect((await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'test' })).status).toBe(200);
    await kz.node.stop();
    await restartNode(kz);
    const before = kz.node.dispatcher.unreachableSince().get('KG');
    expect(before).toBeDefined();

    const removed = await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'KG left', '--despite-agreement']);
    expect(removed.code, removed.out.join('\n')).toBe(0);
    await waitFor(() => (kz.node.parts.trust.isPartner('KG') ? undefined : true), 10_000, 'KZ to see the removal');
    // a sweep or two: what KZ kept about KG goes
    await new Promise((r) => setTimeout(r, 2 * SWEEP_INTERVAL_MS + 500));
    const pin = ['partner', 'add', '--dir', kz.dir, join(net.base, 'KG.identity.json'), `--fingerprint=${loadIdentity(kg.dir).root.thumbprint}`];
    const again = await runCli(pin);
    expect(again.code, again.out.join('\n')).toBe(0);
    await waitFor(() => (kz.node.parts.trust.isPartner('KG') ? true : undefined), 10_000, 'KZ to see KG pinned again');
    expect(kz.node.dispatcher.unreachableSince().get('KG')).toBeUndefined();
  }, 90_000);
});
