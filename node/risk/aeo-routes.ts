/**
 * /v1/aeo: the partner AEO registry (read scope). `GET /v1/aeo?partner=KG&id=...` finds operators by AEO id
 * or national trader id with their status history, a page at a time (`nextCursor`), and `?name=...` by the words of
 * their legal name (node/store/name-keys.ts says how names compare);
 * `GET /v1/aeo/{partner}/{aeoId}?at=YYYY-MM-DD` answers "was this operator a valid AEO of that partner on that
 * date" from the recorded history; `GET /v1/aeo/pending` lists the snapshots sent in parts that still lack a part
 * (nothing of them shows in the registry yet).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { CountryFilter } from '../../protocol/codes/countries.js';
import { MIN_AEO_NAME_QUERY } from '../../protocol/constants.js';
import { GncError, quoted } from '../../protocol/errors.js';
import { AeoAtQuery, AeoPendingQuery, AeoQuery, type AeoRecordView } from '../../protocol/risk.js';
import { requireScope, type AuthEnv } from '../api/auth.js';
import { parseParameters, parseQuery } from '../api/query.js';
import { badCursor, cursorPosition, pageCursor } from '../api/cursor.js';
import { NAME_KEY_CHARS, nameQuery } from '../store/name-keys.js';
import type { Store } from '../store/store.js';
import type { TermsRepo } from '../store/terms.js';
import { statusChanges, type AeoRegistry, type AeoRow } from './aeo-registry.js';
import type { AeoSnapshots } from './aeo-snapshots.js';

const AeoPath = z.strictObject({ partner: CountryFilter, aeoId: z.string().regex(/^[A-Za-z]{2}[A-Za-z0-9]{1,15}$/, 'expected an AEO id like "KZAEO981140001234"') });

/** The operator a cursor of the AEO list by id names (after which the next page starts). */
function decodeCursor(position: string): { partner: string; aeoId: string } {
  const m = /^([A-Z]{2})\.([A-Z0-9]{1,17})$/.exec(position);
  if (!m) throw badCursor();
  return { partner: m[1]!, aeoId: m[2]! };
}

/** A name search's cursor position: the last operator of the page and the key it matched by. */
function decodeNameCursor(position: string): { partner: string; aeoId: string; key: string } {
  const m = /^([A-Z]{2})\.([A-Z0-9]{1,17})\.(.+)$/su.exec(position);
  if (!m || [...m[3]!].length > NAME_KEY_CHARS) throw badCursor();
  return { partner: m[1]!, aeoId: m[2]!, key: m[3]! };
}

/** The key prefix a name query searches, or GNC_SCHEMA_INVALID when too little of it is left to search by. */
function nameKeyOf(name: string): string {
  const q = nameQuery(name);
  if (q.weight >= MIN_AEO_NAME_QUERY) return q.key;
  const expected = `at least ${MIN_AEO_NAME_QUERY} letters or digits (2 Chinese or Japanese characters) besides punctuation and legal forms such as LLP, OOO, TOO`;
  const received = quoted(name);
  const message = `/name: expected ${expected}, received ${received}`;
  throw new GncError('GNC_SCHEMA_INVALID', `Query is invalid: ${message}. Give more of the legal name, or search by id.`, {
    issues: [{ path: '/name', expected, received, message }],
  });
}

/**
 * The record with its history, each status change once (statusChanges), and the terms it is held under (combined over
 * its message and those of every history entry, a repeat left out of the answer too: TermsRepo).
 */
