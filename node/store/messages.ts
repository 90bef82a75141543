/**
 * Sent and received messages with their receipts. Rows are written inside the callers' transactions (group
 * commits), read by the API. `seq` is the stable cursor for pagination.
 */
import type { MessageStatus } from '../../protocol/api/schemas.js';
import type { Db } from './db.js';

export type Direction = 'out' | 'in';
/**
 * The statuses are the API's (MessageStatus): `resealed` is a control envelope that grew too old undelivered, its body
 * going on in the envelope `resealed_as` names; `withdrawn` one taken back before the partner got it (withdrawn_at). A
 * withdrawn agreement envelope whose body was queued again when its partner was pinned again names that envelope in
 * `resealed_as` too, and stays `withdrawn`.
 */
export type { MessageStatus };
export type InboundStatus = Extract<MessageStatus, 'accepted'>;
export type OutboundStatus = Exclude<MessageStatus, InboundStatus>;

/** The columns of `messages` but jws and body, which migration 42 left NULL (the content is in message_content). */
const MESSAGE_COLUMNS = ['seq', 'id', 'direction', 'partner', 'type', 'kind', 'ref', 'purpose', 'agreement', 'created', 'status', 'sha256', 'removed', 'retain_until',
  'error_code', 'error_reason', 'resealed_as', 'stored_at', 'updated_at'].map((c) => `m.${c}`).join(', ');

/**
 * A message as the API and every reader see it: its row in `messages` with its content from `message_content`
 * (migration 42), whose row the retention purge deletes: `jws` and `body` read NULL once purged. Status updates
 * write the small row of `messages` alone. Filter by `m.` columns (`seq` is in both tables); `hint` is an INDEXED BY
 * or NOT INDEXED clause for `messages`.
 */
export function messageSelect(hint = ''): string {
  return `SELECT ${MESSAGE_COLUMNS}, c.jws, c.body FROM messages m${hint} LEFT JOIN message_content c ON c.seq = m.seq`;
}
export const MESSAGE_SELECT = messageSelect();

/** True for the row of `messages` aliased `m` whose content is held (not purged): its content row exists. */
export function contentHeld(m = 'm'): string {
  return `EXISTS (SELECT 1 FROM message_content WHERE seq = ${m}.seq)`;
}

export interface MessageRow {
  seq: number;
  id: string;
  direction: Direction;
  partner: string;
  type: string;
  kind: string | null;
  ref: string | null;
  purpose: string | null;
  agreement: string | null;
  created: string;
  status: MessageStatus;
  jws: Buffer | null;
  sha256: string;
  body: string | null;
  removed: string | null;
  retain_until: number | null;
  error_code: string | null;
  error_reason: string | null;
  /** Id of the envelope that carries this one's body on (status `resealed`), else null. */
  resealed_as: string | null;
  /** Status `withdrawn`: when (epoch ms) and why, from `withdrawals` (MessageRepo reads them in); null otherwise. */
  withdrawn_at: number | null;
  withdrawal_reason: string | null;
  stored_at: number;
  updated_at: number;
}

/**
 * A message's row without its content: what a summary shows (MessageSummary), read without the envelope and the body;
 * `held` is 1 while its content is held (not purged), as `jws` not being NULL tells in a MessageRow.
 */
export type MessageHead = Omit<MessageRow, 'jws' | 'body'> & { held: 0 | 1 };

export interface ReceiptRow {
  message_seq: number;
  receipt_id: string;
  status: 'accepted' | 'rejected';
  code: string | null;
  reason: string | null;
  jws: Buffer;
  sha256: string;
  at: number;
}

/** A row to insert: the columns of MessageRow the caller supplies, with the envelope bytes as given. */
export type NewMessage = Pick<MessageRow, 'id' | 'direction' | 'partner' | 'type' | 'kind' | 'ref' | 'purpose' | 'agreement' | 'created' | 'status' | 'sha256' | 'removed'> & {
  jws: Uint8Array;
  body: string;
  retainUntil: number | null;
};

export interface MessageFilter {
  direction?: Direction | undefined;
  partner?: string | undefined;
  type?: string | undefined;
  status?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Return rows with seq below this (newest first). */
  before?: number | undefined;
  limit: number;
}

