/**
 * The outbox: one row per message still to deliver. Inserted in the same transaction as the message row, so a
 * submission the API acknowledged cannot be lost; removed in the same transaction that records the final
 * receipt. `next_at` drives retries with exponential backoff; `expires_at` bounds them.
 */
import { isControlType } from '../../protocol/messages/control.js';
import type { Db } from './db.js';

/**
 * A message that refers to another one (amendment, cancellation, status change) waits while that one is still
 * in the outbox (queued, on the wire or waiting out a backoff): sent ahead, it would reach a partner that does
 * not know the original yet and be refused, finally, as GNC_ORIGINAL_UNKNOWN. Once the original is final
 * (delivered, rejected or expired) it goes, and the partner's receipt tells the truth about it. The original is
 * found by its id (`+partner`: by partner it would read all of that partner's messages).
 */
const NOT_WAITING_FOR_ORIGINAL = `(m.ref IS NULL OR NOT EXISTS (SELECT 1 FROM messages r JOIN outbox ro ON ro.seq = r.seq
  WHERE r.id = m.ref AND +r.direction = 'out' AND +r.partner = m.partner))`;

/**
 * A message queued after a control envelope (agreement or key) for the same partner waits until that one is
 * final: a key announcement must reach the partner before anything the new key signs, a resume notice before
 * the messages it allows, and a suspend notice before the resume that follows it. Rows queued before it go as
 * usual. Order is by `position` (see queuePosition), which a re-sealed control envelope keeps from the one it
 * replaces. The first pending control row of a partner is one step of the partial index outbox_control.
 */
const NOT_BEHIND_CONTROL = `o.position <= COALESCE((SELECT MIN(c.position) FROM outbox c WHERE c.partner = ? AND c.control = 1), o.position)`;

/**
 * Key envelopes (announcements, revocations, root successions) go ahead of everything else queued for the partner: a
 * revocation after a key compromise must not wait behind a backlog of business messages (thousands, after the partner
 * was away), nor behind agreement notices. Their positions are their seqs less KEY_LANE, so every key envelope comes
 * before every other row, and the rows queued before it wait for it as those queued after it do (NOT_BEHIND_CONTROL).
 * Among themselves key envelopes keep the order they were queued in: a revocation may need what was queued before it
 * (the announcement of the key that seals it, the root succession naming the root that signed it). Business messages
 * and agreement notices keep theirs. 2^52 is above any seq a store reaches, and the difference stays an exact
 * integer for JavaScript and SQLite.
 */
export const KEY_LANE = 2 ** 52;

/** The place in its partner's order of a message first queued as row `seq` (see KEY_LANE). */
export function queuePosition(seq: number, type: string): number {
  return type === 'key' ? seq - KEY_LANE : seq;
}

export interface OutboxRow {
  seq: number;
  partner: string;
  attempts: number;
  next_at: number;
  expires_at: number;
  last_error: string | null;
  jws: Buffer;
  id: string;
  sha256: string;
  agreement: string | null;
  /** The envelope's `created` (RFC 3339, as sealed): a revocation of its key from this instant or earlier voids it. */
  created: string;
  control: number;
  /** The partner's delivery order: the seq of the message as first queued, less KEY_LANE for a key envelope (queuePosition). */
  position: number;
  /**
   * 1 when the partner may hold the envelope: an earlier attempt wrote it to the partner and no receipt came back,
   * or an attempt was about to when the node stopped (the mark is committed before the frame is handed over).
   */
  sent: number;
}

