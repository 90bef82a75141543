/**
 * The outbox sweep picks up rows that another process queued (`gnc send`, an agreement notice signed with the
 * CLI) beside the running node, within SWEEP_INTERVAL_MS, also for a partner that has another message waiting
 * out a long backoff: that message's timer is no reason for a new one to wait.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GncError } from '../../../protocol/errors.js';
import { SWEEP_INTERVAL_MS } from '../../../node/outbound/dispatcher.js';
import { api, networkPerTest, runCli, waitFor } from '../../helpers/network.js';
import { EXAMPLES_DIR, example } from '../../protocol/messages/fixtures.js';

const network = networkPerTest();

describe('the outbox sweep', () => {
  it('delivers a message the CLI queued beside the running node while another to the same partner waits out a backoff', async () => {
    // a backoff far longer than this test: only the sweep can pick the CLI's message up in time
    const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ retry: { initialMs: 600_000, maxMs: 600_000 } }) });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    // KG fails itself on the first envelope (error frame, no verdict): KZ keeps that one in a ten-minute backoff
    let failed = 0;
    const receiver = kg.node.receiver;
    const handle = receiver.handle.bind(receiver);
    receiver.handle = (bytes, peer) => (failed++ === 0 ? Promise.reject(new GncError('GNC_INTERNAL', 'test fault')) : handle(bytes, peer));
    const first = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
    expect(first.status).toBe(202);
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${first.json.id}`)).json.status === 'retrying' ? true : undefined), 10_000, 'the first message to wait out its backoff');
    const r = await runCli(['send', '--dir', kz.dir, '--to', 'KG', '--purpose', 'pre-arrival-risk-assessment', '--type', 'aci', '--json', join(EXAMPLES_DIR, 'aci-kz-kg-road.json')]);
    expect(r.code, r.out.join('\n')).toBe(0);
    const id = (JSON.parse(r.out[0]!) as { id: string }).id;
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${id}`)).json.status === 'delivered' ? true : undefined), 4 * SWEEP_INTERVAL_MS, 'the CLI message to be delivered');
    expect((await api(kz, 'GET', `/v1/messages/${first.json.id}`)).json.status).toBe('retrying');
  }, 30_000);
});
