/**
 * A node restored from a backup taken before key rotations (README step 7), `identity/` and `keys/` kept as they are
 * now: its database records none of the rotations `identity/` holds, and the node says `ROTATION INCOMPLETE` and what
 * to run. KG, a real node, got every rotation before the restore. Following exactly what the node says brings both
 * sides back in step: what it queues KG accepts (no GNC_CERT_INVALID: a key announced under a succeeded root), the
 * rotation completes, messages flow both ways and each side's audit export verifies. Two cases: one node key rotation
 * after the backup; two node key rotations and a root rotation after it.
 */
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { readRotation } from '../../../certs/rotation.js';
import { queryDir as query } from '../../helpers/cli.js';
import { finalMessage, networkPerTest, runCli, waitFor, type Network, type TestNode } from '../../helpers/network.js';
import { exportVerifies, restoredAfter, rotateNode, rotateRoot, send } from './restore-helpers.js';

const network = networkPerTest();

/** The commands `gnc keys status` tells to run, in the order it says them. */
function advised(status: string): string[] {
  return [...status.matchAll(/`(gnc keys rotate [^`]*)`/g)].map((m) => m[1]!);
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
    const net = await network(['KZ', 'KG']);
    const { kz, kg } = await restoredAfter(net, { after: async (kz) => void (await rotateNode(kz)) });
    await followAdvice(net, kz, kg);
  }, 120_000);

  /** Two node key rotations and a root rotation beside the running KZ, each acknowledged by KG. */
  async function rotateTwiceThenRoot(kz: TestNode, kg: TestNode): Promise<void> {
    await rotateNode(kz);
    await rotateNode(kz);
    await rotateRoot(kz, kg);
  }

  it('two node key rotations and a root rotation after the backup: following what the node says brings KZ and KG back in step', async () => {
    const net = await network(['KZ', 'KG']);
    const { kz, kg } = await restoredAfter(net, { after: rotateTwiceThenRoot });
    await followAdvice(net, kz, kg);
  }, 120_000);

  it('the node key rotation run before the root rotation it must wait for is refused, naming the root rotation, and does nothing', async () => {
    const net = await network(['KZ', 'KG']);
    const { kz, kg } = await restoredAfter(net, { after: rotateTwiceThenRoot });
    const before = (await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n');
    expect(before).toContain('ROOT ROTATION INCOMPLETE');
    // README step 7: run the commands it names in the order it names them; the other order is refused, not half done
    const early = await runCli(['keys', 'rotate', '--dir', kz.dir]);
    expect(early.code, early.out.join('\n')).toBe(2);
    expect(early.out.join('\n')).toMatch(/^error GNC_CONFLICT: The root rotation to \S+ effective \S+ is recorded in identity\/ but not in the database \(gnc\.sqlite\), restored from a backup taken before it: complete it first with `gnc keys rotate --dir \S+ --root`/);
    expect((await runCli(['keys', 'status', '--dir', kz.dir])).out.join('\n')).toBe(before);
    await followAdvice(net, kz, kg);
  }, 120_000);
});
