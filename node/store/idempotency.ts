/**
 * Idempotency keys of API submissions (the `Idempotency-Key` request header, draft-ietf-httpapi-idempotency-
 * key-header): per API token, a key names the one message its first submission made, with the SHA-256 of that
 * submission. A client that retries after a lost answer gets that message again instead of a second one sent
 * to the partner. Keys are kept for IDEMPOTENCY_KEY_TTL_MS (protocol/constants.ts), then pruned by the retention job.
 */
import type { Db } from './db.js';

export interface IdempotencyRecord {
  request: string;
  message_seq: number;
}

export class IdempotencyRepo {
  private readonly getStmt;
  private readonly addStmt;
  private readonly pruneStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare('SELECT request, message_seq FROM idempotency_keys WHERE token_id = ? AND key = ?');
    this.addStmt = db.prepare('INSERT INTO idempotency_keys (token_id, key, request, message_seq, at) VALUES (?, ?, ?, ?, ?)');
    this.pruneStmt = db.prepare('DELETE FROM idempotency_keys WHERE at < ?');
  }

  get(tokenId: string, key: string): IdempotencyRecord | undefined {
    return this.getStmt.get(tokenId, key) as IdempotencyRecord | undefined;
  }

  add(tokenId: string, key: string, request: string, messageSeq: number, at: number): void {
    this.addStmt.run(tokenId, key, request, messageSeq, at);
  }

  /** Forget keys first used before `before` (epoch ms); returns how many. */
  prune(before: number): number {
    return this.pruneStmt.run(before).changes;
  }
}
