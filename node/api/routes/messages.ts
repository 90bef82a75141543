/**
 * /v1/messages: submit (JSON or WCO DM XML), list with filters and cursor pagination, and fetch one message
 * with its status, its receipt and the exact signed envelope (as JSON, or its body as XML on request).
 */
import type { EventEmitter } from 'node:events';
import { Hono } from 'hono';
import { z } from 'zod';
import { ListMessagesQuery, SubmitRequest } from '../../../protocol/api/schemas.js';
import { GncError } from '../../../protocol/errors.js';
import { isBusinessType } from '../../../protocol/messages/registry.js';
import { parseWith } from '../../../protocol/validate.js';
import { bodyToXml, parseXmlBody } from '../../../protocol/xml/index.js';
import type { SubmitService } from '../../outbound/submit.js';
import type { Store } from '../../store/store.js';
import { requireScope, type AuthEnv } from '../auth.js';
import { readBody } from '../body.js';
import { summaryOf, viewOf } from '../views.js';

const FINAL = new Set(['delivered', 'rejected', 'expired', 'accepted']);

/** Longest an integrator may hold `GET /v1/messages/{id}?wait=` open, in seconds (below common proxy idle timeouts). */
export const MAX_WAIT_SECONDS = 30;

const WaitQuery = z.strictObject({
  direction: z.enum(['in', 'out']).optional(),
  wait: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).optional().describe('seconds to wait for a final status (delivered, rejected, expired)'),
});

/** Resolve when the outbound message reaches a final status, or after `seconds`. */
function waitFinal(finals: EventEmitter, seq: number, seconds: number, isFinal: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      finals.off('final', onFinal);
      resolve();
    };
    const onFinal = (s: number): void => {
      if (s === seq) done();
    };
    const timer = setTimeout(done, seconds * 1000);
    finals.on('final', onFinal);
    if (isFinal()) done(); // it may have become final between the caller's read and the listener
  });
}

export function messageRoutes(store: Store, submit: SubmitService, finals: EventEmitter): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.post('/', requireScope(store.tokens, 'submit'), async (c) => {
    const body = await readBody(c);
    let request;
    if (body.kind === 'json') {
      request = parseWith(SubmitRequest, body.value, 'Submission', '');
    } else {
      // XML carries the body; addressing comes from the query string (?to=KG&purpose=...&ref=...)
      const parsed = parseXmlBody(body.text);
      request = parseWith(SubmitRequest, { to: c.req.query('to'), type: parsed.type, purpose: c.req.query('purpose'), ref: c.req.query('ref'), body: parsed.body }, 'Submission', '');
    }
    const result = await submit.submit(request);
    return c.json(result, 202, { location: `/v1/messages/${result.id}` });
  });

  app.get('/', requireScope(store.tokens, 'read'), (c) => {
    const q = parseWith(ListMessagesQuery, c.req.query(), 'Query', '');
    const rows = store.messages.list({
      direction: q.direction, partner: q.partner, type: q.type, status: q.status,
      since: q.since ? new Date(q.since).toISOString() : undefined, until: q.until ? new Date(q.until).toISOString() : undefined,
      before: q.cursor ? Number(q.cursor) : undefined, limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const next = rows.length > q.limit ? String(page[page.length - 1]!.seq) : null;
    return c.json({ items: page.map((r) => summaryOf(r, store.messages.receipt(r.seq))), nextCursor: next });
  });

  app.get('/:id', requireScope(store.tokens, 'read'), async (c) => {
    const id = c.req.param('id');
    const q = parseWith(WaitQuery, c.req.query(), 'Query', '');
    const find = () => store.messages.byId(id).find((r) => q.direction === undefined || r.direction === q.direction);
    let row = find();
    if (!row) throw new GncError('GNC_NOT_FOUND', `No message with id ${id} on this node: check the id (GET /v1/messages lists them).`);
    if (q.wait && !FINAL.has(row.status)) {
      await waitFinal(finals, row.seq, q.wait, () => FINAL.has(find()?.status ?? ''));
      row = find()!;
    }
    const view = viewOf(row, store.messages.receipt(row.seq));
    if ((c.req.header('accept') ?? '').includes('xml')) {
      if (!view.body || !isBusinessType(view.type)) throw new GncError('GNC_NOT_FOUND', `Message ${id} has no body to render as XML (purged after its retention period).`);
      return c.body(bodyToXml(view.type, view.body), 200, { 'content-type': 'application/xml; charset=utf-8', 'x-gnc-status': view.status });
    }
    return c.json(view);
  });

  return app;
}
