/**
 * Stopping a node (SIGTERM/SIGINT in `gnc start`) while the API is handling requests, over real HTTP with a real
 * store: a submission that was committed is answered with its id before the connection closes, since a reset
 * connection leaves the integrator guessing and submitting it again (a second message for the partner). New
 * connections are refused at once, and a request that does not finish does not hold the stop for ever.
 */
import { describe, expect, it } from 'vitest';
import { api, makeNetwork, networkPerTest, restartNode, waitFor, type TestNode } from '../helpers/network.js';
import { example } from '../protocol/messages/fixtures.js';

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

const network = networkPerTest();

/** KZ running, its partner KG down (so nothing KZ queues becomes final). */
async function kzAlone(apiDrainMs?: number): Promise<TestNode> {
  const net = await network(['KZ', 'KG'], { start: false, nodeOptions: () => (apiDrainMs === undefined ? {} : { apiDrainMs }) });
  const kz = net.nodes.KZ!;
  await kz.node.start();
  kz.url = kz.node.apiUrl;
  return kz;
}

/** Holds every submission inside the node's submit step until `open()` is called. */
function gateSubmissions(kz: TestNode): { reached: () => boolean; open: () => void } {
  let inside = 0;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const submit = kz.node.submit.submit.bind(kz.node.submit);
  kz.node.submit.submit = async (...args) => {
    inside++;
    await gate;
    return submit(...args);
  };
  return { reached: () => inside > 0, open };
}

describe('a node stopping while its API is busy', () => {
  it('answers a submission held by Prefer: wait with its id (202) instead of resetting the connection', async () => {
    const kz = await kzAlone();
    const answer = api(kz, 'POST', '/v1/messages', submission, { prefer: 'wait=30' });
    await waitFor(() => kz.node.finals.size > 0, 10_000, 'the submission to wait for its receipt');
    await kz.node.stop();
    const r = await answer;
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'queued', to: 'KG' });
    await restartNode(kz);
    expect((await api(kz, 'GET', `/v1/messages/${r.json.id}`)).json).toMatchObject({ id: r.json.id, direction: 'out' });
  });

  it('lets a submission in progress finish with its 202, and refuses new connections meanwhile', async () => {
    const kz = await kzAlone();
    const gate = gateSubmissions(kz);
    const answer = api(kz, 'POST', '/v1/messages', submission, { prefer: 'wait=30' });
    await waitFor(() => gate.reached() || undefined, 10_000, 'the submission to be in progress');
    const stopped = kz.node.stop();
    await expect(fetch(`${kz.url}/v1/health`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    gate.open();
    const r = await answer;
    expect(r.status).toBe(202);
    await stopped;
    await restartNode(kz);
    // kept, not final: the restarted node's dispatcher may be on its first attempt already (sending) when the GET is
    // answered, or not yet, depending on which of the two the event loop serves first
    expect((await api(kz, 'GET', `/v1/messages/${r.json.id}`)).json.status).toMatch(/^(queued|retrying|sending)$/);
  });

  it('stops after the drain time even when a request never finishes', async () => {
    const kz = await kzAlone(200);
    const gate = gateSubmissions(kz);
    const answer = api(kz, 'POST', '/v1/messages', submission).catch((err: unknown) => err);
    await waitFor(() => gate.reached() || undefined, 10_000, 'the submission to be in progress');
    await kz.node.stop();
    expect(await answer).toBeInstanceOf(Error);
    gate.open();
  });
});

describe('a node stopping', () => {
  it('logs that it stops and, once stopped, how many messages wait in its outbox for the next start', async () => {
    const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
    const net = await makeNetwork(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { log: (msg, fields) => logs.push({ msg, fields }) } : {}) });
    try {
      const kz = net.nodes.KZ!;
      await net.nodes.KG!.node.stop();
      const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
      expect(r.status).toBe(202);
      await kz.node.stop();
      const lines = logs.map((l) => l.msg);
      expect(lines.indexOf('node stopping')).toBeGreaterThan(lines.indexOf('node started'));
      expect(logs.at(-1)).toEqual({ msg: 'node stopped', fields: { country: 'KZ', queued: 1 } });
    } finally {
      await net.close();
    }
  });
});
