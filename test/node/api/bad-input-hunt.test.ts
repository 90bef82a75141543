/**
 * Bad input the HTTP parser refuses before any route sees it, over a raw loopback socket (fetch cannot send it): an
 * unknown method, a malformed header, a request line and headers over the parser's limit. Each is answered as every
 * other refusal, problem details with a GNC code and what to do, and the connection closes after it. And refusals
 * of the agreement routes whose detail said what was wrong but not what to do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, openAgreementDraft, pinnedPairDirs, startTestNode, tempDir, type TestNode } from '../../helpers/network.js';
import { rmSync } from 'node:fs';
import { exampleXml } from '../../protocol/messages/fixtures.js';
import { rawHttp as rawTo } from '../../helpers/raw-http.js';

/** A request written as is to KZ's API socket, or to `to`'s. */
const rawHttp = (request: string, to: TestNode = kz): ReturnType<typeof rawTo> => rawTo(request, to);

const base = tempDir('gnc-bad-input-');
let kz: TestNode;
let dirs: { KZ: string; KG: string };

beforeAll(async () => {
  dirs = await pinnedPairDirs(base);
  kz = await startTestNode('KZ', dirs.KZ);
});
afterAll(async () => {
  await kz?.node.stop();
  rmSync(base, { recursive: true, force: true });
});

function expectProblem(r: { status: number; headers: Record<string, string>; body: string }, status: number, code: string): Record<string, unknown> {
  expect(r.status, r.body).toBe(status);
  expect(r.headers['content-type']).toBe('application/problem+json');
  expect(r.headers['connection']).toBe('close');
  const p = JSON.parse(r.body) as Record<string, unknown>;
  expect(p).toMatchObject({ status, code, type: `urn:gnc:problem:${code}` });
  expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
  return p;
}

