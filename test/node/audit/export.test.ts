/**
 * Evidence export and verification over real nodes (issue 6): KZ and KG exchange messages over libp2p, KZ
 * exports bundles from its store (CLI and API), the offline verifier checks them, and tampering with the
 * SQLite evidence table (delete, reorder, change) is found by `gnc audit verify --dir`.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { RetentionJob } from '../../../node/retention.js';
import { KeyNoticeRepo } from '../../../node/store/key-notices.js';
import { Store } from '../../../node/store/store.js';
import { BundleSelection } from '../../../protocol/evidence/bundle.js';
import { signKeyNotice, type KeyNotice } from '../../../protocol/notice.js';
import { api, makeNetwork, runCli, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
const ids: string[] = [];
let roots: string[];

async function send(from: TestNode, to: string): Promise<string> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  const id = r.json.id as string;
  await waitFor(async () => ((await api(from, 'GET', `/v1/messages/${id}`)).json.status === 'delivered' ? true : undefined), 15_000, `delivery of ${id}`);
  return id;
}

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
  for (let i = 0; i < 3; i++) ids.push(await send(kz, 'KG'));
  ids.push(await send(kg, 'KZ'));
  roots = ['KZ', 'KG'].flatMap((c) => ['--root', `${c}=${loadIdentity(net.dirs[c]!).root.thumbprint}`]);
}, 60_000);
afterAll(async () => net?.close());

describe('gnc audit export and verify', () => {
  it('exports the messages exchanged with a partner into a bundle that verifies offline', async () => {
    const file = join(net.base, 'kz-kg.json');
    const e = await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--partner', 'KG']);
    expect(e.code).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    expect(bundle.envelopes).toHaveLength(8); // 4 messages, 4 receipts
    const v = await runCli(['audit', 'verify', file, ...roots]);
    expect(v.out.join('\n')).toContain('GNC evidence bundle: VERIFIED');
    // the exporter signs its selection with the envelopes (SPEC 9.5.4); the auditor still compares it with the request
    expect(bundle.statement).toEqual(expect.any(String));
    expect(v.out.join('\n')).toContain('Covers, as the exporter signed it (compare it with what you asked for): partner KG.');
    expect(v.out.join('\n')).toContain('[ ok ] export statement: the selection, creation time, segment end and 8 envelopes are as the KZ node key signed them');
    expect(v.code).toBe(0);
  });

  it('exports one message by id with its receipt', async () => {
    const file = join(net.base, 'one.json');
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--message', ids[0]!])).code).toBe(0);
    const report = await verifyBundle(JSON.parse(readFileSync(file, 'utf8')));
    expect(report.ok).toBe(true);
    expect(report.counts).toMatchObject({ messages: 1, receipts: 1, receipted: 1 });
  });

  it('names --direction in the selection only when a message of the other direction matches the rest of it, so older verifiers read the others', async () => {
    // verifiers of versions before the member parse the selection strictly without it (GNC_SCHEMA_INVALID at /selection/direction)
    const beforeDirection = BundleSelection.omit({ direction: true });
    const exported = async (name: string, ...args: string[]): Promise<{ selection: unknown }> => {
      const file = join(net.base, name);
      expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, ...args])).code).toBe(0);
      const bundle = JSON.parse(readFileSync(file, 'utf8'));
      expect((await verifyBundle(bundle)).ok, name).toBe(true);
      return bundle;
    };
    // KZ received ids[3] and sent no message with that id; KZ sent ids[0] and received none with it
    for (const [id, direction] of [[ids[3]!, 'in'], [ids[0]!, 'out']] as const) {
      const bundle = await exported(`only-${direction}.json`, '--message', id, '--direction', direction);
      expect(bundle.selection).toEqual({ messageIds: [id] });
      expect(beforeDirection.safeParse(bundle.selection).success).toBe(true);
    }
    // KZ sent messages to KG and received one from it: the direction changes what the selection matches
    const both = await exported('kg-out.json', '--partner', 'KG', '--direction', 'out');
    expect(both.selection).toEqual({ partner: 'KG', direction: 'out' });
  });

  it('exports by time range and refuses an empty selection with GNC_NOT_FOUND', async () => {
    const file = join(net.base, 'range.json');
    const now = Date.now();
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--from', new Date(now - 3_600_000).toISOString(), '--to', new Date(now + 3_600_000).toISOString()])).code).toBe(0);
    expect((await verifyBundle(JSON.parse(readFileSync(file, 'utf8')))).ok).toBe(true);
    const none = await runCli(['audit', 'export', '--dir', kz.dir, '--out', join(net.base, 'range-none.json'), '--to', new Date(now - 3_600_000).toISOString()]);
    expect(none.code).toBe(4);
    expect(none.out.join('\n')).toContain('GNC_NOT_FOUND');
    // the CLI keeps its own advice (the API's evidence route says GET /v1/messages instead)
    expect(none.out.join('\n')).toContain('check it with `gnc messages`, or widen it.');
  });

  it('refuses a reversed window or a time Date.parse would guess at (--from 1 is no year 2001), exit 2', async () => {
    const now = Date.now();
    const to = new Date(now - 3_600_000).toISOString();
    const reversed = await runCli(['audit', 'export', '--dir', kz.dir, '--out', join(net.base, 'reversed.json'), '--from', new Date(now + 3_600_000).toISOString(), '--to', to]);
    expect(reversed.code).toBe(2);
    // as gnc arrivals says it: the options as typed, and to run the command again
    expect(reversed.out[0]).toBe(`error GNC_CONFIG_INVALID: --to is invalid: expected an instant after --from (this window ends where it starts or before), received string "${to}". Fix --to, then run the command again.`);
    for (const [option, value] of [['--from', '1'], ['--from', '2026-03-01'], ['--to', 'tomorrow']] as const) {
      const r = await runCli(['audit', 'export', '--dir', kz.dir, '--out', join(net.base, 'loose.json'), option, value]);
      expect(r.code, value).toBe(2);
      expect(r.out[0], value).toBe(`error GNC_CONFIG_INVALID: ${option} is invalid: expected an RFC 3339 time with its zone, like 2026-03-01T00:00:00Z, received string "${value}". Fix ${option}, then run the command again.`);
      expect(r.out[1], value).toBe(`  at ${option}: expected an RFC 3339 time with its zone, like 2026-03-01T00:00:00Z, received string "${value}"`);
    }
    expect(existsSync(join(net.base, 'reversed.json')) || existsSync(join(net.base, 'loose.json'))).toBe(false);
  });

  it('exits 7 with GNC_AUDIT_BROKEN for an exported bundle with one flipped byte in an envelope', async () => {
    const file = join(net.base, 'flipped.json');
    await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--message', ids[1]!]);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    const p = Buffer.from(bundle.envelopes[0].jws.payload, 'base64url');
    p[p.indexOf('"KG"') + 1] = 'X'.charCodeAt(0);
    bundle.envelopes[0].jws.payload = p.toString('base64url');
    writeFileSync(file, JSON.stringify(bundle));
    const v = await runCli(['audit', 'verify', file, ...roots]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toContain('GNC_SIGNATURE_INVALID');
  });

  it("reports GNC_RECEIPT_MISMATCH when a message's receipt is swapped for the receipt of another message", async () => {
    const a = join(net.base, 'swap-a.json');
    const b = join(net.base, 'swap-b.json');
    await runCli(['audit', 'export', '--dir', kz.dir, '--out', a, '--message', ids[0]!]);
    await runCli(['audit', 'export', '--dir', kz.dir, '--out', b, '--message', ids[1]!]);
    const bundle = JSON.parse(readFileSync(a, 'utf8'));
    const other = JSON.parse(readFileSync(b, 'utf8'));
    bundle.envelopes[1] = other.envelopes[1]; // a genuine, validly signed receipt, but of message 2
    writeFileSync(a, JSON.stringify(bundle));
    const v = await runCli(['audit', 'verify', a, ...roots]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toContain('GNC_RECEIPT_MISMATCH');
  });

  it("names the partner root it did not compare on the root fingerprints line, and what rests on it", async () => {
    const file = join(net.base, 'kz-kg.json');
    const v = await runCli(['audit', 'verify', file, '--root', `KZ=${loadIdentity(net.dirs.KZ!).root.thumbprint}`]);
    expect(v.code).toBe(0);
    const line = v.out.join('\n').split('\n').find((l) => l.includes('root fingerprints:'))!;
    expect(line).not.toContain('every root matches a fingerprint you gave');
    expect(line).toContain('KG NOT COMPARED');
    expect(line).toContain("KG's messages and receipts in this bundle, are only as trustworthy as that unverified root");
  });

  it('fails with GNC_FINGERPRINT_MISMATCH when the reader knows another root', async () => {
    const file = join(net.base, 'one.json');
    const v = await runCli(['audit', 'verify', file, '--root', `KZ=${'A'.repeat(43)}`]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toContain('GNC_FINGERPRINT_MISMATCH');
  });

  it("leaves out a partner root's revocation of this node's key, held from before, so the bundle verifies", async () => {
    // a node refuses such a notice on arrival now (SPEC 9.10); one may be in a store from before that check
    const kzKid = loadIdentity(kz.dir).node.thumbprint;
    const notice: KeyNotice = { v: 1, kind: 'revocation', country: 'KG', kid: kzKid, reason: 'test: not KG\'s key', revokedAt: new Date(Date.now() - 3_600_000).toISOString() };
    const compact = signKeyNotice(notice, loadIdentity(kg.dir).root.signer);
    const notices = new KeyNoticeRepo(kz.node.parts.store.db);
    notices.add(compact, notice);
    try {
      const file = join(net.base, 'foreign-revocation.json');
      expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--partner', 'KG'])).code).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8')).revocations).not.toContain(compact);
      const v = await runCli(['audit', 'verify', file, ...roots]);
      expect(v.out.join('\n')).not.toContain('GNC_CERT_INVALID');
      expect(v.code).toBe(0);
    } finally {
      kz.node.parts.store.db.prepare('DELETE FROM key_notices WHERE compact = ?').run(compact);
    }
  });
});

/** The payload of each envelope of a bundle file, to find a message or receipt by id. */
function payloads(bundle: { envelopes: { jws: { payload: string } }[] }): { id: string; type: string; ref?: string; from: string }[] {
  return bundle.envelopes.map((e) => JSON.parse(Buffer.from(e.jws.payload, 'base64url').toString('utf8')));
}

