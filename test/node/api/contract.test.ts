/**
 * The published contract against the served API, mechanically: every route the node serves (walked from its hono
 * app) is an operation of /v1/openapi.json and the other way round; every operation enforces the scope the
 * document gives it; every one refuses a query parameter it does not document, and one without an XML answer an
 * Accept that takes only XML; and the JSON every GET answers validates against the schema the document names for
 * it. Real nodes over loopback HTTP.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApi } from '../../../node/api/app.js';
import type { Scope } from '../../../node/store/tokens.js';
import { api, networkForFile, waitFor, type TestNode } from '../../helpers/network.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { road, snapshot } from '../risk/fixtures.js';
import { arrival, send } from '../risk/network.js';

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

type Operation = { method: string; path: string; scope: Scope | undefined; query: string[]; json: boolean; types: string[] };

/** The operations of the OpenAPI document the node serves. */
async function documented(n: TestNode): Promise<{ doc: any; ops: Operation[] }> {
  const doc = (await api(n, 'GET', '/v1/openapi.json')).json;
  const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      scope: op.security?.[0]?.bearer?.[0] as Scope | undefined,
      query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name as string),
      json: op.responses['200']?.content?.['application/json'] !== undefined,
      // the media types of its success answers
      types: [...new Set(Object.entries(op.responses as Record<string, any>).filter(([status]) => status.startsWith('2')).flatMap(([, r]) => Object.keys(r.content ?? {})))],
    })),
  );
  return { doc, ops };
}

