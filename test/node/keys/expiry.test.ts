/**
 * A node whose own certificate has expired signs nothing: partners would refuse every envelope and receipt,
 * and auditors every checkpoint (a checkpoint by an expired key used to break the verification of bundles of
 * messages signed in time). Submissions are refused with GNC_KEY_EXPIRED and nothing is queued; a partner's
 * envelope gets an error frame, not a receipt, so the partner keeps it queued; no checkpoint is signed.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../../protocol/evidence/checkpoint.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { api, oneDayKgDirs, startTestNode, tempDir, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const DAY = 86_400_000;
const base = tempDir('gnc-expiry-');
/** KG's clock runs ahead of KZ's by this much (two days: KG's one-day certificate has expired, KZ's has not). */
let kgAhead = 0;
const nodes: Record<string, TestNode> = {};
let first = '';
let second = '';
const send = (n: TestNode) => api(n, 'POST', '/v1/messages', { to: n.country === 'KZ' ? 'KG' : 'KZ', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });

beforeAll(async () => {
  const dirs = await oneDayKgDirs(base);
  for (const [c, dir] of Object.entries(dirs)) {
    nodes[c] = await startTestNode(c, dir, { clock: c === 'KG' ? () => Date.now() + kgAhead : Date.now });
  }
}, 60_000);
afterAll(async () => {
  for (const n of Object.values(nodes)) await n.node.stop().catch(() => undefined);
  (await import('node:fs')).rmSync(base, { recursive: true, force: true });
});

describe("a node's own expired certificate", () => {
  it('signs while its certificate is valid', async () => {
    const r = await send(nodes.KG!);
    expect(r.status).toBe(202);
    await waitFor(async () => ((await api(nodes.KG!, 'GET', `/v1/messages/${r.json.id}`)).json.status === 'delivered' ? true : undefined), 15_000, 'delivery');
    first = r.json.id as string;
    // exporting its evidence signs a checkpoint over it, in time; the second message comes after that checkpoint
    expect((await api(nodes.KG!, 'GET', `/v1/messages/${first}/evidence`)).status).toBe(200);
    const r2 = await send(nodes.KG!);
    second = r2.json.id as string;
    await waitFor(async () => ((await api(nodes.KG!, 'GET', `/v1/messages/${second}`)).json.status === 'delivered' ? true : undefined), 15_000, 'delivery');
  });

  it('refuses a submission with 409 GNC_KEY_EXPIRED naming gnc keys rotate, and queues nothing', async () => {
    kgAhead = 2 * DAY;
    const before = (await api(nodes.KG!, 'GET', '/v1/messages?direction=out')).json.items.length as number;
    const r = await send(nodes.KG!);
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('GNC_KEY_EXPIRED');
    expect(r.json.detail).toContain('gnc keys rotate');
    expect((await api(nodes.KG!, 'GET', '/v1/messages?direction=out')).json.items).toHaveLength(before);
  });

  it("answers a partner's envelope with no receipt, so the partner keeps it queued instead of a final rejection", async () => {
    const r = await send(nodes.KZ!);
    expect(r.status).toBe(202);
    const id = r.json.id as string;
    const m = await waitFor(async () => {
      const v = (await api(nodes.KZ!, 'GET', `/v1/messages/${id}`)).json;
      return v.status === 'retrying' && v.error !== null ? v : undefined;
    }, 15_000, 'a failed attempt');
    expect(m.error.code).toBe('GNC_KEY_EXPIRED');
    expect(m.receipt ?? null).toBeNull();
    expect((await api(nodes.KG!, 'GET', `/v1/messages?direction=in`)).json.items.map((i: { id: string }) => i.id)).not.toContain(id);
  });

  it('still exports the evidence of a message that a checkpoint signed in time already pins, without a statement', async () => {
    const r = await api(nodes.KG!, 'GET', `/v1/messages/${first}/evidence`);
    expect(r.status, r.text).toBe(200);
    // the expired key signs no export statement either (SPEC 9.5.4): the bundle verifies, its selection unsigned
    expect(r.json.statement).toBeUndefined();
    const report = await verifyBundle(r.json);
    expect(report.ok, JSON.stringify(report.failures)).toBe(true);
    expect(report.bundle?.selectionSigned).toBe(false);
  });

  it('refuses to export evidence that would need a new checkpoint (409 GNC_KEY_EXPIRED)', async () => {
    const r = await api(nodes.KG!, 'GET', `/v1/messages/${second}/evidence`);
    expect(r.status, r.text).toBe(409);
    expect(r.json.code).toBe('GNC_KEY_EXPIRED');
  });

  it('signs no checkpoint, not even when it stops', async () => {
    await nodes.KG!.node.stop();
    const db = new Database(join(nodes.KG!.dir, 'gnc.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT compact FROM checkpoints').pluck().all() as string[];
      const exp = Date.parse(JSON.parse(Buffer.from(readFileSync(join(nodes.KG!.dir, 'identity', 'node-cert.jws'), 'utf8').split('.')[1]!, 'base64url').toString()).exp);
      for (const c of rows) expect(Date.parse(decodeCheckpoint(c).payload.at)).toBeLessThan(exp);
    } finally {
      db.close();
    }
  });
});
