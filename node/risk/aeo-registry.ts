/**
 * The partner AEO registry: what each partner administration said about its Authorized Economic Operators,
 * as a current record per operator plus every status it had with the date it took effect. A snapshot
 * replaces the partner's list (operators it no longer names are marked unlisted, with a "removed" history
 * entry on the snapshot date); one sent in parts does so once all its parts are held, all parts together
 * (node/risk/aeo-snapshots.ts says when); a change updates one operator. History rows are written only when
 * the history does not already hold that status from that date, so daily snapshots of an unchanged list add
 * nothing, also where the record moves onto a message restating its status (a new national trader id or legal name,
 * a purge's rebuild applying the latest snapshot held): the record's `message_id` says which message it rests on, and
 * the retention purge finds the operators a purged message may be quoted for in that message itself (the AEO ids it
 * names, node/risk/purge.ts), not here. Every row written stays until its message is purged, also one that repeats the
 * status of the entry before it (a late message, a purge's rebuild, a purged status between two of one status): each
 * is what its message said, and validityAt reads them; the purge also reads a message's "removed" entries, for the
 * operators a snapshot left out (it does not name them). GET /v1/aeo shows such a repeat once (statusChanges).
 *
 * Messages may arrive out of date order. The current record is the latest statement by date: a snapshot
 * speaks for its asOf date, a change for its statusDate; on the same date the later-received message wins.
 * An older message goes into the history only, and the record and the history never disagree about what
 * holds from the record's date on. A snapshot that lists an operator the history has as removed (or
 * suspended, revoked) since its statusDate records the status from its asOf date: it came back by then.
 *
 * An operator that only a snapshot older than the one the list rests on names (it arrived late) was left out by
 * that newer snapshot: it is recorded, and removed from the newer snapshot's date. A marker in risk_state names the
 * newer snapshot, as the records cannot (it may have listed no one). Likewise a record no longer listed is known to
 * hold as of the latest snapshot that leaves the operator out, not only the one that removed it.
 *
 * A partner "has sent AEO data" once any snapshot or change of it was applied, also an empty snapshot (a register
 * with no operator): from then on an AEO id it never listed is not listed, rather than unverifiable. A marker in
 * risk_state says so, as rows alone cannot.
 *
 * An operator is found by its legal name through risk_aeo_names, the search keys of its current name
 * (node/store/name-keys.ts): written with the record when it is new or its name changes, gone with it.
 *
 * "Was X a valid AEO on D" reads the history: the latest status effective on or before D decides, within
 * the operator's validity period. Before the first recorded status the authorisation date (validFrom)
 * decides, and the answer says it was inferred.
 */
import type { AeoChange, AeoOperator } from '../../protocol/messages/aeo.js';
import type { AeoValidity } from '../../protocol/risk.js';
import type { Db } from '../store/db.js';
import { keyRangeEnd, nameKeys } from '../store/name-keys.js';
import type { HeldSnapshot } from './aeo-snapshots.js';

export interface AeoRow {
  partner: string;
  aeo_id: string;
  national_trader_id: string;
  legal_name: string;
  programme: string;
  status: 'valid' | 'suspended' | 'revoked';
  status_date: string;
  valid_from: string;
  valid_until: string | null;
  listed: number;
  message_id: string;
  path: string;
  /** YYYY-MM-DD the record is known to hold as of: the asOf of the snapshot or the statusDate of the change it rests on. */
  as_of: string;
  updated_at: number;
}

export interface AeoHistoryRow {
  partner: string;
  aeo_id: string;
  effective: string;
  seq: number;
  status: 'valid' | 'suspended' | 'revoked' | 'removed';
  valid_from: string | null;
  valid_until: string | null;
  kind: 'snapshot' | 'change';
  message_id: string;
  path: string;
  reason: string | null;
}

/** Key in risk_state marking that a partner's AEO data was applied (see the module comment). */
export function aeoDataKey(partner: string): string {
  return `aeo-data:${partner}`;
}