describe('requests the HTTP parser refuses', () => {
  it('answers a method HTTP does not know (BREW) with 405 GNC_METHOD_NOT_ALLOWED and Allow, not a bare 400', async () => {
    const r = await rawHttp('BREW /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    const p = expectProblem(r, 405, 'GNC_METHOD_NOT_ALLOWED');
    expect(r.headers['allow']).toBe('GET, HEAD, POST');
    expect(p['detail']).toContain('use GET, HEAD, POST');
  });

  it('answers a malformed header line with 400 GNC_REQUEST_MALFORMED saying how a request is written', async () => {
    const r = await rawHttp(`GET /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization Bearer ${kz.token}\r\n\r\n`);
    const p = expectProblem(r, 400, 'GNC_REQUEST_MALFORMED');
    expect(p['detail']).toMatch(/not well-formed HTTP\/1\.1 \(HPE_[A-Z_]+\): check the request line/);
  });

  it('answers a query string over the header limit with 431 GNC_HEADERS_TOO_LARGE, telling to shorten it', async () => {
    const r = await rawHttp(`GET /v1/messages?partner=${'K'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${kz.token}\r\n\r\n`);
    const p = expectProblem(r, 431, 'GNC_HEADERS_TOO_LARGE');
    expect(p['detail']).toContain('shorten the query string');
  });

  it('answers a request it reads but cannot make a URL of (a Host that is no host, a backslash in the path, `*`) with 400 GNC_REQUEST_MALFORMED, and closes the connection as the README says', async () => {
    for (const [target, host] of [['/v1/health', 'exa mple'], ['/v1\\health', 'x'], ['*', 'x']] as const) {
      // no `Connection: close` of the client's: the node closes it, at once rather than after the keep-alive timeout
      const started = Date.now();
      const r = await rawHttp(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      const p = expectProblem(r, 400, 'GNC_REQUEST_MALFORMED');
      expect(p['detail']).toContain('the Host header');
      expect(Date.now() - started, `${target} ${host}: the connection stayed open`).toBeLessThan(2_000);
    }
  });

  it('still answers the API after them, and a well-formed request on a raw socket as before', async () => {
    const r = await rawHttp('GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ status: 'ok', country: 'KZ' });
  });
});

describe('requests the time limits cut off', () => {
  it('answers a request whose body stalls (half a JSON body, then nothing) with 408 GNC_REQUEST_TIMEOUT problem details, not a bare 408, and stores nothing', async () => {
    const kg = await startTestNode('KG', dirs.KG, { apiTimeouts: { headersMs: 1_000, requestMs: 1_500, checkEveryMs: 250 } });
    try {
      const count = (): number => (kg.node.parts.store.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
      const before = count();
      const half = '{"to":"KZ","type":"aci","purpose":"risk-assessment","body":{"kind":';
      const stalled = await rawHttp(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${kg.token}\r\nContent-Type: application/json\r\nContent-Length: ${half.length * 2}\r\n\r\n${half}`, kg);
      const p = expectProblem(stalled, 408, 'GNC_REQUEST_TIMEOUT');
      expect(p['detail']).toContain('did not arrive whole in time (its headers within 1 s, the whole request within 1.5 s)');
      expect(p['detail']).toContain('send the body right after the headers');
      // headers that stall are cut off the same way
      const headers = await rawHttp(`GET /v1/health HTTP/1.1\r\nHost: x\r\n`, kg);
      expectProblem(headers, 408, 'GNC_REQUEST_TIMEOUT');
      expect(count()).toBe(before);
      expect((await api(kg, 'GET', '/v1/health')).status).toBe(200);
    } finally {
      await kg.node.stop();
    }
  });
});

describe('agreement routes say what to do', () => {
  it('answers an agreement request in XML with 415 saying to send JSON with its Content-Type', async () => {
    const r = await api(kz, 'POST', '/v1/agreements', '<draft/>', { 'content-type': 'application/xml' });
    expect(r.status).toBe(415);
    expect(r.json).toMatchObject({ code: 'GNC_UNSUPPORTED_MEDIA_TYPE' });
    expect(r.json.detail).toContain('send the request as JSON with Content-Type: application/json');
  });

  it('answers a body that is neither JSON nor XML on a route that takes JSON alone with the route\'s own 415, never telling to send XML', async () => {
    for (const [path, says] of [['/v1/agreements', 'Agreement endpoints take application/json'], ['/v1/partners/KG/remove', 'Removing a partner takes application/json'],
      ['/v1/messages/x/withdraw', 'Withdrawing a message takes application/json']] as const) {
      for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/xml']) {
        const r = await api(kz, 'POST', path, 'reason=x', { 'content-type': type });
        expect(r.status, `${path} ${type}`).toBe(415);
        expect(r.json.detail, `${path} ${type}`).toContain(says);
        expect(r.json.detail, `${path} ${type}`).not.toContain('application/xml');
      }
    }
  });

  it('answers signing an agreement signed here already with what to do instead (propose it), and signs nothing', async () => {
    const made = await api(kz, 'POST', '/v1/agreements', { draft: openAgreementDraft('KZ', 'KG', { id: 'KZ-KG-hunt' }) });
    expect(made.status, made.text).toBe(201);
    const again = await api(kz, 'POST', '/v1/agreements/KZ-KG-hunt/sign');
    expect(again.status).toBe(422);
    expect(again.json).toMatchObject({ code: 'GNC_AGREEMENT_SIGNATURE' });
    expect(again.json.detail).toContain('nothing to sign again');
    expect(again.json.detail).toContain('POST /v1/agreements/KZ-KG-hunt/propose');
    expect((await api(kz, 'GET', '/v1/agreements/KZ-KG-hunt')).json.signedBy).toEqual(['KZ']);
  });

  it('refuses a body on sign and propose, which take none ({"version": 2} would act on the latest version), and queues nothing', async () => {
    const count = (): number => (kz.node.parts.store.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
    const before = count();
    for (const action of ['propose', 'sign']) {
      for (const [body, type] of [['{"version":2}', 'application/json'], ['version=2', 'application/x-www-form-urlencoded'], ['[]', 'application/json'], ['['.repeat(100_000) + ']'.repeat(100_000), 'application/json']] as const) {
        const r = await api(kz, 'POST', `/v1/agreements/KZ-KG-hunt/${action}`, body, { 'content-type': type });
        expect(r.status, `${action} ${body.slice(0, 20)}`).toBe(422);
        expect(r.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID', issues: [{ path: '', expected: 'no body' }] });
        expect(r.json.detail).toContain('takes no body: send none (the version goes in the query, ?version=N)');
      }
    }
    expect(count()).toBe(before);
    // no body, and the {} some clients send with every POST, are no body
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-hunt/propose', {})).status).toBe(202);
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-hunt/propose')).status).toBe(202);
  });
});

describe('what a refusal says arrived', () => {
  it('refuses a messages cursor that is no nextCursor (letters, or more digits than a seq has) saying what it must be, not with a regex or the first page', async () => {
    for (const cursor of ['abc', '9'.repeat(400)]) {
      const r = await api(kz, 'GET', `/v1/messages?cursor=${cursor}`);
      expect(r.status, cursor.slice(0, 10)).toBe(422);
      expect(r.json).toMatchObject({ code: 'GNC_SCHEMA_INVALID' });
      expect(r.json.detail).toContain('/cursor: expected the nextCursor of the previous page');
    }
  });

  it('names a JSON number beyond a double (1e400) as such, not as "number null"', async () => {
    const r = await api(kz, 'POST', '/v1/messages', '1e400', { 'content-type': 'application/json' });
    expect(r.status).toBe(422);
    expect(r.json.detail).toContain('received a number too large to hold (1e309 or beyond, read as Infinity)');
    expect(r.json.detail).not.toContain('number null');
  });
});

describe('what a refusal quotes of the request is bounded', () => {
  const LONG = 'Q'.repeat(5_000);
  /** Whether `text` quotes more than 120 characters of LONG in a row. */
  const quotesWhole = (text: string): boolean => text.includes('Q'.repeat(121));

  it('quotes a 5,000-character id, path or query value (name) at most 120 characters, then … and its length, in detail, issues and instance', async () => {
    for (const path of [
      `/v1/messages/${LONG}`, `/v1/messages/${LONG}/evidence`, `/v1/arrivals/${LONG}`, `/v1/agreements/${LONG}`, `/v1/no-such-${LONG}`,
      `/v1/messages?partner=${LONG}`, `/v1/messages?${LONG}=1`, `/v1/arrivals?trader=${LONG}`, `/v1/messages/${LONG}?direction=${LONG}`,
      // percent-encoded, quoted decoded: spaces and quotation marks (escaped in JSON) in it
      `/v1/messages/${'Q%20%22'.repeat(700)}`, `/v1/arrivals/${'Q%20'.repeat(1250)}`,
    ]) {
      const r = await api(kz, 'GET', path);
      const what = `${path.slice(0, 30)} ${r.text.slice(0, 300)}`;
      expect(r.status, what).toBeGreaterThanOrEqual(400);
      expect(r.headers.get('content-type'), what).toBe('application/problem+json');
      expect(quotesWhole(r.text), what).toBe(false);
      expect(r.text.length, what).toBeLessThan(2_000);
      // the detail still says what to do after the quote
      expect(r.json.detail, what).toMatch(/[:;] .*[a-z]/);
    }
    const one = await api(kz, 'GET', `/v1/messages/${LONG}`);
    expect(one.status).toBe(404);
    expect(one.json.detail).toBe(`No message with id ${'Q'.repeat(120)}… (5000 characters) on this node: check the id (GET /v1/messages lists them).`);
    expect(one.json.instance).toBe(`/v1/messages/${'Q'.repeat(107)}… (5013 characters)`);
    // a header value as well
    const accept = await api(kz, 'GET', '/v1/messages', undefined, { accept: `application/xml;x=${LONG}` });
    expect(accept.status).toBe(406);
    expect(accept.json.detail, accept.json.detail).toContain(`"Accept: application/xml;x=${'Q'.repeat(102)}… (5018 characters)" takes: accept it`);
    const unknown = await api(kz, 'GET', `/v1/messages?${LONG}=1`);
    expect(unknown.status).toBe(422);
    expect(unknown.json.issues[0].received).toBe(`unknown member "${'Q'.repeat(120)}… (5000 characters)"`);
  });

  it('quotes a long value it refuses in quote\'s one wording (its first 120 characters, … and its length), not cut at 40 or 60 with "..."', async () => {
    const Q = 'Q'.repeat(200);
    const bounded = (text: string): string => `"${text.slice(0, 120)}… (${text.length} characters)"`;
    const cases: [string, Promise<Awaited<ReturnType<typeof api>>>, string][] = [
      ['unnamed parameter', api(kz, 'GET', `/v1/messages?=${Q}`), bounded(`=${Q}`)],
      ['number parameter', api(kz, 'GET', `/v1/messages?limit=${Q}`), bounded(Q)],
      ['AEO name', api(kz, 'GET', `/v1/aeo?name=${'-'.repeat(200)}`), bounded('-'.repeat(200))],
      ['Last-Event-ID', api(kz, 'GET', '/v1/arrivals/stream', undefined, { 'last-event-id': Q }), bounded(Q)],
      ['JSON member', api(kz, 'POST', '/v1/messages', { to: Q, type: 'aci', purpose: 'risk-assessment', body: {} }), `string ${bounded(Q)}`],
      ['XML mixed content', api(kz, 'POST', '/v1/messages?to=KG&purpose=risk-assessment', exampleXml('aci-kz-kg-road').replace('<Consignor>', `<Consignor>${Q}`), { 'content-type': 'application/xml' }), `text ${bounded(Q)} beside`],
    ];
    for (const [what, answer, quoted] of cases) {
      const r = await answer;
      expect(r.status, `${what}: ${r.text}`).toBe(422);
      expect(r.json.detail, what).toContain(quoted);
      expect(r.json.issues.some((i: { received: string }) => i.received.includes(quoted)), `${what}: ${r.text}`).toBe(true);
      expect(r.text, what).not.toContain('...');
    }
  });

  it('bounds the log line of a request that failed unexpectedly, however long its path', async () => {
    const logged: string[] = [];
    const kg = await startTestNode('KG', dirs.KG, { log: (m) => void logged.push(m) });
    try {
      // an unexpected failure (no GNC code): the table an arrival's lookup reads is gone
      kg.node.parts.store.db.exec('DROP TABLE risk_purged_versions');
      const r = await api(kg, 'GET', `/v1/arrivals/${LONG}`);
      expect(r.status, r.text).toBe(500);
      expect(quotesWhole(r.text)).toBe(false);
      const line = logged.find((m) => m.startsWith('API GET'));
      expect(line).toBeDefined();
      expect(quotesWhole(line!)).toBe(false);
      expect(line).toContain(`API GET /v1/arrivals/${'Q'.repeat(107)}… (5013 characters) failed: SqliteError: no such table: risk_purged_versions`);
    } finally {
      await kg.node.stop();
    }
  });
});
