/**
 * Probes of different partners are spread PROBE_SPACING_MS apart, and that spacing does not put one partner's probe
 * behind another partner's far-off one: a partner found unreachable a moment ago is probed on its own first delay, not
 * after the next probe of a partner that has been down for long (whose probes wait up to PROBE_MAX_MS). Real KZ, KG and
 * UZ nodes: KG stays down (a plain TCP listener on its address counts KZ's dials and hangs up), UZ goes down and comes
 * back as a raw libp2p host with UZ's key that listens and never dials, so only KZ's probe can find it back.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Libp2p } from 'libp2p';
import { multiaddr } from '@multiformats/multiaddr';
import { decodeNodeCertificate } from '../../protocol/certificate.js';
import { api, networkForFile, waitFor, type TestNode } from '../helpers/network.js';
import { rawPeer } from '../helpers/raw-peer.js';
import { example } from '../protocol/messages/fixtures.js';

const { nodes } = networkForFile(['KZ', 'KG', 'UZ']);
const submission = (to: string) => ({ to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });

/** Stop `n`, have KZ find it unreachable with a message, then withdraw it: nothing is queued for it, it is probed. */
async function downWithNothingQueued(kz: TestNode, n: TestNode, country: string): Promise<void> {
  await n.node.stop();
  const id = (await api(kz, 'POST', '/v1/messages', submission(country))).json.id as string;
  await waitFor(() => (kz.node.dispatcher.unreachableSince().has(country) ? true : undefined), 20_000, `${country} found unreachable`);
  const withdrawn = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'test' });
  expect(withdrawn.status, withdrawn.text).toBe(200);
}

describe('probes of two partners found unreachable', () => {
  it('probe one found unreachable a moment ago on its own delay, not behind the far-off probe of one down for long', async () => {
    const { KZ: kz, KG: kg, UZ: uz } = nodes;
    await downWithNothingQueued(kz, kg, 'KG');
    // KG's address answers TCP and hangs up: each of KZ's dials there fails, and is counted
    const [ip, port] = multiaddr(decodeNodeCertificate(kg.node.parts.identity.certificate).addrs[0]!).getComponents().map((c) => c.value!);
    let dials = 0;
    const sockets = new Set<Socket>();
    const dead: Server = createServer((s) => {
      dials++;
      sockets.add(s);
      s.on('error', () => undefined);
      s.destroy();
    });
    await new Promise<void>((resolve) => dead.listen(Number(port), ip, resolve));
    let back: Libp2p | undefined;
    try {
      // eight failed probes of KG (backoff 100 ms doubling): its next one is 12.8 to 25.6 s away
      const from = dials;
      await waitFor(() => (dials - from >= 8 ? true : undefined), 60_000, 'eight probes of KG');
      await downWithNothingQueued(kz, uz, 'UZ');
      back = await rawPeer(uz);
      const at = Date.now();
      // the sweep (every 2 s) starts UZ's probing, whose first probe waits 50-100 ms
      await waitFor(() => (kz.node.dispatcher.unreachableSince().has('UZ') ? undefined : true), 30_000, 'KZ to find UZ reachable again');
      expect(Date.now() - at).toBeLessThan(6_000);
      expect(kz.node.dispatcher.unreachableSince().has('KG')).toBe(true);
    } finally {
      await back?.stop();
      for (const s of sockets) s.destroy();
      dead.close();
    }
  }, 120_000);
});
