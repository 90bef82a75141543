/**
 * Content past its retention end is never served, also before the retention sweep has run: the running node sweeps
 * hourly and `gnc audit export` or `gnc messages` on a stopped node sweeps never, yet from `retain_until` on every
 * read treats the message as purged, in the shape the sweep leaves (`purged: {at}`, no body or envelope, the receipt
 * and metadata kept; the bundle declares it in `selection.purged`, SPEC 9.5.3). Real KZ and KG nodes under an
 * agreement that keeps ACI 1 day and e-CoO 30 days; KG's clock is moved past the ACI's end, the sweep not run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../certs/identity.js';
import { verifyBundle } from '../../node/audit/verify-bundle.js';
import { Store } from '../../node/store/store.js';
import { api, finalMessage, makeNetwork, restartNode, runCli, runCliAhead, shortRetentionDraft, waitFor, type TestNode } from '../helpers/network.js';
import { MESSAGE_SELECT } from '../../node/store/messages.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const ecoo = JSON.parse(readFileSync(new URL('../../examples/messages/ecoo-kz-kg-preferential.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const DAY = 86_400_000;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
/** How far KG's clock runs ahead of this machine's. */
let offset = 0;
const ids = { aci: '', ecoo: '' };
let roots: string[];
/** GET /v1/messages/{aci} on KG once its retention ended, before the sweep. */
let beforeSweep: Record<string, unknown>;

async function send(type: string, purpose: string, body: Record<string, unknown>): Promise<string> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type, purpose, body });
  expect(r.status).toBe(202);
  expect((await finalMessage(kz, r.json.id)).status).toBe('delivered');
  return r.json.id as string;
}

/** The stored row of a message KG received, read from its database (not through any of the read paths tested). */
function stored(id: string): { jws: Buffer | null; retain_until: number } {
  return kg.node.parts.store.db.prepare(`SELECT jws, retain_until FROM (${MESSAGE_SELECT}) WHERE id = ? AND direction = 'in'`).get(id) as never;
}

/** `gnc ...` run in this process with this machine's clock moved as KG's is. */
const cliAhead = (args: string[]): ReturnType<typeof runCli> => runCliAhead(offset, args);

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], {
    agreements: [{ a: 'KZ', b: 'KG', draft: shortRetentionDraft('KZ', 'KG') }],
    nodeOptions: (c) => (c === 'KG' ? { clock: () => Date.now() + offset } : {}),
  });
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
  ids.aci = await send('aci', 'pre-arrival-risk-assessment', aci);
  ids.ecoo = await send('ecoo', 'origin-verification', ecoo);
  roots = ['KZ', 'KG'].flatMap((c) => ['--root', `${c}=${loadIdentity(net.dirs[c]!).root.thumbprint}`]);
}, 60_000);
afterAll(async () => net?.close());

describe('content past its retention end, before the sweep ran', () => {
  it('serves both messages in full while their retention runs, without a purged mark', async () => {
    const m = await api(kg, 'GET', `/v1/messages/${ids.aci}`);
    expect(m.json).toMatchObject({ direction: 'in', status: 'accepted', purged: null, body: expect.any(Object), envelope: expect.any(Object) });
    offset = DAY - 60_000; // a minute before the ACI's end (the messages arrived within that minute)
    expect((await api(kg, 'GET', `/v1/messages/${ids.aci}`)).json.purged).toBeNull();
  });

  it('reads an ACI past its end as purged since its end, in the API view, while its content is still stored', async () => {
    offset = 2 * DAY;
    expect(stored(ids.aci).jws).not.toBeNull(); // the sweep has not run: the hourly timer is far away
    const m = await api(kg, 'GET', `/v1/messages/${ids.aci}`);
    expect(m.status).toBe(200);
    expect(m.json).toMatchObject({ id: ids.aci, status: 'accepted', body: null, envelope: null, purged: { at: new Date(stored(ids.aci).retain_until).toISOString() } });
    expect(m.json.receipt).toMatchObject({ status: 'accepted', envelope: expect.any(Object) });
    beforeSweep = m.json;
    // the e-CoO's 30 days run on
    const e = await api(kg, 'GET', `/v1/messages/${ids.ecoo}`);
    expect(e.json).toMatchObject({ purged: null, body: expect.any(Object), envelope: expect.any(Object) });
  });

  it('renders no XML of it, and answers JSON without the body to a client that takes both', async () => {
    const xml = await api(kg, 'GET', `/v1/messages/${ids.aci}`, undefined, { accept: 'application/xml' });
    expect(xml.status).toBe(404);
    expect(xml.json).toMatchObject({ code: 'GNC_NOT_FOUND' });
    expect(xml.json.detail).toContain(`purged since ${(beforeSweep['purged'] as { at: string }).at}`);
    expect(xml.text).not.toContain('Consignment');
    const both = await api(kg, 'GET', `/v1/messages/${ids.aci}`, undefined, { accept: 'application/xml, application/json;q=0.5' });
    expect(both.status).toBe(200);
    expect(both.json).toEqual(beforeSweep);
    expect((await api(kg, 'GET', `/v1/messages/${ids.ecoo}`, undefined, { accept: 'application/xml' })).headers.get('content-type')).toContain('application/xml');
  });

  it('marks it purged in the list', async () => {
    const list = await api(kg, 'GET', '/v1/messages?direction=in');
    const byId = Object.fromEntries((list.json.items as { id: string; purged: unknown }[]).map((i) => [i.id, i.purged]));
    expect(byId[ids.aci]).toEqual(beforeSweep['purged']);
    expect(byId[ids.ecoo]).toBeNull();
  });

  it('gives no evidence bundle of it (GNC_NOT_FOUND saying it was purged), and one of the e-CoO that verifies', async () => {
    const ev = await api(kg, 'GET', `/v1/messages/${ids.aci}/evidence`);
    expect(ev.status).toBe(404);
    expect(ev.json).toMatchObject({ code: 'GNC_NOT_FOUND' });
    expect(ev.json.detail).toContain(`message ${ids.aci} was purged when its retention period under the agreement ended`);
    expect(ev.json.detail).toContain('only metadata and log entries remain (GET /v1/messages/{id} and GET /v1/audit/verify)');
    expect(ev.json.detail).not.toContain('gnc ');
    const ok = await api(kg, 'GET', `/v1/messages/${ids.ecoo}/evidence`);
    expect(ok.status).toBe(200);
    expect((await verifyBundle(ok.json)).ok).toBe(true);
  });
});

