/**
 * The local HTTP API over real loopback HTTP: authentication and scopes, problem details with GNC codes for
 * every bad input, submission, listing with filters and cursors, and one message with receipt and envelope.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgreementList, AgreementView, AuditLogStatus } from '../../../protocol/api/schemas.js';
import { MAX_BODY_BYTES, MAX_REPORTED_ISSUES } from '../../../protocol/constants.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';

const ecooStatusXml = readFileSync(new URL('../../../examples/messages/ecoo-status-cancelled.xml', import.meta.url), 'utf8');
const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const ecoo = JSON.parse(readFileSync(new URL('../../../examples/messages/ecoo-kz-kg-preferential.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let readOnly: TestNode;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  readOnly = { ...kz, token: kz.node.parts.store.tokens.create('reader', ['read']).token };
});
afterAll(async () => net?.close());

const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci };

function expectProblem(r: { status: number; json: any; headers: Headers }, status: number, code: string): void {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  expect(r.json).toMatchObject({ status, code, type: `urn:gnc:problem:${code}` });
  expect(typeof r.json.detail).toBe('string');
}

describe('local API', () => {
  it('answers health without a token', async () => {
    const r = await fetch(`${kz.url}/v1/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', country: 'KZ', partners: 1 });
  });

  it('refuses a request without a token (GNC_AUTH_MISSING)', async () => {
    const r = await api({ ...kz, token: '' }, 'GET', '/v1/messages', undefined, { authorization: '' });
    expectProblem(r, 401, 'GNC_AUTH_MISSING');
  });

  it('refuses an unknown token (GNC_AUTH_INVALID)', async () => {
    expectProblem(await api({ ...kz, token: 'gnc_000000000000_' + 'x'.repeat(32) }, 'GET', '/v1/messages'), 401, 'GNC_AUTH_INVALID');
  });

  it('challenges with WWW-Authenticate: Bearer on every 401, as RFC 9110 requires of a 401', async () => {
    const missing = await api({ ...kz, token: '' }, 'GET', '/v1/messages', undefined, { authorization: '' });
    expectProblem(missing, 401, 'GNC_AUTH_MISSING');
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="gnc"');
    const invalid = await api(kz, 'GET', '/v1/messages', undefined, { authorization: `Bearer gnc_000000000000_${'x'.repeat(32)}` });
    expectProblem(invalid, 401, 'GNC_AUTH_INVALID');
    expect(invalid.headers.get('www-authenticate')).toBe('Bearer realm="gnc", error="invalid_token"');
    expect((await api(kz, 'GET', '/v1/messages')).headers.get('www-authenticate')).toBeNull();
  });

  it('answers an Authorization header without a bearer token (another scheme, the token without "Bearer ") as a missing token, never as an unknown or revoked one', async () => {
    // a valid token sent as Basic or bare: a new token (what GNC_AUTH_INVALID tells to make) would fail the same way
    for (const authorization of ['Basic a2c6c2VjcmV0', kz.token, `Token ${kz.token}`, 'Bearer', 'Bearer   ']) {
      const r = await api(kz, 'GET', '/v1/messages', undefined, { authorization });
      expectProblem(r, 401, 'GNC_AUTH_MISSING');
      expect(r.headers.get('www-authenticate'), authorization).toBe('Bearer realm="gnc"');
      expect(r.json.detail, authorization).toContain('send it as "Authorization: Bearer <token>"');
    }
    expect((await api(kz, 'GET', '/v1/messages', undefined, { authorization: `bearer ${kz.token}` })).status).toBe(200);
  });

  it('refuses a submission with a read-only token (GNC_AUTH_SCOPE)', async () => {
    expectProblem(await api(readOnly, 'POST', '/v1/messages', submission), 403, 'GNC_AUTH_SCOPE');
  });

  it('refuses malformed JSON (GNC_INVALID_JSON)', async () => {
    expectProblem(await api(kz, 'POST', '/v1/messages', '{"to": "KG",', { 'content-type': 'application/json' }), 400, 'GNC_INVALID_JSON');
  });

  it('refuses a body over the size limit (GNC_BODY_TOO_LARGE)', async () => {
    const big = JSON.stringify({ ...submission, body: { ...aci, padding: 'x'.repeat(MAX_BODY_BYTES) } });
    const r = await api(kz, 'POST', '/v1/messages', big, { 'content-type': 'application/json' });
    expectProblem(r, 413, 'GNC_BODY_TOO_LARGE');
    expect(r.json.detail).toMatch(/limit: send JSON without indentation \(every byte counts\), or split it into several messages \(an AEO register as a snapshot in parts, SPEC section 7\.5\)\.$/);
  });

  it('refuses a chunked body (no Content-Length) once it passes the size limit', async () => {
    const url = new URL('/v1/messages', kz.url);
    const answer = await new Promise<{ status: number; code: string }>((resolve, reject) => {
      const req = request({ method: 'POST', hostname: url.hostname, port: url.port, path: url.pathname,
        headers: { authorization: `Bearer ${kz.token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { code: string }).code }));
      });
      // the server may close the socket after answering: the rest of the upload is refused, not an error here
      req.on('error', (err) => (err.message.includes('EPIPE') || err.message.includes('ECONNRESET') ? undefined : reject(err)));
      const chunk = 'x'.repeat(64 * 1024);
      req.write('{"padding":"');
      for (let sent = 0; sent <= MAX_BODY_BYTES; sent += chunk.length) req.write(chunk);
      req.end('"}');
    });
    expect(answer).toEqual({ status: 413, code: 'GNC_BODY_TOO_LARGE' });
  });

  it('refuses an unsupported content type (GNC_UNSUPPORTED_MEDIA_TYPE)', async () => {
    expectProblem(await api(kz, 'POST', '/v1/messages', 'to=KG', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'GNC_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an XML document full of unknown elements with a problem of at most MAX_REPORTED_ISSUES issues', async () => {
    const xml = ecooStatusXml.replace('<CertificateID>', '<X/>'.repeat(5000) + '<CertificateID>');
    const r = await api(kz, 'POST', '/v1/messages?to=KG&purpose=origin-verification', xml, { 'content-type': 'application/xml' });
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(r.text.length).toBeLessThan(xml.length);
  });

  it('refuses an unknown message type (GNC_UNKNOWN_TYPE)', async () => {
    expectProblem(await api(kz, 'POST', '/v1/messages', { ...submission, type: 'manifest' }), 422, 'GNC_UNKNOWN_TYPE');
  });

  it('names the offending field path of a schema violation (GNC_SCHEMA_INVALID)', async () => {
    const items = (aci['goodsItems'] as Record<string, unknown>[]).map((g, i) => (i === 0 ? { ...g, hsCode: '84x' } : g));
    const r = await api(kz, 'POST', '/v1/messages', { ...submission, body: { ...aci, goodsItems: items } });
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.issues[0].path).toBe('/body/goodsItems/0/hsCode');
    expect(r.json.issues[0].received).toContain('84x');
  });

  it('refuses a message for a country that is not a partner (GNC_PARTNER_UNKNOWN)', async () => {
    expectProblem(await api(kz, 'POST', '/v1/messages', { ...submission, to: 'MN' }), 422, 'GNC_PARTNER_UNKNOWN');
  });

  it('refuses an amendment of an unknown original (GNC_ORIGINAL_UNKNOWN)', async () => {
    const r = await api(kz, 'POST', '/v1/messages', { ...submission, ref: '0190aaaa-0000-7000-8000-000000000000', body: { ...aci, kind: 'amendment' } });
    expectProblem(r, 422, 'GNC_ORIGINAL_UNKNOWN');
  });

  it('refuses an e-CoO status whose ref names another certificate, or a status, instead of its certificate (GNC_ORIGINAL_UNKNOWN)', async () => {
    const certificate = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'ecoo', purpose: 'origin-verification', body: ecoo });
    expect(certificate.status, certificate.text).toBe(202);
    const status = (number: string) => ({ kind: 'status', certificateNumber: number, status: 'cancelled', statusDate: '2026-11-23', reason: 'Issued in error' });
    const other = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'ecoo', purpose: 'origin-verification', ref: certificate.json.id, body: status('KZ-ST1-2026-0047990') });
    expectProblem(other, 422, 'GNC_ORIGINAL_UNKNOWN');
    expect(other.json.detail).toContain(`which is certificate ${ecoo['certificateNumber']}, not KZ-ST1-2026-0047990`);
    // the same number in another case names the same certificate
    const same = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'ecoo', purpose: 'origin-verification', ref: certificate.json.id, body: status(String(ecoo['certificateNumber']).toLowerCase()) });
    expect(same.status, same.text).toBe(202);
    const onStatus = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'ecoo', purpose: 'origin-verification', ref: same.json.id, body: status(String(ecoo['certificateNumber'])) });
    expectProblem(onStatus, 422, 'GNC_ORIGINAL_UNKNOWN');
    expect(onStatus.json.detail).toContain('which is an e-CoO status, not a certificate');
  });

  it('refuses a ref on a declaration, which refers to no earlier message (GNC_SCHEMA_INVALID)', async () => {
    const original = await api(kz, 'POST', '/v1/messages', submission);
    expect(original.status).toBe(202);
    const r = await api(kz, 'POST', '/v1/messages', { ...submission, ref: original.json.id });
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.detail).toContain('remove "ref"');
  });

  it('accepts a submission with 202, its id and status queued', async () => {
    const r = await api(kz, 'POST', '/v1/messages', submission);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'queued', to: 'KG', type: 'aci', agreement: 'KZ-KG-test@1' });
    expect(r.headers.get('location')).toBe(`/v1/messages/${r.json.id}`);
  });

  it('loses no accepted submission when bad ones arrive in between', async () => {
    const ids: string[] = [];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? api(kz, 'POST', '/v1/messages', submission) : api(kz, 'POST', '/v1/messages', { ...submission, body: { ...aci, goodsItems: [] } }))),
    );
    for (const r of results) if (r.status === 202) ids.push(r.json.id);
    expect(ids).toHaveLength(10);
    for (const id of ids) expect(kz.node.parts.store.messages.byKey('out', 'KG', id)).toBeDefined();
  });

  it('returns the message with its receipt and raw envelope', async () => {
    const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
    const m = await waitFor(async () => {
      const r = await api(kz, 'GET', `/v1/messages/${id}`);
      return r.json.status === 'delivered' ? r.json : undefined;
    });
    expect(m.receipt).toMatchObject({ status: 'accepted', code: null });
    expect(Object.keys(m.envelope).sort()).toEqual(['payload', 'protected', 'signature']);
  });

  it('answers with the body as XML only when the client prefers XML by its Accept q-values', async () => {
    const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
    const type = async (accept: string) => (await api(kz, 'GET', `/v1/messages/${id}`, undefined, { accept })).headers.get('content-type') ?? '';
    expect(await type('application/xml')).toContain('application/xml');
    expect(await type('application/json;q=0.5, text/xml')).toContain('application/xml');
    expect(await type('application/json, application/xml;q=0')).toContain('application/json');
    expect(await type('application/xhtml+xml')).toContain('application/json');
    expect(await type('application/json;q=1, application/xml;q=0.9')).toContain('application/json');
    // one URL, two representations: caches must key on Accept, and the XML answer carries the status in a header
    for (const accept of ['application/xml', 'application/json']) {
      const r = await api(kz, 'GET', `/v1/messages/${id}`, undefined, { accept });
      expect(r.headers.get('vary'), accept).toBe('Accept');
      if (accept === 'application/xml') expect(r.headers.get('x-gnc-status')).toMatch(/^(queued|sending|retrying|delivered)$/);
    }
    const doc = (await api(kz, 'GET', '/v1/openapi.json')).json;
    expect(Object.keys(doc.paths['/v1/messages/{id}'].get.responses['200'].headers)).toEqual(expect.arrayContaining(['Vary', 'X-Gnc-Status']));
  });

  it('answers GNC_BODY_TOO_LARGE for XML of a message that only fits the limit as JSON, and JSON still', async () => {
    const item = (aci['goodsItems'] as Record<string, unknown>[])[0]!;
    const goodsItems = Array.from({ length: 999 }, (_, i) => ({ ...item, sequence: i + 1, description: 'Wheat flour ' + 'x'.repeat(500) }));
    const body = { ...aci, goodsItems, goodsItemCount: 999, totalPackages: 999 * 300, totalGrossMass: { value: 999 * 15060, unit: 'KGM' } };
    const posted = await api(kz, 'POST', '/v1/messages', { ...submission, body });
    expect(posted.status).toBe(202);
    const xml = await api(kz, 'GET', `/v1/messages/${posted.json.id}`, undefined, { accept: 'application/xml' });
    expectProblem(xml, 413, 'GNC_BODY_TOO_LARGE');
    expect(xml.json.detail).toContain('JSON form');
    expect((await api(kz, 'GET', `/v1/messages/${posted.json.id}`)).status).toBe(200);
    // a client that prefers XML but takes JSON too gets the JSON form instead of a 413 for a request it did not send
    const either = await api(kz, 'GET', `/v1/messages/${posted.json.id}`, undefined, { accept: 'application/xml, application/json;q=0.5' });
    expect(either.status).toBe(200);
    expect(either.headers.get('content-type')).toContain('application/json');
    expect(either.json).toMatchObject({ id: posted.json.id, type: 'aci' });
  });

  it('lists messages newest first with filters and a cursor', async () => {
    const page1 = await api(kz, 'GET', '/v1/messages?direction=out&partner=KG&type=aci&limit=2');
    expect(page1.status).toBe(200);
    expect(page1.json.items).toHaveLength(2);
    expect(page1.json.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const page2 = await api(kz, 'GET', `/v1/messages?direction=out&partner=KG&type=aci&limit=2&cursor=${page1.json.nextCursor}`);
    const ids1 = page1.json.items.map((m: { id: string }) => m.id);
    const ids2 = page2.json.items.map((m: { id: string }) => m.id);
    expect(ids2.some((id: string) => ids1.includes(id))).toBe(false);
    expect(ids1[0] > ids1[1]).toBe(true);
  });

  it('refuses an invalid list filter with the parameter named (GNC_SCHEMA_INVALID)', async () => {
    const r = await api(kz, 'GET', '/v1/messages?status=lost');
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.issues[0].path).toBe('/status');
  });

  it('says what a parameter expects in plain words, not zod\'s "expected Too small: expected ..."', async () => {
    for (const [path, expected] of [['/v1/messages?limit=0', 'a whole number from 1 to 500'], ['/v1/messages?status=lost', 'one of "queued"|'], ['/v1/messages?since=yesterday', 'an ISO 8601 date and time with its offset'],
      ['/v1/messages?since=2026-11-25T00:00:00', 'with its offset, like 2026-11-24T08:00:00Z'], ['/v1/arrivals?from=2026-11-25', 'with its offset']] as const) {
      const r = await api(kz, 'GET', path);
      expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
      expect(r.json.issues[0].expected, path).toContain(expected);
      expect(r.json.detail, path).toMatch(/: expected [^A-Z]/);
      expect(r.json.detail, path).not.toMatch(/Too small|Invalid option|Invalid ISO|expected [^,]*expected/);
    }
  });

  it('refuses a number that is not decimal digits instead of reading "" as 0 or "0x10" as 16, in the words of its schema, as the CLI does (GNC_SCHEMA_INVALID)', async () => {
    for (const [path, name, expected] of [['/v1/messages?limit=', 'limit', 'a whole number from 1 to 500'], ['/v1/messages?limit=0x10', 'limit', 'a whole number from 1 to 500'],
      ['/v1/messages?limit=1e1', 'limit', 'a whole number from 1 to 500'], ['/v1/messages?limit=%205', 'limit', 'a whole number from 1 to 500'], ['/v1/messages/x?wait=', 'wait', 'a whole number from 0 to 30'],
      ['/v1/aeo?limit=2.0', 'limit', 'a whole number from 1 to 1000'], ['/v1/arrivals/stream?after=', 'after', 'a whole number, 0 or more']] as const) {
      const r = await api(kz, 'GET', path);
      expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
      expect(r.json.issues[0], path).toMatchObject({ path: `/${name}`, expected });
      expect(r.json.detail, path).toMatch(/Fix the parameter and send the request again\.$/);
    }
    expect((await api(kz, 'GET', '/v1/messages?limit=2')).json.items.length).toBeLessThanOrEqual(2);
    expect((await api(kz, 'GET', '/v1/messages?limit=010')).status).toBe(200);
  });

  it('refuses a parameter given twice instead of reading the first one (GNC_SCHEMA_INVALID)', async () => {
    const r = await api(kz, 'GET', '/v1/messages?partner=KG&partner=CN');
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.issues[0].path).toBe('/partner');
    expect(r.json.detail).toMatch(/once/);
  });

  it('refuses a list window that ends before it starts, naming until (GNC_SCHEMA_INVALID)', async () => {
    const r = await api(kz, 'GET', '/v1/messages?since=2026-06-02T00:00:00Z&until=2026-06-01T00:00:00Z');
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.issues[0].path).toBe('/until');
  });

  it('refuses an instant past the year 9999 in UTC instead of comparing it as text (GNC_SCHEMA_INVALID)', async () => {
    const r = await api(kz, 'GET', `/v1/messages?since=${encodeURIComponent('9999-12-31T23:59:59-14:00')}`);
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.issues[0].path).toBe('/since');
    // the last instant of 9999 in UTC is still a bound: nothing was created after it, everything before
    expect((await api(kz, 'GET', `/v1/messages?since=${encodeURIComponent('9999-12-31T23:59:59+00:00')}`)).json.items).toHaveLength(0);
    expect((await api(kz, 'GET', `/v1/messages?until=${encodeURIComponent('9999-12-31T23:59:59+00:00')}`)).json.items.length).toBeGreaterThan(0);
  });

  it('refuses a type filter that names no message type (GNC_SCHEMA_INVALID)', async () => {
    const r = await api(kz, 'GET', '/v1/messages?type=ACI');
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.issues[0].path).toBe('/type');
    for (const type of ['aci', 'agreement', 'key']) expect((await api(kz, 'GET', `/v1/messages?type=${type}`)).status).toBe(200);
  });

  it('refuses query parameters on routes that take none (GNC_SCHEMA_INVALID)', async () => {
    for (const path of ['/v1/partners?country=KG', '/v1/agreements?partner=KG', '/v1/messages/x/evidence?format=zip', '/v1/audit/verify?full=true']) {
      const r = await api(kz, 'GET', path);
      expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    }
  });

  it('refuses a query string on a JSON submission instead of ignoring the purpose or partner it names (GNC_SCHEMA_INVALID)', async () => {
    const before = (await api(kz, 'GET', '/v1/messages?limit=500')).json.items.length as number;
    const { purpose: _purpose, ...withoutPurpose } = submission;
    const r = await api(kz, 'POST', '/v1/messages?purpose=pre-arrival-risk-assessment', withoutPurpose);
    expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
    expect(r.json.issues[0]).toMatchObject({ path: '/purpose' });
    expect(r.json.detail).toContain('in its body');
    expectProblem(await api(kz, 'POST', '/v1/messages?to=UZ', submission), 422, 'GNC_SCHEMA_INVALID');
    expect((await api(kz, 'GET', '/v1/messages?limit=500')).json.items).toHaveLength(before);
  });

  it('names an unknown query parameter in the issue path (GNC_SCHEMA_INVALID)', async () => {
    for (const path of ['/v1/messages?colour=red', '/v1/partners?colour=red']) {
      const r = await api(kz, 'GET', path);
      expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
      expect(r.json.issues[0]).toMatchObject({ path: '/colour', received: 'unknown member "colour"' });
    }
  });

  it('refuses a parameter without a name instead of dropping it (GNC_SCHEMA_INVALID)', async () => {
    for (const path of ['/v1/messages?=5', '/v1/messages?limit=2&=', '/v1/partners?=KG', '/v1/arrivals?=x', '/v1/aeo?limit=5&=5']) {
      const r = await api(kz, 'GET', path);
      expectProblem(r, 422, 'GNC_SCHEMA_INVALID');
      expect(r.json.issues[0], path).toMatchObject({ path: '', expected: 'a parameter name before "="' });
    }
    const before = (await api(kz, 'GET', '/v1/messages?limit=500')).json.items.length as number;
    expectProblem(await api(kz, 'POST', '/v1/messages?=KG', submission), 422, 'GNC_SCHEMA_INVALID');
    expect((await api(kz, 'GET', '/v1/messages?limit=500')).json.items).toHaveLength(before);
    // empty segments name no parameter
    expect((await api(kz, 'GET', '/v1/messages?limit=2&&')).status).toBe(200);
  });

  it('answers a method a path does not take with 405 and Allow (GNC_METHOD_NOT_ALLOWED), an unknown path with 404', async () => {
    for (const [method, path, allow] of [['DELETE', '/v1/messages', 'POST, GET, HEAD'], ['PUT', '/v1/messages/x', 'GET, HEAD'], ['POST', '/v1/health', 'GET, HEAD'], ['PATCH', '/v1/openapi.json', 'GET, HEAD']] as const) {
      const r = await api(kz, method, path);
      expectProblem(r, 405, 'GNC_METHOD_NOT_ALLOWED');
      expect(r.headers.get('allow')).toBe(allow);
    }
    expectProblem(await api(kz, 'GET', '/v1/no-such-thing'), 404, 'GNC_NOT_FOUND');
  });

  it('answers a path with a trailing slash with 404 naming the path without it, not a 405 that allows the method it refuses', async () => {
    for (const [method, path, bare] of [['GET', '/v1/messages/', '/v1/messages'], ['POST', '/v1/messages/', '/v1/messages'], ['GET', '/v1/partners/', '/v1/partners'], ['GET', '/v1/health/', '/v1/health']] as const) {
      const r = await api(kz, method, path, method === 'POST' ? submission : undefined);
      expectProblem(r, 404, 'GNC_NOT_FOUND');
      expect(r.headers.get('allow')).toBeNull();
      expect(r.json.detail).toContain(`use ${bare}`);
    }
    // a method the path does not take under any spelling is still 405
    expectProblem(await api(kz, 'DELETE', '/v1/messages'), 405, 'GNC_METHOD_NOT_ALLOWED');
  });

  it('answers an unknown message id with 404 (GNC_NOT_FOUND)', async () => {
    expectProblem(await api(kz, 'GET', '/v1/messages/nope-123'), 404, 'GNC_NOT_FOUND');
  });

  it('lists the pinned partners with their certificates', async () => {
    const r = await api(kz, 'GET', '/v1/partners');
    expect(r.json.items).toHaveLength(1);
    expect(r.json.items[0]).toMatchObject({ country: 'KG' });
    expect(r.json.items[0].certificates[0].peerId).toBe(net.nodes.KG!.node.parts.identity.peerId);
  });

  it('publishes an OpenAPI document generated from the schemas', async () => {
    const r = await api(kz, 'GET', '/v1/openapi.json');
    expect(r.json.openapi).toBe('3.1.0');
    expect(r.json.paths['/v1/messages'].post.requestBody).toBeDefined();
    expect(r.json.components.schemas.SubmitRequest.properties.to).toBeDefined();
  });

  it('documents every route group of the node in OpenAPI, and the answers match their schemas', async () => {
    const doc = (await api(kz, 'GET', '/v1/openapi.json')).json;
    for (const path of ['/v1/agreements', '/v1/agreements/{id}', '/v1/agreements/{id}/suspend', '/v1/audit/verify', '/v1/messages/{id}/evidence', '/v1/arrivals', '/v1/aeo']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const list = await api(kz, 'GET', '/v1/agreements');
    expect(() => AgreementList.parse(list.json)).not.toThrow();
    const one = await api(kz, 'GET', `/v1/agreements/${list.json.items[0].id}`);
    expect(() => AgreementView.parse(one.json)).not.toThrow();
    const audit = await api(kz, 'GET', '/v1/audit/verify');
    expect(audit.status).toBe(200);
    expect(AuditLogStatus.parse(audit.json).ok).toBe(true);
  });
});