/** The routes the node serves: its API built from the same parts and route groups as `gnc start` builds it. */
function served(n: TestNode): string[] {
  const node = n.node;
  const info = { country: n.country, name: '', peerId: '', kid: () => '', addresses: () => [], startedAt: 0, connected: () => false, unreachableSince: () => new Map(), clock: Date.now };
  const app = createApi({ store: node.parts.store, submit: node.submit, finals: node.finals, info, extra: node.ext.routes });
  return [...new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`))].sort();
}

/** The path with its parameters filled in (with ids that exist where `ids` has them). */
function concrete(path: string, ids: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? (name === 'partner' ? 'KG' : name === 'aeoId' ? 'KGAEO1' : 'x'));
}

/** Status of one request, without reading a body that may never end (the event stream). */
async function statusOf(n: TestNode, method: string, path: string, authorization: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; type: string; code?: string; detail?: string }> {
  const ctrl = new AbortController();
  const res = await fetch(`${n.url}${path}`, { method, headers: { ...(authorization ? { authorization } : {}), ...headers }, signal: ctrl.signal });
  const type = res.headers.get('content-type') ?? '';
  const problem = type.includes('problem+json') ? ((await res.json()) as { code: string; detail: string }) : undefined;
  ctrl.abort();
  return { status: res.status, type, ...(problem ? { code: problem.code, detail: problem.detail } : {}) };
}

describe('the API contract (OpenAPI) against the served routes', () => {
  it('documents every route the node serves, and serves every documented operation', async () => {
    const { ops } = await documented(kz);
    // the document does not list itself
    const routes = served(kz).filter((r) => r !== 'GET /v1/openapi.json');
    expect(ops.map((o) => `${o.method} ${o.path}`).sort()).toEqual(routes);
  });

  // a goods item of several UN numbers (WCO DM DangerousGoods repeats) is documented as the schema takes it
  it('documents the UN numbers of a goods item in both forms, unNumber and unNumbers', async () => {
    const { doc } = await documented(kz);
    const items: any[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const props = (v as { properties?: Record<string, unknown> }).properties;
        if (props && 'unNumber' in props) items.push(v);
        Object.values(v).forEach(walk);
      }
    };
    walk(doc);
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(item.properties.unNumber).toMatchObject({ type: 'string', pattern: '^\\d{4}$' });
      expect(item.properties.unNumbers).toMatchObject({ type: 'array', minItems: 2, maxItems: 99, items: { type: 'string', pattern: '^\\d{4}$' } });
      expect(item.required).not.toContain('unNumbers');
    }
  });

  it('documents the codes of the problems answered before any operation runs, for what the HTTP parser cannot read', async () => {
    const { doc } = await documented(kz);
    expect(doc.components.schemas.ProblemDetails.properties.code.enum).toEqual(expect.arrayContaining(['GNC_REQUEST_MALFORMED', 'GNC_HEADERS_TOO_LARGE', 'GNC_METHOD_NOT_ALLOWED', 'GNC_REQUEST_TIMEOUT']));
    expect(doc.info.description).toContain('400 GNC_REQUEST_MALFORMED');
    expect(doc.info.description).toContain('408 GNC_REQUEST_TIMEOUT');
  });

  it('documents the refusal of an export over HTTP/1.0 (no final chunk to tell a cut export), and answers it so', async () => {
    const { doc } = await documented(kz);
    expect(doc.paths['/v1/arrivals/export'].get.responses['400'].description).toContain('GNC_REQUEST_MALFORMED: the request is HTTP/1.0');
    const answer = await rawHttp(`GET /v1/arrivals/export HTTP/1.0\r\nAuthorization: Bearer ${kz.token}\r\n\r\n`, kz);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'GNC_REQUEST_MALFORMED' });
  });

  it('enforces on every route the scope the document gives it, with problem details for each refusal', async () => {
    const { doc, ops } = await documented(kz);
    // the bearer scheme names each refusal of credentials, with its status
    for (const answer of ['401 GNC_AUTH_MISSING', '400 GNC_AUTH_MALFORMED', 'error="invalid_request"', '401 GNC_AUTH_INVALID', '403 GNC_AUTH_SCOPE']) expect(doc.components.securitySchemes.bearer.description).toContain(answer);
    const tokens = Object.fromEntries((['read', 'submit', 'admin'] as const).map((s) => [s, kz.node.parts.store.tokens.create(`contract-${s}`, [s]).token]));
    for (const op of ops) {
      const path = concrete(op.path);
      const what = `${op.method} ${op.path}`;
      const anonymous = await statusOf(kz, op.method, path, undefined);
      if (op.scope === undefined) {
        expect(anonymous.status, what).toBe(200);
        continue;
      }
      expect(anonymous, what).toMatchObject({ status: 401, code: 'GNC_AUTH_MISSING' });
      expect(anonymous.type, what).toBe('application/problem+json');
      expect(await statusOf(kz, op.method, path, 'Bearer a b'), what).toMatchObject({ status: 400, type: 'application/problem+json', code: 'GNC_AUTH_MALFORMED' });
      for (const scope of ['read', 'submit', 'admin'] as const) {
        const r = await statusOf(kz, op.method, path, `Bearer ${tokens[scope]}`);
        if (scope === op.scope || scope === 'admin') expect([401, 403], `${what} with a ${scope} token (${r.code})`).not.toContain(r.status);
        else expect(r, `${what} with a ${scope} token`).toMatchObject({ status: 403, code: 'GNC_AUTH_SCOPE' });
      }
    }
  });

  it('refuses on every route without an XML answer an Accept that takes only XML (406), naming the media types the document gives it, and takes each of those', async () => {
    const { ops } = await documented(kz);
    for (const op of ops) {
      const what = `${op.method} ${op.path}`;
      expect(op.types.length, what).toBeGreaterThan(0);
      const path = concrete(op.path);
      if (!op.types.includes('application/xml')) {
        const refused = await statusOf(kz, op.method, path, `Bearer ${kz.token}`, { accept: 'application/xml' });
        expect(refused, what).toMatchObject({ status: 406, type: 'application/problem+json', code: 'GNC_NOT_ACCEPTABLE' });
        for (const type of op.types) expect(refused.detail, what).toContain(type);
      }
      for (const accept of op.types) expect((await statusOf(kz, op.method, path, `Bearer ${kz.token}`, { accept })).status, `${what} with Accept: ${accept}`).not.toBe(406);
    }
    expect((await statusOf(kz, 'GET', '/v1/openapi.json', undefined, { accept: 'application/xml' })).status).toBe(406);
  });

  it('refuses on every route a query parameter it does not document, naming it, and changes nothing (GNC_SCHEMA_INVALID)', async () => {
    const { ops } = await documented(kz);
    const agreement = (await api(kz, 'GET', '/v1/agreements')).json.items[0].id as string;
    const before = (await api(kz, 'GET', `/v1/agreements/${agreement}`)).json;
    // /v1/health ignores its query on purpose (load-balancer probes add cache busters), as node/api/query.ts says
    for (const op of ops.filter((o) => o.path !== '/v1/health')) {
      const path = `${concrete(op.path, { id: agreement })}?colour=red`;
      const body = op.method === 'POST' ? { reason: 'contract test', effective: '2030-01-01', draft: {} } : undefined;
      const r = await api(kz, op.method, path, body);
      expect(r.status, `${op.method} ${path}: ${r.text.slice(0, 200)}`).toBe(422);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.json.issues?.[0]?.path, `${op.method} ${path}`).toBe('/colour');
    }
    // as an integrator writes it after /sign?version=N: a notice's version goes in its body, and the query is not dropped
    const suspend = await api(kz, 'POST', `/v1/agreements/${agreement}/suspend?version=1`, { reason: 'contract test' });
    expect(suspend.status, suspend.text).toBe(422);
    expect(suspend.json.issues[0].path).toBe('/version');
    const after = (await api(kz, 'GET', `/v1/agreements/${agreement}`)).json;
    expect(after.notices).toEqual(before.notices);
    expect(after.status).toBe(before.status);
  });

  it('refuses on every POST the document gives no request body a body other than {} (GNC_SCHEMA_INVALID), before it acts', async () => {
    const { doc } = await documented(kz);
    const bodiless = Object.entries(doc.paths as Record<string, Record<string, any>>).filter(([, ops]) => ops['post'] && !ops['post'].requestBody).map(([path]) => path);
    expect(bodiless.length).toBeGreaterThan(0);
    for (const path of bodiless) {
      const r = await api(kz, 'POST', concrete(path), { version: 2 });
      expect(r.status, `${path}: ${r.text}`).toBe(422);
      expect(r.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '', expected: 'no body' }] });
    }
  });

  it('refuses a partner removal whose body its documented schema does not accept, naming the field, and removes nothing', async () => {
    const { doc } = await documented(kz);
    const op = doc.paths['/v1/partners/{country}/remove'].post;
    expect(op.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/PartnerRemoveRequest');
    expect(op.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/PartnerRemoval');
    const request = z.fromJSONSchema(doc.components.schemas.PartnerRemoveRequest);
    for (const [body, path] of [
      [{ reason: 'contract test', despiteAgreement: 'yes' }, '/despiteAgreement'],
      [{ reason: '   ', despiteAgreement: true }, '/reason'],
      [{ reason: 'x'.repeat(501), despiteAgreement: true }, '/reason'],
      [{ reason: 'contract test', despiteAgreement: true, force: true }, '/force'],
    ] as const) {
      expect(request.safeParse(body).success, JSON.stringify(body).slice(0, 80)).toBe(false);
      const r = await api(kz, 'POST', '/v1/partners/KG/remove', body);
      expect(r.status, r.text).toBe(422);
      expect(r.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID' });
      expect(r.json.issues[0].path).toBe(path);
    }
    expect((await api(kz, 'POST', '/v1/partners/kg/remove', { reason: 'contract test' })).json.issues[0].path).toBe('/country');
    expect(kz.node.parts.trust.isPartner('KG')).toBe(true);
  });

  it('reads an offset the same way in every time filter, and says to write its "+" as %2B when it arrived as a space', async () => {
    for (const [path, name] of [['/v1/messages', 'since'], ['/v1/messages', 'until'], ['/v1/arrivals', 'from'], ['/v1/arrivals', 'to'], ['/v1/arrivals/export', 'from']] as const) {
      expect((await api(kz, 'GET', `${path}?${name}=2026-11-24T08:00:00%2B05:00`)).status, `${path} ${name}`).toBe(200);
      const r = await api(kz, 'GET', `${path}?${name}=2026-11-24T08:00:00+05:00`);
      expect(r.status, `${path} ${name}`).toBe(422);
      expect(r.json.issues, `${path} ${name}`).toHaveLength(1);
      expect(r.json.issues[0], `${path} ${name}`).toMatchObject({ path: `/${name}`, received: 'string "2026-11-24T08:00:00 05:00"' });
      expect(r.json.detail, `${path} ${name}`).toContain('%2B05:00');
    }
  });

  it('answers every documented JSON GET with a body the document\'s schema for it accepts', async () => {
    const { doc, ops } = await documented(kg);
    const schemaOf = (op: Operation): z.ZodType => {
      const content = doc.paths[op.path][op.method.toLowerCase()].responses['200'].content['application/json'].schema;
      const refs: string[] = content.$ref ? [content.$ref] : content.oneOf.map((s: { $ref: string }) => s.$ref);
      const schemas = refs.map((ref) => z.fromJSONSchema(doc.components.schemas[ref.replace('#/components/schemas/', '')]));
      return schemas.length === 1 ? schemas[0]! : z.union(schemas as [z.ZodType, z.ZodType]);
    };
    // something in every list and behind every id: a declaration and an AEO snapshot received by KG from KZ
    const declaration = await send(kz, 'aci', road());
    await send(kz, 'aeo', snapshot());
    await arrival(kg, declaration);
    const aeoId = await waitFor(async () => (await api(kg, 'GET', '/v1/aeo?partner=KZ')).json.items[0]?.aeoId as string | undefined);
    const agreement = (await api(kg, 'GET', '/v1/agreements')).json.items[0].id as string;
    const ids = { id: declaration, partner: 'KZ', aeoId };
    const checked: string[] = [];
    for (const op of ops.filter((o) => o.method === 'GET' && o.json)) {
      const path = concrete(op.path, op.path.startsWith('/v1/agreements') ? { id: agreement } : ids);
      const r = await api(kg, 'GET', path);
      expect(r.status, `${path}: ${r.text.slice(0, 300)}`).toBe(200);
      const parsed = schemaOf(op).safeParse(r.json);
      expect(parsed.success ? [] : parsed.error.issues.slice(0, 3), `GET ${op.path}`).toEqual([]);
      // (no snapshot waits for a part here: /v1/aeo/pending is checked empty)
      if (Array.isArray(r.json.items) && op.path !== '/v1/aeo/pending') expect(r.json.items.length, `GET ${path} lists something`).toBeGreaterThan(0);
      checked.push(op.path);
    }
    expect(checked).toEqual(expect.arrayContaining(['/v1/partners', '/v1/messages', '/v1/messages/{id}', '/v1/arrivals/{id}', '/v1/aeo/{partner}/{aeoId}']));
    // the terms a reader of received data is bound by: required in every view of it the document names, and served
    for (const name of ['MessageView', 'MessageSummary', 'ArrivalView', 'ArrivalDetail', 'AeoRecordView']) expect(doc.components.schemas[name].required, name).toContain('terms');
    for (const path of [`/v1/messages/${declaration}`, `/v1/arrivals/${declaration}`, `/v1/aeo/KZ/${aeoId}`]) {
      expect((await api(kg, 'GET', path)).json.terms, path).toMatchObject({ agreement: agreement + '@1', onwardTransfer: false });
    }
     // the risk view's part of the health answer, documented and served (a node with the risk view composed)
    expect(doc.components.schemas.Health.properties.risk.properties.unassessable.type).toBe('integer');
    expect((await api(kg, 'GET', '/v1/health')).json.risk).toEqual({ unassessable: 0 });
    // what needs the operator: documented with its codes, served (nothing here: ok, no checks)
    const health = doc.components.schemas.Health;
    expect(health.properties.status.enum).toEqual(['ok', 'degraded']);
    expect(health.required).toEqual(expect.arrayContaining(['status', 'checks']));
    expect(health.properties.checks.items.properties.code.enum).toEqual(expect.arrayContaining(['GNC_KEY_EXPIRING', 'GNC_RISK_UNASSESSABLE', 'GNC_DELIVERY_DELAYED']));
    expect((await api(kg, 'GET', '/v1/health')).json).toMatchObject({ status: 'ok', checks: [] });
  });
});
