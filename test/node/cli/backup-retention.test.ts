/**
 * `gnc backup` and the retention of the agreements: a copy never holds content past its retention end, whether the
 * node is running (it purges up to a second after an end) or stopped (it purges only when it starts again): the copy
 * is purged as the node would purge it, its bytes overwritten, everything the purge keeps kept. A backup taken before
 * the end still holds the content; a node restored from it purges it when it starts. Real KZ and KG nodes (risk view
 * composed) under an agreement that keeps e-CoO 1 day and ACI 2 days; KG holds a certificate and a declaration whose
 * assessment quotes it. `gnc backup` as a process, and in this process with the clock moved past the ends.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gnc } from '../../helpers/cli.js';
import { occurrences } from '../../helpers/files.js';
import { api, makeNetwork, runCli, runCliAhead, shortRetentionDraft, startTestNode, type Network, type TestNode } from '../../helpers/network.js';
import { certificate, road, variant } from '../risk/fixtures.js';
import { arrival, codesOf, has, send } from '../risk/network.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

/** A name only the ACI carries (its body, and the risk view KG made of it). */
const MARKER = 'Backup Retention Secret Consignee Ltd';
/** The exporter id only the certificate carries (the declaration names another): what the ACI's assessment quotes. */
const CERT_EXPORTER_ID = '981140009999';
const DAY = 86_400_000;

let net: Network;
let kg: TestNode;
const ids = { aci: '', ecoo: '' };
/** The end of each signed envelope (its signature): what only the envelope's bytes carry. */
const signatures = { aci: '', ecoo: '' };

/** Whether the content of each message (its body's marker, its envelope's signature) is in the files `prefix` names in `dir`. */
function held(dir: string, prefix: string): Record<string, boolean> {
  const found = (text: string): boolean => Object.keys(occurrences(dir, prefix, text)).length > 0;
  return { aci: found(MARKER), aciEnvelope: found(signatures.aci), ecoo: found(CERT_EXPORTER_ID), ecooEnvelope: found(signatures.ecoo) };
}

/** What a database file holds of the two messages, read directly. */
function rows(file: string): Record<string, unknown> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const msg = db.prepare(`SELECT c.jws IS NOT NULL AS envelope, c.body IS NOT NULL AS body, m.sha256, m.retain_until, r.sha256 AS receipt FROM messages m
      LEFT JOIN message_content c ON c.seq = m.seq LEFT JOIN receipts r ON r.message_seq = m.seq WHERE m.id = ? AND m.direction = 'in'`);
    return {
      aci: msg.get(ids.aci),
      ecoo: msg.get(ids.ecoo),
      evidence: db.prepare('SELECT COUNT(*) AS n, MAX(hash) AS max FROM evidence').get(),
      consignments: db.prepare('SELECT COUNT(*) FROM risk_consignments').pluck().get(),
      // what the purge keeps of a purged version of a consignment (no content): its id, consignment, kind and retention end
      purgedVersions: db.prepare('SELECT message_id, root_id, kind, purged_at FROM risk_purged_versions ORDER BY message_id').all(),
      // the indicators of the ACI's assessment
      indicators: ((a?: string) => (a ? codesOf(JSON.parse(a)).sort() : null))(
        db.prepare('SELECT a.assessment FROM risk_assessments a JOIN risk_versions v ON v.cid = a.cid WHERE v.message_id = ?').pluck().get(ids.aci) as string | undefined,
      ),
    };
  } finally {
    db.close();
  }
}

/** A data dir restored from backup `file`: KG's config, keys and identity, the copy as its database. */
function restored(name: string, file: string): string {
  const dir = join(net.base, name);
  mkdirSync(dir);
  for (const f of ['gnc.json', 'keys', 'identity']) cpSync(join(kg.dir, f), join(dir, f), { recursive: true });
  cpSync(file, join(dir, 'gnc.sqlite'));
  return dir;
}

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft: shortRetentionDraft('KZ', 'KG', { ecoo: 1, aci: 2 }) }] });
  kg = net.nodes.KG!;
  ids.ecoo = await send(net.nodes.KZ!, 'ecoo', variant(certificate(), (c) => (c.exporter.id = CERT_EXPORTER_ID)));
  ids.aci = await send(net.nodes.KZ!, 'aci', variant(road(), (d) => {
    d.consignee.name = MARKER;
    d.expectedArrival = new Date(Date.now() + DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }));
  await arrival(kg, ids.aci, has('ecoo-exporter-mismatch'));
  for (const t of ['aci', 'ecoo'] as const) {
    const jws = kg.node.parts.store.db.prepare(`SELECT jws FROM (${MESSAGE_SELECT}) WHERE id = ? AND direction = 'in'`).pluck().get(ids[t]) as Buffer;
    signatures[t] = jws.toString('latin1').slice(-40);
  }
}, 60_000);
afterAll(async () => net?.close());

