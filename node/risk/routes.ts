/**
 * /v1/arrivals: the consignments expected at this country's border with their assessments (read scope).
 * The list filters and paginates with a cursor; `/stream` is a server-sent-events feed of new and changed
 * assessments (resumable with Last-Event-ID or ?after=; a resume before events deleted since starts with a `gap`
 * event); `/export` streams CSV or JSON lines for analysts; both end a response whose client stops reading
 * (SSE_WRITE_TIMEOUT_MS), and a stopping node ends them at once (an export cut off, without its final chunk);
 * `/{id}` is one consignment with its versions and the evidence behind every indicator.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type Context } from 'hono';
import { stream as streamBody, streamSSE } from 'hono/streaming';
import { ArrivalDetailQuery, ArrivalsQuery, ExportQuery, StreamQuery, type AssessmentEvent, type FeedGap } from '../../protocol/risk.js';
import { GncError, quoted } from '../../protocol/errors.js';
import { requireScope, type AuthEnv } from '../api/auth.js';
import { parseQuery } from '../api/query.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { failureFields } from './engine.js';
import type { RiskFeed } from './feed.js';
import type { ArrivalQueries } from './query.js';
import { arrivalView, csvLine, CSV_COLUMNS } from './views.js';

/** An idle stream gets a comment line this often, so proxies and clients keep it open: 15 s (WHATWG SSE advice). */
export const SSE_KEEPALIVE_MS = 15_000;
/**
 * A write of a streamed response (the event stream, the export) that the client takes nothing of for this long ends
 * the response: the client stopped reading without closing, and would otherwise keep its stream, subscription or export
 * and buffered page until TCP gives up (hours). The same
 * limit the exchange streams give a partner that stops reading (DRAIN_TIMEOUT_MS, node/transport/framed-stream.ts):
 * 30 s, two keep-alive periods, so a live client that reads always drains in time.
 */
export const SSE_WRITE_TIMEOUT_MS = 30_000;
/** Events replayed per read when a client resumes. */
const REPLAY_PAGE = 500;

/**
 * Where a stream resumes: after `?after=`, else after the Last-Event-ID header, else live only. A point this
 * node never reached (an id from another node, or from before this data dir was restored from a backup) is
 * refused: starting there would silently skip every event until the counter caught up. So is a header that
 * is no event id (an EventSource only ever sends back an id this node gave it).
 */
function resumePoint(after: number | undefined, header: string | undefined, latest: number): number | undefined {
  const from = after !== undefined ? 'after' : 'Last-Event-ID';
  if (after === undefined && header !== undefined && !/^\d{1,15}$/.test(header.trim())) {
    const received = quoted(header);
    throw new GncError('GNC_SCHEMA_INVALID', `Last-Event-ID is invalid: expected the id of an event this stream sent (digits), received ${received}. Reconnect without it to start live, or with ?after=0 to replay the stored events.`, {
      issues: [{ path: 'Last-Event-ID', expected: 'an event id (digits)', received, message: 'Last-Event-ID: expected an event id (digits)' }],
    });
  }
  const point = after ?? (header !== undefined ? Number(header.trim()) : undefined);
  if (point !== undefined && point > latest) {
    throw new GncError('GNC_SCHEMA_INVALID', `${from} is invalid: event ${point} is beyond the newest event of this node (${latest}); it comes from another node or from before a restore. Reconnect with ?after=${latest} to start live, or ?after=0 to replay the stored events.`, {
      issues: [{ path: from === 'after' ? '/after' : 'Last-Event-ID', expected: `an event id up to ${latest}`, received: String(point), message: `${from}: expected an event id up to ${latest}` }],
    });
  }
  return point;
}

export interface ArrivalRoutes {
  app: Hono<AuthEnv>;
  /** Ends every open event stream and cuts off every export in progress (node shutdown). */
  closeStreams(): void;
}

export interface ArrivalRoutesOptions {
  log: Logger;
  /** How long one write of a streamed response (/stream, /export) may wait for the client (tests); default SSE_WRITE_TIMEOUT_MS. */
  writeTimeoutMs?: number;
}

/** A write the client did not take within the limit: the response was ended. */
class StalledWrite extends Error {}

/** What the stall of one streamed response logs, and what else ends with it. */
interface StallReport {
  /** The log line: what ended and what the client should do; no content. */
  message: string;
  /** Log fields beside the path and the limit: positions and counts, never content. */
  fields(): Record<string, unknown>;
  /** The response ended otherwise meanwhile (client gone, token revoked, shutdown): nothing to log. */
  ended(): boolean;
  /** Ends what the response holds besides its socket (a subscription). */
  end?(): void;
}

