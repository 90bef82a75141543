/**
 * The messages a lookup by id with `?direction=` and `?partner=` means, GNC_NOT_FOUND when there is none, and the
 * refusal of an id that names records of two or more partners, or of both directions: message ids are unique per
 * partner (and, for this node's messages, per direction) only, since each partner picks the ids of what it sends. A
 * lookup by id alone answers such an id with 409 GNC_CONFLICT naming the partners and the query parameters that say
 * which is meant, rather than with whichever record comes first. One wording for every route that looks records up by
 * message id (`GET /v1/messages/{id}`, `GET /v1/arrivals/{id}`).
 */
import { GncError } from '../../protocol/errors.js';

/** What `?direction=` and `?partner=` of a lookup by message id say of the message meant. */
export interface IdScope {
  direction?: 'in' | 'out' | undefined;
  partner?: string | undefined;
}

/**
 * The messages of `rows` (those with `id`) that `q` keeps, and q as query text (`partner=KZ`, `direction=in`) for
 * the examples of a refusal; GNC_NOT_FOUND naming the parameters given when it keeps none. One wording for each
 * route that takes a message by id (`GET /v1/messages/{id}`, its evidence).
 */
export function messagesWithId<R extends { partner: string; direction: string }>(id: string, rows: readonly R[], q: IdScope): { matches: R[]; given: string[] } {
  const matches = rows.filter((r) => (q.direction === undefined || r.direction === q.direction) && (q.partner === undefined || r.partner === q.partner));
  const given = [q.partner === undefined ? '' : `partner=${q.partner}`, q.direction === undefined ? '' : `direction=${q.direction}`].filter((p) => p !== '');
  if (matches.length > 0) return { matches, given };
  if (given.length === 0) throw new GncError('GNC_NOT_FOUND', `No message with id ${id} on this node: check the id (GET /v1/messages lists them).`);
  const to = q.partner === undefined ? '' : ` to ${q.partner}`;
  const from = q.partner === undefined ? '' : ` from ${q.partner}`;
  const scope = q.direction === 'in' ? `received${from}` : q.direction === 'out' ? `sent${to}` : `sent${to} or received${from}`;
  throw new GncError('GNC_NOT_FOUND', `No message with id ${id} ${scope} on this node: check the id and ${given.map((p) => `?${p.split('=')[0]}`).join(' and ')} (GET /v1/messages?${given.join('&')} lists them), or leave ${given.length === 1 ? 'it' : 'them'} out.`);
}

/** One record the id names: its partner and, where records of both directions share the id space, its direction. */
export interface IdHolder {
  partner: string;
  direction?: 'in' | 'out';
}

/**
 * GNC_CONFLICT for `id`, which `holders` (two or more) have. `things` names the records in the plural (`messages`,
 * `consignments or versions`), `path` the collection (`/v1/messages`); `kept` is query text the caller gave that the
 * example keeps (`direction=in`). It asks for `?partner=` when that tells the records apart, `?direction=` when the
 * records are one partner's in both directions, else for both.
 */
export function ambiguousId(id: string, things: string, path: string, holders: readonly IdHolder[], kept: readonly string[] = []): GncError {
  const partners = [...new Set(holders.map((h) => h.partner))].sort();
  const directional = holders.some((h) => h.direction !== undefined);
  const unique = `message ids are unique per ${directional ? 'direction and ' : ''}partner only`;
  const example = (added: string[]): string => `GET ${path}/${id}?${[...added, ...kept].join('&')}`;
  if (partners.length === holders.length) {
    return new GncError('GNC_CONFLICT', `The id ${id} names ${things} of ${partners.length} partners, ${partners.join(' and ')} (${unique}): add ?partner=XX to say whose, e.g. ${example([`partner=${partners[0]}`])}.`);
  }
  const which = 'add ?direction=in (received) or ?direction=out (sent)';
  if (partners.length === 1) {
    return new GncError('GNC_CONFLICT', `The id ${id} names ${things} sent to ${partners[0]} and received from ${partners[0]} (${unique}): ${which} to say which, e.g. ${example(['direction=in'])}.`);
  }
  return new GncError('GNC_CONFLICT', `The id ${id} names ${things} of ${partners.length} partners, ${partners.join(' and ')}, sent and received (${unique}): add ?partner=XX and ${which.slice(4)} to say which, e.g. ${example([`partner=${partners[0]}`, 'direction=in'])}.`);
}
