/**
 * `gnc partner add` beside the running node pins the partner and queues what tells it of this node (this node's key
 * state, the agreement messages a removal withdrew) in one transaction: when an envelope cannot be queued, nothing is
 * pinned, the command fails with a GNC_ code and a sentence, and the same command run again pins and queues it all,
 * after which the partner is in step. Nothing else would ever tell a partner pinned without them (the node re-announces
 * nothing at a restart, and a pin raises no alarm). The fault is real: a trigger planted in the node's database refuses
 * the envelope's outbox row. Real nodes, the CLI in this process on KZ's data dir.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../certs/identity.js';
import { queryDir, refuseQueueing } from '../helpers/cli.js';
import { api, finalMessage, initNode, networkPerTest, restartNode, runCli, startTestNode, tempDir, waitFor, type TestNode } from '../helpers/network.js';

const network = networkPerTest();
let base = '';
const running: TestNode[] = [];

afterEach(async () => {
  for (const n of running.splice(0)) await n.node.stop().catch(() => undefined);
  if (base) rmSync(base, { recursive: true, force: true });
  base = '';
});

async function cli(args: string[]): Promise<string[]> {
  const r = await runCli(args);
  expect(r.code, r.out.join('\n')).toBe(0);
  return r.out;
}

/** What `dir` holds of its partner KG and of what it queued: unchanged by a pin that failed. */
const held = (dir: string) => ({
  partners: queryDir<{ country: string; removed_at: string | null }>(dir, 'SELECT p.country, r.removed_at FROM partners p LEFT JOIN partner_removals r ON r.country = p.country'),
  certificates: queryDir<{ kid: string }>(dir, 'SELECT kid FROM certificates ORDER BY kid'),
  out: queryDir<{ id: string; status: string; resealed_as: string | null }>(dir, `SELECT id, status, resealed_as FROM messages WHERE direction = 'out' ORDER BY seq`),
  entries: queryDir<{ n: number }>(dir, 'SELECT COUNT(*) AS n FROM evidence')[0]!.n,
});

const NOT_PINNED = /GNC_INTERNAL: KG was not pinned: .*the test refuses to queue this envelope.*Nothing was stored; run the command again/;

describe('gnc partner add, what it queues in the transaction that pins', () => {
  it("pins nothing when this node's key state cannot be queued; run again, the partner learns this node's current key", async () => {
    base = tempDir();
    const kzDir = await initNode(base, 'KZ');
    const kgDir = await initNode(base, 'KG');
    const oldKid = loadIdentity(kzDir).node.thumbprint;
    const kzFile = join(base, 'kz-before.json');
    await cli(['identity', 'export', '--dir', kzDir, '--out', kzFile]);
    await cli(['partner', 'add', '--dir', kgDir, kzFile, '--fingerprint', loadIdentity(kzDir).root.thumbprint]);
    // KZ has no partner when it rotates: it signs with the new key at once, and KG, pinned from the older file, is
    // told of that key only by what `gnc partner add` queues to it
    await cli(['keys', 'rotate', '--dir', kzDir]);
    const newKid = loadIdentity(kzDir).node.thumbprint;
    const kz = await startTestNode('KZ', kzDir);
    const kg = await startTestNode('KG', kgDir);
    running.push(kz, kg);
    const kgFile = join(base, 'kg.json');
    await cli(['identity', 'export', '--dir', kgDir, '--out', kgFile]);
    const pin = ['partner', 'add', '--dir', kzDir, kgFile, '--fingerprint', loadIdentity(kgDir).root.thumbprint];
    const before = held(kzDir);

    const allow = refuseQueueing(kzDir, 'announce');
    const refused = await runCli(pin);
    allow();
    expect(refused.code, refused.out.join('\n')).toBe(1);
    // not pinned (nor its certificates' `key` entries), nothing queued: KZ stands as before, and so does its node
    expect(held(kzDir)).toEqual(before);
    expect(before.certificates).toEqual([]);
    expect(refused.out.join('\n')).toMatch(NOT_PINNED);
    expect(kz.node.parts.trust.isPartner('KG')).toBe(false);

    const again = await cli(pin);
    expect(again.join('\n')).toContain(`Queued to KG: the certificate(s) of node key(s) ${newKid}, ${oldKid}, then the revocation(s) of node key(s) ${oldKid}`);
    await waitFor(() => kg.node.parts.trust.resolveKey(newKid), 20_000, 'KG to know the new key');
    await waitFor(() => kg.node.parts.trust.resolveKey(oldKid)?.revokedAt, 20_000, "KG to hold the old key's retirement");
    const sent = (): { kind: string; status: string }[] => queryDir(kzDir, `SELECT kind, status FROM messages WHERE direction = 'out' AND type = 'key' ORDER BY seq`);
    await waitFor(() => (sent().every((m) => m.status === 'delivered') ? true : undefined), 20_000, 'every key message delivered');
    expect(sent().map((m) => m.kind)).toEqual(['announce', 'announce', 'revoke']);
  }, 60_000);

  it('pins nothing when a notice its removal withdrew cannot be queued again; run again, the partner learns of the termination', async () => {
    const net = await network(['KZ', 'KG']);
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    await kg.node.stop();
    const terminate = (await api(kz, 'POST', '/v1/agreements/KZ-KG-test/terminate', { reason: 'Pilot ended' })).json.noticeMessage as string;
    await cli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'KG left', '--despite-agreement']);
    // one on the wire at the removal is withdrawn once its attempt ends
    const status = () => queryDir<{ status: string }>(kz.dir, 'SELECT status FROM messages WHERE id = ?', terminate)[0]!.status;
    await waitFor(() => (status() === 'withdrawn' ? true : undefined), 15_000, 'the removal to withdraw the termination');
    const pin = ['partner', 'add', '--dir', kz.dir, join(net.base, 'KG.identity.json'), `--fingerprint=${loadIdentity(kg.dir).root.thumbprint}`];
    const before = held(kz.dir);
    expect(before.partners).toEqual([{ country: 'KG', removed_at: expect.any(String) }]);

    const allow = refuseQueueing(kz.dir, 'notice');
    const refused = await runCli(pin);
    allow();
    expect(refused.code, refused.out.join('\n')).toBe(1);
    // KG still removed, the termination still withdrawn and carried on by nothing
    expect(held(kz.dir)).toEqual(before);
    expect(refused.out.join('\n')).toMatch(NOT_PINNED);

    const text = (await cli(pin)).join('\n');
    const requeued = new RegExp(`^Queued to KG again, as its removal withdrew them: ${terminate} as (\\S+) `, 'm').exec(text)?.[1];
    expect(requeued, text).toBeDefined();
    await restartNode(kg);
    expect((await finalMessage(kz, requeued!, 30_000)).status).toBe('delivered');
    expect((await api(kg, 'GET', '/v1/agreements/KZ-KG-test')).json.status).toBe('terminated');
  }, 90_000);
});