/** Destroys the socket of the response of `c` (served by @hono/node-server): the client gets no graceful end. */
function destroyResponse(c: Context<AuthEnv>): void {
  (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing?.destroy();
}

/**
 * The write limit of a streamed response: every write races `limitMs`. A client that takes nothing for that long has
 * stopped reading: the stall is logged once, what the response holds is ended and its socket destroyed (ending it
 * gracefully would wait for that same client to read), and the write throws StalledWrite.
 */
function writeWithin(c: Context<AuthEnv>, log: Logger, limitMs: number, stall: StallReport): (sent: Promise<unknown>) => Promise<void> {
  return async (sent) => {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<'stalled'>((resolve) => {
      timer = setTimeout(() => resolve('stalled'), limitMs);
    });
    try {
      if ((await Promise.race([sent, stalled])) !== 'stalled') return;
    } finally {
      clearTimeout(timer);
    }
    if (!stall.ended()) {
      stall.end?.();
      log(stall.message, { path: c.req.path, ...stall.fields(), limitMs });
      destroyResponse(c);
    }
    throw new StalledWrite();
  };
}

export function arrivalRoutes(store: Store, queries: ArrivalQueries, feed: RiskFeed, opts: ArrivalRoutesOptions): ArrivalRoutes {
  const { log, writeTimeoutMs = SSE_WRITE_TIMEOUT_MS } = opts;
  const app = new Hono<AuthEnv>();
  const read = requireScope(store.tokens, 'read');
  const closers = new Set<() => void>();

  app.get('/', read, (c) => {
    const q = parseQuery(c, ArrivalsQuery);
    const { rows, nextCursor } = queries.list(q);
    // each row stores its view as JSON (protocol/risk.ts ArrivalView): the page is assembled, not re-serialised
    return c.body(`{"items":[${rows.map((r) => r.view).join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`, 200, { 'content-type': 'application/json' });
  });

  app.get('/stream', read, (c) => {
    const q = parseQuery(c, StreamQuery);
    const resume = resumePoint(q.after, c.req.header('last-event-id'), feed.latestId());
    // HEAD (which hono answers by running this GET handler and dropping the body) opens no stream: nobody
    // would read it, so it would never be aborted and its subscription would live until shutdown
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    return streamSSE(c, async (stream) => {
      let closed = false;
      /** Events were published since the store was last read. */
      let fresh = false;
      let wake: (() => void) | undefined;
      const poke = (): void => wake?.();
      const close = (): void => {
        closed = true;
        poke();
      };
      // a publication only wakes the stream: what it sends is read from the store (below), so a client that
      // stops reading holds one page in memory, not every event published since (they are all stored)
      const unsubscribe = feed.subscribe(() => {
        fresh = true;
        poke();
      });
      closers.add(close);
      stream.onAbort(close);
      let last = resume ?? feed.latestId();
      // the token was checked when the stream opened; a stream outlives any request, so `gnc token revoke` must
      // end it too, before it carries one more event (an EventSource then reconnects and meets the 401)
      const tokenId = c.get('token').id;
      const write = writeWithin(c, log, writeTimeoutMs, {
        message: 'event stream ended: the client took nothing within the write limit; it should reconnect with Last-Event-ID',
        fields: () => ({ lastEventId: last }),
        ended: () => closed,
        end: close,
      });
      const revoked = (): boolean => {
        if (store.tokens.active(tokenId)) return false;
        close();
        return true;
      };
      const send = async (e: AssessmentEvent): Promise<void> => {
        if (e.id <= last || closed || revoked()) return;
        await write(stream.writeSSE({ event: 'assessment', id: String(e.id), data: JSON.stringify(e) }));
        last = e.id;
      };
      /**
       * Events after `last` were deleted before this stream sent them (a resume from before the 7 days kept, or a
       * purge): the client is told, and the stream skips past them. What is still held up to there goes unsent: the
       * client resynchronises from the arrivals list, which an older assessment sent after it would undo.
       */
      const gap = async (deleted: number): Promise<void> => {
        if (closed || revoked()) return;
        const e: FeedGap = {
          id: deleted, type: 'gap', after: last,
          detail: `Events after ${last} up to ${deleted} were deleted before this stream sent them (events are kept 7 days, and those of consignments whose data retention purged, or quoting a purged certificate or AEO message, go with it): resynchronise from GET /v1/arrivals, then read on; this stream goes on after event ${deleted}.`,
        };
        await write(stream.writeSSE({ event: 'gap', id: String(deleted), data: JSON.stringify(e) }));
        last = deleted;
      };
      try {
        await write(stream.write(': connected\n\n'));
        while (!closed) {
          fresh = false;
          const deleted = feed.deletedThrough();
          if (deleted > last) await gap(deleted);
          // the replay of a resuming client and the live events alike, a page at a time, after the last one sent
          const page = feed.after(last, REPLAY_PAGE);
          // a stream that ended (client gone, token revoked, shutdown) sends nothing more and `last` stays put: the
          // loop ends with it, or the same page would come back forever, in microtasks only, and hang the whole node
          for (const e of page) await send(e);
          if (page.length > 0 || closed) continue;
          // nothing was published between the read above and here (no await in between) unless `fresh` says so
          if (!fresh) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, SSE_KEEPALIVE_MS);
              wake = () => {
                clearTimeout(t);
                resolve();
              };
            });
            wake = undefined;
            if (!fresh && !closed && !revoked()) await write(stream.write(': keep-alive\n\n'));
          }
        }
      } catch {
        /* the client went away mid-write, or stopped taking what was written (StalledWrite, logged) */
      } finally {
        unsubscribe();
        closers.delete(close);
      }
    });
  });

  app.get('/export', read, (c) => {
    const { format, ...filters } = parseQuery(c, ExportQuery);
    const csv = format === 'csv';
    c.header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    c.header('content-disposition', `attachment; filename="arrivals.${format}"`);
    // HEAD (answered by running this GET handler and dropping the body) reads nothing: nobody would take its writes
    if (c.req.method === 'HEAD') return c.body(null, 200);
    // what tells a whole export from one cut off (a client that stalled, an error, the node stopping) is the final chunk
    // of HTTP/1.1's chunked coding; an HTTP/1.0 body has no chunks and ends with its connection, so a cut would pass for the end
    if ((c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.httpVersion === '1.0') {
      throw new GncError('GNC_REQUEST_MALFORMED', `GET ${c.req.path} streams its rows with HTTP/1.1's chunked coding, whose final chunk tells a whole export from one cut off; over HTTP/1.0 a cut export would read as a whole one: send the request as HTTP/1.1.`);
    }
    return streamBody(c, async (out) => {
      let rows = 0;
      /** The node is stopping: the export was cut off (closeStreams). */
      let cut = false;
      // an export lasts as long as its client reads, well beyond the shutdown's drain: a stopping node cuts it off at once,
      // without its final chunk, so that the client sees it incomplete (never as a whole export) and asks again later
      const cutOff = (): void => {
        if (cut || out.aborted) return;
        cut = true;
        log('arrivals export cut off: the node is stopping; the client should request it again once the node is back', { path: c.req.path, format, rows });
        destroyResponse(c);
      };
      const write = writeWithin(c, log, writeTimeoutMs, {
        message: 'arrivals export ended: the client took nothing within the write limit; it should request the export again',
        fields: () => ({ format, rows }),
        ended: () => out.aborted || cut,
      });
      closers.add(cutOff);
      try {
        if (csv) await write(out.write(CSV_COLUMNS.join(',') + '\r\n'));
        // a page is read only once the client took the one before (the write resolved), each in a statement of its own
        // that ends with it (ArrivalQueries.all, keyset cursor): a paused export holds one page and no read transaction,
        // so the write-ahead log is checkpointed meanwhile
        for (const page of queries.all(filters)) {
          if (out.aborted || cut) return;
          const lines = page.map((r) => (csv ? csvLine(arrivalView(r)) : JSON.stringify(arrivalView(r))));
          const end = csv ? '\r\n' : '\n';
          await write(out.write(lines.join(end) + end));
          rows += page.length;
        }
      } catch (err) {
        if (err instanceof StalledWrite || cut) return;
        // ended without its end: a client must not take a cut export for a whole one. Code and kind only: the message may quote a row
        log('arrivals export failed; its response was cut off', { path: c.req.path, format, rows, ...failureFields(err) });
        destroyResponse(c);
      } finally {
        closers.delete(cutOff);
      }
    });
  });

  app.get('/:id', read, (c) => {
    const { partner } = parseQuery(c, ArrivalDetailQuery);
    return c.json(queries.detail(c.req.param('id'), partner));
  });

  return {
    app,
    closeStreams() {
      for (const close of [...closers]) close();
    },
  };
}
