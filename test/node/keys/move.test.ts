/**
 * A node that moves to another address (host or port) tells its partners with `gnc keys rotate --announce`: the
 * new certificate names the new address, partners dial it once they have the announcement, and the node can then
 * stop listening on the old one. Real KZ and KG nodes over libp2p on 127.0.0.1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../node/cli/commands/init.js';
import { api, finalMessage, networkForFile, restartNode, runCli, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

function setListen(dir: string, listen: string[]): void {
  const file = join(dir, 'gnc.json');
  writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), listen }, null, 2));
}

async function delivered(): Promise<string> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
  expect(r.status, r.text).toBe(202);
  return (await finalMessage(kz, r.json.id, 30_000)).status as string;
}

describe('gnc keys rotate --announce', () => {
  it('refuses a wildcard address, which partners cannot dial (exit 2)', async () => {
    const r = await runCli(['keys', 'rotate', '--dir', kg.dir, '--announce', '/ip4/0.0.0.0/tcp/4001']);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toContain('GNC_CONFIG_INVALID');
    expect(r.out.join('\n')).toContain('wildcard');
  });

  it('moves a partner to its new address: the partner dials it once it has the announcement', async () => {
    const old = (JSON.parse(readFileSync(join(kg.dir, 'gnc.json'), 'utf8')) as { listen: string[] }).listen[0]!;
    const moved = `/ip4/127.0.0.1/tcp/${await freePort('127.0.0.1')}`;
    // 1. listen on both addresses, 2. announce the new one, 3. once partners have it, leave the old one
    await kg.node.stop();
    setListen(kg.dir, [old, moved]);
    await restartNode(kg);
    const r = await runCli(['keys', 'rotate', '--dir', kg.dir, '--announce', moved, '--json']);
    expect(r.code, r.out.join('\n')).toBe(0);
    await waitFor(() => (kz.node.parts.trust.peerOf('KG')?.addrs.join(' ') === moved ? true : undefined), 20_000, 'KZ to learn the new address');
    expect(JSON.parse(readFileSync(join(kg.dir, 'gnc.json'), 'utf8')).announce).toEqual([moved]);
    await kg.node.stop();
    setListen(kg.dir, [moved]);
    await restartNode(kg);
    expect(await delivered()).toBe('delivered');
  }, 90_000);
});
