/**
 * /v1/arrivals: the consignments expected at this country's border with their assessments (read scope).
 * The list filters and paginates with a cursor; `/stream` is a server-sent-events feed of new and changed
 * assessments (resumable with Last-Event-ID or ?after=); `/export` streams CSV or JSON lines for analysts;
 * `/{id}` is one consignment with its versions and the evidence behind every indicator.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { ArrivalsQuery, ExportQuery, StreamQuery, type AssessmentEvent } from '../../protocol/risk.js';
import { parseWith } from '../../protocol/validate.js';
import { requireScope, type AuthEnv } from '../api/auth.js';
import type { Store } from '../store/store.js';
import type { RiskFeed } from './feed.js';
import type { ArrivalQueries } from './query.js';
import { arrivalView, csvLine, CSV_COLUMNS } from './views.js';

/** An idle stream gets a comment line this often, so proxies and clients keep it open: 15 s (WHATWG SSE advice). */
export const SSE_KEEPALIVE_MS = 15_000;
/** Events replayed per read when a client resumes. */
const REPLAY_PAGE = 500;

export interface ArrivalRoutes {
  app: Hono<AuthEnv>;
  /** Ends every open stream (node shutdown). */
  closeStreams(): void;
}

export function arrivalRoutes(store: Store, queries: ArrivalQueries, feed: RiskFeed): ArrivalRoutes {
  const app = new Hono<AuthEnv>();
  const read = requireScope(store.tokens, 'read');
  const closers = new Set<() => void>();

  app.get('/', read, (c) => {
    const q = parseWith(ArrivalsQuery, c.req.query(), 'Query', '');
    const { rows, nextCursor } = queries.list(q);
    // each row stores its view as JSON (protocol/risk.ts ArrivalView): the page is assembled, not re-serialised
    return c.body(`{"items":[${rows.map((r) => r.view).join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`, 200, { 'content-type': 'application/json' });
  });

  app.get('/stream', read, (c) => {
    const q = parseWith(StreamQuery, c.req.query(), 'Query', '');
    const header = c.req.header('last-event-id');
    const resume = q.after ?? (header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined);
    return streamSSE(c, async (stream) => {
      const queue: AssessmentEvent[] = [];
      let closed = false;
      let wake: (() => void) | undefined;
      const poke = (): void => wake?.();
      const close = (): void => {
        closed = true;
        poke();
      };
      const unsubscribe = feed.subscribe((events) => {
        queue.push(...events);
        poke();
      });
      closers.add(close);
      stream.onAbort(close);
      let last = resume ?? feed.latestId();
      const send = async (e: AssessmentEvent): Promise<void> => {
        if (e.id <= last) return;
        await stream.writeSSE({ event: 'assessment', id: String(e.id), data: JSON.stringify(e) });
        last = e.id;
      };
      try {
        await stream.write(': connected\n\n');
        if (resume !== undefined) {
          for (let page = feed.after(last, REPLAY_PAGE); page.length; page = feed.after(last, REPLAY_PAGE)) for (const e of page) await send(e);
        }
        while (!closed) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, SSE_KEEPALIVE_MS);
              wake = () => {
                clearTimeout(t);
                resolve();
              };
            });
            wake = undefined;
            if (queue.length === 0 && !closed) await stream.write(': keep-alive\n\n');
          }
          for (const e of queue.splice(0)) if (!closed) await send(e);
        }
      } catch {
        /* the client went away mid-write */
      } finally {
        unsubscribe();
        closers.delete(close);
      }
    });
  });

  app.get('/export', read, (c) => {
    const { format, ...filters } = parseWith(ExportQuery, c.req.query(), 'Query', '');
    const pages = queries.all(filters);
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        if (format === 'csv') ctrl.enqueue(enc.encode(CSV_COLUMNS.join(',') + '\r\n'));
      },
      pull(ctrl) {
        const next = pages.next();
        if (next.done) return ctrl.close();
        const lines = next.value.map((r) => (format === 'csv' ? csvLine(arrivalView(r)) : JSON.stringify(arrivalView(r))));
        ctrl.enqueue(enc.encode(lines.join(format === 'csv' ? '\r\n' : '\n') + (format === 'csv' ? '\r\n' : '\n')));
      },
    });
    const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
    return c.body(body, 200, { 'content-type': type, 'content-disposition': `attachment; filename="arrivals.${format}"` });
  });

  app.get('/:id', read, (c) => c.json(queries.detail(c.req.param('id'))));

  return {
    app,
    closeStreams() {
      for (const close of [...closers]) close();
    },
  };
}
