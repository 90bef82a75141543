/**
 * The arrivals queries: filters become SQL on the projection, ordered by expected arrival then consignment,
 * with an opaque keyset cursor (never OFFSET), so a page costs the same at a million messages as at ten.
 * The filter columns each have an index that starts with them and continues with expected_arrival; key
 * filters (trader, AEO, transport means, container) go through risk_keys; an HS prefix is a range on the
 * same table, checked per candidate when a window or a place already narrows the rows, else used to drive.
 */
import { GncError } from '../../protocol/errors.js';
import { badCursor, cursorPosition, pageCursor } from '../api/cursor.js';
import { ambiguousId } from '../api/ambiguous-id.js';
import type { ArrivalDetail, ArrivalFilters } from '../../protocol/risk.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/db.js';
import { foldCase, foldCode } from '../store/fold.js';
import { placeReadings } from '../store/name-keys.js';
import type { ConsignmentRepo, ConsignmentRow } from './consignments.js';
import { KEY } from './declaration.js';
import { arrivalView, assessmentView, parseStored } from './views.js';

/** The position of a cursor after `row` (expected arrival, then cid: unique, so a page boundary splits no run of equal arrivals). */
function positionOf(row: Pick<ConsignmentRow, 'expected_arrival' | 'cid'>): string {
  return `${row.expected_arrival}.${row.cid}`;
}

function readPosition(position: string): [number, number] {
  const m = /^(-?\d{1,16})\.(\d{1,15})$/.exec(position);
  if (!m) throw badCursor();
  return [Number(m[1]), Number(m[2])];
}

export class ArrivalQueries {
  private readonly cache = new Map<string, Statement<unknown[]>>();
  private readonly bodyStmt;

  /** `failed`: whether a consignment's assessment failed and waits to be tried again (RiskEngine.failed); its detail says so. */
  constructor(private readonly db: Db, private readonly repo: ConsignmentRepo, private readonly failed: (cid: number) => boolean = () => false) {
    this.bodyStmt = db.prepare('SELECT body FROM message_content WHERE seq = ?').pluck();
  }