export function aeoRecordView(registry: AeoRegistry, terms: Pick<TermsRepo, 'ofReceived' | 'combinedWith'>, r: AeoRow): AeoRecordView {
  const history = registry.history(r.partner, r.aeo_id);
  const main = terms.ofReceived(r.partner, r.message_id);
  const others = history.map((h) => h.message_id).filter((id) => id !== r.message_id);
  return {
    partner: r.partner,
    aeoId: r.aeo_id,
    nationalTraderId: r.national_trader_id,
    legalName: r.legal_name,
    programme: r.programme,
    status: r.status,
    statusDate: r.status_date,
    validFrom: r.valid_from,
    validUntil: r.valid_until,
    listed: r.listed === 1,
    messageId: r.message_id,
    history: statusChanges(history).map((h) => ({
      effective: h.effective, status: h.status, validFrom: h.valid_from, validUntil: h.valid_until, kind: h.kind, messageId: h.message_id, reason: h.reason,
    })),
    terms: terms.combinedWith(main, r.partner, others),
  };
}

export function aeoRoutes(store: Store, registry: AeoRegistry, snapshots: AeoSnapshots): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const read = requireScope(store.tokens, 'read');

  // keyset pages in (partner, AEO id) order: a registry larger than `limit` is read to its end, never cut off silently
  app.get('/', read, (c) => {
    const q = parseQuery(c, AeoQuery);
    if (q.name !== undefined) {
      // keyset pages in the order of the matched words, then (partner, AEO id)
      const key = nameKeyOf(q.name);
      // a cursor of a search by another name or partner is refused (node/api/cursor.ts): read in this one, it would
      // answer an empty page (a name sorting after) or the first page again (one sorting before), both as if it were the next
      const query = [q.partner, key];
      const after = q.cursor === undefined ? undefined : decodeNameCursor(cursorPosition('aeo-name', query, q.cursor));
      const rows = registry.searchByName(q.partner, key, q.limit + 1, after);
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      const nextCursor = rows.length > q.limit && last ? pageCursor('aeo-name', query, `${last.partner}.${last.aeo_id}.${last.name_key}`) : null;
      return c.json({ items: page.map((r) => aeoRecordView(registry, store.terms, r)), nextCursor });
    }
    // pages are in (partner, AEO id) order: a cursor of another partner's pages (or ids) would answer an empty page (a
    // partner sorting before) or the first page again (one sorting after), both as if it were the next: refused
    const query = [q.partner, q.id];
    const after = q.cursor === undefined ? undefined : decodeCursor(cursorPosition('aeo', query, q.cursor));
    const rows = registry.search(q.partner, q.id, q.limit + 1, after);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > q.limit && last ? pageCursor('aeo', query, `${last.partner}.${last.aeo_id}`) : null;
    return c.json({ items: page.map((r) => aeoRecordView(registry, store.terms, r)), nextCursor });
  });

  app.get('/pending', read, (c) => {
    const q = parseQuery(c, AeoPendingQuery);
    const partners = q.partner !== undefined ? [q.partner] : store.partners.list().map((p) => p.country);
    return c.json({ items: partners.flatMap((p) => snapshots.incomplete(p)) });
  });

  app.get('/:partner/:aeoId', read, (c) => {
    const p = parseParameters(AeoPath, c.req.param(), 'Path', '');
    const q = parseQuery(c, AeoAtQuery);
    const aeoId = p.aeoId.toUpperCase();
    const row = registry.get(p.partner, aeoId);
    if (!row) {
      // the operator may be in a snapshot whose parts are not all in: say so rather than leave the integrator guessing
      const pending = snapshots.incomplete(p.partner)[0];
      const lacks = pending && `part${pending.missing.length > 1 ? 's' : ''} ${pending.missing.join(', ')} of ${pending.of}`;
      const waiting = pending ? ` ${p.partner}'s snapshot as of ${pending.asOf} lacks ${lacks}, and shows only once every part is in (GET /v1/aeo/pending).` : '';
      throw new GncError('GNC_NOT_FOUND', `${p.partner} has not reported AEO ${aeoId}: the operator is not in the registry received from ${p.partner}.${waiting}`);
    }
    const view = aeoRecordView(registry, store.terms, row);
    if (q.at !== undefined) {
      const { path: _path, ...validity } = registry.validityAt(p.partner, aeoId, q.at);
      view.validity = validity;
    }
    return c.json(view);
  });

  return app;
}