/** Key in risk_state naming the snapshot a partner's list rests on: messages.seq of the latest-dated one applied. */
export function aeoSnapshotKey(partner: string): string {
  return `aeo-snapshot:${partner}`;
}

/** Reasons the node gives history entries whose date is not the partner's statusDate. */
const CAME_BACK = 'the statusDate precedes the status recorded since; in force by the snapshot date';
const RESTATED = 'still in force on this date, as the message the record rests on says; an older message arrived later';

/** The trader a register lists under an AEO id, with the pointer that says so (for indicator evidence). */
export interface AeoHolder {
  nationalTraderId: string;
  legalName: string;
  messageId: string;
  path: string;
}

/** Validity on a date, with the pointer of the record it rests on (for indicator evidence). */
export type Validity = AeoValidity & { path: string | null };

interface Source {
  partner: string;
  seq: number;
  messageId: string;
  kind: 'snapshot' | 'change';
  now: number;
}

export class AeoRegistry {
  private readonly getStmt;
  private readonly upsertStmt;
  private readonly historyStmt;
  private readonly addHistoryStmt;
  private readonly atStmt;
  private readonly firstStmt;
  private readonly anyStmt;
  private readonly markStmt;
  private readonly forgetStmt;
  private readonly dropStmt;
  private readonly partnerStmt;
  private readonly unlistStmt;
  private readonly restsOnStmt;
  private readonly confirmStmt;
  private readonly setRestsOnStmt;
  private readonly dropNamesStmt;
  private readonly addNameStmt;
  private readonly forgetNamesStmt;

