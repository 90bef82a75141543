/**
 * A sending node killed (SIGKILL) while a message is on the wire, with real processes: the sender runs as
 * `gnc start` in a child process, the partner in this process, stores the message and holds its receipt back.
 * What the sender knows after the crash is only what it had committed: that the partner may hold the message
 * must be among it, or a suspension of the agreement before the restart reports the message "not sent"
 * (expired, GNC_AGREEMENT_NONE) while the partner has accepted it (SPEC section 8.6).
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killProcess as kill, startProcess } from '../../helpers/cli.js';
import { finalMessage, makeNetwork, restartNode, runCli, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

let net: Awaited<ReturnType<typeof makeNetwork>> | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) await kill(child);
  child = undefined;
  await net?.close();
  net = undefined;
});

describe('a sender killed while a message is on the wire', () => {
  it('still knows after the restart that the partner may hold it, and learns its receipt despite a suspension', async () => {
    net = await makeNetwork(['KZ', 'KG'], { start: false });
    const kz = net.nodes.KZ!;
    const kg = net.nodes.KG!;
    await kg.node.start();
    kg.url = kg.node.apiUrl;
    // KG stores what arrives and commits its receipt, but holds the receipt back until told otherwise
    let hold = true;
    const receiver = kg.node.receiver;
    const handle = receiver.handle.bind(receiver);
    receiver.handle = async (bytes, peer) => {
      const receipt = await handle(bytes, peer);
      return hold ? new Promise<Uint8Array>(() => undefined) : receipt;
    };
    const sender = await startProcess(kz.dir);
    child = sender.proc;
    const auth = { authorization: `Bearer ${kz.token}` };
    // the start-up greeting has connected (and its own commit is behind it): what commits from here on is the send
    await waitFor(async () => {
      const partners = (await (await fetch(`${sender.url}/v1/partners`, { headers: auth, signal: AbortSignal.timeout(5000) })).json()) as { items: { country: string; connected: boolean }[] };
      return partners.items.some((p) => p.country === 'KG' && p.connected) || undefined;
    }, 15_000, 'KZ to be connected to KG');
    const r = await fetch(`${sender.url}/v1/messages`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(submission), signal: AbortSignal.timeout(10_000),
    });
    expect(r.status).toBe(202);
    const id = ((await r.json()) as { id: string }).id;
    await waitFor(() => kg.node.parts.store.messages.byKey('in', 'KZ', id), 15_000, 'KG to store the message');
    await kill(sender.proc);
    hold = false;
    const suspended = await runCli(['agreement', 'suspend', '--dir', kz.dir, '--id', 'KZ-KG-test', '--reason', 'Incident under investigation']);
    expect(suspended.code, suspended.out.join('\n')).toBe(0);
    await restartNode(kz);
    const m = await finalMessage(kz, id, 20_000);
    expect(m.error).toBeNull();
    expect(m.status).toBe('delivered');
    const stored = kg.node.parts.store.messages.receipt(kg.node.parts.store.messages.byKey('in', 'KZ', id)!.seq)!;
    expect(m.receipt.id).toBe(stored.receipt_id);
  }, 60_000);
});
