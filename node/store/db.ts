/**
 * Opens the node's SQLite file: WAL with synchronous=FULL so a committed row survives a power cut, busy
 * timeout for the CLI running beside a live node, foreign keys on, migrations applied. One connection per
 * process; better-sqlite3 is synchronous, so every transaction is atomic with respect to the event loop.
 * Temporary data stays in memory: the savepoint journal of a group-commit unit that changes more than 64 KB
 * (a risk step over a burst of declarations) otherwise spills to a new file in /var/tmp, created, written
 * and deleted once per batch, none of which durability needs (it only serves a rollback within the open
 * transaction). Measured at 64 in flight, five alternating pairs: between -4 and +13 %, ~+4 % on average.
 */
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export function openDb(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('temp_store = MEMORY');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
