/**
 * Withdrawing one queued message (`POST /v1/messages/{id}/withdraw`, `gnc messages withdraw`) on real KZ and KG
 * nodes: a message KG does not have yet (KG offline) ends withdrawn with its time and reason, also for the submitter
 * waiting on it, and is never sent; one KG has is refused with GNC_CONFLICT saying what to do instead; a message
 * another refers to is withdrawn only after that one; bad and unknown ids are refused by name.
 */
import { describe, expect, it } from 'vitest';
import { api, finalMessage, networkForFile, restartNode, runCli, waitFor, type TestNode } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

// KZ retries after a minute: a message for the offline KG, once its first attempt has failed, stays retrying (no
// attempt in progress, which would make it `sending`, and not yet withdrawable, at the moment of the withdrawal)
const { nodes } = networkForFile(['KZ', 'KG'], { nodeOptions: (c) => (c === 'KZ' ? { retry: { initialMs: 60_000, maxMs: 60_000 } } : {}) });

async function retrying(kz: TestNode, id: string): Promise<void> {
  await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${id}`)).json.status === 'retrying' ? true : undefined), 10_000, `${id} to be retrying`);
}

async function submit(kz: TestNode, body: Record<string, unknown> = example('aci-kz-kg-road'), ref?: string): Promise<string> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body, ...(ref ? { ref } : {}) });
  expect(r.status, r.text).toBe(202);
  return r.json.id as string;
}

describe('withdrawing a queued message', () => {
  it('refuses a delivered message with GNC_CONFLICT, naming a cancellation instead (API 409, CLI exit 2)', async () => {
    const kz = nodes.KZ;
    const id = await submit(kz);
    expect((await finalMessage(kz, id, 30_000)).status).toBe('delivered');
    const r = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'Wrong consignment' });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('GNC_CONFLICT');
    expect(r.json.detail).toMatch(/was delivered: KG holds it .* submit a cancellation \(or an amendment\) of it with "ref"/);
    const cli = await runCli(['messages', 'withdraw', '--dir', kz.dir, id, '--reason', 'Wrong consignment']);
    expect(cli.code).toBe(2);
    expect(cli.out.join('\n')).toMatch(/^error GNC_CONFLICT: Message \S+ was delivered/);
    expect((await api(kz, 'GET', `/v1/messages/${id}`)).json.status).toBe('delivered');
  }, 60_000);

  it('refuses a malformed id, an unknown id and an empty reason, each by name', async () => {
    const kz = nodes.KZ;
    const bad = await api(kz, 'POST', '/v1/messages/bad%20id!/withdraw', { reason: 'x' });
    expect(bad.status).toBe(422);
    expect(bad.json.code).toBe('GNC_SCHEMA_INVALID');
    expect(bad.json.detail).toMatch(/^Message id is invalid: .*expected a message id/);
    const unknown = await api(kz, 'POST', '/v1/messages/0195a3c2-7d10-7000-8000-000000000999/withdraw', { reason: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('GNC_NOT_FOUND');
    const blank = await api(kz, 'POST', '/v1/messages/0195a3c2-7d10-7000-8000-000000000999/withdraw', { reason: '  ' });
    expect(blank.status).toBe(422);
    expect(blank.json.issues[0].path).toBe('/reason');
    const cliUnknown = await runCli(['messages', 'withdraw', '--dir', kz.dir, '0195a3c2-7d10-7000-8000-000000000999', '--reason', 'x']);
    expect(cliUnknown.code).toBe(4);
    expect(cliUnknown.out.join('\n')).toMatch(/^error GNC_NOT_FOUND: No message with id 0195a3c2-7d10-7000-8000-000000000999 on this node/);
    const cliBad = await runCli(['messages', 'withdraw', '--dir', kz.dir, 'bad id!', '--reason', 'x']);
    expect(cliBad.code).toBe(2);
    expect(cliBad.out.join('\n')).toMatch(/^error GNC_CONFIG_INVALID: Message id is invalid/);
  });

  it('withdraws messages the offline partner does not have, via the API and the CLI, and never sends them', async () => {
    const [kz, kg] = [nodes.KZ, nodes.KG];
    await kg.node.stop();
    try {
      // the submitter waits for the final status; the withdrawal gives it
      const waiting = api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') }, { prefer: 'wait=20' });
      const id = await waitFor(() => kz.node.parts.store.db.prepare(`SELECT id FROM messages WHERE direction = 'out' AND status IN ('queued', 'retrying') ORDER BY seq DESC`).pluck().get() as string | undefined, 10_000, 'the queued message');
      await retrying(kz, id);
      const amendment = await submit(kz, { ...example('aci-kz-kg-road'), kind: 'amendment' }, id);
      // the amendment waits for it: refused until that one is withdrawn first
      const first = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'Wrong consignment' });
      expect(first.status).toBe(409);
      expect(first.json.detail).toMatch(new RegExp(`has a message queued that refer to it \\(${amendment}\\), which KG would refuse without it: withdraw that one first`));
      const cli = await runCli(['messages', 'withdraw', '--dir', kz.dir, amendment, '--reason', 'Goes with the declaration']);
      expect(cli.out.join('\n')).toMatch(new RegExp(`^Withdrew ${amendment} to KG at \\S+: it will not be sent\\.$`));
      const r = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'Wrong consignment' });
      expect(r.status, r.text).toBe(200);
      expect(r.json.status).toBe('withdrawn');
      expect(r.json.withdrawn.reason).toBe('Wrong consignment');
      const answered = await waiting;
      expect(answered.status).toBe(200);
      expect(answered.json.status).toBe('withdrawn');
      // the same again: answered as it is
      const again = await api(kz, 'POST', `/v1/messages/${id}/withdraw`, { reason: 'Another reason' });
      expect(`${again.status} ${again.json.withdrawn.reason}`).toBe('200 Wrong consignment');
      const listed = (await api(kz, 'GET', '/v1/messages?status=withdrawn')).json.items.map((m: { id: string }) => m.id);
      expect(listed).toEqual(expect.arrayContaining([id, amendment]));
      const shown = await runCli(['messages', '--dir', kz.dir, '--status', 'withdrawn']);
      expect(shown.out.join('\n')).toMatch(new RegExp(`withdrawn ${id} .*withdrawn \\S+: Wrong consignment$`, 'm'));
      // an amendment of a withdrawn declaration would be refused by KG: refused here
      const late = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', ref: id, body: { ...example('aci-kz-kg-road'), kind: 'amendment' } });
      expect(`${late.status} ${late.json.code}`).toBe('422 GNC_ORIGINAL_UNKNOWN');
      expect(late.json.detail).toMatch(/was withdrawn before KG got it/);
      // KG back: a later message arrives, the withdrawn ones never do
      await restartNode(kg);
      const later = await submit(kz);
      expect((await finalMessage(kz, later, 30_000)).status).toBe('delivered');
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', id)).toBeUndefined();
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', amendment)).toBeUndefined();
    } finally {
      if (!kg.node.host) await restartNode(kg);
    }
  }, 60_000);
});