/** Export with `args`, drop the envelopes `drop` picks, write the bundle back, and run `gnc audit verify` on it. */
async function exportWithout(name: string, args: string[], drop: (p: { id: string; type: string; ref?: string }) => boolean, dir = kz.dir) {
  const file = join(net.base, name);
  expect((await runCli(['audit', 'export', '--dir', dir, '--out', file, ...args])).code).toBe(0);
  const bundle = JSON.parse(readFileSync(file, 'utf8'));
  const before = bundle.envelopes.length;
  const ps = payloads(bundle);
  bundle.envelopes = bundle.envelopes.filter((_: unknown, i: number) => !drop(ps[i]!));
  expect(bundle.envelopes.length).toBeLessThan(before);
  writeFileSync(file, JSON.stringify(bundle));
  const v = await runCli(['audit', 'verify', file, ...roots]);
  return { code: v.code, text: v.out.join('\n'), bundle };
}

describe('gnc audit verify on a bundle with envelopes removed', () => {
  it('fails with GNC_AUDIT_BROKEN naming a selected message removed with its receipt', async () => {
    const b = ids[1]!;
    const v = await exportWithout('sel-minus-b.json', ['--message', ids[0]!, '--message', b], (p) => p.id === b || p.ref === b);
    expect(v.bundle.selection.messageIds).toEqual([ids[0], b]);
    expect(v.code).toBe(7);
    expect(v.text).toContain('GNC evidence bundle: FAILED');
    expect(v.text).toContain(`GNC_AUDIT_BROKEN  message ${b}:`);
  });

  it('fails with GNC_AUDIT_BROKEN when a message and its receipt are removed from a time-range export (the signed statement shows it)', async () => {
    const b = ids[1]!;
    const now = Date.now();
    const range = ['--from', new Date(now - 3_600_000).toISOString(), '--to', new Date(now + 3_600_000).toISOString()];
    const v = await exportWithout('range-minus-b.json', range, (p) => p.id === b || p.ref === b);
    expect(v.code).toBe(7);
    // the log's entries carry logging times, not `created`: only the statement's envelope digest can show this
    expect(v.text).toContain('[ ok ] chain coverage');
    expect(v.text).toContain('GNC_AUDIT_BROKEN  statement: The exporter signed 8 envelopes, but the bundle\'s differ (6 held; 2 are missing)');
  });

  it('fails with GNC_AUDIT_BROKEN when a sent message and its receipt are removed from an export of everything', async () => {
    const b = ids[2]!;
    const v = await exportWithout('all-minus-sent.json', [], (p) => p.id === b || p.ref === b);
    expect(v.code).toBe(7);
    expect(v.text).toContain(`GNC_AUDIT_BROKEN  message ${b}:`);
  });

  it('fails with GNC_AUDIT_BROKEN when a received message and its receipt are removed from an export of everything', async () => {
    const b = ids[3]!; // sent by KG, received by KZ
    const v = await exportWithout('all-minus-received.json', [], (p) => p.id === b || p.ref === b);
    expect(v.code).toBe(7);
    expect(v.text).toContain(`GNC_AUDIT_BROKEN  message ${b}:`);
  });

  it("fails with GNC_AUDIT_BROKEN naming the receipt when only the partner's receipt of a sent message is removed", async () => {
    const dropped: string[] = [];
    const v = await exportWithout('all-minus-receipt.json', [], (p) => {
      if (p.type !== 'receipt' || p.ref !== ids[0]) return false;
      dropped.push(p.id);
      return true;
    });
    expect(v.code).toBe(7);
    expect(v.text).toContain(`GNC_AUDIT_BROKEN  receipt ${dropped[0]}:`);
  });

  it('fails with GNC_AUDIT_BROKEN when only the receipt the exporter signed for a received message is removed', async () => {
    const b = ids[3]!;
    const v = await exportWithout('sel-minus-own-receipt.json', ['--message', b], (p) => p.type === 'receipt' && p.ref === b);
    expect(v.code).toBe(7);
    expect(v.text).toContain(`GNC_AUDIT_BROKEN  message ${b}:`);
  });

  it('exits 7 with GNC_AUDIT_BROKEN, never VERIFIED, when every envelope, log entry and checkpoint is removed', async () => {
    const file = join(net.base, 'emptied.json');
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file])).code).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    bundle.envelopes = [];
    bundle.chain = { entries: [], checkpoints: [] };
    writeFileSync(file, JSON.stringify(bundle));
    const v = await runCli(['audit', 'verify', file, ...roots]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toContain('GNC evidence bundle: FAILED (3 failures)');
    expect(v.out.join('\n')).toContain('GNC_AUDIT_BROKEN  bundle: The bundle holds no envelope');
    expect(v.out.join('\n')).toContain('GNC_AUDIT_BROKEN  statement: The exporter signed 8 envelopes, but the bundle\'s differ (0 held; 8 are missing)');
  });

  it('verifies an export by id, which holds the log entries of other messages in between', async () => {
    const file = join(net.base, 'first-and-last.json');
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--message', ids[0]!, '--message', ids[3]!])).code).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    expect(bundle.chain.entries.some((e: { messageId: string }) => e.messageId === ids[1])).toBe(true);
    const v = await runCli(['audit', 'verify', file, ...roots]);
    expect(v.out.join('\n')).toContain('GNC evidence bundle: VERIFIED');
    expect(v.code).toBe(0);
  });

  it('refuses with GNC_NOT_FOUND an export by id that names a message the node does not hold', async () => {
    const unknown = '0195a3c2-7d10-7000-8000-0000000000ff';
    const e = await runCli(['audit', 'export', '--dir', kz.dir, '--out', join(net.base, 'unknown-id.json'), '--message', ids[0]!, '--message', unknown]);
    expect(e.code).toBe(4);
    expect(e.out.join('\n')).toContain('GNC_NOT_FOUND');
    expect(e.out.join('\n')).toContain(unknown);
  });

  describe('after retention purged the received message', () => {
    let dir: string;
    beforeAll(() => {
      dir = join(net.base, 'kz-purged');
      cpSync(kz.dir, dir, { recursive: true });
      const store = Store.open(dir);
      const purged = new RetentionJob(store, { clock: Date.now, log: () => undefined }).purge(Date.now() + 400 * 86_400_000); // the test agreement keeps 365 days
      store.close();
      expect(purged).toBe(1); // ids[3], the one message KZ received
    });

    it('exports everything with the purged message declared, and the bundle verifies', async () => {
      const file = join(net.base, 'purged-all.json');
      expect((await runCli(['audit', 'export', '--dir', dir, '--out', file])).code).toBe(0);
      const bundle = JSON.parse(readFileSync(file, 'utf8'));
      expect(bundle.selection.purged).toEqual([ids[3]]);
      expect(payloads(bundle).some((p) => p.id === ids[3] || p.ref === ids[3])).toBe(false);
      const v = await runCli(['audit', 'verify', file, ...roots]);
      expect(v.out.join('\n')).toContain('GNC evidence bundle: VERIFIED');
      expect(v.code).toBe(0);
    });

    it('exports a purged message selected by id beside a stored one, and the bundle verifies', async () => {
      const file = join(net.base, 'purged-sel.json');
      expect((await runCli(['audit', 'export', '--dir', dir, '--out', file, '--message', ids[3]!, '--message', ids[0]!])).code).toBe(0);
      const bundle = JSON.parse(readFileSync(file, 'utf8'));
      expect(bundle.selection).toMatchObject({ messageIds: [ids[3], ids[0]], purged: [ids[3]] });
      const v = await runCli(['audit', 'verify', file, ...roots]);
      expect(v.code).toBe(0);
    });

    it('says that a message selected alone was purged, instead of that nothing matches (exit 4, GNC_NOT_FOUND)', async () => {
      const r = await runCli(['audit', 'export', '--dir', dir, '--out', join(net.base, 'purged-alone.json'), '--message', ids[3]!]);
      expect(r.code).toBe(4);
      expect(r.out.join('\n')).toContain(`message ${ids[3]} was purged when its retention period under the agreement ended`);
    });

    it('fails with GNC_AUDIT_BROKEN when a removed sent message is declared purged', async () => {
      const b = ids[1]!;
      const file = join(net.base, 'purged-forged.json');
      expect((await runCli(['audit', 'export', '--dir', dir, '--out', file])).code).toBe(0);
      const bundle = JSON.parse(readFileSync(file, 'utf8'));
      const ps = payloads(bundle);
      bundle.envelopes = bundle.envelopes.filter((_: unknown, i: number) => ps[i]!.id !== b && ps[i]!.ref !== b);
      bundle.selection.purged.push(b);
      writeFileSync(file, JSON.stringify(bundle));
      const v = await runCli(['audit', 'verify', file, ...roots]);
      expect(v.code).toBe(7);
      expect(v.out.join('\n')).toContain(`GNC_AUDIT_BROKEN  message ${b}:`);
    });
  });
});

