/**
 * AEO snapshots as the registry applies them (SPEC 7.5): a snapshot without `part` (or of one part) is complete
 * by itself; one sent in parts is complete once every part of its (partner, asOf) is held and projected, and takes
 * effect then, as if it had arrived whole with the part that completed it: its `seq` (which orders it against the
 * other AEO messages of its date) is that part's. Until then nothing of it shows in the registry. A part repeating
 * one already held (the same number and operators, node/store/aeo-parts.ts) changes nothing.
 *
 * Parts count here when they are held (not purged), projected (up to the cursor) and for a purpose that allows
 * decisions about individual traders (`individualUse`, the engine's SQL condition), like every message the
 * registry reads.
 */
import type { AeoOperator, AeoSnapshot, AeoSnapshotInParts } from '../../protocol/messages/aeo.js';
import type { Db } from '../store/db.js';
import { contentHeld } from '../store/messages.js';

/** One part of a complete snapshot: the message it came in and the operators it lists. */
export interface SnapshotPart {
  messageId: string;
  operators: readonly AeoOperator[];
}

/** A complete snapshot held: its date, the seq that completed it, and its parts (read from the store one at a time). */
export interface HeldSnapshot {
  asOf: string;
  seq: number;
  messageId: string;
  parts: Iterable<SnapshotPart>;
}

/** A snapshot sent in parts of which not every part is held yet. */
export interface IncompleteSnapshot {
  partner: string;
  asOf: string;
  of: number;
  held: { number: number; messageId: string; operators: number }[];
  missing: number[];
}

interface PartRow {
  number: number;
  seq: number;
}

export class AeoSnapshots {
  private readonly s;

  constructor(db: Db, individualUse: string) {
    const held = `${contentHeld()} AND ${individualUse}`;
    this.s = {
      // per part number, the first message held (a repeat of a part says the same)
      parts: db.prepare(`SELECT p.number, MIN(p.seq) AS seq FROM aeo_parts p JOIN messages m ON m.seq = p.seq
        WHERE p.direction = 'in' AND p.partner = ? AND p.as_of = ? AND p.seq <= ? AND ${held} GROUP BY p.number ORDER BY p.number`),
      body: db.prepare('SELECT m.id, c.body FROM messages m LEFT JOIN message_content c ON c.seq = m.seq WHERE m.seq = ?'),
      id: db.prepare('SELECT id FROM messages WHERE seq = ?').pluck(),
      // by (type, seq), not by (direction, partner), which reads every message of the partner; dates compared as the
      // registry compares them, the first 10 characters (YYYY-MM-DD) of asOf. This reads the asOf of every held snapshot
      // of the partner: 90 daily snapshots of 10,000 operators (260 MB) take ~0.15 s, once per purge
      latestWhole: db.prepare(`SELECT m.seq, m.id, substr(json_extract(c.body, '$.asOf'), 1, 10) AS day FROM messages m JOIN message_content c ON c.seq = m.seq
        WHERE +m.direction = 'in' AND +m.partner = ? AND m.type = 'aeo' AND m.kind = 'snapshot' AND m.seq <= ? AND ${individualUse}
          AND IFNULL(json_extract(c.body, '$.part.of'), 1) = 1
        ORDER BY day DESC, m.seq DESC LIMIT 1`),
      // the snapshots in parts of the partner with every part held, each with the seq that completed it
      latestInParts: db.prepare(`SELECT as_of AS asOf, substr(as_of, 1, 10) AS day, MAX(seq) AS seq FROM (
          SELECT p.as_of, p.of, p.number, MIN(p.seq) AS seq FROM aeo_parts p JOIN messages m ON m.seq = p.seq
          WHERE p.direction = 'in' AND p.partner = ? AND p.seq <= ? AND ${held} GROUP BY p.as_of, p.number)
        GROUP BY as_of HAVING COUNT(*) = MAX(of) ORDER BY day DESC, seq DESC LIMIT 1`),
      siblings: db.prepare(`SELECT m.seq, m.id FROM aeo_parts p JOIN aeo_parts q ON q.direction = p.direction AND q.partner = p.partner AND q.as_of = p.as_of
        JOIN messages m ON m.seq = q.seq WHERE p.seq = ? AND p.direction = 'in'`),
      heldOf: db.prepare(`SELECT p.partner, p.as_of AS asOf, p.number, p.of, m.id AS messageId, p.operators FROM aeo_parts p JOIN messages m ON m.seq = p.seq
        WHERE p.direction = 'in' AND p.partner = ? AND ${held} ORDER BY p.as_of DESC, p.number, p.seq`),
    };
  }

