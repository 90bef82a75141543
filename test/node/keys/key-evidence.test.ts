/**
 * `key` evidence entries between real nodes (SPEC 9.2, 9.10): a key document and its entry are written in one
 * SQLite transaction, on the node that signs it and on the node that accepts it over the wire, so a failure of the
 * entry (a trigger on the real database file refuses it here, as a full disk or a crash would) leaves neither; and
 * on the receiving side the entry follows the `received` entry of the envelope that carried the document.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import type { EvidenceEntry } from '../../../protocol/evidence/chain.js';
import { finalMessage, networkForFile, runCli, waitFor, type TestNode } from '../../helpers/network.js';

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

const sha256 = (text: string): string => createHash('sha256').update(text, 'ascii').digest('hex');

/** A trigger in the data dir's database that refuses every `key` entry; returns its removal. */
function refuseKeyEntries(dir: string): () => void {
  const exec = (sql: string): void => {
    const db = new Database(join(dir, 'gnc.sqlite'));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };
  exec(`CREATE TRIGGER test_refuse_key_entry BEFORE INSERT ON evidence WHEN json_extract(NEW.entry, '$.event') = 'key'
    BEGIN SELECT RAISE(ABORT, 'test: the key entry cannot be written'); END`);
  return () => exec('DROP TRIGGER test_refuse_key_entry');
}

function log(n: TestNode): EvidenceEntry[] {
  return (n.node.parts.store.db.prepare('SELECT entry FROM evidence ORDER BY seq').pluck().all() as string[]).map((e) => JSON.parse(e) as EvidenceEntry);
}

function attempts(n: TestNode, id: string): number {
  return n.node.parts.store.db.prepare(`SELECT o.attempts FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.direction = 'out' AND m.id = ?`).pluck().get(id) as number | undefined ?? 0;
}

const keyEnvelopes = (n: TestNode, direction: 'in' | 'out'): string[] =>
  n.node.parts.store.db.prepare(`SELECT id FROM messages WHERE direction = ? AND type = 'key' ORDER BY seq`).pluck().all(direction) as string[];

const notices = (n: TestNode): string[] => n.node.parts.store.db.prepare('SELECT compact FROM key_notices ORDER BY added_at, sha256').pluck().all() as string[];

let oldKid = '';

describe('key evidence entries', () => {
  it('keeps a certificate announced over the wire out until its key entry can be written, then records both once, after the envelope', async () => {
    oldKid = loadIdentity(kz.dir).node.thumbprint;
    const allow = refuseKeyEntries(kg.dir);
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
    expect(r.code, r.out.join('\n')).toBe(0);
    const { current, announcements } = JSON.parse(r.out[0]!) as { current: string; announcements: Record<string, string> };
    const announce = announcements.KG!;
    // KG cannot write the entry: no verdict on the envelope (an error frame), so KZ keeps it queued and retries
    const delivered = (): boolean => kz.node.parts.store.messages.byKey('out', 'KG', announce)?.status === 'delivered';
    await waitFor(() => (attempts(kz, announce) >= 2 || delivered() ? true : undefined), 15_000, 'failed deliveries of the announcement');
    expect(delivered()).toBe(false);
    expect(kg.node.parts.store.partners.certificates('KZ').map((c) => c.kid)).not.toContain(current);
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', announce)).toBeUndefined();
    // (the pin of KZ's first certificate wrote one entry of its own, `key:<kid>`, before)
    const overWire = (e: EvidenceEntry): boolean => e.event === 'key' && !e.messageId.startsWith('key:');
    expect(log(kg).filter(overWire)).toEqual([]);
    allow();

    const [, revoke] = keyEnvelopes(kz, 'out');
    for (const id of [announce, revoke!]) expect((await finalMessage(kz, id, 20_000)).status).toBe('delivered');
    expect(kg.node.parts.store.partners.certificates('KZ').map((c) => c.kid)).toContain(current);
    const entries = log(kg);
    const certificate = loadIdentity(kz.dir).certificate;
    expect(entries.filter(overWire).map(({ messageId, peer, sha256: hash }) => ({ messageId, peer, sha256: hash }))).toEqual([
      { messageId: announce, peer: 'KZ', sha256: sha256(certificate) },
      { messageId: revoke, peer: 'KZ', sha256: expect.any(String) },
    ]);
    // each document's entry right after the entry of the envelope that carried it, in the same transaction
    for (const id of [announce, revoke]) {
      const at = entries.findIndex((e) => e.event === 'received' && e.messageId === id);
      expect(at, id).toBeGreaterThanOrEqual(0);
      expect(entries[at + 1]).toMatchObject({ event: 'key', messageId: id });
    }
    await waitFor(() => (kz.node.parts.signer().kid === current ? true : undefined), 15_000, 'the switch to the new key');
  }, 60_000);

  it('keeps a revocation signed here out of the store and unsent when its key entry cannot be written', async () => {
    const before = { notices: notices(kz), keys: log(kz).filter((e) => e.event === 'key').length, sent: keyEnvelopes(kz, 'out').length };
    const allow = refuseKeyEntries(kz.dir);
    const at = new Date().toISOString();
    const refused = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', oldKid, '--reason', 'key file found on a decommissioned server', '--at', at]);
    allow();
    expect(refused.code).not.toBe(0);
    expect(notices(kz)).toEqual(before.notices);
    expect(keyEnvelopes(kz, 'out')).toHaveLength(before.sent);

    const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', oldKid, '--reason', 'key file found on a decommissioned server', '--at', at]);
    expect(r.code, r.out.join('\n')).toBe(0);
    const added = notices(kz).filter((c) => !before.notices.includes(c));
    expect(added).toHaveLength(1);
    const notice = added[0]!;
    const keys = log(kz).filter((e) => e.event === 'key');
    expect(keys).toHaveLength(before.keys + 1);
    expect(keys.at(-1)).toMatchObject({ messageId: `key:${oldKid}`, peer: 'KZ', sha256: sha256(notice) });
  }, 60_000);

  it('leaves both logs intact for gnc audit verify --dir', async () => {
    for (const n of [kz, kg]) {
      const r = await runCli(['audit', 'verify', '--dir', n.dir]);
      expect(r.code, r.out.join('\n')).toBe(0);
    }
  });
});
