/**
 * asGncError on real failures of the file system and SQLite: each gets the code the CLI's exit class follows,
 * and a store write on a full volume gets GNC_STORAGE_FULL as the node's own paths give it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { asGncError } from '../../../node/cli/system-errors.js';
import { tempDir } from '../../helpers/network.js';

const dir = tempDir('gnc-syserr-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failure(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('asGncError', () => {
  it('names a missing path as GNC_FILE_ACCESS', () => {
    const e = asGncError(failure(() => readFileSync(join(dir, 'missing', 'x.json'))));
    expect(e.code).toBe('GNC_FILE_ACCESS');
    expect(e.message).toContain(join(dir, 'missing'));
  });

  it('gives a write on a full database GNC_STORAGE_FULL', () => {
    const db = new Database(join(dir, 'full.sqlite'));
    db.exec('CREATE TABLE t (b BLOB)');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const e = asGncError(failure(() => { for (;;) db.prepare('INSERT INTO t (b) VALUES (zeroblob(3000))').run(); }));
    db.close();
    expect(e.code).toBe('GNC_STORAGE_FULL');
  });

  it('gives a file that is no database GNC_STORAGE_CORRUPT', () => {
    writeFileSync(join(dir, 'junk.sqlite'), 'this is no database, but long enough to be read as a header page');
    const e = asGncError(failure(() => new Database(join(dir, 'junk.sqlite')).pragma('user_version')));
    expect(e.code).toBe('GNC_STORAGE_CORRUPT');
  });

  it('keeps anything else GNC_INTERNAL', () => {
    expect(asGncError(new TypeError('x is undefined')).code).toBe('GNC_INTERNAL');
  });
});