describe('a stopped node (no sweep at all)', () => {
  beforeAll(async () => {
    await kz.node.stop();
    await kg.node.stop();
  });

  it('exports it with `gnc audit export` as purged (declared, neither it nor its receipt in the bundle), and the bundle verifies', async () => {
    const db = Store.open(kg.dir);
    expect((db.db.prepare(`SELECT jws FROM (${MESSAGE_SELECT}) WHERE id = ? AND direction = 'in'`).pluck().get(ids.aci))).not.toBeNull();
    db.close();
    // everything, and both by id (which starts the segment at the ACI's entry, so that it is declared purged)
    for (const [name, selection] of [['all', []], ['by-id', ['--message', ids.aci, '--message', ids.ecoo]]] as const) {
      const file = join(net.base, `kg-${name}.json`);
      const e = await cliAhead(['audit', 'export', '--dir', kg.dir, '--out', file, ...selection]);
      expect(e.code).toBe(0);
      const bundle = JSON.parse(readFileSync(file, 'utf8'));
      if (name === 'by-id') expect(bundle.selection).toEqual({ messageIds: [ids.aci, ids.ecoo], purged: [ids.aci] });
      const payloads = (bundle.envelopes as { jws: { payload: string } }[]).map((x) => JSON.parse(Buffer.from(x.jws.payload, 'base64url').toString('utf8')));
      expect(payloads.some((p) => p.id === ids.aci || p.ref === ids.aci || p.body?.messageId === ids.aci)).toBe(false);
      expect(payloads.some((p) => p.id === ids.ecoo)).toBe(true);
      const v = await runCli(['audit', 'verify', file, ...roots]);
      expect(v.out.join('\n')).toContain('GNC evidence bundle: VERIFIED');
      expect(v.code).toBe(0);
    }
  });

  it('refuses to export it alone (exit 4, GNC_NOT_FOUND saying it was purged)', async () => {
    const r = await cliAhead(['audit', 'export', '--dir', kg.dir, '--out', join(net.base, 'kg-aci.json'), '--message', ids.aci]);
    expect(r.code).toBe(4);
    expect(r.out.join('\n')).toContain(`message ${ids.aci} was purged when its retention period under the agreement ended`);
  });

  it('lists it as purged in `gnc messages`', async () => {
    const r = await cliAhead(['messages', '--dir', kg.dir, '--direction', 'in', '--json']);
    expect(r.code).toBe(0);
    const lines = r.out.map((l) => JSON.parse(l) as { id: string; purged: unknown });
    expect(lines.find((l) => l.id === ids.aci)?.purged).toEqual(beforeSweep['purged']);
    expect(lines.find((l) => l.id === ids.ecoo)?.purged).toBeNull();
    const text = await cliAhead(['messages', '--dir', kg.dir, '--direction', 'in']);
    expect(text.out.find((l) => l.includes(ids.aci))).toContain(`purged ${(beforeSweep['purged'] as { at: string }).at}`);
  });
});

describe('after the sweep', () => {
  it('reads exactly as before it ran', async () => {
    await restartNode(kg, { clock: () => Date.now() + offset }); // the start sweeps once
    expect(stored(ids.aci).jws).toBeNull();
    expect((await api(kg, 'GET', `/v1/messages/${ids.aci}`)).json).toEqual(beforeSweep);
  });
});

describe('a running node', () => {
  it('purges a received message within seconds of its retention end, not at the next hourly sweep, so the risk view loses it then', async () => {
    offset = 0;
    await restartNode(kz);
    const id = await send('aci', 'pre-arrival-risk-assessment', aci);
    expect(stored(id).jws).not.toBeNull();
    await waitFor(async () => ((await api(kg, 'GET', `/v1/arrivals/${id}`)).status === 200 ? true : undefined), 15_000, 'the consignment in the risk view');
    // KG (re)started three seconds before the new ACI's end by its clock: the sweep at the start purges nothing of it
    offset = stored(id).retain_until - Date.now() - 3_000;
    await kg.node.stop();
    await restartNode(kg, { clock: () => Date.now() + offset });
    expect(stored(id).jws).not.toBeNull();
    await waitFor(() => (stored(id).jws === null ? true : undefined), 15_000, 'the purge at the retention end');
    expect((await api(kg, 'GET', `/v1/arrivals/${id}`)).status).toBe(410);
  }, 60_000);
});
