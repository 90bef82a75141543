/**
 * /v1/messages: submit (JSON or WCO DM XML), list with filters and cursor pagination, fetch one message
 * with its status, its receipt and the exact signed envelope (as JSON, or its body as XML on request), and
 * withdraw one the partner does not have yet.
 */
import { Hono, type Context } from 'hono';
import { ListMessagesQuery, SubmitRequest, WaitQuery, WithdrawRequest, XmlSubmitQuery } from '../../../protocol/api/schemas.js';
import { MessageId } from '../../../protocol/envelope/payload.js';
import { GncError, isGncError } from '../../../protocol/errors.js';
import { isBusinessType } from '../../../protocol/messages/registry.js';
import { parseWith } from '../../../protocol/validate.js';
import { bodyToXml, parseXmlBody, removedXmlPaths, withXmlPaths } from '../../../protocol/xml/index.js';
import type { FinalWaits } from '../../outbound/final-waits.js';
import type { IdempotencyKey, SubmitService, Submitted } from '../../outbound/submit.js';
import { withdrawMessage } from '../../outbound/withdraw.js';
import type { MessageRow } from '../../store/messages.js';
import type { Store } from '../../store/store.js';
import { requireScope, type AuthEnv } from '../auth.js';
import { acceptsJson, prefersXml } from '../accept.js';
import { readBody, readJsonBody } from '../body.js';
import { NO_QUERY, parseParameters, parseQuery, queryParams } from '../query.js';
import { badCursor, cursorPosition, pageCursor } from '../cursor.js';
import { idempotencyKeyOf } from '../idempotency-key.js';
import { preferredReturn, preferredWait } from '../prefer.js';
import { summaryOf, viewOf } from '../views.js';
import { ambiguousId, messagesWithId } from '../ambiguous-id.js';

/** The seq a messages cursor's position names: digits of a seq this node can have (beyond 15, Number() would lose them). */
function seqOf(position: string): number {
  if (!/^\d{1,15}$/.test(position)) throw badCursor();
  return Number(position);
}

const FINAL = new Set(['delivered', 'rejected', 'expired', 'resealed', 'withdrawn', 'accepted']);

/** Whether a status is final (a waiting request answers with it). */
export function isFinalStatus(status: string | undefined): boolean {
  return FINAL.has(status ?? '');
}

/**
 * An XML submission: the body from the XML, the addressing from the query string (?to=KG&purpose=...&ref=...). A
 * refusal of the body read from it (an agreement's field refusal, a JSON pointer under /body) names the elements it
 * came from (the detail, and `xmlPath` on each issue), as the errors of reading it do; the fields minimisation removed
 * are named by their elements too (`removedXmlPaths`). The element paths are kept only until the submission is
 * decided, not while the answer waits (Prefer: wait).
 */
async function submitXml(c: Context<AuthEnv>, submit: SubmitService, bytes: Uint8Array, idempotency: IdempotencyKey | undefined): Promise<Submitted & { removedXmlPaths: string[] }> {
  const address = parseQuery(c, XmlSubmitQuery);
  const read = parseXmlBody(bytes);
  const request = parseWith(SubmitRequest, { ...address, type: read.type, body: read.body }, 'Submission', '');
  try {
    const submitted = await submit.submit(request, idempotency);
    return { ...submitted, removedXmlPaths: removedXmlPaths(read.body, submitted.result.removed, read.xmlPathOf) };
  } catch (err) {
    throw withXmlPaths(err, read.xmlPathOf, read.body);
  }
}

