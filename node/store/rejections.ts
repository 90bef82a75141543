/**
 * Inbound envelopes refused before storage keep only a rejection record: who, which id, the hash of what
 * arrived, the code and reason, and the negative receipt sent. The refused content itself is never stored
 * (an out-of-scope message must leave no data behind). The reason and the receipt, which can quote a refused
 * value, are dropped after REJECTION_RETENTION_DAYS by the retention job.
 */
import { MESSAGE_ID_PATTERN } from '../../protocol/ids.js';
import type { Db } from './db.js';

export interface RejectionRow {
  seq: number;
  partner: string | null;
  message_id: string | null;
  sha256: string;
  code: string;
  reason: string;
  receipt: Buffer | null;
  at: number;
}

export class RejectionRepo {
  constructor(private readonly db: Db) {}

  add(r: Omit<RejectionRow, 'seq' | 'receipt'> & { receipt: Uint8Array | null }): void {
    this.db
      .prepare('INSERT INTO rejections (partner, message_id, sha256, code, reason, receipt, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(r.partner, r.message_id, r.sha256, r.code, r.reason, r.receipt ? Buffer.from(r.receipt) : null, r.at);
  }

  /**
   * Drops the reason and the negative receipt of rejections made before `before` (both may quote the refused
   * content: a schema error names the value it got); the code, hashes and times stay. Returns how many.
   */
  purge(before: number, reason: string): number {
    return this.db.prepare('UPDATE rejections SET reason = ?, receipt = NULL WHERE receipt IS NOT NULL AND at <= ?').run(reason, before).changes;
  }

  /**
   * Forgets the claimed id of the records whose id is no message id: refused content (of any size) that versions before
   * 2026-11-24 kept as the id, which outlives the reason (node/inbound/receiver.ts keeps none today). Reads every record
   * that names an id, so the retention job runs it once per process, not at each sweep. Returns how many.
   */
  forgetRefusedIds(): number {
    const rows = this.db.prepare('SELECT seq, message_id FROM rejections WHERE message_id IS NOT NULL').all() as { seq: number; message_id: string }[];
    const clear = this.db.prepare('UPDATE rejections SET message_id = NULL WHERE seq = ?');
    let n = 0;
    for (const r of rows) if (!MESSAGE_ID_PATTERN.test(r.message_id)) n += clear.run(r.seq).changes;
    return n;
  }

  list(limit = 100): RejectionRow[] {
    return this.db.prepare('SELECT * FROM rejections ORDER BY seq DESC LIMIT ?').all(limit) as RejectionRow[];
  }
}
