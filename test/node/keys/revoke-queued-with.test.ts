/**
 * `gnc keys revoke` beside the running node stores the revocation (with its `key` entry) and queues it to every
 * partner in one transaction: when an envelope cannot be queued, nothing is stored, the command fails with a GNC_ code
 * and a sentence, and the same command run again revokes the key on both nodes. Nothing else would ever tell the
 * partner of a revocation kept here without its envelope (no interrupted-rotation record covers it). The fault is
 * real: a trigger planted in the node's database refuses the envelope's outbox row. Two real nodes, the CLI in this
 * process on KZ's data dir.
 */
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { readRevocations } from '../../../certs/rotation.js';
import { queryDir, refuseQueueing } from '../../helpers/cli.js';
import { networkPerTest, runCli, waitFor } from '../../helpers/network.js';

const network = networkPerTest();
const REASON = 'key file found on a decommissioned server';

describe('gnc keys revoke, its revocation queued in the transaction that stores it', () => {
  it('stores nothing when it cannot be queued; run again, the partner enforces it', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const oldKid = loadIdentity(kz.dir).node.thumbprint;
    const rotated = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
    expect(rotated.code, rotated.out.join('\n')).toBe(0);
    const newKid = JSON.parse(rotated.out[0]!).current as string;
    await waitFor(() => (kz.node.parts.signer().kid === newKid ? true : undefined), 15_000, 'the switch to the new key');
    // the rotation's retirement of the old key (at the end of the overlap) has reached KG
    const retiredAt = await waitFor(() => kg.node.parts.trust.resolveKey(oldKid)?.revokedAt, 15_000, 'the retirement at KG');
    const revocations = () => queryDir<{ compact: string }>(kz.dir, `SELECT compact FROM key_notices WHERE kind = 'revocation'`).length;
    const queued = () => queryDir(kz.dir, `SELECT id FROM messages WHERE direction = 'out' AND kind = 'revoke'`).length;
    const entries = () => queryDir<{ n: number }>(kz.dir, 'SELECT COUNT(*) AS n FROM evidence')[0]!.n;
    const before = { revocations: revocations(), queued: queued(), entries: entries() };

    const allow = refuseQueueing(kz.dir, 'revoke');
    const at = new Date().toISOString();
    const revoke = ['keys', 'revoke', '--dir', kz.dir, '--kid', oldKid, '--reason', REASON, '--at', at];
    const refused = await runCli(revoke);
    allow();
    expect(refused.code, refused.out.join('\n')).toBe(1);
    // neither the revocation nor its `key` entry nor an envelope: KG still holds the old key as the rotation retired it
    expect({ revocations: revocations(), queued: queued(), entries: entries() }).toEqual(before);
    expect(kg.node.parts.trust.resolveKey(oldKid)?.revokedAt).toBe(retiredAt);
    expect(refused.out.join('\n')).toMatch(new RegExp(`GNC_INTERNAL: Key ${oldKid} was not revoked: .*the test refuses.*Nothing was stored; run the command again`));
    // nor in identity/, from which a later start would store it (restoreRevocations)
    expect(readRevocations(kz.dir)).toEqual([]);

    const again = await runCli(revoke);
    expect(again.code, again.out.join('\n')).toBe(0);
    expect(revocations()).toBe(before.revocations + 1);
    expect(queued()).toBe(before.queued + 1);
    expect(readRevocations(kz.dir)).toHaveLength(1);
    await waitFor(() => (kg.node.parts.trust.resolveKey(oldKid)?.revokedAt === Date.parse(at) ? true : undefined), 15_000, 'the revocation at KG');
  }, 60_000);
});