  /**
   * The parts of the snapshot a projected part completes, when it completes one: every part number is then held,
   * and this message is the first held of its number. Otherwise undefined: nothing takes effect.
   */
  completedBy(m: { seq: number; id: string; partner: string }, body: AeoSnapshotInParts): HeldSnapshot | undefined {
    const rows = this.s.parts.all(m.partner, body.asOf, m.seq) as PartRow[];
    if (rows.length < body.part.of || rows.find((r) => r.number === body.part.number)?.seq !== m.seq) return undefined;
    return { asOf: body.asOf, seq: m.seq, messageId: m.id, parts: this.read(rows, { seq: m.seq, id: m.id, operators: body.operators }) };
  }

  /**
   * The complete snapshot of `partner` the registry rests on after a rebuild, among those held and projected (up to
   * `cursor`): the latest by date, then by the seq that completed it.
   */
  latest(partner: string, cursor: number): HeldSnapshot | undefined {
    const whole = this.s.latestWhole.get(partner, cursor) as { seq: number; id: string; day: string } | undefined;
    const inParts = this.s.latestInParts.get(partner, cursor) as { asOf: string; day: string; seq: number } | undefined;
    if (inParts && (!whole || inParts.day > whole.day || (inParts.day === whole.day && inParts.seq > whole.seq))) {
      const rows = this.s.parts.all(partner, inParts.asOf, cursor) as PartRow[];
      return { asOf: inParts.asOf, seq: inParts.seq, messageId: this.s.id.get(inParts.seq) as string, parts: this.read(rows) };
    }
    if (!whole) return undefined;
    const body = JSON.parse((this.s.body.get(whole.seq) as { body: string }).body) as AeoSnapshot;
    return { asOf: body.asOf, seq: whole.seq, messageId: whole.id, parts: [{ messageId: whole.id, operators: body.operators }] };
  }

  /** Every part of the snapshot the received part `seq` belongs to, itself included (none for other messages). */
  partsWith(seq: number): { seq: number; id: string }[] {
    return this.s.siblings.all(seq) as { seq: number; id: string }[];
  }

  /** The snapshots in parts received from `partner` that lack a part, newest asOf first. */
  incomplete(partner: string): IncompleteSnapshot[] {
    const rows = this.s.heldOf.all(partner) as { partner: string; asOf: string; number: number; of: number; messageId: string; operators: number }[];
    const byAsOf = new Map<string, IncompleteSnapshot>();
    for (const r of rows) {
      let snap = byAsOf.get(r.asOf);
      if (!snap) byAsOf.set(r.asOf, (snap = { partner: r.partner, asOf: r.asOf, of: r.of, held: [], missing: [] }));
      // a repeat of a part held is the same part
      if (!snap.held.some((h) => h.number === r.number)) snap.held.push({ number: r.number, messageId: r.messageId, operators: r.operators });
    }
    const out: IncompleteSnapshot[] = [];
    for (const snap of byAsOf.values()) {
      if (snap.held.length >= snap.of) continue;
      for (let n = 1; n <= snap.of; n++) if (!snap.held.some((h) => h.number === n)) snap.missing.push(n);
      out.push(snap);
    }
    return out;
  }

  /** The parts' operators, one message body parsed at a time. */
  private *read(rows: readonly PartRow[], own?: { seq: number; id: string; operators: readonly AeoOperator[] }): Iterable<SnapshotPart> {
    for (const r of rows) {
      if (own && r.seq === own.seq) {
        yield { messageId: own.id, operators: own.operators };
        continue;
      }
      const m = this.s.body.get(r.seq) as { id: string; body: string };
      yield { messageId: m.id, operators: (JSON.parse(m.body) as AeoSnapshot).operators };
    }
  }
}