  /** One page: up to `limit` rows and the cursor of the next page (null on the last). */
  list(f: ArrivalFilters & { cursor?: string | undefined; limit: number }): { rows: ConsignmentRow[]; nextCursor: string | null } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, ...v: (string | number)[]): void => {
      where.push(sql);
      args.push(...v);
    };
    if (!f.includeCancelled) where.push(`c.status = 'active'`);
    if (f.from !== undefined) add('c.expected_arrival >= ?', Date.parse(f.from));
    if (f.to !== undefined) add('c.expected_arrival < ?', Date.parse(f.to));
    // stored folded (engine.ts currentFields): an office code in any case and spacing, through its index; a crossing
    // point as names are read (accents, letters of the region, Cyrillic twins, spacing: node/store/name-keys.ts
    // foldPlace), by each of its readings (placeReadings: a schwa read "a" and "e") against each of a row's (bcp, and
    // bcp_e for a name with a schwa): one SELECT per pair below, each a range of an index in arrival order
    const place = f.borderCrossingPoint === undefined ? undefined : placeReadings(f.borderCrossingPoint);
    if (f.officeOfEntry !== undefined) add('c.office_of_entry = ?', foldCode(f.officeOfEntry));
    if (f.partner !== undefined) add('c.partner = ?', f.partner);
    if (f.level !== undefined) add('c.level = ?', f.level);
    const key = (k: string, v: string | undefined): void => {
      // stored folded (declaration.ts keysOf), as the places above
      if (v !== undefined) add('c.cid IN (SELECT cid FROM risk_keys WHERE k = ? AND v = ?)', k, foldCase(v));
    };
    key(KEY.trader, f.trader);
    key(KEY.aeo, f.aeoId);
    key(KEY.means, f.transportMeans);
    key(KEY.container, f.container);
    if (f.hsPrefix !== undefined) {
      const narrowed = (f.from !== undefined && f.to !== undefined) || f.borderCrossingPoint !== undefined || f.officeOfEntry !== undefined;
      const range = [KEY.hs, f.hsPrefix, f.hsPrefix + ':'] as const; // ':' sorts right after '9'
      if (narrowed) add('EXISTS (SELECT 1 FROM risk_keys h WHERE h.cid = c.cid AND h.k = ? AND h.v >= ? AND h.v < ?)', ...range);
      else add('c.cid IN (SELECT cid FROM risk_keys WHERE k = ? AND v >= ? AND v < ?)', ...range);
    }
    // the conditions and their values as read (folded, windows in ms): a cursor of other filters is refused (node/api/cursor.ts)
    const query = [where.join(' AND '), ...args, ...(place ? ['c.bcp', ...place] : [])];
    if (f.cursor !== undefined) {
      const [ea, cid] = readPosition(cursorPosition('arrivals', query, f.cursor));
      add('(c.expected_arrival, c.cid) > (?, ?)', ea, cid);
    }
    const select = (conds: readonly string[]): string => `SELECT c.* FROM risk_consignments c ${conds.length ? 'WHERE ' + conds.join(' AND ') : ''}`;
    let sql: string;
    let values: (string | number)[];
    if (place === undefined) {
      sql = `${select(where)} ORDER BY c.expected_arrival, c.cid LIMIT ?`;
      values = args;
    } else {
      // merged in page order (SQLite reads each SELECT along its index and stops at the page, never sorting a place's
      // rows whole, as an OR of the two columns would); one reading matches a row by one column at most, two may
      // match it by both (UNION: once)
      const arms = (['c.bcp = ?', 'c.bcp_e = ?'] as const).flatMap((column) => place.map((reading) => [column, reading] as const));
      sql = `${arms.map(([column]) => select([column, ...where])).join(place.length > 1 ? ' UNION ' : ' UNION ALL ')} ORDER BY expected_arrival, cid LIMIT ?`;
      values = arms.flatMap(([, reading]) => [reading, ...args]);
    }
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<unknown[]>(sql);
      if (this.cache.size < 256) this.cache.set(sql, stmt);
    }
    const rows = stmt.all(...values, f.limit + 1) as ConsignmentRow[];
    const page = rows.slice(0, f.limit);
    return { rows: page, nextCursor: rows.length > f.limit ? pageCursor('arrivals', query, positionOf(page[page.length - 1]!)) : null };
  }

  /** Every row matching the filters, page by page (exports). */
  *all(f: ArrivalFilters, pageSize = 1000): Generator<ConsignmentRow[]> {
    let cursor: string | undefined;
    for (;;) {
      const { rows, nextCursor } = this.list({ ...f, cursor, limit: pageSize });
      if (rows.length) yield rows;
      if (nextCursor === null) return;
      cursor = nextCursor;
    }
  }

  /** The error for an id that names a purged version (risk_purged_versions) of `partner` if given, naming its consignment. */
  private purged(id: string, partner: string | undefined): GncError | undefined {
    const p = this.repo.purged(id, partner);
    if (!p) return undefined;
    const at = new Date(p.purged_at).toISOString();
    // of the partner that sent it: another partner's consignment may have the same id (message ids are unique per partner)
    const held = this.repo.cidOfRef(p.partner, p.root_id) !== undefined;
    // scoped to that partner when the caller scoped its own request, or when another partner also has that id
    const root = partner !== undefined || this.repo.partnersOf(p.root_id).length > 1 ? `${p.root_id}?partner=${p.partner}` : p.root_id;
    const where = held
      ? `It was a version of consignment ${p.root_id}, which is still held, built from its versions still held: read it at GET /v1/arrivals/${root}.`
      : `It was a version of consignment ${p.root_id}, of which no declaration or amendment is held any more: nothing of it can be shown; GET /v1/messages/${id} keeps its metadata.`;
    return new GncError('GNC_ARRIVAL_PURGED', `The content of ${p.kind} ${id} (from ${p.partner}) was purged at its retention end, ${at}, as its agreement says. ${where}`);
  }

  /**
   * One consignment by the id of its declaration or of any version, of `partner` when given. Message ids are unique per
   * partner only: without `partner`, an id that two or more partners have (held or purged) is refused, naming them,
   * rather than answered with whichever comes first.
   */
  detail(id: string, partner?: string): ArrivalDetail {
    if (partner === undefined) {
      const partners = this.repo.partnersOf(id);
      if (partners.length > 1) {
        throw ambiguousId(id, 'consignments or versions', '/v1/arrivals', partners.map((partner) => ({ partner })));
      }
    }
    const row = this.repo.find(id, partner);
    if (!row) {
      throw this.purged(id, partner) ?? (partner === undefined
        ? new GncError('GNC_NOT_FOUND', `No consignment ${id} among the received declarations: use the message id of the declaration (GET /v1/arrivals lists them).`)
        : new GncError('GNC_NOT_FOUND', `No consignment ${id} among the declarations received from ${partner}: check the id and the partner (GET /v1/arrivals?partner=${partner} lists them), or leave ?partner out.`));
    }
    const stored = parseStored(this.repo.stored(row.cid));
    const body = this.bodyStmt.get(row.current_seq) as string | undefined; // none once purged
    const history = this.repo.versions(row.cid);
    const cancel = row.cancel_seq !== null ? history.find((v) => v.seq === row.cancel_seq) : undefined;
    const cancelBody = row.cancel_seq !== null ? (this.bodyStmt.get(row.cancel_seq) as string | undefined) : undefined;
    const assessment = assessmentView(row, stored);
    if (this.failed(row.cid)) assessment.explanation = failedExplanation(row.assessed_at === null ? undefined : assessment.explanation);
    return {
      ...arrivalView(row),
      assessment,
      declaration: body ? (JSON.parse(body) as Record<string, unknown>) : {},
      history: history.map((v) => ({ messageId: v.message_id, kind: v.kind, created: v.created, receivedAt: new Date(v.received_at).toISOString(), current: v.seq === row.current_seq })),
      cancellation: cancel ? { messageId: cancel.message_id, reason: cancelBody ? String((JSON.parse(cancelBody) as { reason?: unknown }).reason ?? '') : '' } : null,
    };
  }
}

/**
 * The explanation of a consignment whose assessment failed and waits to be tried again (engine.ts assessIsolated): with
 * `previous`, the one of the assessment it still shows, which its new versions or related messages may have outdated.
 */
export function failedExplanation(previous: string | undefined): string {
  const why = 'its assessment failed and the node tries it again later (its log names the consignment and the code; GET /v1/health counts such consignments in risk.unassessable)';
  return previous === undefined ? `not assessed yet: ${why}` : `${previous}; a reassessment is due but ${why}, so this one may be out of date`;
}
