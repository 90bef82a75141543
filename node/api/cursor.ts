/**
 * Page cursors of the list endpoints (GET /v1/messages, /v1/arrivals, /v1/aeo by id and by name): opaque to the client,
 * base64url of `<list>.<query tag>.<position>`. The position is the sort key of the page's last row (keyset: the next
 * page starts strictly after it, so rows sharing a sort value are neither skipped nor repeated at a page boundary).
 * The tag is a digest of the list and its filters as the query read them (folded, normalised), so a cursor belongs to
 * the query that gave it: read with other filters, another partner or on another list it would be a position in
 * another order or another set, answering an empty page, a page again or a page that skips rows, each as if it were
 * the next; it is refused instead (422 GNC_SCHEMA_INVALID on /cursor).
 *
 * Cursors carry no MAC, on purpose: a position only says where in the caller's own query a page starts; the rows
 * are still the ones its filters and its token's scope select (a read token reads every partner's rows), so a
 * tampered cursor can start a page elsewhere in the same answer, never show a row the token could not list.
 */
import { createHash } from 'node:crypto';
import { GncError } from '../../protocol/errors.js';

/** The lists that page (the first part of their cursors). */
export type PagedList = 'messages' | 'arrivals' | 'aeo' | 'aeo-name';

const PATH: Record<PagedList, string> = { messages: 'GET /v1/messages', arrivals: 'GET /v1/arrivals', aeo: 'GET /v1/aeo', 'aeo-name': 'GET /v1/aeo?name=' };

function tagOf(list: PagedList, filters: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify([list, ...filters])).digest('base64url').slice(0, 11);
}

function refused(received: string, todo: string): GncError {
  const expected = 'the nextCursor of the previous page';
  const message = `/cursor: expected ${expected}, received ${received}`;
  return new GncError('GNC_SCHEMA_INVALID', `Query is invalid: ${message}. ${todo}`, { issues: [{ path: '/cursor', expected, received, message }] });
}

/** The refusal of a string that is no cursor of `list` (forged, cut short, or a position no row of it can have). */
export function badCursor(): GncError {
  return refused('another string', 'Send the nextCursor as the previous page gave it, or leave cursor out to start at the first page.');
}

/** The cursor of the page after the one ending at `position`, in `list` read with `filters`. */
export function pageCursor(list: PagedList, filters: readonly unknown[], position: string): string {
  return Buffer.from(`${list}.${tagOf(list, filters)}.${position}`).toString('base64url');
}

/**
 * The position `cursor` carries, when it is a cursor of `list` read with these same `filters`; else GNC_SCHEMA_INVALID
 * on /cursor: saying so when it is a cursor of another list or other filters, as a forged one otherwise.
 */
export function cursorPosition(list: PagedList, filters: readonly unknown[], cursor: string): string {
  const m = /^([a-z-]+)\.([A-Za-z0-9_-]{11})\.(.+)$/su.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || !Object.hasOwn(PATH, m[1]!)) throw badCursor();
  const of = m[1] as PagedList;
  if (of !== list) {
    throw refused(`a cursor of ${PATH[of]}`, `A cursor pages the list that gave it: leave cursor out to start at the first page of ${PATH[list]}.`);
  }
  if (m[2] !== tagOf(list, filters)) {
    throw refused('a cursor of the same list with other filters', 'A cursor pages the query that gave it: send it with that query\'s filters unchanged (partner, window, ids, level...), or leave cursor out to start at the first page of this one.');
  }
  return m[3]!;
}
