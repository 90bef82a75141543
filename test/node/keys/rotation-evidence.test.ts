/**
 * A key rotation's retirement notice (the old key's revocation at the end of the overlap) is a key document signed
 * here: stored with its `key` evidence entry in one transaction before any envelope carries it to a partner, so a
 * failure of the entry (a trigger on the real database file refuses it here, as a full disk would) sends nothing
 * that this node does not hold and has not logged. Once the disk has room again, the same command completes the
 * rotation it interrupted: the key it certified, its retirement signed and logged once, announced once per partner.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { networkPerTest, runCli } from '../../helpers/network.js';

const network = networkPerTest();

function query<T>(dir: string, sql: string): T[] {
  const db = new Database(join(dir, 'gnc.sqlite'));
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe('gnc keys rotate', () => {
  it('queues no retirement notice to a partner when the notice and its key entry cannot be stored, and completes the rotation when run again', async () => {
    const net = await network(['KZ', 'KG'], { start: false });
    const kz = net.dirs.KZ!;
    const db = new Database(join(kz, 'gnc.sqlite'));
    db.exec(`CREATE TRIGGER test_refuse_key_entry BEFORE INSERT ON evidence WHEN json_extract(NEW.entry, '$.event') = 'key'
      BEGIN SELECT RAISE(ABORT, 'test: the key entry cannot be written'); END`);
    db.close();
    const r = await runCli(['keys', 'rotate', '--dir', kz]);
    expect(r.code, r.out.join('\n')).not.toBe(0);
    expect(query(kz, `SELECT compact FROM key_notices`)).toEqual([]);
    // no partner was sent a notice this node neither holds nor logged
    const revokes = query<{ id: string }>(kz, `SELECT id FROM messages WHERE direction = 'out' AND type = 'key' AND kind = 'revoke'`);
    expect(revokes).toEqual([]);

    // room again: `gnc keys status` says what is missing and what to run, which completes the rotation begun
    const db2 = new Database(join(kz, 'gnc.sqlite'));
    db2.exec('DROP TRIGGER test_refuse_key_entry');
    db2.close();
    const { from, to } = JSON.parse(readFileSync(join(kz, 'identity/rotation.json'), 'utf8')) as { from: string; to: string };
    const status = (await runCli(['keys', 'status', '--dir', kz])).out.join('\n');
    expect(status).toContain(`ROTATION INCOMPLETE: the node key rotation to ${to}`);
    expect(status).toContain(`Complete it with \`gnc keys rotate --dir ${kz}\``);
    const again = await runCli(['keys', 'rotate', '--dir', kz]);
    expect(again.code, again.out.join('\n')).toBe(0);
    expect(again.out[0]).toContain(`Completed the interrupted rotation to node key ${to}`);
    expect(query<{ kind: string }>(kz, `SELECT kind FROM messages WHERE direction = 'out' AND type = 'key' ORDER BY seq`).map((m) => m.kind)).toEqual(['announce', 'revoke']);
    const logged = query<{ message_id: string }>(kz, `SELECT message_id FROM evidence WHERE json_extract(entry, '$.event') = 'key' AND message_id IN ('key:${from}', 'key:${to}')`);
    expect(logged.map((e) => e.message_id).sort()).toEqual([`key:${from}`, `key:${to}`].sort());
    expect((await runCli(['keys', 'status', '--dir', kz])).out.join('\n')).not.toContain('INCOMPLETE');
  }, 60_000);
});
