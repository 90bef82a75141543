/**
 * The sender's log while a partner is down, between real nodes: every queued message fails for the same reason,
 * so the operator gets one line when the partner becomes unreachable and one when it is back, not a line per
 * message (a queue of thousands during an outage would flood the log and the SIEM behind it).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { EXCHANGE_PROTOCOL } from '../../../protocol/constants.js';
import { api, makeNetwork, waitFor } from '../../helpers/network.js';
import { rawPeer } from '../../helpers/raw-peer.js';
import { example } from '../../protocol/messages/fixtures.js';

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };
const lines: string[] = [];
let net: Awaited<ReturnType<typeof makeNetwork>> | undefined;
afterAll(async () => net?.close());

describe('a partner that is down while messages are queued for it', () => {
  it('is logged once when it becomes unreachable and once when it is back, whatever the number of messages', async () => {
    net = await makeNetwork(['KZ', 'KG'], { start: false, nodeOptions: (c) => (c === 'KZ' ? { log: (m: string) => void lines.push(m) } : {}) });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await kz.node.start();
    kz.url = kz.node.apiUrl;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await api(kz, 'POST', '/v1/messages', submission)).json.id as string);
    const status = (id: string): string | undefined => kz.node.parts.store.messages.byId(id)[0]?.status;
    await waitFor(() => ids.every((id) => status(id) === 'retrying') || undefined, 20_000, 'every message to have failed once');
    await kg.node.start();
    await waitFor(() => ids.every((id) => status(id) === 'delivered') || undefined, 30_000, 'every message to be delivered');
    const about = lines.filter((l) => l.includes('KG'));
    expect(about.filter((l) => l.includes('unreachable'))).toHaveLength(1);
    expect(about[0]).toContain('partner KG is unreachable (GNC_PARTNER_UNREACHABLE: Cannot reach KG');
    expect(about.filter((l) => l.includes('reachable again'))).toHaveLength(1);
    expect(about.filter((l) => ids.some((id) => l.includes(id)))).toEqual([]);
  });

  it('says so when the partner\'s node answers but does not speak the exchange protocol (another version), not "cannot reach"', async () => {
    lines.length = 0;
    await net?.close();
    net = await makeNetwork(['KZ', 'KG'], { start: false, nodeOptions: (c) => (c === 'KZ' ? { log: (m: string) => void lines.push(m) } : {}) });
    const kz = net.nodes.KZ!;
    // KG's address and peer id (its real libp2p key), a host that serves no exchange protocol: a node of another version
    const other = await rawPeer(net.nodes.KG!);
    try {
      await kz.node.start();
      kz.url = kz.node.apiUrl;
      const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
      const m = await waitFor(async () => {
        const r = await api(kz, 'GET', `/v1/messages/${id}`);
        return r.json.status === 'retrying' ? r.json : undefined;
      }, 10_000, 'the first attempt to fail');
      expect(m.error.code).toBe('GNC_PARTNER_UNREACHABLE');
      expect(m.error.reason).toMatch(/^KG's node at \/ip4\/127\.0\.0\.1\/tcp\/\d+ answered but/);
      expect(m.error.reason).toContain(`answered but does not speak ${EXCHANGE_PROTOCOL}: it runs another version of the exchange protocol (or is no GNC node). Ask KG which version it runs`);
      expect(lines.filter((l) => l.includes('partner KG is unreachable'))[0]).toContain('does not speak');
    } finally {
      await other.stop();
    }
  });
});
