/**
 * Two honest partners that start at the same moment greet each other at once (each dials the other): each then has
 * two connections to the other, within MAX_CONNECTIONS_PER_PEER, none closed for another, and both deliver both ways, round after
 * round of restarts of both together.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CONNECTIONS_PER_PEER } from '../../../protocol/constants.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { api, makeNetwork, restartNode, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
}, 30_000);
afterAll(async () => net?.close());

const peerIdOf = (n: TestNode): string => decodeNodeCertificate(n.node.parts.identity.certificate).peerId;
const connectionsTo = (from: TestNode, to: TestNode) => from.node.host!.getConnections().filter((c) => c.remotePeer.toString() === peerIdOf(to) && c.status === 'open');

async function submit(from: TestNode, to: string): Promise<[TestNode, string]> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  return [from, r.json.id as string];
}
const statusOf = async (n: TestNode, id: string): Promise<string> => (await api(n, 'GET', `/v1/messages/${id}`)).json.status as string;

describe('two partners that start and dial each other at the same moment', () => {
  it('keep their connections and deliver both ways, restart after restart', async () => {
    const logs: string[] = [];
    const log = (m: string): void => void logs.push(m);
    for (let round = 0; round < 4; round++) {
      await Promise.all([kz.node.stop(), kg.node.stop()]);
      await Promise.all([restartNode(kz, { log }), restartNode(kg, { log })]);
      const sent = await Promise.all([0, 1, 2].flatMap(() => [submit(kz, 'KG'), submit(kg, 'KZ')]));
      await waitFor(async () => ((await Promise.all(sent.map(([n, id]) => statusOf(n, id)))).every((s) => s === 'delivered') || undefined), 10_000, `delivery both ways, round ${round}`);
      expect(connectionsTo(kz, kg).length).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_PEER);
      expect(connectionsTo(kg, kz).length).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_PEER);
    }
    expect(logs.filter((l) => l.includes('closed the oldest connection'))).toEqual([]);
  }, 60_000);
});
