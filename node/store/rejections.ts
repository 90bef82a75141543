/**
 * Inbound envelopes refused before storage keep only a rejection record: who, which id, the hash of what
 * arrived, the code and reason, and the negative receipt sent. The refused content itself is never stored
 * (an out-of-scope message must leave no data behind). The reason and the receipt, which can quote a refused
 * value, are dropped after REJECTION_RETENTION_DAYS by the retention job.
 */
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

  list(limit = 100): RejectionRow[] {
    return this.db.prepare('SELECT * FROM rejections ORDER BY seq DESC LIMIT ?').all(limit) as RejectionRow[];
  }
}