export function messageRoutes(store: Store, submit: SubmitService, finals: FinalWaits, clock: () => number = Date.now): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  /** Message `seq` once its status is final, or as it stands after `seconds`. */
  const settled = async (seq: number, seconds: number): Promise<MessageRow | undefined> => {
    await finals.wait(seq, seconds * 1000, () => FINAL.has(store.messages.statusOf(seq) ?? ''));
    return store.messages.bySeq(seq);
  };

  app.post('/', requireScope(store.tokens, 'submit'), async (c) => {
    const key = idempotencyKeyOf(c.req.header('idempotency-key'));
    const body = await readBody(c);
    const idempotency = key === undefined ? undefined : { tokenId: c.get('token').id, key };
    let submitted: Submitted;
    // an XML submission's answer names the removed fields by their elements too; a JSON one's is as ever
    let removedXml: string[] | undefined;
    if (body.kind === 'json') {
      // the query string addresses XML only: ignoring ?purpose=... here would send the message without it
      const stray = Object.keys(queryParams(c));
      if (stray.length > 0) {
        const issues = stray.map((name) => ({ path: `/${name}`, expected: 'no query parameter with a JSON body', received: `parameter "${name}"`, message: `/${name}: expected no query parameter with a JSON body, received parameter "${name}"` }));
        throw new GncError('GNC_SCHEMA_INVALID', `Query is invalid: ${issues[0]!.message}. A JSON submission carries to, purpose and ref in its body (the query string addresses XML bodies only): move them into the JSON and submit again.`, { issues });
      }
      submitted = await submit.submit(parseWith(SubmitRequest, body.value, 'Submission', ''), idempotency);
    } else {
      const xml = await submitXml(c, submit, body.bytes, idempotency);
      submitted = xml;
      removedXml = xml.removedXmlPaths;
    }
    const { result, seq, replayed } = submitted;
    const location = `/v1/messages/${result.id}`;
    const base: Record<string, string> = replayed ? { location, 'idempotent-replayed': 'true' } : { location };
    // Prefer: wait=N answers with the final message (200) if it is final (FINAL) in time;
    // return=minimal makes that answer the message's summary (status and receipt outcome, as in the list)
    // instead of the full view with the body and both signed envelopes the client already has or can fetch
    const prefer = c.req.header('prefer');
    const wait = preferredWait(prefer) ?? 0;
    if (wait > 0) {
      await finals.wait(seq, wait * 1000, () => FINAL.has(store.messages.statusOf(seq) ?? ''));
      const shape = preferredReturn(prefer);
      const headers: Record<string, string> = shape ? { ...base, 'preference-applied': `return=${shape}` } : base;
      if (shape === 'minimal') {
        // the summary reads neither the envelope nor the body, nor the receipt's envelope
        const head = store.messages.headBySeq(seq);
        if (head && FINAL.has(head.status)) {
          const status = store.messages.receiptStatus(seq);
          return c.json(summaryOf(head, status && { status }, clock(), store.terms), 200, headers);
        }
      } else {
        const now = store.messages.bySeq(seq);
        if (now && FINAL.has(now.status)) return c.json(viewOf(now, store.messages.receipt(now.seq), clock(), store.terms), 200, headers);
      }
    }
    return c.json(removedXml === undefined ? result : { ...result, removedXmlPaths: removedXml }, 202, base);
  });

  app.get('/', requireScope(store.tokens, 'read'), (c) => {
    const q = parseQuery(c, ListMessagesQuery);
    const filter = {
      direction: q.direction, partner: q.partner, type: q.type, status: q.status,
      since: q.since ? new Date(q.since).toISOString() : undefined, until: q.until ? new Date(q.until).toISOString() : undefined,
    };
    // newest first by seq (unique): the next page starts below the last seq of this one; a cursor belongs to its filters
    const query = [filter.direction, filter.partner, filter.type, filter.status, filter.since, filter.until];
    const rows = store.messages.list({ ...filter, before: q.cursor === undefined ? undefined : seqOf(cursorPosition('messages', query, q.cursor)), limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const at = clock();
    const next = rows.length > q.limit ? pageCursor('messages', query, String(page[page.length - 1]!.seq)) : null;
    return c.json({ items: page.map((r) => summaryOf(r, store.messages.receipt(r.seq), at, store.terms)), nextCursor: next });
  });

  app.get('/:id', requireScope(store.tokens, 'read'), async (c) => {
    const id = c.req.param('id');
    const q = parseQuery(c, WaitQuery);
    // message ids are unique per direction and partner only: an id that more than one message has (two partners
    // picked it, or a partner's message has the id of one sent to it) needs ?partner= or ?direction= to say which
    const { matches, given } = messagesWithId(id, store.messages.byId(id), q);
    if (matches.length > 1) throw ambiguousId(id, 'messages', '/v1/messages', matches, given);
    const found = matches[0]!;
    const row = q.wait && !FINAL.has(found.status) ? ((await settled(found.seq, q.wait)) ?? found) : found;
    const view = viewOf(row, store.messages.receipt(row.seq), clock(), store.terms);
    const accept = c.req.header('accept');
    // the same URL answers JSON or XML by Accept: a cache must key on it (RFC 9110 section 12.5.5)
    c.header('vary', 'Accept');
    if (prefersXml(accept)) {
      if (view.body && isBusinessType(view.type)) {
        let xml: string | undefined;
        try {
          xml = bodyToXml(view.type, view.body);
        } catch (err) {
          // over the size limit as XML, though it fits as JSON: a client that also takes JSON gets that instead
          if (!(isGncError(err) && err.code === 'GNC_BODY_TOO_LARGE' && acceptsJson(accept))) throw err;
        }
        if (xml !== undefined) return c.body(xml, 200, { 'content-type': 'application/xml; charset=utf-8', 'x-gnc-status': view.status });
      } else if (!acceptsJson(accept)) {
        // no XML form: a client that also takes JSON gets the message as JSON, not a 404 for a message that exists
        throw new GncError('GNC_NOT_FOUND', view.body
          ? `Message ${id} is a control message (type ${view.type}), which has no XML form: ask for it with Accept: application/json.`
          : `Message ${id} has no body to render as XML (purged${view.purged ? ` since ${view.purged.at}, when` : ''} after its retention period ended): ask with Accept: application/json for its status and receipt.`);
      }
    }
    return c.json(view);
  });

  // the submitter's right, as submitting is: a message the partner does not have yet (queued or retrying, never
  // handed over) is taken back, final as `withdrawn`; any other answers 409 saying what to do instead
  app.post('/:id/withdraw', requireScope(store.tokens, 'submit'), async (c) => {
    parseQuery(c, NO_QUERY);
    const id = parseParameters(MessageId, c.req.param('id'), 'Message id', '/id');
    const body = await readJsonBody(c, 'Withdrawing a message takes application/json: {"reason": "..."}.');
    const { reason } = parseWith(WithdrawRequest, body, 'Withdrawal', '');
    const { message } = await store.commits.run(() => withdrawMessage(store, id, reason, clock()));
    finals.settle(message.seq);
    return c.json(viewOf(message, store.messages.receipt(message.seq), clock(), store.terms));
  });

  return app;
}
