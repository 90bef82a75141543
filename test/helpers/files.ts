/** What a node's files hold, read as raw bytes (not through SQLite): for the tests of what the retention purge removes. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How often `text` occurs in each file of `dir` whose name starts with `prefix` (a database and its write-ahead log),
 * free pages and free space within pages included; the files without it are left out.
 */
export function occurrences(dir: string, prefix: string, text: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const f of readdirSync(dir).filter((n) => n.startsWith(prefix))) {
    const n = readFileSync(join(dir, f)).toString('latin1').split(text).length - 1;
    if (n > 0) found[f] = n;
  }
  return found;
}
