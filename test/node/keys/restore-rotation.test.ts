/**
 * A node restored from a backup taken before key rotations (README step 7), `identity/` and `keys/` kept as they are
 * now: its database records none of the rotations `identity/` holds, and the node says `ROTATION INCOMPLETE` and what
 * to run. KG, a real node, got every rotation before the restore. Following exactly what the node says brings both
 * sides back in step: what it queues KG accepts (no GNC_CERT_INVALID: a key announced under a succeeded root), the
 * rotation completes, messages flow both ways and each side's audit export verifies. Two cases: one node key rotation
 * after the backup; two node key rotations and a root rotation after it.
 */
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { readRotation } from '../../../certs/rotation.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { jwkThumbprint } from '../../../protocol/jwk.js';
import { queryDir as query } from '../../helpers/cli.js';
import { api, finalMessage, networkPerTest, restartNode, runCli, waitFor, type Network, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const network = networkPerTest();

async function send(from: TestNode, to: string): Promise<{ status: string; error?: { code: string } }> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  return finalMessage(from, r.json.id as string, 20_000);
}

/** `gnc keys rotate` beside the running KZ, then KZ signs with the new key (KG acknowledged it). */
async function rotateNode(kz: TestNode): Promise<string> {
  const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
  expect(r.code, r.out.join('\n')).toBe(0);
  const to = (JSON.parse(r.out[0]!) as { current: string }).current;
  await waitFor(() => (kz.node.parts.signer().kid === to ? true : undefined), 20_000, 'KZ to sign with the new key');
  expect((await send(kz, 'KG')).status).toBe('delivered');
  return to;
}

/** The commands `gnc keys status` tells to run, in the order it says them. */
function advised(status: string): string[] {
  return [...status.matchAll(/`(gnc keys rotate [^`]*)`/g)].map((m) => m[1]!);
}

async function exportVerifies(from: TestNode, partner: string, base: string): Promise<void> {
  const file = join(base, `${from.country}-bundle.json`);
  const r = await runCli(['audit', 'export', '--dir', from.dir, '--out', file, '--partner', partner]);
  expect(r.code, r.out.join('\n')).toBe(0);
  expect((await verifyBundle(JSON.parse(readFileSync(file, 'utf8')))).failures).toEqual([]);
}

/** KZ and KG exchange, KZ is backed up, `rotate` runs, then KZ's database is restored from the backup and KZ restarted. */
async function restoredAfter(rotate: (kz: TestNode, kg: TestNode) => Promise<void>): Promise<{ net: Network; kz: TestNode; kg: TestNode }> {
  const net = await network(['KZ', 'KG']);
  const kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  expect((await send(kz, 'KG')).status).toBe('delivered');
  expect((await send(kg, 'KZ')).status).toBe('delivered');
  const backup = join(net.base, 'kz-backup.sqlite');
  expect((await runCli(['backup', '--dir', kz.dir, '--out', backup])).code).toBe(0);
  await rotate(kz, kg);
  // README step 7: stop the node, delete gnc.sqlite-wal and gnc.sqlite-shm, copy the backup over gnc.sqlite, start
  await kz.node.stop();
  for (const f of ['gnc.sqlite-wal', 'gnc.sqlite-shm']) rmSync(join(kz.dir, f), { force: true });
  copyFileSync(backup, join(kz.dir, 'gnc.sqlite'));
  await restartNode(kz);
  return { net, kz, kg };
}

/** Run what `gnc keys status` says to, then both sides are in step. */
async function followAdvice(net: Network, kz: TestNode, kg: TestNode): Promise<void> {
  const status = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
  expect(status).toContain('ROTATION INCOMPLETE');
  // what signs now (the old key: no partner was told of the new one by this database) and what is pending, in agreement
  const { from, to, overlapUntil } = readRotation(kz.dir)!;
  const lines = status.split('\n');
  expect(lines[0]).toBe(`KZ: signing with ${from} (rotation to ${to} INCOMPLETE, see below: it signs from ${overlapUntil} whether partners know it or not)`);
  expect(lines.find((l) => l.startsWith('  ROTATION INCOMPLETE: '))).toContain(`before ${overlapUntil}, when this node starts signing with ${to} whether partners know it or not.`);
  expect(status).toContain('was restored from a backup taken before it and does not record it');
  const commands = advised(status);
  expect(commands.length, status).toBeGreaterThan(0);
  for (const c of commands) {
    const r = await runCli(c.split(' ').slice(1));
    expect(r.code, `${c}: ${r.out.join('\n')}`).toBe(0);
  }
  expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).not.toContain('INCOMPLETE');
  // every key document queued after the restore is accepted by KG
  const queued = query<{ id: string }>(kz.dir, `SELECT id FROM messages WHERE direction = 'out' AND type = 'key'`);
  expect(queued.length).toBeGreaterThan(0);
  for (const { id } of queued) {
    const m = await finalMessage(kz, id, 20_000);
    expect(m.status, JSON.stringify(m)).toBe('delivered');
  }
  const current = loadIdentity(kz.dir).node.thumbprint;
  await waitFor(() => (kz.node.parts.signer().kid === current ? true : undefined), 20_000, 'KZ to sign with its current key');
  const keys = (await runCli(['keys', 'status', '--dir', kz.dir])).out[0]!;
  expect(keys).toBe(`KZ: signing with ${current}`);
  expect((await send(kz, 'KG')).status).toBe('delivered');
  expect((await send(kg, 'KZ')).status).toBe('delivered');
  await exportVerifies(kz, 'KG', net.base);
  await exportVerifies(kg, 'KZ', net.base);
}

describe('a node restored from a backup older than its key rotations', () => {
  it('one node key rotation after the backup: following what the node says brings KZ and KG back in step', async () => {
    const { net, kz, kg } = await restoredAfter(async (kz) => void (await rotateNode(kz)));
    await followAdvice(net, kz, kg);
  }, 120_000);

  it('two node key rotations and a root rotation after the backup: following what the node says brings KZ and KG back in step', async () => {
    const { net, kz, kg } = await restoredAfter(async (kz, kg) => {
      await rotateNode(kz);
      await rotateNode(kz);
      const root = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root', '--json']);
      expect(root.code, root.out.join('\n')).toBe(0);
      const newRoot = (JSON.parse(root.out[0]!) as { current: string }).current;
      await waitFor(() => (kg.node.parts.trust.rootsOf('KZ').map(jwkThumbprint).includes(newRoot) ? true : undefined), 20_000, 'KG to trust the new root');
      expect((await send(kz, 'KG')).status).toBe('delivered');
    });
    await followAdvice(net, kz, kg);
  }, 120_000);
});
