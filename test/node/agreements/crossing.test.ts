/**
 * Both administrations sign the same new version on their own: proposals that cross on the wire, or one signed here
 * (not proposed) before the partner proposes the same document. A copy signed by one side never takes away the other
 * side's signature held already: the node keeps both, holds the agreement complete, and returns it countersigned,
 * so that both nodes' views agree. Proposals of different documents under one version are refused both ways.
 * Two real nodes over the wire, the admin API; one as `gnc start` in a child process, killed (SIGKILL), for the
 * copy queued in the transaction that stores the proposal.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { execDir, killProcess, queryDir, startProcess } from '../../helpers/cli.js';
import { api, finalMessage, networkPerTest, openAgreementDraft, restartNode, waitFor, type TestNode } from '../../helpers/network.js';

const network = networkPerTest();
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) await killProcess(child);
  child = undefined;
});

/** Version 2 of the test agreement, a renewal that starts when version 1 ends. */
const renewal = (over: Record<string, unknown> = {}) => openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01T00:00:00Z', validUntil: '2035-12-31T23:59:59Z', ...over });

async function version2(n: TestNode): Promise<{ status: string; signedBy: string[]; complete: boolean }> {
  return (await api(n, 'GET', '/v1/agreements/KZ-KG-test?version=2')).json;
}

/** Both nodes hold version 2 signed by both, with the same status, in the list too. */
async function completeOnBoth(kz: TestNode, kg: TestNode): Promise<void> {
  for (const n of [kz, kg]) {
    const v = await waitFor(async () => {
      const got = await version2(n);
      return got.complete ? got : undefined;
    }, 15_000, `version 2 complete at ${n.country}`);
    expect(new Set(v.signedBy)).toEqual(new Set(['KZ', 'KG']));
    expect(v.status).toBe('not-yet-valid');
    const listed = (await api(n, 'GET', '/v1/agreements')).json.items.find((i: { version: number }) => i.version === 2);
    expect(listed).toMatchObject({ status: 'not-yet-valid', complete: true });
  }
}

