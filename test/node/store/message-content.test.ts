/**
 * A message's content (signed bytes and body) lives in message_content (migration 42), apart from the row its delivery
 * updates: a status update writes the small row alone, not the ~20 KB record with its overflow pages. An older file's
 * content moves there when it is opened, leaving no copy behind in the file, and purged content stays purged.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionJob } from '../../../node/retention.js';
import { migrate, openDb, type Db } from '../../../node/store/db.js';
import { registerFold } from '../../../node/store/fold.js';
import { MessageRepo } from '../../../node/store/messages.js';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { registerNameKeys } from '../../../node/store/name-keys.js';
import { Store } from '../../../node/store/store.js';
import { summaryOf } from '../../../node/api/views.js';
import { tempDir } from '../../helpers/network.js';

let dir: string | undefined;
let db: Db | undefined;

afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  db = undefined;
  dir = undefined;
});

/** A body of a typical declaration's size, told apart by `tag`. */
const bodyOf = (tag: string): string => JSON.stringify({ kind: 'declaration', goods: Array.from({ length: 120 }, (_, i) => `${tag}-item-${i}-${'x'.repeat(40)}`) });
const jwsOf = (tag: string): Buffer => Buffer.from(`${tag}.`.repeat(1500));
const occurrences = (file: Buffer, text: string): number => file.toString('latin1').split(text).length - 1;

/** A database file as the version before migration 42 left it (its schema version 41), open. */
function olderFile(): { file: string; version: number; old: Database.Database } {
  dir = tempDir('gnc-content-');
  const file = join(dir, 'gnc.sqlite');
  const version = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE IF NOT EXISTS message_content'));
  expect(version).toBeGreaterThan(0);
  const old = new Database(file);
  registerFold(old);
  registerNameKeys(old);
  old.function('jws_payload', (_compact: unknown) => null);
  for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
  old.pragma(`user_version = ${version}`);
  return { file, version, old };
}