describe('audit API', () => {
  it('returns the evidence bundle of one message that verifies offline', async () => {
    const r = await api(kg, 'GET', `/v1/messages/${ids[0]}/evidence`);
    expect(r.status).toBe(200);
    const report = await verifyBundle(r.json);
    expect(report.ok).toBe(true);
    expect(r.json.exportedBy.country).toBe('KG');
  });

  it('answers 404 GNC_NOT_FOUND for the evidence of an unknown message', async () => {
    const r = await api(kz, 'GET', '/v1/messages/no-such-message/evidence');
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('GNC_NOT_FOUND');
    // an API caller is told the API way to find the id, not the CLI's (`gnc messages`, or widen a selection it never
    // made), in the words of GET /v1/messages/{id}
    expect(r.json.detail).toBe('No message with id no-such-message on this node: check the id (GET /v1/messages lists them).');
  });

  it('reports an intact chain on GET /v1/audit/verify', async () => {
    const r = await api(kz, 'GET', '/v1/audit/verify');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, problems: [] });
    expect(r.json.entries).toBeGreaterThanOrEqual(8);
  });

  it('requires the admin scope for GET /v1/audit/verify', async () => {
    const store = Store.open(kz.dir);
    const { token } = store.tokens.create('reader', ['read']);
    store.close();
    const r = await api({ ...kz, token }, 'GET', '/v1/audit/verify');
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('GNC_AUTH_SCOPE');
  });
});