export class OutboxRepo {
  private readonly insertStmt;
  private readonly dueSeqsStmt;
  private readonly dueByExpiryStmt;
  private readonly anyDueStmt;
  private readonly rowStmt;
  private readonly nextDueStmt;
  private readonly nextExpiryStmt;
  private readonly rescheduleStmt;
  private readonly deleteStmt;
  private readonly expiredStmt;
  private readonly partnersStmt;
  private readonly retryNowStmt;
  private readonly markSentStmt;
  private readonly moveStmt;
  private readonly waitingStmt;
  private readonly refersStmt;
  private readonly sentStmt;
  private readonly controlStmt;
  private readonly positionStmt;
  private readonly othersStmt;
  /**
   * Rows marked (markSent) in the group commit now open, each with its `sent` before the mark. The dispatcher hands a
   * row over only once the commit that marks it is done, so none of these has left this node yet: a withdrawal in the
   * same commit (one message's, or a partner removal's) takes them back as rows still waiting (markedNow, `waiting`).
   */
  private readonly marking = new Map<number, number>();
  /** Rows of `marking` removed from the outbox in the commit that marked them: taken back once it commits. */
  private readonly leaving = new Set<number>();
  /** Rows marked and taken back in one commit, until the dispatcher asks (takenBack). */
  private readonly taken = new Set<number>();

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO outbox (seq, partner, attempts, next_at, expires_at, control, position) VALUES (?, ?, 0, ?, ?, ?, ?)');
    const dueSeqs = (order: string): string => `SELECT o.seq FROM outbox o JOIN messages m ON m.seq = o.seq
      WHERE o.partner = ? AND o.next_at <= ? AND m.status IN ('queued','retrying') AND ${NOT_BEHIND_CONTROL} AND ${NOT_WAITING_FOR_ORIGINAL}
      ORDER BY ${order}, o.seq LIMIT ?`;
    this.dueSeqsStmt = db.prepare(dueSeqs('o.next_at')).pluck();
    this.dueByExpiryStmt = db.prepare(dueSeqs('o.expires_at')).pluck();
    // the first two conditions of dueSeqsStmt alone, LIMIT 1: whether it can find anything (LIMIT as a literal, not bound)
    this.anyDueStmt = db.prepare(`SELECT 1 FROM outbox o JOIN messages m ON m.seq = o.seq
      WHERE o.partner = ? AND o.next_at <= ? AND m.status IN ('queued','retrying') LIMIT 1`).pluck();
    this.rowStmt = db.prepare('SELECT o.*, c.jws, m.id, m.sha256, m.agreement, m.created FROM outbox o JOIN messages m ON m.seq = o.seq LEFT JOIN message_content c ON c.seq = o.seq WHERE o.seq = ?');
    this.nextDueStmt = db.prepare(`SELECT MIN(o.next_at) AS t FROM outbox o JOIN messages m ON m.seq = o.seq WHERE o.partner = ? AND m.status IN ('queued','retrying')
      AND ${NOT_BEHIND_CONTROL} AND ${NOT_WAITING_FOR_ORIGINAL}`);
    this.rescheduleStmt = db.prepare('UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ?, sent = ? WHERE seq = ?');
    this.markSentStmt = db.prepare('UPDATE outbox SET sent = 1 WHERE seq = ?');
    this.deleteStmt = db.prepare('DELETE FROM outbox WHERE seq = ?');
    // control envelopes do not expire: they are sealed again (moveTo)
    this.expiredStmt = db.prepare('SELECT seq FROM outbox WHERE expires_at <= ? AND control = 0');
    this.nextExpiryStmt = db.prepare('SELECT MIN(expires_at) FROM outbox WHERE partner = ? AND control = 0 AND expires_at > ?').pluck();
    this.moveStmt = db.prepare('UPDATE outbox SET seq = ?, next_at = ?, expires_at = ?, sent = 0 WHERE seq = ?');
    this.partnersStmt = db.prepare('SELECT DISTINCT partner FROM outbox');
    this.retryNowStmt = db.prepare('UPDATE outbox SET next_at = ? WHERE partner = ? AND next_at > ?');
    this.waitingStmt = db.prepare(`SELECT o.seq, m.id, o.sent, m.status FROM outbox o JOIN messages m ON m.seq = o.seq WHERE o.partner = ? AND m.status IN ('queued','retrying','sending') ORDER BY o.position`);
    this.refersStmt = db.prepare('SELECT m.id FROM outbox o JOIN messages m ON m.seq = o.seq WHERE o.partner = ? AND m.ref = ? ORDER BY o.position').pluck();
    this.sentStmt = db.prepare('SELECT sent FROM outbox WHERE seq = ?').pluck();
    this.positionStmt = db.prepare('UPDATE outbox SET position = MIN(position, ?) WHERE seq = ?');
    this.othersStmt = db.prepare('SELECT 1 FROM outbox WHERE partner = ? AND seq <> ? LIMIT 1').pluck();
    this.controlStmt = db.prepare('SELECT m.id FROM outbox o JOIN messages m ON m.seq = o.seq WHERE o.partner = ? AND o.control = 1 AND m.type = ? ORDER BY o.position').pluck();
  }

  /**
   * A message of `type`: a control envelope (agreement or key) is one the partner's later messages wait for.
   * `position`: its place in the partner's order, by default queuePosition (a key envelope ahead of every other row,
   * any other message after everything queued before it).
   */
  add(seq: number, partner: string, nextAt: number, expiresAt: number, type: string, position = queuePosition(seq, type)): void {
    this.insertStmt.run(seq, partner, nextAt, expiresAt, isControlType(type) ? 1 : 0, position);
  }

  /**
   * The row of message `from` now delivers message `to`, a new envelope of the same body (a re-sealed control
   * envelope), due at `nextAt`: it keeps its attempts and its place in the partner's order, and the partner holds
   * none of the new envelope yet.
   */
  moveTo(from: number, to: number, nextAt: number, expiresAt: number): void {
    this.moveStmt.run(to, nextAt, expiresAt, from);
  }

  /**
   * Row `seq` goes at `position` of its partner's order, if that is ahead of where it is (a key announcement,
   * SubmitService.reseal): one in the key lane (queuePosition) is ahead of every agreement notice already.
   */
  moveAhead(seq: number, position: number): void {
    this.positionStmt.run(position, seq);
  }

  /**
   * Up to `limit` rows due for a partner, oldest first, leaving out `skip` (rows the dispatcher has taken, whose
   * 'sending' mark may not be committed yet), messages queued behind a pending control envelope and
   * messages whose original is still in the outbox.
   * Only the chosen rows are read in full. Asked first whether any row of the partner is due and waiting at all (the
   * rows on the wire, 'sending', are not): most pumps at a steady load follow a delivery that freed a slot with nothing
   * queued behind it, and that answer costs a fraction of the full query (the e2e bench's sender, 64 in flight: ~5 us
   * against ~35 us with 64 rows on the wire). `byExpiry`: the rows expiring first come first instead (a partner found
   * unreachable whose next attempt is the last of the message expiring first: Dispatcher.gates); that order has no
   * index, and sorts all of the partner's due rows, once per such attempt, never on a delivery's path.
   */
  due(partner: string, now: number, limit: number, skip: ReadonlySet<number>, byExpiry = false): OutboxRow[] {
    if (this.anyDueStmt.get(partner, now) === undefined) return [];
    const stmt = byExpiry ? this.dueByExpiryStmt : this.dueSeqsStmt;
    const seqs = (stmt.all(partner, now, partner, limit + skip.size) as number[]).filter((s) => !skip.has(s)).slice(0, limit);
    return seqs.map((s) => this.row(s)!);
  }

  /** Row `seq` in full (as `due` reads it), if it is in the outbox. */
  row(seq: number): OutboxRow | undefined {
    return this.rowStmt.get(seq) as OutboxRow | undefined;
  }

  /** Whether the outbox holds a row of `partner` other than `seq` (queued, on the wire or waiting out a backoff). */
  hasOthers(partner: string, seq: number): boolean {
    return this.othersStmt.get(partner, seq) !== undefined;
  }

  /** Earliest next attempt for a partner's waiting messages, if any. */
  nextDue(partner: string): number | undefined {
    const r = this.nextDueStmt.get(partner, partner) as { t: number | null };
    return r.t ?? undefined;
  }

  /**
   * An attempt is about to hand the envelope to the partner: from then on the partner may hold it, and a crash
   * must not forget that (a message the partner may hold is sent again whatever became of its agreement). Inside a
   * group commit; `before`: the row's `sent` as read before (kept for a withdrawal in the same commit, see marking).
   */
  markSent(seq: number, before: number): void {
    this.markSentStmt.run(seq);
    this.marking.set(seq, before);
  }

  /**
   * The group commit's transaction has ended (`committed`, or rolled back whole): rows marked in it are handed over
   * from now on (or were not marked after all), and the ones a withdrawal took back in it are not (takenBack).
   */
  transactionEnded(committed: boolean): void {
    if (committed) for (const s of this.leaving) this.taken.add(s);
    this.marking.clear();
    this.leaving.clear();
  }

  /**
   * Whether row `seq`, marked in a commit that is done now, was withdrawn in that same commit (once: the answer is
   * forgotten): the dispatcher does not hand it over then. A unit that withdrew it may have rolled back alone, so the
   * dispatcher reads the message's status before it leaves it; the hot path pays one lookup in an empty set.
   */
  takenBack(seq: number): boolean {
    return this.taken.delete(seq);
  }

  /**
   * Another attempt later; `sent`: the partner may hold the envelope (this attempt or an earlier one wrote it),
   * which replaces the mark `markSent` set before this attempt.
   */
  reschedule(seq: number, nextAt: number, error: string, sent: boolean): void {
    this.rescheduleStmt.run(nextAt, error, sent ? 1 : 0, seq);
  }

  /** The partner is reachable again: its messages waiting out a backoff become due now. Returns how many. */
  retryNow(partner: string, now: number): number {
    return this.retryNowStmt.run(now, partner, now).changes;
  }

  /**
   * A partner's rows not on the wire now, in its order: queued or retrying, or marked 'sending' in the group commit now
   * open (not handed over before it commits, see marking); `sent`: the partner may hold it (an earlier attempt's).
   */
  waiting(partner: string): { seq: number; id: string; sent: number }[] {
    const rows = this.waitingStmt.all(partner) as { seq: number; id: string; sent: number; status: string }[];
    return rows.flatMap(({ seq, id, sent, status }) => {
      if (status !== 'sending') return [{ seq, id, sent }];
      const before = this.markedNow(seq);
      return before === undefined ? [] : [{ seq, id, sent: before }];
    });
  }

  /**
   * Row `seq`'s `sent` as it was before its mark, if it was marked (markSent) in the group commit now open: 'sending',
   * yet not handed over before that commit is done, and not after it once it leaves the outbox in it (remove). Undefined
   * for any other row, a 'sending' one among them being on the wire (or handed over as soon as its own commit was done).
   */
  markedNow(seq: number): number | undefined {
    return this.marking.get(seq);
  }

  /** Ids of a partner's messages in the outbox that refer to message `id` (amendments, cancellations, status changes). */
  referringTo(partner: string, id: string): string[] {
    return this.refersStmt.all(partner, id) as string[];
  }

  /** Ids of a partner's control envelopes of `type` (agreement, key) still in the outbox (not final). */
  waitingControl(partner: string, type: string): string[] {
    return this.controlStmt.all(partner, type) as string[];
  }

  /** Whether the partner may hold the envelope of row `seq` (see OutboxRow.sent); undefined: not in the outbox. */
  mayHold(seq: number): boolean | undefined {
    const sent = this.sentStmt.get(seq) as number | undefined;
    return sent === undefined ? undefined : sent === 1;
  }

  /** Row `seq` leaves the outbox (final); one marked in the commit now open is not handed over (takenBack). */
  remove(seq: number): void {
    this.deleteStmt.run(seq);
    if (this.marking.delete(seq)) this.leaving.add(seq);
  }

  /** The earliest expiry after `after` of `partner`'s business messages in the outbox (control envelopes never expire). */
  nextExpiry(partner: string, after: number): number | undefined {
    return (this.nextExpiryStmt.get(partner, after) as number | null) ?? undefined;
  }

  /** Business messages past their expiry (control envelopes never expire). */
  expiredSeqs(now: number): number[] {
    return (this.expiredStmt.all(now) as { seq: number }[]).map((r) => r.seq);
  }

  /** Messages waiting in the outbox (the node's stop line says how many go at the next start). */
  count(): number {
    return this.db.prepare('SELECT COUNT(*) FROM outbox').pluck().get() as number;
  }

  partners(): string[] {
    return (this.partnersStmt.all() as { partner: string }[]).map((r) => r.partner);
  }

  /**
   * After a crash, messages caught mid-send go back to retrying (the receiver deduplicates by id); each may have
   * reached the partner.
   */
  resetSending(now: number): number {
    this.db.prepare(`UPDATE outbox SET sent = 1 WHERE seq IN (SELECT seq FROM messages WHERE status = 'sending')`).run();
    return this.db.prepare(`UPDATE messages SET status = 'retrying', updated_at = ? WHERE status = 'sending'`).run(now).changes;
  }
}
