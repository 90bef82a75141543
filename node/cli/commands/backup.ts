/**
 * `gnc backup --dir DIR --out FILE`: a consistent copy of the node's database, taken while the node runs.
 * Copying gnc.sqlite with cp beside a running node can catch a half-applied WAL and give a file that does not
 * open; `VACUUM INTO` on a read-only connection copies one snapshot (WAL readers never block the node's
 * writer) and compacts it. The copy is checked (`quick_check`) before it is put in place, mode 0600: it holds
 * every message the node keeps. Keys and identity files are not in it: they stay in the data dir, backed up
 * by the administration's key-custody procedure (README "Run a real national node", step 7).
 *
 * A copy leaves the node's control more easily than the node, and holds nothing an agreement says must no longer be
 * kept: before it is checked, the retention purge runs on it at this moment (purgeCopy), as on a running node. The
 * database may hold content whose retention ended: a stopped node purges only when it starts again, a running one
 * up to a second after the end.
 */
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GncError } from '../../../protocol/errors.js';
import { readConfig } from '../../config.js';
import { overwriting, RetentionJob } from '../../retention.js';
import { offlineRiskPurge } from '../../risk/purge.js';
import { rulesPathFor, startRules, type LoadedRules } from '../../risk/rules.js';
import { openDb } from '../../store/db.js';
import { DB_FILE, Store } from '../../store/store.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { checkOutFile, FORCE_OPTION, placeOutFile, tempOutFile } from '../files.js';

const spec = {
  name: 'backup',
  usage: 'gnc backup --dir DIR --out FILE [--force]',
  description: "Write a consistent copy of the node's database (messages, receipts, outbox, agreements, partners, tokens, evidence log, risk views), safe while the node runs; content past its retention end is purged in the copy.",
  options: { dir: { type: 'string' }, out: { type: 'string' }, ...FORCE_OPTION },
  required: ['dir', 'out'],
} as const;

interface CopyFacts {
  schema: number;
  messages: number;
  evidenceHead: number;
}

/**
 * Purges the copy `file` as the retention job purges a node's database at `now` (node/retention.ts: content of the
 * received messages past their retention end and what the risk views derived from it, refusal reasons past their
 * days, old idempotency keys), keeping what the purge keeps (metadata, envelope hashes, receipts, evidence log); then,
 * as the node does right after a purge, assesses again, under the data dir's risk rules, the consignments whose
 * assessment quoted a purged message. secure_delete throughout: what either removes or rewrites is overwritten in the
 * file. The copy is brought to this version's schema first, as a start of this version would. Returns how many
 * messages' content was purged, and how many consignments whose assessment failed were left queued, unassessed, for
 * the node's risk loop after a restore (offlineRiskPurge).
 */
function purgeCopy(file: string, now: number, rules: () => LoadedRules): { purged: number; unassessed: number } {
  const store = new Store(openDb(file, 'MEMORY'));
  try {
    const clock = (): number => now;
    const risk = offlineRiskPurge(store, clock, rules);
    return overwriting(store.db, () => {
      const purged = new RetentionJob(store, { clock, log: () => undefined, onPurge: risk.onPurge }).purge(now);
      return { purged, unassessed: purged > 0 ? risk.reassess() : 0 };
    });
  } finally {
    store.close();
  }
}

/** Opens the copy on its own and reads what the summary names; a copy that fails its check is not kept. */
function checkCopy(file: string): CopyFacts {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new GncError('GNC_STORAGE_CORRUPT', `The backup copy failed its integrity check (${String(check)}): the node's database may be damaged; run \`gnc audit verify --dir\` and check the volume.`);
    return {
      schema: db.pragma('user_version', { simple: true }) as number,
      messages: db.prepare('SELECT COUNT(*) FROM messages').pluck().get() as number,
      evidenceHead: (db.prepare('SELECT MAX(seq) FROM evidence').pluck().get() as number | null) ?? 0,
    };
  } finally {
    db.close();
  }
}

export const backupCommand: Command = {
  spec,
  async run(argv, out) {
    const { values } = parse(spec, argv);
    const dir = values.dir!;
    const config = readConfig(dir);
    const source = join(dir, DB_FILE);
    if (!existsSync(source)) throw new GncError('GNC_NOT_FOUND', `${dir} has no database (${DB_FILE}) yet: start the node once, or check --dir.`);
    checkOutFile(values.out, values.force, dir);
    const tmp = tempOutFile(values.out!);
    // created empty and 0600 before SQLite fills it (VACUUM INTO takes an empty file): the copy is never readable
    // by others, not even while it is written, and a folder that is missing or not writable is named as such
    try {
      writeFileSync(tmp, '', { flag: 'wx', mode: 0o600 });
    } catch (err) {
      throw Object.assign(err as NodeJS.ErrnoException, { path: values.out });
    }
    let facts: CopyFacts;
    let purged: number;
    let unassessed: number;
    try {
      const db = new Database(source, { readonly: true, fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        db.prepare('VACUUM INTO ?').run(tmp);
      } finally {
        db.close();
      }
      // read only when a consignment is to be assessed again (a broken rules file fails the backup, naming the field)
      let rules: LoadedRules | undefined;
      ({ purged, unassessed } = purgeCopy(tmp, Date.now(), () => (rules ??= startRules(rulesPathFor(dir, config.riskRules), process.env, false))));
      facts = checkCopy(tmp);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    const mb = (statSync(tmp).size / 1_048_576).toFixed(1);
    placeOutFile(tmp, values.out!, values.force);
    out(`Backed up ${dir} to ${values.out}: ${facts.messages} messages, evidence log up to entry ${facts.evidenceHead}, schema ${facts.schema}, ${mb} MB.`);
    out(`Purged in the copy: the content of ${purged} received message${purged === 1 ? '' : 's'} past ${purged === 1 ? 'its' : 'their'} retention end (metadata, receipts and evidence log kept).`);
    if (unassessed > 0) {
      // the copy is good: only a derived assessment is missing, and the node makes it after a restore
      out(
        `Warning: ${unassessed} consignment${unassessed === 1 ? '' : 's'} whose data the purge changed could not be assessed again in the copy: ` +
          `${unassessed === 1 ? 'it stays' : 'they stay'} queued, and the node's risk loop assesses ${unassessed === 1 ? 'it' : 'them'} once the copy is restored. ` +
          'If this node logs "a consignment could not be assessed" too, report it with that line (it names the consignment, not its content).',
      );
    }
    out(`Restore: stop the node, remove ${DB_FILE}-wal and ${DB_FILE}-shm, copy the file over ${join(dir, DB_FILE)}, start the node. Keys and identity are not in it.`);
  },
};
