/**
 * A signature or a notice stored here and the envelope that tells the partner of it commit in one transaction: when
 * the envelope cannot be queued, nothing is stored, the command fails with a GNC_ code and a sentence, and the same
 * command run again does it all, after which both nodes agree. The fault is real: a trigger planted in the node's
 * database refuses the outbox row of that envelope (the point a crash after a separate commit of the change would
 * hit). Two real nodes; the countersignature by the CLI beside the running node, the notice by the running node's API.
 */
import { describe, expect, it } from 'vitest';
import { queryDir, refuseQueueing } from '../../helpers/cli.js';
import { api, finalMessage, networkPerTest, openAgreementDraft, runCli, waitFor, type TestNode } from '../../helpers/network.js';

const network = networkPerTest();

const statusAt = async (n: TestNode, version = 1): Promise<string> => (await api(n, 'GET', `/v1/agreements/KZ-KG-test?version=${version}`)).json.status;
const until = (n: TestNode, status: string, version = 1) => waitFor(async () => ((await statusAt(n, version)) === status ? true : undefined), 15_000, `${n.country} to see ${status}`);

const outOfKind = (dir: string, kind: string) => queryDir<{ id: string; status: string }>(dir, `SELECT id, status FROM messages WHERE direction = 'out' AND kind = ?`, kind);

describe('a change and the envelope that tells the partner, in one transaction', () => {
  it("gnc agreement sign beside the running node: a countersigned copy that cannot be queued leaves the partner's proposal unsigned, and signing again completes it on both", async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const draft = openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01T00:00:00Z', validUntil: '2035-12-31T23:59:59Z' });
    expect((await api(kg, 'POST', '/v1/agreements', { draft, propose: true })).status).toBe(201);
    await until(kz, 'awaiting-signature', 2);
    const entries = queryDir<{ n: number }>(kz.dir, 'SELECT COUNT(*) AS n FROM evidence')[0]!.n;
    const allow = refuseQueueing(kz.dir, 'countersigned');
    const refused = await runCli(['agreement', 'sign', '--dir', kz.dir, '--id', 'KZ-KG-test', '--version', '2']);
    allow();
    expect(refused.code, refused.out.join('\n')).toBe(1);
    // neither the signature (nor its evidence entry) nor the copy: KZ holds KG's proposal as it came
    expect(queryDir(kz.dir, 'SELECT signed_by, complete FROM agreements WHERE version = 2')).toEqual([{ signed_by: '["KG"]', complete: 0 }]);
    expect(outOfKind(kz.dir, 'countersigned')).toEqual([]);
    expect(queryDir<{ n: number }>(kz.dir, 'SELECT COUNT(*) AS n FROM evidence')[0]!.n).toBe(entries);
    expect(refused.out.join('\n')).toMatch(/GNC_INTERNAL: Agreement KZ-KG-test@2 was not signed: its countersigned copy could not be queued .*the test refuses.*Nothing was stored; run the command again/);
    expect(await statusAt(kz, 2)).toBe('awaiting-signature');
    // the same command again: signed, queued through the running node, and KG holds it complete too
    const again = await runCli(['agreement', 'sign', '--dir', kz.dir, '--id', 'KZ-KG-test', '--version', '2']);
    expect(again.code, again.out.join('\n')).toBe(0);
    expect(again.out.join('\n')).toContain('Countersigned copy queued for KG');
    await until(kz, 'not-yet-valid', 2);
    await until(kg, 'not-yet-valid', 2);
    const [copy] = outOfKind(kz.dir, 'countersigned');
    expect((await finalMessage(kz, copy!.id)).status).toBe('delivered');
    expect(outOfKind(kz.dir, 'countersigned')).toHaveLength(1);
  }, 60_000);

  it('POST /v1/agreements/{id}/suspend on the running node: a notice that cannot be queued is not applied here either, and sent again it suspends on both', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const allow = refuseQueueing(kz.dir, 'notice');
    const refused = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Incident under investigation' });
    allow();
    expect(refused.status, refused.text).toBe(500);
    // not suspended here (in the store nor in the node's view) while KG, never told, applies it as before
    expect(queryDir(kz.dir, 'SELECT action FROM agreement_notices')).toEqual([]);
    expect(outOfKind(kz.dir, 'notice')).toEqual([]);
    expect(await statusAt(kz)).toBe('active');
    expect(await statusAt(kg)).toBe('active');
    expect(refused.json.code).toBe('GNC_INTERNAL');
    expect(refused.json.detail).toMatch(/The suspend notice of agreement KZ-KG-test@1 could not be queued for KG .*nothing was stored and the agreement stays as it is here\. Run the command again/);
    const again = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'Incident under investigation' });
    expect(again.status, again.text).toBe(202);
    expect((await finalMessage(kz, again.json.noticeMessage)).status).toBe('delivered');
    await until(kz, 'suspended');
    await until(kg, 'suspended');
  }, 60_000);
});
