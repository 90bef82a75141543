/**
 * Received electronic certificates of origin, by partner and certificate number, with their latest status
 * (issued, replaced, cancelled). Status messages may arrive out of date order (several are in flight at once):
 * the one with the latest statusDate is in force, on the same date the one received last, as for AEO records.
 * The certificate content stays with its message (the verified bytes' body, in message_content until the retention
 * purge deletes it: store migration 42); this index says where it is and what became of it, so the cross-checks
 * find a certificate named by a goods item's `ecooReference` with one lookup.
 */
import { certificateKey, type EcooCertificate, type EcooStatus } from '../../protocol/messages/ecoo.js';
import type { Db } from '../store/db.js';

export interface EcooRow {
  partner: string;
  number: string;
  seq: number;
  message_id: string;
  preference: 'preferential' | 'non-preferential';
  status: 'issued' | 'replaced' | 'cancelled';
  status_message_id: string | null;
  status_date: string | null;
  replacement: string | null;
  updated_at: number;
}

/** A certificate found for a reference, with its body (parsed from the stored message). */
export interface EcooFound extends EcooRow {
  body: EcooCertificate;
}

export class EcooRegistry {
  private readonly upsertCertStmt;
  private readonly statusStmt;
  private readonly getStmt;
  private readonly byNumberStmt;
  private readonly bodyStmt;

  constructor(db: Db) {
    this.upsertCertStmt = db.prepare(`INSERT INTO risk_ecoo (partner, number, seq, message_id, preference, status, updated_at) VALUES (?, ?, ?, ?, ?, 'issued', ?)
      ON CONFLICT (partner, number) DO UPDATE SET seq = excluded.seq, message_id = excluded.message_id, preference = excluded.preference, updated_at = excluded.updated_at`);
    // an older status arriving late (statusDate before the one held) changes nothing
    this.statusStmt = db.prepare(`UPDATE risk_ecoo SET status = @status, status_message_id = @message_id, status_date = @date, replacement = @replacement, updated_at = @now
      WHERE partner = @partner AND number = @number AND (status_date IS NULL OR status_date <= @date)`);
    this.getStmt = db.prepare('SELECT * FROM risk_ecoo WHERE partner = ? AND number = ?');
    this.byNumberStmt = db.prepare('SELECT * FROM risk_ecoo WHERE number = ? ORDER BY seq DESC LIMIT 1');
    this.bodyStmt = db.prepare('SELECT body FROM message_content WHERE seq = ?').pluck();
  }

  /** Records a certificate; a re-issue under the same number replaces the content, keeping a later status. */
  addCertificate(partner: string, seq: number, messageId: string, body: EcooCertificate, now: number): void {
    this.upsertCertStmt.run(partner, certificateKey(body.certificateNumber), seq, messageId, body.preference, now);
  }

  /**
   * Records a status change; false when it changes nothing: no certificate with that number was received from
   * the partner, or the status held has a later statusDate.
   */
  setStatus(partner: string, messageId: string, body: EcooStatus, now: number): boolean {
    const info = this.statusStmt.run({
      status: body.status, message_id: messageId, date: body.statusDate, replacement: body.replacementCertificateNumber ?? null, now,
      partner, number: certificateKey(body.certificateNumber),
    });
    return info.changes > 0;
  }

  /** The certificate a reference names: the sending partner's first, else the latest from any partner. */
  find(partner: string, number: string): EcooFound | undefined {
    const key = certificateKey(number);
    const row = (this.getStmt.get(partner, key) ?? this.byNumberStmt.get(key)) as EcooRow | undefined;
    if (!row) return undefined;
    const body = this.bodyStmt.get(row.seq) as string | undefined;
    if (!body) return undefined; // content purged after its retention period
    return { ...row, body: JSON.parse(body) as EcooCertificate };
  }
}