/**
 * A `since` window holding fewer messages than this is read through messages_created and sorted; a wider one
 * is read back from the newest row, where its messages lie densely (a message's `created` is close to the
 * time it was stored). 1,000: sorting that many rows stays under a millisecond or two.
 */
export const SINCE_NARROW_ROWS = 1_000;

export class MessageRepo {
  private readonly insertStmt;
  private readonly insertContentStmt;
  private readonly sinceProbeStmt;
  private readonly byKeyStmt;
  private readonly byIdStmt;
  private readonly bySeqStmt;
  private readonly headBySeqStmt;
  private readonly receiptStatusStmt;
  private readonly statusStmt;
  private readonly receiptStmt;
  private readonly insertReceiptStmt;
  private readonly setStatusStmt;
  private readonly resealedStmt;
  private readonly withdrawnStmt;
  private readonly sendingStmt;
  private readonly withdrawalStmt;
  private readonly withdrawalOfStmt;
  private readonly carriedOnStmt;
  private readonly refusedBeforeStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(`INSERT INTO messages (id, direction, partner, type, kind, ref, purpose, agreement, created, status, sha256, removed, retain_until, stored_at, updated_at)
      VALUES (@id, @direction, @partner, @type, @kind, @ref, @purpose, @agreement, @created, @status, @sha256, @removed, @retainUntil, @now, @now)`);
    this.insertContentStmt = db.prepare('INSERT INTO message_content (seq, jws, body, purge_at) VALUES (?, ?, ?, ?)');
    this.byKeyStmt = db.prepare(`${MESSAGE_SELECT} WHERE m.direction = ? AND m.partner = ? AND m.id = ?`);
    this.byIdStmt = db.prepare(`${MESSAGE_SELECT} WHERE m.id = ? ORDER BY m.direction DESC, m.seq`);
    this.bySeqStmt = db.prepare(`${MESSAGE_SELECT} WHERE m.seq = ?`);
    this.headBySeqStmt = db.prepare(`SELECT ${MESSAGE_COLUMNS}, ${contentHeld()} AS held FROM messages m WHERE m.seq = ?`);
    this.receiptStatusStmt = db.prepare('SELECT status FROM receipts WHERE message_seq = ?').pluck();
    this.statusStmt = db.prepare('SELECT status FROM messages WHERE seq = ?').pluck();
    this.receiptStmt = db.prepare('SELECT * FROM receipts WHERE message_seq = ?');
    this.insertReceiptStmt = db.prepare(`INSERT OR REPLACE INTO receipts (message_seq, receipt_id, status, code, reason, jws, sha256, at)
      VALUES (@message_seq, @receipt_id, @status, @code, @reason, @jws, @sha256, @at)`);
    this.setStatusStmt = db.prepare('UPDATE messages SET status = ?, error_code = ?, error_reason = ?, updated_at = ? WHERE seq = ?');
    this.resealedStmt = db.prepare(`UPDATE messages SET status = 'resealed', resealed_as = ?, updated_at = ? WHERE seq = ?`);
    this.withdrawnStmt = db.prepare(`UPDATE messages SET status = 'withdrawn', updated_at = ? WHERE seq = ?`);
    this.sendingStmt = db.prepare(`UPDATE messages SET status = 'sending', error_code = NULL, error_reason = NULL, updated_at = ? WHERE seq = ? AND status IN ('queued', 'retrying')`);
    this.withdrawalStmt = db.prepare('INSERT OR REPLACE INTO withdrawals (seq, at, reason) VALUES (?, ?, ?)');
    this.withdrawalOfStmt = db.prepare('SELECT at, reason FROM withdrawals WHERE seq = ?');
    this.carriedOnStmt = db.prepare(`UPDATE messages SET resealed_as = ?, updated_at = ? WHERE seq = ? AND status = 'withdrawn' AND resealed_as IS NULL`);
    // through messages_resealed_as (migration 37): the envelopes sealed again are few, where control envelopes grow
    // with every agreement notice and key message
    this.refusedBeforeStmt = db.prepare(`SELECT m.id FROM messages m INDEXED BY messages_resealed_as JOIN receipts r ON r.message_seq = m.seq
      WHERE m.resealed_as = ? AND +m.type IN ('agreement', 'key') AND +m.partner = ? AND +m.direction = 'out' AND r.status = 'rejected' LIMIT 1`).pluck();
    this.sinceProbeStmt = db.prepare(`SELECT COUNT(*) FROM (SELECT 1 FROM messages INDEXED BY messages_created WHERE created >= ? LIMIT ${SINCE_NARROW_ROWS})`).pluck();
  }

  /** The row and its content, in the caller's transaction. A received message's content goes at its retention end. */
  insert(m: NewMessage, now = Date.now()): number {
    const seq = Number(this.insertStmt.run({ ...m, now }).lastInsertRowid);
    this.insertContentStmt.run(seq, Buffer.from(m.jws.buffer, m.jws.byteOffset, m.jws.byteLength), m.body, m.direction === 'in' ? m.retainUntil : null);
    return seq;
  }

  byKey(direction: Direction, partner: string, id: string): MessageRow | undefined {
    return this.withWithdrawal(this.byKeyStmt.get(direction, partner, id) as MessageRow | undefined);
  }

  /**
   * The first control envelope of `type` and `kind` (its action) queued to `partner` whose body `matches`, oldest first:
   * one queued before is found again, not queued twice (an interrupted key rotation completed later).
   */
  firstOutControl(partner: string, type: string, kind: string, matches: (body: Record<string, unknown>) => boolean): MessageRow | undefined {
    const hit = this.outControls(partner, type, kind, matches)[0];
    return hit === undefined ? undefined : this.bySeq(hit.seq);
  }

  /** Every control envelope of `type` and `kind` queued to `partner` whose body `matches`, oldest first, with its id and status. */
  outControls(partner: string, type: string, kind: string, matches: (body: Record<string, unknown>) => boolean): { seq: number; id: string; status: MessageStatus }[] {
    const rows = this.db.prepare(`SELECT m.seq, m.id, m.status, c.body FROM messages m LEFT JOIN message_content c ON c.seq = m.seq
      WHERE m.partner = ? AND m.type = ? AND +m.direction = 'out' AND m.kind = ? ORDER BY m.seq`).all(partner, type, kind) as { seq: number; id: string; status: MessageStatus; body: string | null }[];
    return rows.filter((r) => r.body !== null && matches(JSON.parse(r.body) as Record<string, unknown>)).map(({ seq, id, status }) => ({ seq, id, status }));
  }

  /** Outbound first (ids this node minted), then inbound. */
  byId(id: string): MessageRow[] {
    return (this.byIdStmt.all(id) as MessageRow[]).map((r) => this.withWithdrawal(r));
  }

  bySeq(seq: number): MessageRow | undefined {
    return this.withWithdrawal(this.bySeqStmt.get(seq) as MessageRow | undefined);
  }

  /** Message `seq` without its content (MessageHead): a summary of it reads neither its envelope nor its body. */
  headBySeq(seq: number): MessageHead | undefined {
    return this.withWithdrawal(this.headBySeqStmt.get(seq) as MessageHead | undefined);
  }

  /** The outcome of message `seq`'s receipt alone, without reading the receipt's envelope (a summary shows no more). */
  receiptStatus(seq: number): ReceiptRow['status'] | undefined {
    return this.receiptStatusStmt.get(seq) as ReceiptRow['status'] | undefined;
  }

  /** The status alone, without reading the envelope and body (long-polling checks it). */
  statusOf(seq: number): MessageStatus | undefined {
    return this.statusStmt.get(seq) as MessageStatus | undefined;
  }

  receipt(seq: number): ReceiptRow | undefined {
    return this.receiptStmt.get(seq) as ReceiptRow | undefined;
  }

  saveReceipt(r: Omit<ReceiptRow, 'jws'> & { jws: Uint8Array }): void {
    this.insertReceiptStmt.run({ ...r, jws: Buffer.from(r.jws.buffer, r.jws.byteOffset, r.jws.byteLength) });
  }

  setStatus(seq: number, status: MessageStatus, code: string | null = null, reason: string | null = null, now = Date.now()): void {
    this.setStatusStmt.run(status, code, reason, now, seq);
  }

  /** Message `seq` is final as it is: envelope `next` carries its body on. Its last delivery error stays. */
  setResealed(seq: number, next: string, now = Date.now()): void {
    this.resealedStmt.run(next, now, seq);
  }

  /**
   * Message `seq` is about to be handed to the partner: `sending`, if it is still queued or retrying (false when
   * another process withdrew it since the dispatcher read it). The check is the update's own condition: the hot
   * path pays no read for it.
   */
  markSending(seq: number, now: number): boolean {
    return this.sendingStmt.run(now, seq).changes === 1;
  }

  /**
   * The withdrawn outbound envelopes of `type` to `partner` whose body was not queued again since (setCarriedOn), oldest
   * first. Read through messages_status: withdrawn messages are few (taken back by hand, or queued for a partner when it
   * was removed), where a partner's or a type's messages are many.
   */
  withdrawnOut(partner: string, type: string): MessageRow[] {
    const seqs = this.db.prepare(`SELECT seq FROM messages WHERE status = 'withdrawn' AND +partner = ? AND +type = ? AND +direction = 'out' AND resealed_as IS NULL ORDER BY seq`)
      .pluck().all(partner, type) as number[];
    return seqs.map((seq) => this.bySeq(seq)!);
  }

  /** Withdrawn message `seq`'s body goes on in message `next` (queued again): false when one already does. */
  setCarriedOn(seq: number, next: string, now = Date.now()): boolean {
    return this.carriedOnStmt.run(next, now, seq).changes === 1;
  }

  /**
   * The control envelope to `partner` that envelope `id` was sealed again from after the partner refused it
   * (a negative receipt, as one too old on arrival: Dispatcher), if there is one. Asked only on such a refusal.
   */
  sealedAgainFromRefused(partner: string, id: string): string | undefined {
    return this.refusedBeforeStmt.get(id, partner) as string | undefined;
  }

  /** Message `seq` is taken back before the partner got it: final, with when and why. Its last delivery error stays. */
  setWithdrawn(seq: number, reason: string, now = Date.now()): void {
    this.withdrawnStmt.run(now, seq);
    this.withdrawalStmt.run(seq, now, reason);
  }

  /**
   * Rows as read from `messages`, with when and why a withdrawn one was withdrawn (one lookup by key per withdrawn
   * row; the others get null), so that every reader of a row sees its withdrawal.
   */
  private withWithdrawal<R extends MessageRow | MessageHead | undefined>(row: R): R {
    if (row === undefined) return row;
    const w = row.status === 'withdrawn' ? (this.withdrawalOfStmt.get(row.seq) as { at: number; reason: string } | undefined) : undefined;
    row.withdrawn_at = w?.at ?? null;
    row.withdrawal_reason = w?.reason ?? null;
    return row;
  }

  /**
   * The outbound message `id` to `partner` stands for, once re-sealings are followed: the envelope that carries its
   * body now (itself when it was never re-sealed).
   */
  currentOut(partner: string, id: string): MessageRow | undefined {
    let m = this.byKey('out', partner, id);
    while (m?.resealed_as) m = this.byKey('out', partner, m.resealed_as);
    return m;
  }

  /**
   * Newest first. Direction is never a lookup (`+direction`: half the table matches it); partner, type and
   * status use their (column, seq) index in seq order. Without those, a narrow `since` window (an integrator
   * polling for news) is read by messages_created and sorted, instead of walking back from the newest row
   * through every older one; a wide one (paging through months) is walked back from the newest row (or the
   * cursor), which finds a page at once, instead of sorting the whole window for every page.
   */
  list(f: MessageFilter): MessageRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, v: string | number | undefined): void => {
      if (v !== undefined) {
        where.push(sql);
        args.push(v);
      }
    };
    add('+m.direction = ?', f.direction);
    add('m.partner = ?', f.partner);
    add('m.type = ?', f.type);
    add('m.status = ?', f.status);
    add('m.created >= ?', f.since);
    add('m.created < ?', f.until);
    add('m.seq < ?', f.before);
    let hint = '';
    if (f.since !== undefined && f.partner === undefined && f.type === undefined && f.status === undefined) {
      hint = (this.sinceProbeStmt.get(f.since) as number) < SINCE_NARROW_ROWS ? ' INDEXED BY messages_created' : ' NOT INDEXED';
    }
    const sql = `${messageSelect(hint)} ${where.length ? 'WHERE ' + where.join(' AND ') + ' ' : ''}ORDER BY m.seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as MessageRow[]).map((r) => this.withWithdrawal(r));
  }
}
