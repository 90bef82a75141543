/**
 * The local HTTP API (hono), mounted under /v1. Every error leaves as RFC 9457 problem details with its GNC
 * code; unknown routes are GNC_NOT_FOUND. Further route groups (agreements, arrivals, audit) are mounted by
 * the composition root through `extra`.
 */
import { Hono } from 'hono';
import { GncError, quote } from '../../protocol/errors.js';
import type { FinalWaits } from '../outbound/final-waits.js';
import type { SubmitService } from '../outbound/submit.js';
import type { Store } from '../store/store.js';
import type { AuthEnv } from './auth.js';
import { negotiate } from './accept.js';
import { answersWith, openApiDocument } from './openapi.js';
import { problemResponse } from './problem.js';
import { messageRoutes } from './routes/messages.js';
import { nodeInfoRoutes, type NodeInfo } from './routes/node-info.js';

export interface ApiDeps {
  store: Store;
  submit: SubmitService;
  /** Final outbound statuses, for `GET /v1/messages/{id}?wait=...` long-polling. */
  finals: FinalWaits;
  info: NodeInfo;
  extra?: { path: string; routes: Hono<AuthEnv> }[];
  log?: (msg: string) => void;
  /** The node's clock (a withdrawal's time). */
  clock?: () => number;
}

export function createApi(d: ApiDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.onError((err, c) => {
    if (!(err instanceof GncError)) d.log?.(`API ${c.req.method} ${quote(c.req.path)} failed: ${err.stack ?? err.message}`);
    return problemResponse(c, err);
  });
  // a path that exists under other methods is 405 with Allow (RFC 9110 15.5.6), not "no such endpoint"; routing
  // is strict, so `/v1/messages/` is no endpoint under any method (a 405 there would name the very method refused)
  let routes: { pattern: RegExp; method: string }[] | undefined;
  const methodsOf = (path: string): string[] => [...new Set(routes!.filter((r) => r.pattern.test(path)).map((r) => r.method))];
  app.notFound((c) => {
    routes ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ pattern: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}$`), method: r.method }));
    const allowed = methodsOf(c.req.path);
    if (allowed.length > 0) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      const res = problemResponse(c, new GncError('GNC_METHOD_NOT_ALLOWED', `${c.req.path} does not take ${c.req.method}; it takes ${allowed.join(', ')}: see /v1/openapi.json.`));
      res.headers.set('allow', allowed.join(', '));
      return res;
    }
    const bare = c.req.path.replace(/\/+$/, '');
    if (bare !== c.req.path && methodsOf(bare).length > 0) {
      return problemResponse(c, new GncError('GNC_NOT_FOUND', `No endpoint ${c.req.method} ${c.req.path}: paths take no trailing slash, use ${bare} (see /v1/openapi.json).`));
    }
    return problemResponse(c, new GncError('GNC_NOT_FOUND', `No endpoint ${c.req.method} ${c.req.path}: see /v1/openapi.json.`));
  });
  // before every route: an Accept that takes none of the route's media types is refused before it runs
  app.use('*', negotiate(answersWith));
  const v1 = new Hono<AuthEnv>();
  v1.route('/', nodeInfoRoutes(d.store, d.info));
  v1.route('/messages', messageRoutes(d.store, d.submit, d.finals, d.clock));
  for (const e of d.extra ?? []) v1.route(e.path, e.routes);
  v1.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.route('/v1', v1);
  return app;
}