describe('message content', () => {
  it('is not written again by a status update: the update writes the small row alone', () => {
    dir = tempDir('gnc-content-');
    db = openDb(join(dir, 'gnc.sqlite'));
    const messages = new MessageRepo(db);
    const seq = db.transaction(() => messages.insert({
      id: 'm1', direction: 'out', partner: 'KG', type: 'aci', kind: 'declaration', ref: null, purpose: null, agreement: null,
      created: '2026-01-01T00:00:00Z', status: 'queued', sha256: 'x', removed: null, jws: jwsOf('a'), body: bodyOf('a'), retainUntil: null,
    }))();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.transaction(() => {
      expect(messages.markSending(seq, 1)).toBe(true);
      messages.setStatus(seq, 'delivered', null, null, 2);
    })();
    // the WAL header and a frame (header and page) per page written: the row's page, not the content's ~6
    const frames = (statSync(join(dir, 'gnc.sqlite-wal')).size - 32) / (pageSize + 24);
    expect(frames).toBeLessThanOrEqual(2);
    expect(messages.bySeq(seq)).toMatchObject({ status: 'delivered', body: bodyOf('a'), jws: jwsOf('a') });
    // a row read carries every column of `messages` (a column added later too), jws and body from message_content
    const columns = (db.prepare(`SELECT name FROM pragma_table_info('messages')`).pluck().all() as string[]).sort();
    expect(Object.keys(messages.bySeq(seq)!).filter((k) => !k.startsWith('withdraw')).sort()).toEqual(columns);
  });

  it('of an older file that the volume cannot hold twice stays where it was, and the refusal says the upgrade needs the space', () => {
    const { version, old } = olderFile();
    const insert = old.prepare(`INSERT INTO messages (seq, id, direction, partner, type, created, status, jws, sha256, body, stored_at, updated_at)
      VALUES (?, ?, 'in', 'KG', 'aci', '2026-01-01T00:00:00Z', 'accepted', ?, 'x', ?, 0, 0)`);
    old.transaction(() => {
      for (let i = 1; i <= 40; i++) insert.run(i, `m${i}`, jwsOf(`m${i}`), bodyOf(`m${i}`));
    })();
    // a volume with room for the file as it is and a little more, not for a second copy of its content
    const pages = old.pragma('page_count', { simple: true }) as number;
    old.pragma(`max_page_count = ${pages + 20}`);
    let err: unknown;
    try {
      migrate(old);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'GNC_STORAGE_FULL' });
    expect((err as Error).message).toContain(`from schema version ${version} to ${MIGRATIONS.length}`);
    expect((err as Error).message).toContain('twice the content held free');
    // rolled back: the content is where the older version left it, and the file still at that version
    expect(old.pragma('user_version', { simple: true })).toBe(version);
    expect(old.prepare('SELECT COUNT(*) FROM messages WHERE jws IS NOT NULL').pluck().get()).toBe(40);
    expect(old.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'message_content'`).pluck().get()).toBe(0);
    old.close();
  });

  it('of an older file moves to message_content when it is opened, leaving no copy in the file; purged content stays purged', () => {
    const { file, version, old } = olderFile();
    const insert = old.prepare(`INSERT INTO messages (seq, id, direction, partner, type, created, status, jws, sha256, body, retain_until, stored_at, updated_at)
      VALUES (?, ?, ?, 'KG', 'aci', '2026-01-01T00:00:00Z', ?, ?, 'x', ?, ?, 0, 0)`);
    const now = Date.now();
    insert.run(1, 'held', 'in', 'accepted', jwsOf('held'), bodyOf('held'), now + 86_400_000);
    insert.run(2, 'sent', 'out', 'delivered', jwsOf('sent'), bodyOf('sent'), now - 1000);
    insert.run(3, 'purged', 'in', 'accepted', null, null, now - 1000);
    old.close();

    db = openDb(file);
    const messages = new MessageRepo(db);
    const check = (): void => {
      expect(messages.bySeq(1)).toMatchObject({ id: 'held', jws: jwsOf('held'), body: bodyOf('held'), retain_until: now + 86_400_000 });
      expect(messages.bySeq(2)).toMatchObject({ id: 'sent', jws: jwsOf('sent'), body: bodyOf('sent') });
      expect(messages.bySeq(3)).toMatchObject({ id: 'purged', jws: null, body: null });
      // the received message's retention end, for the purge; a sent message is never purged
      expect(db!.prepare('SELECT seq, purge_at FROM message_content ORDER BY seq').all()).toEqual([{ seq: 1, purge_at: now + 86_400_000 }, { seq: 2, purge_at: null }]);
      expect(db!.prepare('SELECT COUNT(*) FROM messages WHERE jws IS NOT NULL OR body IS NOT NULL').pluck().get()).toBe(0);
    };
    check();
    // the old records' pages were zeroed when freed: each body is in the file once, where it is now (its 120 items,
    // but those a page boundary cuts), not twice
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(file);
    for (const tag of ['held', 'sent']) {
      expect(occurrences(bytes, `"${tag}-item-`)).toBeGreaterThan(100);
      expect(occurrences(bytes, `"${tag}-item-`)).toBeLessThanOrEqual(120);
    }
    // applied again (its schema version set back), it changes nothing
    db.pragma(`user_version = ${version}`);
    migrate(db);
    check();

    // a retention end moved (as tests do, and as any update of retain_until would) is the purge's too
    db.prepare('UPDATE messages SET retain_until = ? WHERE seq = 1').run(now - 1);
    const store = new Store(db);
    expect(new RetentionJob(store, { clock: () => now, log: () => undefined }).purge(now)).toBe(1);
    expect(messages.bySeq(1)).toMatchObject({ jws: null, body: null, retain_until: now - 1 });
    expect(messages.bySeq(2)).toMatchObject({ jws: jwsOf('sent') });
    expect(db.prepare('SELECT seq FROM message_content').pluck().all()).toEqual([2]);
  });

  it('is not read for a summary (MessageHead): the summary is the one the full row gives, before and after a purge', () => {
    dir = tempDir('gnc-content-');
    const store = Store.open(dir);
    db = store.db;
    const now = Date.parse('2026-01-02T00:00:00Z');
    const [inbound, outbound] = db.transaction((): [number, number] => [
      store.messages.insert({
        id: 'in1', direction: 'in', partner: 'KG', type: 'aci', kind: 'declaration', ref: null, purpose: null, agreement: null,
        created: '2026-01-01T00:00:00.000Z', status: 'accepted', sha256: 'x', removed: null, jws: jwsOf('a'), body: bodyOf('a'), retainUntil: now + 86_400_000,
      }, now),
      store.messages.insert({
        id: 'out1', direction: 'out', partner: 'KG', type: 'aci', kind: 'declaration', ref: null, purpose: null, agreement: null,
        created: '2026-01-01T00:00:00.000Z', status: 'delivered', sha256: 'y', removed: '["/a"]', jws: jwsOf('b'), body: bodyOf('b'), retainUntil: null,
      }, now),
    ])();
    store.messages.saveReceipt({ message_seq: outbound, receipt_id: 'r1', status: 'accepted', code: null, reason: null, jws: jwsOf('r'), sha256: 'z', at: now });
    const same = (seq: number): void => {
      const head = store.messages.headBySeq(seq)!;
      expect(head).not.toHaveProperty('jws');
      expect(head).not.toHaveProperty('body');
      const status = store.messages.receiptStatus(seq);
      expect(status).toBe(store.messages.receipt(seq)?.status);
      expect(summaryOf(head, status && { status }, now, store.terms)).toEqual(summaryOf(store.messages.bySeq(seq)!, store.messages.receipt(seq), now, store.terms));
    };
    same(inbound);
    same(outbound);
    expect(store.messages.headBySeq(inbound)!.held).toBe(1);
    // the retention purge deletes the content row: the summary says purged, as the full row's does
    db.prepare('DELETE FROM message_content WHERE seq = ?').run(inbound);
    expect(store.messages.headBySeq(inbound)!.held).toBe(0);
    expect(summaryOf(store.messages.headBySeq(inbound)!, undefined, now, store.terms).purged).not.toBeNull();
    same(inbound);
    expect(store.messages.headBySeq(999)).toBeUndefined();
  });
});