describe('gnc backup and content past its retention end', () => {
  it('copies the content while its retention runs, and says that nothing was purged (gnc as a process)', async () => {
    const file = join(net.base, 'before-end.sqlite');
    const r = await gnc('backup', '--dir', kg.dir, '--out', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Purged in the copy: the content of 0 received messages past their retention end (metadata, receipts and evidence log kept).');
    expect(rows(file)).toMatchObject({ aci: { envelope: 1, body: 1 }, ecoo: { envelope: 1, body: 1 }, consignments: 1, indicators: expect.arrayContaining(['ecoo-exporter-mismatch']) });
    expect(held(net.base, 'before-end.sqlite')).toEqual({ aci: true, aciEnvelope: true, ecoo: true, ecooEnvelope: true });
  });

  it('purges the certificate past its end in the copy and assesses the declaration that quoted it again, as the node does', async () => {
    const file = join(net.base, 'certificate-ended.sqlite');
    const r = await runCliAhead(1.5 * DAY, ['backup', '--dir', kg.dir, '--out', file]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out).toContain('Purged in the copy: the content of 1 received message past its retention end (metadata, receipts and evidence log kept).');
    const copy = rows(file) as { indicators: string[] };
    expect(copy).toMatchObject({ aci: { envelope: 1, body: 1 }, ecoo: { envelope: 0, body: 0 }, consignments: 1 });
    expect(copy.indicators).toContain('preferential-origin-without-ecoo');
    expect(copy.indicators).not.toContain('ecoo-exporter-mismatch');
    expect(held(net.base, 'certificate-ended.sqlite')).toEqual({ aci: true, aciEnvelope: true, ecoo: false, ecooEnvelope: false });
  });

  it('purges it in the copy of a running node that has not purged it yet, overwriting its bytes, the rest kept', async () => {
    const file = join(net.base, 'running.sqlite');
    const r = await runCliAhead(3 * DAY, ['backup', '--dir', kg.dir, '--out', file]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out).toContain('Purged in the copy: the content of 2 received messages past their retention end (metadata, receipts and evidence log kept).');
    // the node's own database still holds them (its clock has not reached the ends): only the copy is purged
    const source = rows(join(kg.dir, 'gnc.sqlite')) as Record<'aci' | 'ecoo', { sha256: string; receipt: string }>;
    expect(source).toMatchObject({ aci: { envelope: 1, body: 1 }, ecoo: { envelope: 1, body: 1 } });
    expect(rows(file)).toMatchObject({
      aci: { envelope: 0, body: 0, sha256: source.aci.sha256, receipt: source.aci.receipt },
      ecoo: { envelope: 0, body: 0, sha256: source.ecoo.sha256, receipt: source.ecoo.receipt },
      consignments: 0,
      indicators: null,
    });
    expect(held(net.base, 'running.sqlite')).toEqual({ aci: false, aciEnvelope: false, ecoo: false, ecooEnvelope: false });
  });

  it('purges it in the copy of a stopped node, whose database keeps it until it starts; the copy restores to a node that verifies', async () => {
    for (const n of Object.values(net.nodes)) await n.node.stop();
    const file = join(net.base, 'stopped.sqlite');
    const r = await runCliAhead(3 * DAY, ['backup', '--dir', kg.dir, '--out', file]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out).toContain('Purged in the copy: the content of 2 received messages past their retention end (metadata, receipts and evidence log kept).');
    const source = rows(join(kg.dir, 'gnc.sqlite')) as Record<string, object>;
    expect(source).toMatchObject({ aci: { envelope: 1, body: 1 }, ecoo: { envelope: 1, body: 1 }, consignments: 1 });
    expect(held(kg.dir, 'gnc.sqlite')).toEqual({ aci: true, aciEnvelope: true, ecoo: true, ecooEnvelope: true });
    // everything else as the node holds it: envelope hashes, receipts, the evidence log
    const purged = { envelope: 0, body: 0 };
    const end = (source['aci'] as { retain_until: number }).retain_until;
    expect(source['purgedVersions']).toEqual([]);
    expect(rows(file)).toEqual({
      ...source, aci: { ...source['aci'], ...purged }, ecoo: { ...source['ecoo'], ...purged }, consignments: 0, indicators: null,
      purgedVersions: [{ message_id: ids.aci, root_id: ids.aci, kind: 'declaration', purged_at: end }],
    });
    expect(readdirSync(net.base).filter((f) => f.startsWith('stopped.sqlite'))).toEqual(['stopped.sqlite']);
    expect(held(net.base, 'stopped.sqlite')).toEqual({ aci: false, aciEnvelope: false, ecoo: false, ecooEnvelope: false });
    const dir = restored('kg-from-stopped', file);
    const v = await runCli(['audit', 'verify', '--dir', dir]);
    expect(v.code, v.out.join('\n')).toBe(0);
  });

  it('leaves a backup taken before the end to the node restored from it, which purges the content when it starts', async () => {
    const dir = restored('kg-from-before-end', join(net.base, 'before-end.sqlite'));
    expect(held(dir, 'gnc.sqlite')).toEqual({ aci: true, aciEnvelope: true, ecoo: true, ecooEnvelope: true });
    const node = await startTestNode('KG', dir, { clock: () => Date.now() + 3 * DAY });
    try {
      expect(rows(join(dir, 'gnc.sqlite'))).toMatchObject({ aci: { envelope: 0, body: 0 }, ecoo: { envelope: 0, body: 0 }, consignments: 0 });
      for (const id of [ids.aci, ids.ecoo]) expect((await api(node, 'GET', `/v1/messages/${id}`)).json).toMatchObject({ body: null, envelope: null, purged: { at: expect.any(String) } });
      expect(await api(node, 'GET', `/v1/arrivals/${ids.aci}`)).toMatchObject({ status: 410, json: { code: 'GNC_ARRIVAL_PURGED' } });
      expect(held(dir, 'gnc.sqlite')).toEqual({ aci: false, aciEnvelope: false, ecoo: false, ecooEnvelope: false });
    } finally {
      await node.node.stop();
    }
  });
});
