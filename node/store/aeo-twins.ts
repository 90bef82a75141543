/**
 * AEO history twins: an entry of risk_aeo_history that repeats the status of the entry just before it by (effective,
 * seq), on the same date. GET /v1/aeo would show one status change twice. An entry beside one of another status is
 * history, not a twin: a status that changed back on one date (the later-received message wins).
 *
 * The one definition of the rule, used by migration 32 (which removed the twins older versions wrote),
 * AeoRegistry.addHistory (which writes none) and the retention purge (which removes those that deleting a purged
 * message's entries leaves, node/risk/purge.ts). Migration 32's text is built from it and must stay as released.
 */

/** Where a history entry's status is read from: columns, or parameters of a statement. */
export interface StatusCols {
  status: string;
  from: string;
  until: string;
}

/** An entry's own columns. */
export const ENTRY: StatusCols = { status: 'status', from: 'valid_from', until: 'valid_until' };

/**
 * SQL: does status `a` repeat status `b`? The same status with the same validity period; any two 'removed' are the
 * same (a removal has no period of its own).
 */
export function repeatsStatus(a: StatusCols, b: StatusCols): string {
  return `${a.status} = ${b.status} AND (${a.status} = 'removed' OR (${a.from} IS ${b.from} AND ${a.until} IS ${b.until}))`;
}

/**
 * SQL deleting the twins, keeping the first of each run (the lowest seq). `scope` limits the entries looked at (a WHERE
 * clause over risk_aeo_history followed by a space, e.g. one operator); without it, every operator of every partner.
 */
export function deleteTwins(scope = ''): string {
  return `DELETE FROM risk_aeo_history WHERE (partner, aeo_id, effective, seq) IN (
    SELECT partner, aeo_id, effective, seq FROM (
      SELECT partner, aeo_id, effective, seq, status, valid_from, valid_until,
        LAG(effective) OVER w AS p_effective, LAG(status) OVER w AS p_status, LAG(valid_from) OVER w AS p_from, LAG(valid_until) OVER w AS p_until
      FROM risk_aeo_history ${scope}WINDOW w AS (PARTITION BY partner, aeo_id ORDER BY effective, seq))
    WHERE effective = p_effective AND ${repeatsStatus(ENTRY, { status: 'p_status', from: 'p_from', until: 'p_until' })});`;
}