describe('the same new version signed by both administrations on their own', () => {
  it('crossing proposals of one document: each node keeps its own signature and holds the agreement complete', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const [a, b] = await Promise.all([
      api(kz, 'POST', '/v1/agreements', { draft: renewal(), propose: true }),
      api(kg, 'POST', '/v1/agreements', { draft: renewal(), propose: true }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((await finalMessage(kz, a.json.proposedAs)).status).toBe('delivered');
    expect((await finalMessage(kg, b.json.proposedAs)).status).toBe('delivered');
    await completeOnBoth(kz, kg);
  });

  it('a proposal of a document signed here already: held complete at once and returned countersigned to the proposer', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    expect((await api(kz, 'POST', '/v1/agreements', { draft: renewal() })).json).toMatchObject({ status: 'awaiting-signature', signedBy: ['KZ'] });
    const marked = kz.node.dispatcher.markedOnQueueing;
    const b = await api(kg, 'POST', '/v1/agreements', { draft: renewal(), propose: true });
    expect((await finalMessage(kg, b.json.proposedAs)).status).toBe('delivered');
    await completeOnBoth(kz, kg);
    // queued in the commit that stored the proposal, the copy was marked on its way in it too (KZ's queue was idle)
    expect(kz.node.dispatcher.markedOnQueueing - marked).toBe(1);
    // nothing left to sign at KZ
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/sign?version=2')).json.code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('crossing proposals of different documents under one version: each refuses the other, and a higher version settles it', async () => {
    const net = await network(['KZ', 'KG']);
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    const [a, b] = await Promise.all([
      api(kz, 'POST', '/v1/agreements', { draft: renewal({ title: 'Renewal as KZ drafted it' }), propose: true }),
      api(kg, 'POST', '/v1/agreements', { draft: renewal({ title: 'Renewal as KG drafted it' }), propose: true }),
    ]);
    for (const [n, id] of [[kz, a.json.proposedAs], [kg, b.json.proposedAs]] as const) {
      const m = await finalMessage(n, id);
      expect(m.status).toBe('rejected');
      expect(m.error.code).toBe('GNC_AGREEMENT_OVERLAP');
    }
    // each holds its own draft, signed by itself only; neither took the other's
    expect(await version2(kz)).toMatchObject({ signedBy: ['KZ'], status: 'awaiting-signature' });
    expect(await version2(kg)).toMatchObject({ signedBy: ['KG'], status: 'awaiting-signature' });
    const v3 = await api(kz, 'POST', '/v1/agreements', { draft: renewal({ version: 3 }), propose: true });
    expect((await finalMessage(kz, v3.json.proposedAs)).status).toBe('delivered');
    expect((await api(kg, 'POST', '/v1/agreements/KZ-KG-test/sign?version=3')).json).toMatchObject({ status: 'not-yet-valid', complete: true });
    await waitFor(async () => ((await api(kz, 'GET', '/v1/agreements/KZ-KG-test?version=3')).json.complete ? true : undefined));
  });

  it('the countersigned copy is queued with the proposal: when it cannot be, and the node is killed, the proposer retries and both end complete', async () => {
    // the receiving node (KZ) as its own process, whose database refuses to queue the countersigned copy: the queueing
    // fails at the point a crash after the proposal's commit would hit. Queued after that commit, the copy is lost and
    // KG stays awaiting-signature; queued in it, the whole receive rolls back and KG is told to retry (error frame)
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    execDir(kz.dir, `CREATE TRIGGER refuse_countersigned BEFORE INSERT ON outbox
      WHEN (SELECT kind FROM messages WHERE seq = NEW.seq) = 'countersigned'
      BEGIN SELECT RAISE(ABORT, 'the test refuses to queue the countersigned copy'); END`);
    await kg.node.start();
    kg.url = kg.node.apiUrl;
    const receiving = await startProcess(kz.dir);
    child = receiving.proc;
    const kzProcess: TestNode = { ...kz, url: receiving.url };
    // KZ signs version 2 on its own, without proposing it
    expect((await api(kzProcess, 'POST', '/v1/agreements', { draft: renewal() })).json).toMatchObject({ status: 'awaiting-signature', signedBy: ['KZ'] });
    await waitFor(async () => {
      const partners: { country: string; connected: boolean }[] = (await api(kzProcess, 'GET', '/v1/partners')).json.items;
      return partners.some((p) => p.country === 'KG' && p.connected) || undefined;
    }, 15_000, 'KZ to be connected to KG');
    const b = await api(kg, 'POST', '/v1/agreements', { draft: renewal(), propose: true });
    expect(b.status, b.text).toBe(201);
    const id: string = b.json.proposedAs;
    const answered = await waitFor(async () => {
      const m = (await api(kg, 'GET', `/v1/messages/${id}`)).json;
      return ['retrying', 'delivered', 'rejected'].includes(m.status) ? m : undefined;
    }, 15_000, 'KZ to answer the proposal');
    await killProcess(receiving.proc);
    // nothing of the proposal at KZ: no receipt, no stored envelope, version 2 as KZ signed it
    expect(answered.status).toBe('retrying');
    expect(queryDir(kz.dir, `SELECT seq FROM messages WHERE id = ? AND direction = 'in'`, id)).toEqual([]);
    expect(queryDir(kz.dir, 'SELECT signed_by, complete FROM agreements WHERE version = 2')).toEqual([{ signed_by: '["KZ"]', complete: 0 }]);
    expect(await version2(kg)).toMatchObject({ signedBy: ['KG'], complete: false });
    // restarted without the fault: KG's retry completes version 2 at KZ, and the copy queued with it completes it at KG
    execDir(kz.dir, 'DROP TRIGGER refuse_countersigned');
    await restartNode(kz);
    expect((await finalMessage(kg, id, 30_000)).status).toBe('delivered');
    await completeOnBoth(kz, kg);
    expect(queryDir(kz.dir, `SELECT status FROM messages WHERE direction = 'out' AND kind = 'countersigned'`)).toEqual([{ status: 'delivered' }]);
  }, 90_000);
});
