/**
 * What the restore tests share (restore-rotation, restore-revocation): KZ and KG exchanging over real nodes, KZ backed
 * up with `gnc backup` and its database restored as README step 7 says, key rotations beside the running KZ, and
 * each side's audit export verified.
 */
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { jwkThumbprint } from '../../../protocol/jwk.js';
import { api, finalMessage, restartNode, runCli, waitFor, type Network, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** An ACI from `from` to `to`, as it ends. */
export async function send(from: TestNode, to: string): Promise<{ status: string; error?: { code: string } }> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  return finalMessage(from, r.json.id as string, 20_000);
}

/** `gnc keys rotate` beside the running KZ, then KZ signs with the new key (KG acknowledged it): the old key and the new. */
export async function rotateNode(kz: TestNode): Promise<{ previous: string; current: string }> {
  const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
  expect(r.code, r.out.join('\n')).toBe(0);
  const { previous, current } = JSON.parse(r.out[0]!) as { previous: string; current: string };
  await waitFor(() => (kz.node.parts.signer().kid === current ? true : undefined), 20_000, 'KZ to sign with the new key');
  expect((await send(kz, 'KG')).status).toBe('delivered');
  return { previous, current };
}

/** `gnc keys rotate --root` beside the running KZ, then KG trusts the new root and KZ delivers to it. */
export async function rotateRoot(kz: TestNode, kg: TestNode): Promise<void> {
  const root = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root', '--json']);
  expect(root.code, root.out.join('\n')).toBe(0);
  const newRoot = (JSON.parse(root.out[0]!) as { current: string }).current;
  await waitFor(() => (kg.node.parts.trust.rootsOf('KZ').map(jwkThumbprint).includes(newRoot) ? true : undefined), 20_000, 'KG to trust the new root');
  expect((await send(kz, 'KG')).status).toBe('delivered');
}

export async function exportVerifies(from: TestNode, partner: string, base: string): Promise<void> {
  const file = join(base, `${from.country}-bundle.json`);
  const r = await runCli(['audit', 'export', '--dir', from.dir, '--out', file, '--partner', partner]);
  expect(r.code, r.out.join('\n')).toBe(0);
  expect((await verifyBundle(JSON.parse(readFileSync(file, 'utf8')))).failures).toEqual([]);
}

/**
 * In `net`, KZ and KG exchange, `before` runs, KZ is backed up, `after` runs, KZ's database is restored from the backup
 * (README step 7: stop the node, delete gnc.sqlite-wal and gnc.sqlite-shm, copy the backup over gnc.sqlite) and KZ
 * restarted; `stopped` runs on the stopped KZ right after the restore, then with `statusFirst`, `gnc keys status`. What KZ
 * said of the restore: the lines of `gnc keys status` and of its log at start.
 */
export async function restoredAfter(
  net: Network,
  steps: { before?: (kz: TestNode) => Promise<void>; after: (kz: TestNode, kg: TestNode) => Promise<void>; stopped?: (kz: TestNode) => Promise<void>; statusFirst?: boolean },
): Promise<{ kz: TestNode; kg: TestNode; said: string[] }> {
  const kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  expect((await send(kz, 'KG')).status).toBe('delivered');
  expect((await send(kg, 'KZ')).status).toBe('delivered');
  await steps.before?.(kz);
  const backup = join(net.base, 'kz-backup.sqlite');
  expect((await runCli(['backup', '--dir', kz.dir, '--out', backup])).code).toBe(0);
  await steps.after(kz, kg);
  await kz.node.stop();
  for (const f of ['gnc.sqlite-wal', 'gnc.sqlite-shm']) rmSync(join(kz.dir, f), { force: true });
  copyFileSync(backup, join(kz.dir, 'gnc.sqlite'));
  await steps.stopped?.(kz);
  const said = steps.statusFirst ? (await runCli(['keys', 'status', '--dir', kz.dir])).out : [];
  await restartNode(kz, { log: (m) => void said.push(m) });
  return { kz, kg, said };
}
