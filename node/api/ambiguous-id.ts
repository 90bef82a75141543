/**
 * The refusal of an id that names records of two or more partners, or of both directions: message ids are unique per
 * partner (and, for this node's messages, per direction) only, since each partner picks the ids of what it sends. A
 * lookup by id alone answers such an id with 409 GNC_CONFLICT naming the partners and the query parameters that say
 * which is meant, rather than with whichever record comes first. One wording for every route that looks records up by
 * message id (`GET /v1/messages/{id}`, `GET /v1/arrivals/{id}`).
 */
import { GncError } from '../../protocol/errors.js';

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
