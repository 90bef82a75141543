/**
 * The parts of AEO snapshots sent in parts (SPEC 7.5), received and sent: one row per part message, naming its
 * snapshot (partner and asOf), its place (`number` of `of`), how many operators it lists and a digest of them.
 * A node checks a new part against the parts of its snapshot it holds (received and not purged, or sent and not
 * refused or expired) inside the transaction that stores the part, so parts arriving together are checked against
 * each other too. The receiving projection reads here which snapshots are complete (node/risk/aeo-snapshots.ts).
 */
import { MAX_AEO_SNAPSHOT_OPERATORS } from '../../protocol/constants.js';
import { canonicalJson } from '../../protocol/envelope/canonical.js';
import { sha256Hex } from '../../protocol/envelope/seal.js';
import { GncError } from '../../protocol/errors.js';
import type { AeoSnapshotInParts } from '../../protocol/messages/aeo.js';
import type { Db } from './db.js';
import { contentHeld, type Direction } from './messages.js';

/** A part of the snapshot as this node holds it. */
interface HeldPart {
  id: string;
  number: number;
  of: number;
  operators: number;
  digest: string;
}

/** SHA-256 hex of the RFC 8785 form of a part's operators: two parts with the same number and digest say the same. */
export function partDigest(body: AeoSnapshotInParts): string {
  return sha256Hex(new TextEncoder().encode(canonicalJson(body.operators)));
}

export class AeoPartRepo {
  private readonly s;

  constructor(db: Db) {
    // held: a received part whose content retention has not purged; a sent part the partner has not refused and
    // that did not expire undelivered and was not withdrawn (a corrected part may replace one of those)
    const held = `${contentHeld()} AND m.status NOT IN ('rejected', 'expired', 'withdrawn')`;
    this.s = {
      held: db.prepare(`SELECT m.id, p.number, p.of, p.operators, p.digest FROM aeo_parts p JOIN messages m ON m.seq = p.seq
        WHERE p.direction = ? AND p.partner = ? AND p.as_of = ? AND ${held} ORDER BY p.number, p.seq`),
      // the AEO ids are read from the held parts' bodies (json_each, in SQLite), never kept a second time
      listedElsewhere: db.prepare(`SELECT p.number, json_extract(o.value, '$.aeoId') AS aeoId
        FROM aeo_parts p JOIN messages m ON m.seq = p.seq JOIN message_content c ON c.seq = m.seq, json_each(c.body, '$.operators') o
        WHERE p.direction = ? AND p.partner = ? AND p.as_of = ? AND p.number <> ? AND ${held}
          AND json_extract(o.value, '$.aeoId') IN (SELECT value FROM json_each(?)) LIMIT 1`),
      add: db.prepare('INSERT INTO aeo_parts (direction, partner, as_of, number, of, seq, operators, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    };
  }

  /**
   * Refuses (GNC_AEO_PART_CONFLICT) a part that contradicts the held parts of its snapshot: another number of parts,
   * its number held with other operators, an AEO id another part lists, or more operators in all than a snapshot may
   * list. A part repeating one held (same number, same operators) is admitted. Returns the part's digest for `add`.
   */
  admit(direction: Direction, partner: string, body: AeoSnapshotInParts): string {
    const digest = partDigest(body);
    const held = this.s.held.all(direction, partner, body.asOf) as HeldPart[];
    if (held.length === 0) return digest;
    const { number, of } = body.part;
    const where = `Part ${number} of ${of} of the AEO snapshot as of ${body.asOf} ${direction === 'in' ? `from ${partner}` : `for ${partner}`}`;
    const what = direction === 'in' ? 'received' : 'sent';
    const again = 'send the whole snapshot again, every part, with a new asOf';
    const other = held.find((h) => h.of !== of);
    if (other) {
      throw conflict(`${where} contradicts part ${other.number} of ${other.of} of that snapshot, already ${what} (message ${other.id}): all parts of one snapshot give the same number of parts; ${again}.`);
    }
    const same = held.filter((h) => h.number === number);
    const changed = same.find((h) => h.digest !== digest);
    if (changed) {
      throw conflict(`${where} was already ${what} with other operators (message ${changed.id}): a part cannot change once ${what}; ${again}.`);
    }
    if (same.length > 0) return digest;
    const counted = new Map(held.map((h) => [h.number, h.operators]));
    const total = [...counted.values()].reduce((a, b) => a + b, body.operators.length);
    if (total > MAX_AEO_SNAPSHOT_OPERATORS) {
      throw conflict(`${where} lists ${body.operators.length} operators, which with the ${total - body.operators.length} of the ${counted.size} parts already ${what} are over the ${MAX_AEO_SNAPSHOT_OPERATORS} an AEO snapshot may list in all parts together.`);
    }
    const dup = this.s.listedElsewhere.get(direction, partner, body.asOf, number, JSON.stringify(body.operators.map((o) => o.aeoId))) as { number: number; aeoId: string } | undefined;
    if (dup) {
      throw conflict(`${where} lists ${dup.aeoId}, which part ${dup.number} of that snapshot, already ${what}, lists: each AEO id belongs to one part of a snapshot; leave it out of this part, or ${again}.`);
    }
    return digest;
  }

  /** Records a part stored as message `seq` (after `admit`, in the same transaction). */
  add(direction: Direction, partner: string, seq: number, body: AeoSnapshotInParts, digest: string): void {
    this.s.add.run(direction, partner, body.asOf, body.part.number, body.part.of, seq, body.operators.length, digest);
  }
}

function conflict(message: string): GncError {
  return new GncError('GNC_AEO_PART_CONFLICT', message);
}