describe('gnc audit verify --dir on a tampered evidence table', () => {
  let copies = 0;
  /** A stopped copy of KZ's data dir, tampered with by `edit` through plain SQL. */
  function tampered(edit: (db: Database.Database) => void): string {
    const dir = join(net.base, `kz-copy-${++copies}`);
    cpSync(kz.dir, dir, { recursive: true });
    const db = new Database(join(dir, 'gnc.sqlite'));
    edit(db);
    db.close();
    return dir;
  }

  it('finds the log of the real node intact', async () => {
    const v = await runCli(['audit', 'verify', '--dir', tampered(() => undefined)]);
    expect(v.out.join('\n')).toContain('GNC evidence log: INTACT');
    expect(v.code).toBe(0);
  });

  it('detects a deleted entry (GNC_AUDIT_BROKEN, exit 7)', async () => {
    const v = await runCli(['audit', 'verify', '--dir', tampered((db) => db.prepare('DELETE FROM evidence WHERE seq = 2').run())]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toMatch(/GNC_AUDIT_BROKEN {2}seq 2: .*deleted/);
  });

  it('detects the first entries deleted, which no link and no later checkpoint shows (GNC_AUDIT_BROKEN, exit 7)', async () => {
    const v = await runCli(['audit', 'verify', '--dir', tampered((db) => db.prepare('DELETE FROM evidence WHERE seq <= 2').run())]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toContain('GNC evidence log: BROKEN');
    expect(v.out.join('\n')).toMatch(/GNC_AUDIT_BROKEN {2}seq 1: .*deleted/);
  });

  it('detects two entries swapped between rows', async () => {
    const v = await runCli(['audit', 'verify', '--dir', tampered((db) => {
      const [a, b] = db.prepare('SELECT seq, entry, hash FROM evidence WHERE seq IN (2, 3) ORDER BY seq').all() as { seq: number; entry: string; hash: string }[];
      db.prepare('UPDATE evidence SET entry = ?, hash = ? WHERE seq = ?').run(b!.entry, b!.hash, a!.seq);
      db.prepare('UPDATE evidence SET entry = ?, hash = ? WHERE seq = ?').run(a!.entry, a!.hash, b!.seq);
    })]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toContain('reordered');
  });

  it('detects a changed entry', async () => {
    const v = await runCli(['audit', 'verify', '--dir', tampered((db) => {
      const row = db.prepare('SELECT entry FROM evidence WHERE seq = 3').get() as { entry: string };
      const e = JSON.parse(row.entry);
      e.sha256 = 'f'.repeat(64);
      db.prepare('UPDATE evidence SET entry = ? WHERE seq = 3').run(JSON.stringify(e));
    })]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toMatch(/GNC_AUDIT_BROKEN {2}seq 3: .*changed/);
  });

  it('detects a cut-off tail through the signed checkpoint', async () => {
    const dir = tampered(() => undefined);
    expect((await runCli(['audit', 'export', '--dir', dir, '--out', join(dir, 'b.json')])).code).toBe(0); // signs a checkpoint at the head
    const db = new Database(join(dir, 'gnc.sqlite'));
    db.prepare('DELETE FROM evidence WHERE seq = (SELECT MAX(seq) FROM evidence)').run();
    db.close();
    const v = await runCli(['audit', 'verify', '--dir', dir]);
    expect(v.code).toBe(7);
    expect(v.out.join('\n')).toContain('entries were removed');
  });
});
