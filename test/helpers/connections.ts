/**
 * What the transport tests of a partner's connections share: a node's open connections with a partner, the exchange
 * stream on one, an ACI submitted and waited for, and two nodes started without a connection between them.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Connection } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL } from '../../protocol/constants.js';
import { decodeNodeCertificate } from '../../protocol/certificate.js';
import { api, waitFor, type TestNode } from './network.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** `n`'s node certificate, decoded (its peer id and addresses). */
export const certified = (n: TestNode) => decodeNodeCertificate(n.node.parts.identity.certificate);

/** `from`'s open connections with `to`, oldest first. */
export const connections = (from: TestNode, to: TestNode): Connection[] =>
  from.node.host!.getConnections(peerIdFromString(certified(to).peerId)).filter((c) => c.status === 'open').sort((a, b) => a.timeline.open - b.timeline.open);

/** Whether connection `c` carries an open exchange stream this node opened. */
export const exchangeStreamOn = (c: Connection): boolean => c.streams.some((s) => s.protocol === EXCHANGE_PROTOCOL && s.direction === 'outbound' && s.status === 'open');

/** Submits the example ACI from `from` to `to` through the API (202); its id. */
export async function submitAci(from: TestNode, to: string): Promise<string> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  return r.json.id as string;
}

/** Waits up to `ms` for `n`'s message `id` to be delivered. */
export const delivered = (n: TestNode, id: string, ms: number, what: string) =>
  waitFor(async () => ((await api(n, 'GET', `/v1/messages/${id}`)).json.status === 'delivered') || undefined, ms, what);

/** KZ and KG with no connection between them: the one of KG's start-up greeting (or of the test before) closed. */
export async function disconnect(kz: TestNode, kg: TestNode): Promise<void> {
  await waitFor(() => connections(kz, kg).length > 0 || undefined, 5000, 'KG\'s greeting at KZ');
  for (const c of connections(kz, kg)) c.abort(new Error('test: start without connections'));
  await waitFor(() => (connections(kz, kg).length === 0 && connections(kg, kz).length === 0) || undefined, 5000, 'KZ and KG disconnected');
}

/** The TCP port of `n`'s certified address. */
export const portOf = (n: TestNode): number => Number(multiaddr(certified(n).addrs[0]!).getComponents()[1]!.value);
