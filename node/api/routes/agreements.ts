/**
 * /v1/agreements: read the agreements this node knows (read scope), and administer them (admin scope):
 * draft+sign, sign a partner's proposal, propose, import a countersigned file, suspend/terminate/resume.
 */
import { Hono, type Context } from 'hono';
import { AgreementCreateRequest, AgreementNoticeRequest, AgreementVersionQuery } from '../../../protocol/api/schemas.js';
import { GncError } from '../../../protocol/errors.js';
import { parseWith } from '../../../protocol/validate.js';
import type { AgreementRegistry } from '../../agreements/registry.js';
import { AgreementService } from '../../agreements/service.js';
import type { NodeParts } from '../../main.js';
import type { SubmitService } from '../../outbound/submit.js';
import { requireScope, type AuthEnv } from '../auth.js';
import { contentTypeOf, readBody, readJsonBody } from '../body.js';
import { NO_QUERY, parseQuery } from '../query.js';


async function json(c: Context): Promise<unknown> {
  return readJsonBody(c, 'Agreement endpoints take application/json: send the request as JSON with Content-Type: application/json (see /v1/openapi.json).');
}

/**
 * A route that takes no body (sign, propose: the version is `?version=N`) refuses one, as it refuses an unknown query
 * parameter: `{"version": 2}` sent as a body would otherwise act on the latest version with a success answer. An empty
 * body, and the empty JSON object some clients send with every POST, pass.
 */
async function noBody(c: Context, what: string): Promise<void> {
  if ((c.req.header('content-length') ?? '0') === '0' && c.req.header('transfer-encoding') === undefined) return;
  const { type, isJson } = contentTypeOf(c);
  if (!isJson) return refuseBody(what, type === '' ? 'a body without Content-Type' : `a ${type} body`);
  const b = await readBody(c);
  const value = b.kind === 'json' ? b.value : undefined;
  if (value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0)) return;
  // named by its kind, not stringified: a JSON nested 100,000 deep parses, and overflows the stack when written again
  refuseBody(what, Array.isArray(value) ? `a JSON array of ${value.length}` : typeof value === 'object' ? `a JSON object with ${Object.keys(value).length} member(s)` : `JSON ${typeof value}`);
}

function refuseBody(what: string, received: string): never {
  const message = `/: expected no body, received ${received}`;
  throw new GncError('GNC_SCHEMA_INVALID', `${what} takes no body: send none (the version goes in the query, ?version=N) and submit again.`, {
    issues: [{ path: '', expected: 'no body', received, message }],
  });
}

export function agreementRoutes(parts: NodeParts, registry: AgreementRegistry, submit: () => SubmitService): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const svc = new AgreementService(parts, registry, submit);
  const tokens = parts.store.tokens;

  app.get('/', requireScope(tokens, 'read'), (c) => {
    parseQuery(c, NO_QUERY);
    return c.json({ items: registry.all().map((k) => { const { document: _d, signed: _s, ...rest } = svc.view(k); return rest; }) });
  });

  app.get('/:id', requireScope(tokens, 'read'), (c) => {
    const q = parseQuery(c, AgreementVersionQuery);
    return c.json(svc.view(registry.require(c.req.param('id'), q.version)));
  });

  /** Draft from a readable document, sign it with this administration's root, optionally propose it. */
  // a route without query parameters still refuses one: `?version=2` on a notice would otherwise act on the latest
  // version, and `?propose=true` on a draft would leave it unproposed, both with a success answer
  app.post('/', requireScope(tokens, 'admin'), async (c) => {
    parseQuery(c, NO_QUERY);
    const req = parseWith(AgreementCreateRequest, await json(c), 'Agreement request', '');
    const k = await svc.sign(svc.draft(req.draft));
    const proposed = req.propose ? await svc.propose(k.document.id, k.document.version) : undefined;
    return c.json({ ...svc.view(k), proposedAs: proposed?.messageId ?? null }, 201);
  });

  /** Import an agreement file (e.g. countersigned by the partner and received by other means). */
  app.post('/import', requireScope(tokens, 'admin'), async (c) => {
    parseQuery(c, NO_QUERY);
    return c.json(svc.view(svc.import(await json(c))), 201);
  });

  app.post('/:id/sign', requireScope(tokens, 'admin'), async (c) => {
    const q = parseQuery(c, AgreementVersionQuery);
    await noBody(c, 'Signing an agreement');
    return c.json(svc.view(await svc.sign({ id: c.req.param('id'), version: q.version })));
  });

  app.post('/:id/propose', requireScope(tokens, 'admin'), async (c) => {
    const q = parseQuery(c, AgreementVersionQuery);
    await noBody(c, 'Proposing an agreement');
    const r = await svc.propose(c.req.param('id'), q.version);
    return c.json({ ...svc.view(r.agreement), proposedAs: r.messageId }, 202);
  });

  for (const action of ['suspend', 'terminate', 'resume'] as const) {
    app.post(`/:id/${action}`, requireScope(tokens, 'admin'), async (c) => {
      parseQuery(c, NO_QUERY);
      const req = parseWith(AgreementNoticeRequest, await json(c), `${action} request`, '');
      const r = await svc.notice(c.req.param('id'), action, req.reason, req.effective, req.version);
      return c.json({ ...svc.view(r.agreement), noticeMessage: r.messageId }, 202);
    });
  }
  return app;
}