  constructor(private readonly db: Db) {
    this.getStmt = db.prepare('SELECT * FROM risk_aeo WHERE partner = ? AND aeo_id = ?');
    this.upsertStmt = db.prepare(`INSERT INTO risk_aeo (partner, aeo_id, national_trader_id, legal_name, programme, status, status_date, valid_from, valid_until, listed, message_id, path, as_of, updated_at)
      VALUES (@partner, @aeo_id, @national_trader_id, @legal_name, @programme, @status, @status_date, @valid_from, @valid_until, 1, @message_id, @path, @as_of, @updated_at)
      ON CONFLICT (partner, aeo_id) DO UPDATE SET national_trader_id = excluded.national_trader_id, legal_name = excluded.legal_name, programme = excluded.programme,
        status = excluded.status, status_date = excluded.status_date, valid_from = excluded.valid_from, valid_until = excluded.valid_until, listed = 1,
        message_id = excluded.message_id, path = excluded.path, as_of = excluded.as_of, updated_at = excluded.updated_at`);
    this.historyStmt = db.prepare('SELECT * FROM risk_aeo_history WHERE partner = ? AND aeo_id = ? ORDER BY effective, seq');
    this.addHistoryStmt = db.prepare(`INSERT OR REPLACE INTO risk_aeo_history (partner, aeo_id, effective, seq, status, valid_from, valid_until, kind, message_id, path, reason)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.atStmt = db.prepare('SELECT * FROM risk_aeo_history WHERE partner = ? AND aeo_id = ? AND effective <= ? ORDER BY effective DESC, seq DESC LIMIT 1');
    this.firstStmt = db.prepare('SELECT * FROM risk_aeo_history WHERE partner = ? AND aeo_id = ? ORDER BY effective, seq LIMIT 1');
    // the marker, or (for a registry filled before the marker existed) any record
    this.anyStmt = db.prepare('SELECT EXISTS (SELECT 1 FROM risk_state WHERE key = ?) OR EXISTS (SELECT 1 FROM risk_aeo WHERE partner = ?)').pluck();
    this.markStmt = db.prepare('INSERT OR IGNORE INTO risk_state (key, value) VALUES (?, 1)');
    this.forgetStmt = db.prepare('DELETE FROM risk_state WHERE key = ?');
    this.dropStmt = db.prepare('DELETE FROM risk_aeo WHERE partner = ?');
    this.partnerStmt = db.prepare('SELECT * FROM risk_aeo WHERE partner = ?');
    this.unlistStmt = db.prepare('UPDATE risk_aeo SET listed = 0, message_id = ?, path = ?, as_of = ?, updated_at = ? WHERE partner = ? AND aeo_id = ?');
    this.restsOnStmt = db.prepare(`SELECT m.seq, m.id, substr(json_extract(c.body, '$.asOf'), 1, 10) AS as_of FROM messages m JOIN message_content c ON c.seq = m.seq
      WHERE m.seq = (SELECT value FROM risk_state WHERE key = ?)`);
    this.confirmStmt = db.prepare('UPDATE risk_aeo SET as_of = ? WHERE partner = ? AND aeo_id = ?');
    this.setRestsOnStmt = db.prepare('INSERT INTO risk_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.dropNamesStmt = db.prepare('DELETE FROM risk_aeo_names WHERE partner = ? AND aeo_id = ?');
    this.addNameStmt = db.prepare('INSERT OR IGNORE INTO risk_aeo_names (partner, aeo_id, key) VALUES (?, ?, ?)');
    this.forgetNamesStmt = db.prepare('DELETE FROM risk_aeo_names WHERE partner = ?');
  }

  /**
   * Applies a complete snapshot, its parts together (node/risk/aeo-snapshots.ts): each operator rests on the part that
   * lists it, and a removal on `src.messageId`, the message that completed the snapshot. Returns the AEO ids whose
   * recorded statuses changed (their consignments need recomputing).
   */
  applySnapshot(src: Omit<Source, 'kind'>, snapshot: Pick<HeldSnapshot, 'asOf' | 'parts'>): string[] {
    const s: Source = { ...src, kind: 'snapshot' };
    this.markStmt.run(aeoDataKey(s.partner));
    const asOf = snapshot.asOf.slice(0, 10);
    const current = new Map((this.partnerStmt.all(s.partner) as AeoRow[]).map((r) => [r.aeo_id, r]));
    const restsOn = this.restsOnStmt.get(aeoSnapshotKey(s.partner)) as { seq: number; id: string; as_of: string } | undefined;
    const newer = restsOn && restsOn.as_of > asOf ? restsOn : undefined;
    const changed: string[] = [];
    for (const part of snapshot.parts) {
      const from: Source = { ...s, messageId: part.messageId };
      part.operators.forEach((op, i) => {
        const cur = current.get(op.aeoId);
        if (this.apply(from, op, `/operators/${i}`, cur, asOf, null)) changed.push(op.aeoId);
        // unknown to the registry, so left out by the newer snapshot the list rests on: removed from its date
        const added = !cur && newer ? this.get(s.partner, op.aeoId) : undefined;
        if (added && newer) this.unlist({ ...s, seq: newer.seq, messageId: newer.id }, added, newer.as_of);
        current.delete(op.aeoId);
      });
    }
    for (const gone of current.values()) if (this.unlist(s, gone, asOf)) changed.push(gone.aeo_id);
    if (!newer) this.setRestsOnStmt.run(aeoSnapshotKey(s.partner), s.seq);
    return changed;
  }

  applyChange(src: Omit<Source, 'kind'>, body: AeoChange): string[] {
    const op = body.operator;
    this.markStmt.run(aeoDataKey(src.partner));
    return this.apply({ ...src, kind: 'change' }, op, '/operator', this.get(src.partner, op.aeoId), null, body.reason ?? null) ? [op.aeoId] : [];
  }

  /** One operator as a snapshot (`asOf`) or a change (`asOf` null) states it. */
  private apply(s: Source, op: AeoOperator, path: string, cur: AeoRow | undefined, asOf: string | null, reason: string | null): boolean {
    const validUntil = op.validUntil ?? null;
    const effective = asOf === null ? op.statusDate : this.snapshotEffective(s.partner, op, asOf);
    // a snapshot speaks for its asOf date, a change for its statusDate
    const known = asOf !== null && asOf > effective ? asOf : effective;
    const recorded = this.record(s, op, effective, `${path}/status`, reason ?? (effective === asOf && effective !== op.statusDate ? CAME_BACK : null));
    if (cur && known < cur.as_of) {
      // older than what the record holds (ties go to the later-received message): history only
      if (recorded) this.reconcile(s, cur);
      return recorded;
    }
    // the trader it belongs to (national trader id and legal name) counts as part of the status: node/risk/indicators/aeo.ts
    // checks the party against it and quotes both with the message the record rests on, so a message renaming the
    // trader becomes that message, and the purge of it reassesses what quoted the name
    const statusChanged =
      !cur || !cur.listed || cur.status !== op.status || cur.status_date !== op.statusDate || cur.valid_from !== op.validFrom || cur.valid_until !== validUntil ||
      cur.national_trader_id !== op.nationalTraderId || cur.legal_name !== op.legalName;
    this.upsertStmt.run({
      partner: s.partner, aeo_id: op.aeoId, national_trader_id: op.nationalTraderId, legal_name: op.legalName, programme: op.programme, status: op.status,
      status_date: op.statusDate, valid_from: op.validFrom, valid_until: validUntil, message_id: statusChanged ? s.messageId : cur.message_id,
      path: statusChanged ? `${path}/status` : cur.path, as_of: known, updated_at: s.now,
    });
    if (cur?.legal_name !== op.legalName) this.name(s.partner, op.aeoId, op.legalName);
    return recorded || statusChanged;
  }

  /**
   * The date a snapshot's status took effect. A snapshot states the status in force on its asOf date; normally
   * that is its statusDate. But where the history holds a later status for that date than the statusDate (the
   * operator was removed, or suspended, since) and the snapshot contradicts it, the partner's statusDate
   * predates a change the history already records: the snapshot's status came back after that, on its asOf
   * date at the latest, which is the only date known.
   */
  private snapshotEffective(partner: string, op: AeoOperator, asOf: string): string {
    const inForce = this.atStmt.get(partner, op.aeoId, asOf) as AeoHistoryRow | undefined;
    if (!inForce || inForce.effective <= op.statusDate || sameStatus(inForce, op.status, op.validFrom, op.validUntil ?? null)) return op.statusDate;
    return asOf;
  }

  /** A snapshot no longer lists an operator: removed from its asOf date. */
  private unlist(s: Source, cur: AeoRow, asOf: string): boolean {
    if (!cur.listed && asOf >= cur.as_of) {
      // still not listed: the record is known to hold as of this snapshot's date, so an older message arriving later
      // does not list the operator again
      if (asOf > cur.as_of) this.confirmStmt.run(asOf, s.partner, cur.aeo_id);
      return false;
    }
    const inForce = this.atStmt.get(s.partner, cur.aeo_id, asOf) as AeoHistoryRow | undefined;
    if (inForce?.status === 'removed') return false;
    this.addHistoryStmt.run(s.partner, cur.aeo_id, asOf, s.seq, 'removed', cur.valid_from, cur.valid_until, 'snapshot', s.messageId, '/operators', 'not listed in the snapshot');
    if (asOf >= cur.as_of) this.unlistStmt.run(s.messageId, '/operators', asOf, s.now, s.partner, cur.aeo_id);
    else this.reconcile(s, cur);
    return true;
  }

  /**
   * Adds a status to the history, unless the history already holds the same one from that date: a message
   * repeating what was recorded (a daily snapshot, a change sent twice) adds nothing.
   */
  private record(s: Source, op: AeoOperator, effective: string, path: string, reason: string | null): boolean {
    const validUntil = op.validUntil ?? null;
    const inForce = this.atStmt.get(s.partner, op.aeoId, effective) as AeoHistoryRow | undefined;
    if (inForce && inForce.effective === effective && sameStatus(inForce, op.status, op.validFrom, validUntil)) return false;
    this.addHistoryStmt.run(s.partner, op.aeoId, effective, s.seq, op.status, op.validFrom, validUntil, s.kind, s.messageId, path, reason);
    return true;
  }

  /**
   * After an older message added to the history, the record (which it did not replace) must still be what the
   * history says holds from the record's as_of date on. Where the older entry sorts after the one the record
   * rests on (a snapshot confirmed the record later than its status took effect), the record's status is
   * recorded again on its as_of date, the latest date it is known to hold.
   */
  private reconcile(s: Source, cur: AeoRow): void {
    const inForce = this.atStmt.get(s.partner, cur.aeo_id, cur.as_of) as AeoHistoryRow | undefined;
    const status = cur.listed ? cur.status : 'removed';
    if (inForce && sameStatus(inForce, status, cur.valid_from, cur.valid_until)) return;
    const kind = cur.path.startsWith('/operators') ? 'snapshot' : 'change';
    this.addHistoryStmt.run(s.partner, cur.aeo_id, cur.as_of, s.seq, status, cur.valid_from, cur.valid_until, kind, cur.message_id, cur.path, RESTATED);
  }

  /** The operator's name search keys: those of `legalName`, its name now. */
  private name(partner: string, aeoId: string, legalName: string): void {
    this.dropNamesStmt.run(partner, aeoId);
    for (const key of nameKeys(legalName)) this.addNameStmt.run(partner, aeoId, key);
  }

  get(partner: string, aeoId: string): AeoRow | undefined {
    return this.getStmt.get(partner, aeoId) as AeoRow | undefined;
  }

  /** The trader the current record lists under `aeoId` (also when no longer listed): its national trader id and name. */
  holder(partner: string, aeoId: string): AeoHolder | undefined {
    const r = this.get(partner, aeoId);
    return r && { nationalTraderId: r.national_trader_id, legalName: r.legal_name, messageId: r.message_id, path: r.path.replace(/status$/, 'nationalTraderId') };
  }

  history(partner: string, aeoId: string): AeoHistoryRow[] {
    return this.historyStmt.all(partner, aeoId) as AeoHistoryRow[];
  }

  /** Has this partner sent AEO data, an empty snapshot included? (Without any, a claimed AEO id cannot be checked.) */
  hasData(partner: string): boolean {
    return this.anyStmt.get(aeoDataKey(partner), partner) === 1;
  }

  /**
   * Forgets the partner's records, that it sent AEO data and the snapshot its list rests on (the retention purge,
   * before rebuilding from what is held).
   */
  forget(partner: string): void {
    this.dropStmt.run(partner);
    this.forgetNamesStmt.run(partner);
    this.forgetStmt.run(aeoDataKey(partner));
    this.forgetStmt.run(aeoSnapshotKey(partner));
  }

  /**
   * Operators by partner and/or id (AEO id or national trader id), in (partner, AEO id) order, after `after`
   * (the last operator of the previous page) when given.
   */
  search(partner: string | undefined, id: string | undefined, limit: number, after?: { partner: string; aeoId: string }): AeoRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (after !== undefined) {
      where.push('(partner, aeo_id) > (?, ?)');
      args.push(after.partner, after.aeoId);
    }
    if (partner !== undefined) {
      where.push('partner = ?');
      args.push(partner);
    }
    if (id !== undefined) {
      where.push('(aeo_id = ? OR national_trader_id = ?)');
      args.push(id.toUpperCase(), id);
    }
    const sql = `SELECT * FROM risk_aeo ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY partner, aeo_id LIMIT ?`;
    return this.db.prepare(sql).all(...args, limit) as AeoRow[];
  }

  /**
   * Operators whose legal name has a key starting with `key` (nameQuery of node/store/name-keys.ts), of `partner` or
   * of every partner, in the order of the key they match by, then partner and AEO id, after `after` (the last of the
   * previous page) when given. An operator that matches by several words of its name is listed once, by the first
   * of its keys that matches.
   */
  searchByName(partner: string | undefined, key: string, limit: number, after?: { key: string; partner: string; aeoId: string }): (AeoRow & { name_key: string })[] {
    // a later page starts its range at the previous page's last key, so deep pages read no more than the first
    const where = [after !== undefined ? 'n.key >= max(@lo, @afterKey)' : 'n.key >= @lo', 'n.key < @hi'];
    if (partner !== undefined) where.push('n.partner = @partner');
    if (after !== undefined) where.push('(n.key, n.partner, n.aeo_id) > (@afterKey, @afterPartner, @afterAeoId)');
    const sql = `SELECT n.key AS name_key, a.* FROM risk_aeo_names n JOIN risk_aeo a ON a.partner = n.partner AND a.aeo_id = n.aeo_id
      WHERE ${where.join(' AND ')}
        AND NOT EXISTS (SELECT 1 FROM risk_aeo_names d WHERE d.partner = n.partner AND d.aeo_id = n.aeo_id AND d.key >= @lo AND d.key < n.key)
      ORDER BY n.key, n.partner, n.aeo_id LIMIT @limit`;
    const args: Record<string, string | number> = { lo: key, hi: keyRangeEnd(key), limit };
    if (partner !== undefined) args['partner'] = partner;
    if (after !== undefined) Object.assign(args, { afterKey: after.key, afterPartner: after.partner, afterAeoId: after.aeoId });
    return this.db.prepare(sql).all(args) as (AeoRow & { name_key: string })[];
  }

  /** Was the operator a valid AEO of `partner` on `date` (YYYY-MM-DD)? */
  validityAt(partner: string, aeoId: string, date: string): Validity {
    const h = this.atStmt.get(partner, aeoId, date) as AeoHistoryRow | undefined;
    if (h) {
      const status = h.status === 'valid' ? periodStatus(h, date) : h.status;
      return { date, valid: status === 'valid', status, basis: 'recorded', messageId: h.message_id, path: h.path };
    }
    const first = this.firstStmt.get(partner, aeoId) as AeoHistoryRow | undefined;
    if (!first) return { date, valid: false, status: 'unknown', basis: 'none', messageId: null, path: null };
    // the date precedes every recorded status: the authorisation started valid on validFrom
    const status = periodStatus(first, date);
    return { date, valid: status === 'valid', status, basis: 'inferred', messageId: first.message_id, path: first.path.replace(/status$/, 'validFrom') };
  }
}

function sameStatus(h: AeoHistoryRow, status: AeoHistoryRow['status'], validFrom: string | null, validUntil: string | null): boolean {
  return h.status === status && (status === 'removed' || (h.valid_from === validFrom && h.valid_until === validUntil));
}

/**
 * The history as GET /v1/aeo shows it, each status change once: of `history` (in (effective, seq) order, as
 * AeoRegistry.history reads it) the entries that do not repeat the status of the entry shown just before them, whatever
 * their dates; the earlier stays. A repeat is the same status with the same validity period (any two 'removed' are the
 * same), the rule `record` writes by. Only the answer leaves repeats out, never the table (the module comment says why).
 */
export function statusChanges(history: readonly AeoHistoryRow[]): AeoHistoryRow[] {
  const shown: AeoHistoryRow[] = [];
  for (const h of history) {
    const last = shown[shown.length - 1];
    if (!last || !sameStatus(last, h.status, h.valid_from, h.valid_until)) shown.push(h);
  }
  return shown;
}

function periodStatus(h: Pick<AeoHistoryRow, 'valid_from' | 'valid_until'>, date: string): 'valid' | 'expired' | 'not-yet-valid' {
  if (h.valid_from !== null && date < h.valid_from) return 'not-yet-valid';
  if (h.valid_until !== null && date > h.valid_until) return 'expired';
  return 'valid';
}
