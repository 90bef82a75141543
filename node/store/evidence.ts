/**
 * The evidence log in SQLite (issue 6): an append-only hash chain of every envelope sent or received, every
 * receipt, and every key and agreement document signed or accepted (protocol/evidence/chain.ts), with checkpoints
 * signed by the node key. Entries are appended inside the same transaction as the row they are about, so the log
 * and the store cannot disagree. The head is read from the table on each append (not cached): a rolled-back
 * savepoint must not leave a gap.
 */
import { entryHash, nextEntry, type EvidenceEntry, type EvidenceEvent } from '../../protocol/evidence/chain.js';
import { decodeCheckpoint, signCheckpoint } from '../../protocol/evidence/checkpoint.js';
import { signExportStatement, type ExportStatementPayload } from '../../protocol/evidence/statement.js';
import type { Signer } from '../../protocol/envelope/seal.js';
import type { Db } from './db.js';

/** Sign a checkpoint after this many new entries, when the node stops, and on `gnc audit` commands (SPEC 9.3). */
export const CHECKPOINT_EVERY_ENTRIES = 1000;

/** And this long after the last one when there are new entries: SPEC 9.3 says at least every 10 minutes. */
export const CHECKPOINT_EVERY_MS = 10 * 60 * 1000;

export class EvidenceLog {
  private readonly headStmt;
  private readonly insertStmt;
  private readonly pinnedStmt;
  /**
   * The seq the last checkpoint pins, as this process last read it: read from the table, not counted from zero at
   * each start, so the entries a crashed run left unpinned count towards the next checkpoint.
   */
  private pinned: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db, private readonly country: string, private readonly signer: () => Signer, private readonly clock: () => number = Date.now) {
    this.headStmt = db.prepare('SELECT seq, hash FROM evidence ORDER BY seq DESC LIMIT 1');
    this.insertStmt = db.prepare('INSERT INTO evidence (seq, entry, hash, message_id, peer, at) VALUES (?, ?, ?, ?, ?, ?)');
    this.pinnedStmt = db.prepare('SELECT seq FROM checkpoints ORDER BY seq DESC LIMIT 1').pluck();
    this.pinned = this.pinnedSeq();
  }

  /** The timed checkpoint of a running node: every CHECKPOINT_EVERY_MS, when there are new entries. */
  start(everyMs = CHECKPOINT_EVERY_MS): void {
    this.stop();
    this.timer = setInterval(() => {
      try {
        this.checkpoint();
      } catch {
        /* not written (a full disk): the next round tries again, and so does the next append over the mark */
      }
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Append one entry; call inside the transaction that stores what it is about. */
  append(event: EvidenceEvent, messageId: string, peer: string, sha256: string): EvidenceEntry {
    const head = this.headStmt.get() as { seq: number; hash: string } | undefined;
    const at = this.clock();
    const entry = nextEntry(head, { at: new Date(at).toISOString(), event, messageId, peer, sha256 });
    this.insertStmt.run(entry.seq, JSON.stringify(entry), entryHash(entry), messageId, peer, at);
    if (entry.seq - this.pinned >= CHECKPOINT_EVERY_ENTRIES) {
      queueMicrotask(() => {
        try {
          this.checkpoint();
        } catch {
          /* not written (a full disk): the head stays over the mark, so the next append tries again */
        }
      });
    }
    return entry;
  }

  /** Sign the current head (no-op when the last checkpoint already covers it). */
  checkpoint(): string | undefined {
    const head = this.headStmt.get() as { seq: number; hash: string } | undefined;
    if (!head) return undefined;
    // the CLI beside a running node may have signed one meanwhile
    this.pinned = this.pinnedSeq();
    if (this.pinned >= head.seq) return undefined;
    const compact = signCheckpoint({ v: 1, node: this.country, seq: head.seq, hash: head.hash, at: new Date(this.clock()).toISOString() }, this.signer());
    // OR IGNORE: the CLI beside a running node may checkpoint the same head at the same moment
    this.db.prepare('INSERT OR IGNORE INTO checkpoints (seq, compact, at) VALUES (?, ?, ?)').run(head.seq, compact, this.clock());
    this.pinned = head.seq;
    return compact;
  }

  /**
   * Sign an export statement (SPEC 9.5.4) with the node key, as this log's node; throws GNC_KEY_EXPIRED when the
   * node key has expired.
   */
  signStatement(fields: Omit<ExportStatementPayload, 'v' | 'node'>): string {
    return signExportStatement({ v: 1, node: this.country, ...fields }, this.signer());
  }

  private pinnedSeq(): number {
    return (this.pinnedStmt.get() as number | undefined) ?? 0;
  }

  entries(fromSeq = 1, toSeq = Number.MAX_SAFE_INTEGER): EvidenceEntry[] {
    return (this.db.prepare('SELECT entry FROM evidence WHERE seq BETWEEN ? AND ? ORDER BY seq').all(fromSeq, toSeq) as { entry: string }[]).map((r) => JSON.parse(r.entry) as EvidenceEntry);
  }

  /** Checkpoints whose seq falls in the range, plus the first one after it (which pins the range's end). */
  checkpoints(fromSeq = 1, toSeq = Number.MAX_SAFE_INTEGER): string[] {
    const inRange = this.db.prepare('SELECT compact FROM checkpoints WHERE seq BETWEEN ? AND ? ORDER BY seq').all(fromSeq, toSeq) as { compact: string }[];
    const after = this.db.prepare('SELECT compact FROM checkpoints WHERE seq > ? ORDER BY seq LIMIT 1').get(toSeq) as { compact: string } | undefined;
    return [...inRange, ...(after ? [after] : [])].map((r) => r.compact);
  }

  /** Entry seqs of the events about the given message ids (for evidence export). */
  seqsOf(messageIds: string[]): number[] {
    if (messageIds.length === 0) return [];
    const rows = this.db.prepare(`SELECT seq FROM evidence WHERE message_id IN (${messageIds.map(() => '?').join(',')}) ORDER BY seq`).all(...messageIds) as { seq: number }[];
    return rows.map((r) => r.seq);
  }

  /** The most recent checkpoint (compact JWS), if any. */
  lastCheckpoint(): string | undefined {
    return (this.db.prepare('SELECT compact FROM checkpoints ORDER BY seq DESC LIMIT 1').get() as { compact: string } | undefined)?.compact;
  }

  headSeq(): number {
    return (this.headStmt.get() as { seq: number } | undefined)?.seq ?? 0;
  }

  static checkpointSeq(compact: string): number {
    return decodeCheckpoint(compact).payload.seq;
  }
}

/** Whether the log has an entry of `event` about `messageId` over a document with this digest (a step done before). */
export function evidenceHolds(db: Db, event: EvidenceEvent, messageId: string, sha256: string): boolean {
  return db.prepare(`SELECT 1 FROM evidence WHERE message_id = ? AND json_extract(entry, '$.event') = ? AND json_extract(entry, '$.sha256') = ?`).get(messageId, event, sha256) !== undefined;
}
