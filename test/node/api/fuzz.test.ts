/**
 * A bounded, seeded mutation hunt over the local API, real HTTP to a real node with a partner and an agreement: the
 * valid example messages (JSON and XML) mutated member by member and element by element, odd headers, odd query
 * strings on every GET, odd paths and methods. Whatever arrives, the answer is a success or RFC 9457 problem details
 * with a known GNC code, the status that code maps to, a detail that says what to do, no stack trace or file path,
 * never a 5xx; and after the run the node holds exactly the messages (and outbox rows) the accepted requests made.
 * The partner is stopped first, so every accepted message stays queued in the outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../protocol/errors.js';
import { httpStatusOf } from '../../../node/api/problem.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { api, networkForFile, openAgreementDraft, type TestNode } from '../../helpers/network.js';
import { example, exampleXml, type ExampleName } from '../../protocol/messages/fixtures.js';
import { prng } from '../../../examples/risk/traffic.js';

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

const SEED = Number(process.env['GNC_FUZZ_SEED'] ?? 20261124);
const rand = prng(SEED);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** The examples KZ may send KG, with the purpose the open agreement allows for their type. */
const SENDABLE: { name: ExampleName; type: string; purpose: string }[] = [
  { name: 'aci-kz-kg-road', type: 'aci', purpose: 'pre-arrival-risk-assessment' },
  { name: 'ecoo-kz-kg-preferential', type: 'ecoo', purpose: 'origin-verification' },
  { name: 'aeo-kz-snapshot', type: 'aeo', purpose: 'aeo-mra-benefits' },
  { name: 'aeo-kz-suspension', type: 'aeo', purpose: 'aeo-mra-benefits' },
];

type Answer = Awaited<ReturnType<typeof api>>;
const CODES = new Set<string>(ERROR_CODES);
/** What only a stack trace or an internal path has. */
const LEAK = /\n\s+at |\bat [\w.<>]+ \(|node_modules|\/work\/|\/tmp\/|\.(ts|js):\d+|SqliteError|TypeError|ReferenceError|RangeError|undefined is not|Cannot read prop/;

/** The invariants of every answer; refusals are collected, not thrown, so one run reports every family that breaks. */
const broken: string[] = [];
let accepted = 0;
function check(r: Answer, what: string, method = 'GET'): void {
  const say = (why: string): void => void broken.push(`${what}: ${why} (${r.status} ${r.text.slice(0, 300)})`);
  if (r.status >= 500) return say('5xx');
  if (r.status < 400) {
    if (method === 'POST' && r.status === 202 && r.headers.get('idempotent-replayed') !== 'true') accepted++;
    if (process.env['FUZZ_DEBUG']) console.log('OK', r.status, what);
    return;
  }
  if (method === 'HEAD') return;
  if (r.headers.get('content-type') !== 'application/problem+json') return say('not problem+json');
  const p = r.json as Record<string, unknown> | undefined;
  if (!p) return say('no JSON');
  const code = String(p['code']);
  if (!CODES.has(code)) return say(`unknown code ${code}`);
  if (p['type'] !== `urn:gnc:problem:${code}`) say('type is not the code URN');
  if (p['status'] !== r.status || httpStatusOf(code as never) !== r.status) say(`status ${r.status} is not that of ${code}`);
  const detail = String(p['detail'] ?? '');
  // the sentence says what is wrong, then (after ':' or ';') what to do
  if (!/[:;] .*[a-z]/.test(detail)) say('detail says nothing to do');
  if (LEAK.test(r.text)) say('stack trace or internal path');
  if (r.text.length > 20_000) say(`answer of ${r.text.length} characters`);
  for (const i of (p['issues'] as { path?: unknown; message?: unknown }[] | undefined) ?? []) {
    // "" is the whole document (RFC 6901)
    if (typeof i.path !== 'string' || (i.path !== '' && !i.path.startsWith('/'))) say(`issue without a path: ${JSON.stringify(i).slice(0, 100)}`);
  }
}

// -- JSON bodies ---------------------------------------------------------------------------------------------------

/** Every member path of a JSON value (arrays by index). */
function pathsOf(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => pathsOf(x, [...at, i]))];
  if (v !== null && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => pathsOf(x, [...at, k]))];
  return [at];
}
/** `doc` with the value at `path` replaced by `f(old)` (undefined drops it). */
function setAt(doc: unknown, path: (string | number)[], f: (old: unknown) => unknown): unknown {
  if (path.length === 0) return f(doc);
  const copy: any = Array.isArray(doc) ? [...doc] : { ...(doc as object) };
  const [head, ...rest] = path;
  const next = setAt(copy[head!], rest, f);
  if (next === undefined) {
    if (Array.isArray(copy)) copy.splice(head as number, 1);
    else delete copy[head!];
  } else copy[head!] = next;
  return copy;
}
const SENTINEL_1E400 = '__1e400__';
const SENTINEL_NAN = '__NaN__';
const VALUES: [string, (old: unknown) => unknown][] = [
  ['drop', () => undefined],
  ['null', () => null],
  ['number', () => 42],
  ['negative', () => -1],
  ['fraction', () => 0.1],
  ['zero', () => 0],
  ['1e400', () => SENTINEL_1E400],
  ['NaN', () => SENTINEL_NAN],
  ['string of a number', (old) => String(old)],
  ['empty string', () => ''],
  ['spaces', () => '   '],
  ['huge string', () => 'X'.repeat(100_000)],
  ['lone surrogate', () => 'A\ud800B'],
  ['NUL', () => 'A\u0000B'],
  ['bidi override', () => '\u202eKZ'],
  ['emoji', () => '🚚📦'],
  ['combining', () => 'e\u0301'],
  ['true', () => true],
  ['array', (old) => [old]],
  ['empty array', () => []],
  ['object', (old) => ({ value: old })],
  ['empty object', () => ({})],
  ['extra member', (old) => (old !== null && typeof old === 'object' && !Array.isArray(old) ? { ...old, zzExtra: 1 } : old)],
  ['date 2026-02-30', () => '2026-02-30'],
  ['datetime 2026-02-30', () => '2026-02-30T10:00:00Z'],
  ['odd offset', () => '2026-11-24T09:30:00+25:00'],
  ['offset with seconds', () => '2026-11-24T09:30:00+05:00:30'],
  ['leap second', () => '2026-12-31T23:59:60Z'],
  ['year 0000', () => '0000-01-01T00:00:00Z'],
  ['lower-case t', () => '2026-11-24t09:30:00z'],
  ['name of Object.prototype', () => pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])],
];
const MUST_REFUSE = new Set(['lone surrogate', 'NUL', 'NaN', '1e400', 'huge string']);
/** The JSON text of `v`, with the sentinels written as JSON cannot (1e400) or must not (NaN). */
const jsonText = (v: unknown): string => JSON.stringify(v).replaceAll(`"${SENTINEL_1E400}"`, '1e400').replaceAll(`"${SENTINEL_NAN}"`, 'NaN');

// -- XML bodies ----------------------------------------------------------------------------------------------------

const XML_MUTATIONS: [string, (xml: string) => string | Uint8Array][] = [
  ['XXE file', (x) => x.replace('<Declaration', '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Declaration').replace(/(<\?xml[^>]*\?>)?/, '$1')],
  ['DOCTYPE anywhere', (x) => `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${x.replace(/<\?xml[^>]*\?>\s*/, '')}`],
  ['billion laughs', (x) => `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>${x.replace(/<\?xml[^>]*\?>\s*/, '').replace(/>([A-Za-z][^<]{2,})</, '>&c;<')}`],
  ['undeclared entity', (x) => x.replace(/>([A-Za-z][^<]{2,})</, '>&nope;<')],
  ['numeric char refs', (x) => x.replace(/>([A-Za-z][^<]{2,})</, '>&#0;&#xD800;<')],
  ['CDATA', (x) => x.replace(/>([A-Za-z][^<]{2,})</, '><![CDATA[$1]]><')],
  ['CDATA with markup', (x) => x.replace(/>([A-Za-z][^<]{2,})</, '><![CDATA[<b>&amp;</b>]]><')],
  ['comment and PI', (x) => x.replace(/>([A-Za-z][^<]{2,})</, '><!-- c --><?pi x?>$1<')],
  ['wrong namespace', (x) => x.replace(/xmlns="[^"]+"/, 'xmlns="urn:example:wrong"')],
  ['no namespace', (x) => x.replace(/ xmlns="[^"]+"/, '')],
  ['prefixed root', (x) => x.replace(/<(\/?)([A-Z]\w+)/g, '<$1w:$2').replace(/xmlns="/, 'xmlns:w="')],
  ['BOM', (x) => `\ufeff${x}`],
  ['UTF-16', (x) => Buffer.from(`\ufeff${x.replace('UTF-8', 'UTF-16')}`, 'utf16le')],
  ['Latin-1 bytes', (x) => Buffer.concat([Buffer.from(x.slice(0, x.lastIndexOf('</'))), Buffer.from([0xe9, 0xff]), Buffer.from(x.slice(x.lastIndexOf('</')))])],
  ['deep nesting', (x) => x.replace(/(<\/[A-Za-z:]+>\s*)$/, `${'<a>'.repeat(5_000)}${'</a>'.repeat(5_000)}$1`)],
  ['huge attribute', (x) => x.replace(/<([A-Za-z]+)>/, `<$1 big="${'A'.repeat(200_000)}">`)],
  ['many attributes', (x) => x.replace(/<([A-Za-z]+)>/, `<$1 ${Array.from({ length: 2_000 }, (_, i) => `a${i}="1"`).join(' ')}>`)],
  ['duplicate attribute', (x) => x.replace(/<([A-Za-z]+)>/, '<$1 a="1" a="2">')],
  ['attribute for element', (x) => x.replace(/<([A-Za-z]+)>([^<]+)<\/\1>/, '<$1 value="$2"/>')],
  ['drop an element', (x) => { const all = [...x.matchAll(/<([A-Za-z:]+)[^>]*>[^<]*<\/\1>/g)]; const m = pick(all); return x.replace(m[0], ''); }],
  ['double an element', (x) => { const all = [...x.matchAll(/<([A-Za-z:]+)[^>]*>[^<]*<\/\1>/g)]; const m = pick(all); return x.replace(m[0], m[0] + m[0]); }],
  ['empty an element', (x) => { const all = [...x.matchAll(/<([A-Za-z:]+)([^>]*)>[^<]*<\/\1>/g)]; const m = pick(all); return x.replace(m[0], `<${m[1]}${m[2]}></${m[1]}>`); }],
  ['odd text in an element', (x) => { const all = [...x.matchAll(/<([A-Za-z:]+)([^>]*)>[^<]*<\/\1>/g)]; const m = pick(all); return x.replace(m[0], `<${m[1]}${m[2]}>${pick(['-1', '1e400', 'NaN', '20260230', '2026-02-30', 'A\u0000B', '\ud800', '🚚', ' '.repeat(10), 'X'.repeat(5_000)])}</${m[1]}>`); }],
  ['element named as Object.prototype', (x) => { const all = [...x.matchAll(/<([A-Za-z:]+)([^>]*)>\s*</g)]; const m = pick(all); const n = pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty']); return x.replace(m[0], `${m[0].slice(0, -1)}<${n}>1</${n}><`); }],
  ['attribute named as Object.prototype', (x) => x.replace(/<([A-Za-z]+)>/, `<$1 ${pick(['__proto__', 'constructor', 'toString'])}="1">`)],
  ['truncated', (x) => x.slice(0, Math.floor(x.length * (0.2 + 0.6 * rand())))],
  ['two roots', (x) => `${x}<Declaration/>`],
  ['only a prolog', () => '<?xml version="1.0"?>'],
  ['empty', () => ''],
  ['JSON sent as XML', () => '{"to":"KG"}'],
  ['unknown root', () => '<Nothing xmlns="urn:wco:datamodel:WCO:DEC-DMS:2"/>'],
];

// -- the run -------------------------------------------------------------------------------------------------------

let messagesBefore = 0;
const count = (n: TestNode, sql: string): number => n.node.parts.store.db.prepare(sql).pluck().get() as number;
beforeAll(async () => {
  // the partner away: what is accepted stays in the outbox, each message once
  await kg.node.stop();
  messagesBefore = count(kz, "SELECT COUNT(*) FROM messages WHERE direction = 'out'");
});
afterAll(() => {
  if (broken.length > 0) console.log(`fuzz seed ${SEED}:\n${broken.join('\n')}`);
});

/** `api`, for a body that may be bytes (UTF-16, Latin-1). */
function postBytes(path: string, body: string | Uint8Array, contentType: string): Promise<Answer> {
  return api(kz, 'POST', path, body, { 'content-type': contentType });
}

const submission = (s: (typeof SENDABLE)[number], body: unknown): Record<string, unknown> => ({ to: 'KG', type: s.type, purpose: s.purpose, body });

describe(`seeded API mutation hunt (seed ${SEED})`, () => {
  it('answers every mutated JSON submission with 202 or problem details, never a 5xx', async () => {
    for (let n = 0; n < 160; n++) {
      const s = pick(SENDABLE);
      const top = submission(s, example(s.name));
      const path = pick(pathsOf(top).filter((p) => p.length > 0));
      const [name, f] = pick(VALUES);
      const old = path.reduce<any>((v, k) => v?.[k], top);
      const text = jsonText(setAt(top, path, f));
      const r = await api(kz, 'POST', '/v1/messages', text, { 'content-type': 'application/json' });
      const what = `JSON ${s.name} /${path.join('/')} ${name}`;
      check(r, what, 'POST');
      // what no member of any message may be: a member the schema does not name, text XML cannot carry, a number
      // JSON cannot (NaN) or a double cannot hold (1e400), a string over every length limit
      const extra = name === 'extra member' && old !== null && typeof old === 'object' && !Array.isArray(old);
      if ((extra || MUST_REFUSE.has(name)) && r.status < 400) broken.push(`${what}: accepted (${r.status})`);
    }
    // raw texts JSON.stringify cannot write
    const good = JSON.stringify(submission(SENDABLE[0]!, example('aci-kz-kg-road')));
    for (const [name, text] of [
      ['duplicate key', good.replace('"to":"KG"', '"to":"KG","to":"KZ"')],
      ['duplicate key in body', good.replace('"kind":"declaration"', '"kind":"declaration","kind":"amendment"')],
      ['trailing comma', good.replace(/}$/, ',}')],
      ['comment', `/* x */${good}`],
      ['single quotes', good.replaceAll('"', "'")],
      ['top-level array', `[${good}]`],
      ['top-level string', '"x"'],
      ['top-level null', 'null'],
      ['empty', ''],
      ['whitespace', ' \n '],
      ['BOM', `\ufeff${good}`],
      ['two documents', `${good}${good}`],
      ['deep nesting', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
      ['deep object', `{"to":"KG","type":"aci","purpose":"pre-arrival-risk-assessment","body":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`],
      ['__proto__', good.replace('"kind":"declaration"', '"kind":"declaration","__proto__":{"admin":true}')],
      ['constructor', good.replace('"to":"KG"', '"to":"KG","constructor":{"prototype":{}}')],
      ['escaped NUL key', good.replace('"kind"', '"ki\\u0000nd"')],
      ['lone surrogate escape', good.replace('"Almaty Flour Mill JSC"', '"Almaty \\udc00 Mill"')],
      ['-0', good.replace(/"totalPackages":\d+/, '"totalPackages":-0')],
      ['huge exponent', good.replace(/"totalPackages":\d+/, '"totalPackages":1e-400')],
    ] as const) {
      const r = await api(kz, 'POST', '/v1/messages', text, { 'content-type': 'application/json' });
      check(r, `raw JSON ${name}`, 'POST');
      // each is invalid JSON, or a document no schema takes
      if (r.status < 400) broken.push(`raw JSON ${name}: accepted (${r.status})`);
    }
  }, 60_000);

  it('answers every mutated XML submission with 202 or problem details, never a 5xx', async () => {
    const xmlOf: Partial<Record<ExampleName, string>> = {};
    for (let n = 0; n < 90; n++) {
      const s = pick(SENDABLE);
      const xml = (xmlOf[s.name] ??= exampleXml(s.name));
      const [name, f] = pick(XML_MUTATIONS);
      const body = f(xml);
      const r = await postBytes(`/v1/messages?to=KG&purpose=${s.purpose}`, body, pick(['application/xml', 'text/xml', 'application/xml; charset=utf-8']));
      check(r, `XML ${s.name} ${name}`, 'POST');
    }
    // the query string that addresses XML, mutated
    const xml = exampleXml('aci-kz-kg-road');
    for (const q of ['', '?to=KG', '?purpose=pre-arrival-risk-assessment', '?to=kg&purpose=pre-arrival-risk-assessment', '?to=KG&to=KZ&purpose=pre-arrival-risk-assessment',
      '?to=KG&purpose=', '?to=KG&purpose=pre-arrival-risk-assessment&type=ecoo', '?to=KG&purpose=pre-arrival-risk-assessment&ref=', '?to=KG&purpose=pre-arrival-risk-assessment&ref=%00',
      '?to=KG&purpose=pre-arrival-risk-assessment&ref=a%2Fb', '?to=XX&purpose=pre-arrival-risk-assessment', '?to=KZ&purpose=pre-arrival-risk-assessment', '?to=KG&purpose=%F0%9F%9A%9A', '?to=KG&purpose=%ZZ']) {
      check(await api(kz, 'POST', `/v1/messages${q}`, xml, { 'content-type': 'application/xml' }), `XML query ${q}`, 'POST');
    }
  }, 60_000);

  it('answers odd headers with problem details or as before', async () => {
    const good = JSON.stringify(submission(SENDABLE[0]!, example('aci-kz-kg-road')));
    const headerCases: [string, Record<string, string>][] = [
      ...['', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json;charset="utf-8"', 'APPLICATION/JSON', 'text/plain', 'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded', 'application/problem+json', 'application/merge-patch+json', 'application/json, text/xml', '*/*', ';', 'application/', 'application/json; =', 'text/json']
        .map((ct): [string, Record<string, string>] => [`Content-Type ${ct}`, { 'content-type': ct }]),
      ...['application/xml', 'text/html', 'application/json;q=0', '*/*;q=0', 'application/json;q=abc', 'application/*', '', ',,,', 'application/json; charset=latin1', 'application/problem+json', 'image/png, */*;q=0']
        .map((a): [string, Record<string, string>] => [`Accept ${a}`, { 'content-type': 'application/json', accept: a }]),
      ...['', ' ', '"', '""', '"a"b"', 'x'.repeat(10_000), '"\u00e9"', 'a,b', '"k1", "k2"', '"\\"', '"ok-key-1"']
        .map((k): [string, Record<string, string>] => [`Idempotency-Key ${k.slice(0, 20)}`, { 'content-type': 'application/json', 'idempotency-key': k }]),
      ...['wait=-1', 'wait=abc', 'wait=1e9', 'wait=99999999999999999999', 'wait', 'wait=1, wait=2', 'return=weird', 'return=minimal, wait=0', 'handling=strict', 'respond-async', ',', 'wait="1"']
        .map((p): [string, Record<string, string>] => [`Prefer ${p}`, { 'content-type': 'application/json', prefer: p }]),
      ...['', 'Bearer', 'Bearer ', 'bearer TOKEN', 'Basic dXNlcjpwYXNz', 'Bearer TOKEN TOKEN', 'Bearer  TOKEN', 'Bearer x', 'Bearer ' + 'x'.repeat(10_000), 'Token TOKEN', 'Bearer TOKEN,Bearer TOKEN']
        .map((a): [string, Record<string, string>] => [`Authorization ${a.slice(0, 20)}`, { 'content-type': 'application/json', authorization: a.replaceAll('TOKEN', kz.token) }]),
      ['Content-Encoding gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
      ['Content-Encoding identity, br', { 'content-type': 'application/json', 'content-encoding': 'identity, br' }],
    ];
    for (const [what, headers] of headerCases) {
      const key = headers['idempotency-key'];
      // a fresh body for each accepted one (a real key reused for another body is a refusal of its own)
      const text = key === '"ok-key-1"' ? good : good.replace('KZEXP-20261124-0117', `KZEXP-${what.length}`);
      check(await api(kz, 'POST', '/v1/messages', text, headers), `header ${what}`, 'POST');
    }
  }, 60_000);

  it('answers odd query strings on every GET with problem details or as before', async () => {
    const gets = ['/v1/messages', '/v1/arrivals', '/v1/arrivals/export', '/v1/aeo', '/v1/aeo/pending', '/v1/agreements', '/v1/partners', '/v1/audit/verify'];
    const params = ['limit=0', 'limit=-1', 'limit=1e9', 'limit=501', 'limit=1.5', 'limit=', 'limit=%00', 'cursor=MTIz', 'cursor=-1', 'cursor=abc%3D%3D', 'cursor=eyJ4Ijox', 'cursor=0', 'after=-1', 'after=abc',
      'since=2026-02-30', 'since=2027-01-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'since=now', 'until=2026-11-24T09:30:00+25:00', 'since=1e400', 'partner=kg', 'partner=KG&partner=KZ', 'partner=', 'partner=%F0%9F%9A%9A',
      'direction=sideways', 'status=lost', 'type=receipt', 'unknown=1', '=1', '&&', 'limit=5&limit=6', 'name=%00', 'name=' + '%E2%80%AE'.repeat(10), 'trader=', 'trader=%ud800', 'q=%', 'format=csv', 'wait=31', 'asOf=2026-13-01'];
    for (let n = 0; n < 120; n++) {
      const path = pick(gets);
      const q = [pick(params), ...(rand() < 0.3 ? [pick(params)] : [])].join('&');
      check(await api(kz, 'GET', `${path}?${q}`), `GET ${path}?${q}`);
    }
    // a cursor from another filter
    const page = await api(kz, 'GET', '/v1/messages?limit=1&type=aci');
    check(page, 'first page');
    if (page.json?.nextCursor) check(await api(kz, 'GET', `/v1/messages?limit=1&type=aeo&cursor=${page.json.nextCursor}`), 'cursor of another filter');
  }, 60_000);

  it('answers odd paths and methods with problem details (405 with Allow where the path exists)', async () => {
    const one = (await api(kz, 'GET', '/v1/messages?limit=1')).json?.items?.[0]?.id ?? 'none';
    const paths = [`/v1/messages/${one}`, `/v1/messages/${one}/evidence`, `/v1/messages/${one}/withdraw`, '/v1/messages/a%2Fb', '/v1/messages/..%2F..%2Fetc', '/v1/messages/%2e%2e', '/v1/messages/../agreements',
      `/v1/messages/${'x'.repeat(3_000)}`, '/v1/messages/%F0%9F%9A%9A', '/v1/messages/%00', '/v1/messages/%', '/v1/messages/%ZZ', '/v1/messages/', '/v1/messages//x', '/v1//messages', '/v1/arrivals/%ud800',
      '/v1/arrivals/1/', '/v1/aeo/KG', '/v1/aeo/KG/x/y', '/v1/aeo/%00/%00', '/v1/aeo/kg/KGAEO1', '/v1/agreements/%2e', '/v1/agreements/KZ-KG-test/sign/', '/v1/partners/KG', '/v1/partners/xx/remove', '/v1/audit/x/evidence',
      '/v1', '/v1/', '/', '/V1/messages', '/v1/messages;x=1', '/v1/openapi.json/x', '/v1/health/'];
    // one message's query strings
    for (const q of ['direction=in', 'direction=out&partner=KG', 'partner=KZ', 'partner=kg', 'wait=0', 'wait=31', 'wait=-1', 'wait=1.5', 'wait=', 'direction=out&direction=in', 'x=1', '=1', 'partner=KG&wait=0&extra']) {
      for (const path of [`/v1/messages/${one}`, `/v1/messages/${one}/evidence`]) check(await api(kz, 'GET', `${path}?${q}`), `GET ${path}?${q}`);
    }
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
        const r = await api(kz, method, path, method === 'POST' || method === 'PUT' || method === 'PATCH' ? '{}' : undefined, { 'content-type': 'application/json' });
        check(r, `${method} ${path.slice(0, 60)}`, method);
        if (r.status === 405 && method !== 'HEAD' && !r.headers.get('allow')) broken.push(`${method} ${path}: 405 without Allow`);
      }
    }
  }, 60_000);

  it('answers every mutated agreement draft with 201 or problem details, and stores only the drafts it answered 201', async () => {
    const before = count(kz, 'SELECT COUNT(*) FROM agreements');
    let made = 0;
    for (let n = 0; n < 60; n++) {
      // each its own id and a period of its own (a draft overlapping the one in force is a refusal of its own)
      const draft = openAgreementDraft('KZ', 'KG', { id: `KZ-KG-fuzz-${n}`, validFrom: `${2031 + n}-01-01T00:00:00Z`, validUntil: `${2031 + n}-12-31T00:00:00Z` });
      const path = pick(pathsOf(draft).filter((p) => p.length > 0 && p[0] !== 'id'));
      const [name, f] = pick(VALUES);
      const r = await api(kz, 'POST', '/v1/agreements', `{"draft":${jsonText(setAt(draft, path, f))}}`, { 'content-type': 'application/json' });
      check(r, `draft /${path.join('/')} ${name}`, 'POST');
      if (r.status === 201) made++;
    }
    expect(count(kz, 'SELECT COUNT(*) FROM agreements') - before).toBe(made);
  }, 60_000);

  it('answers every mutated withdrawal with problem details, and withdraws nothing it refused', async () => {
    const victim = await api(kz, 'POST', '/v1/messages', submission(SENDABLE[0]!, { ...example('aci-kz-kg-road'), functionalReference: 'KZEXP-FUZZ-VICTIM' }));
    check(victim, 'victim', 'POST');
    const bad: [string, string, Record<string, string>][] = [
      ['no body', '', { 'content-type': 'application/json' }], ['null', 'null', { 'content-type': 'application/json' }], ['array', '[]', { 'content-type': 'application/json' }],
      ['empty', '{}', { 'content-type': 'application/json' }], ['reason null', '{"reason":null}', { 'content-type': 'application/json' }], ['reason number', '{"reason":5}', { 'content-type': 'application/json' }],
      ['reason spaces', '{"reason":"   "}', { 'content-type': 'application/json' }], ['reason 501', `{"reason":"${'r'.repeat(501)}"}`, { 'content-type': 'application/json' }],
      ['extra', '{"reason":"x","force":true}', { 'content-type': 'application/json' }], ['__proto__', '{"reason":"x","__proto__":{}}', { 'content-type': 'application/json' }],
      ['XML', '<reason>x</reason>', { 'content-type': 'application/xml' }], ['form', 'reason=x', { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [what, body, headers] of bad) {
      for (const id of [victim.json.id, 'no-such-id', `${victim.json.id}%00`, 'x'.repeat(500)]) {
        const r = await api(kz, 'POST', `/v1/messages/${id}/withdraw${pick(['', '', '?x=1', '?reason=x'])}`, body, headers);
        check(r, `withdraw ${what} ${String(id).slice(0, 20)}`, 'POST');
        expect(r.status, `${what}: ${r.text}`).toBeGreaterThanOrEqual(400);
      }
    }
    expect((await api(kz, 'GET', `/v1/messages/${victim.json.id}`)).json.status).not.toBe('withdrawn');
  }, 60_000);

  it('answers what only a raw socket sends (Content-Length that does not match, odd Transfer-Encoding or Expect, odd request lines) with problem details', async () => {
    const body = JSON.stringify(submission(SENDABLE[0]!, { ...example('aci-kz-kg-road'), functionalReference: 'KZEXP-FUZZ-RAW' }));
    const head = (extra: string, target = '/v1/messages', method = 'POST'): string =>
      `${method} ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${kz.token}\r\nContent-Type: application/json\r\nConnection: close\r\n${extra}\r\n`;
    const chunked = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n`;
    const cases: [string, string][] = [
      ['CL negative', head('Content-Length: -1\r\n') + body],
      ['CL not a number', head('Content-Length: abc\r\n') + body],
      ['CL twice, differing', head(`Content-Length: ${body.length}\r\nContent-Length: 5\r\n`) + body],
      ['CL and TE', head(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`) + chunked(body)],
      ['CL shorter than the body', head(`Content-Length: ${body.length - 10}\r\n`) + body],
      ['bad chunk size', head('Transfer-Encoding: chunked\r\n') + `zz\r\n${body}\r\n0\r\n\r\n`],
      ['TE gzip', head('Transfer-Encoding: gzip, chunked\r\n') + chunked(body)],
      ['TE chunked, a bad body', head('Transfer-Encoding: chunked\r\n') + chunked('{"to":')],
      ['Expect teapot', head(`Content-Length: ${body.length}\r\nExpect: teapot\r\n`) + body],
      ['two Content-Types', head(`Content-Type: application/xml\r\nContent-Length: ${body.length}\r\n`) + body],
      ['obs-fold', `GET /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n ${kz.token}\r\nConnection: close\r\n\r\n`],
      ['raw UTF-8 in the path', head('', '/v1/messages/\u00e9', 'GET')],
      ['no slash', head('', 'v1/messages', 'GET')],
      ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
      ['lower-case method', head('', '/v1/messages', 'get')],
    ];
    for (const [what, request] of cases) {
      const r = await rawHttp(request, kz);
      let json: unknown;
      try {
        json = JSON.parse(r.body);
      } catch {
        json = undefined;
      }
      check({ status: r.status, json, text: r.body, headers: new Headers(r.headers) }, `raw ${what}`, 'POST');
    }
  }, 60_000);

  it('keeps good requests working, broke no invariant, and holds exactly the messages the accepted requests made', async () => {
    const good = await api(kz, 'POST', '/v1/messages', submission(SENDABLE[0]!, { ...example('aci-kz-kg-road'), functionalReference: 'KZEXP-FUZZ-GOOD' }));
    expect(good.status, good.text).toBe(202);
    accepted++;
    expect((await api(kz, 'GET', `/v1/messages/${good.json.id}`)).json.status).toMatch(/queued|retrying|sending/);
    const xml = await api(kz, 'POST', '/v1/messages?to=KG&purpose=origin-verification', exampleXml('ecoo-kz-kg-preferential').replace(/<FunctionalReferenceID>[^<]*</, '<FunctionalReferenceID>FUZZ-XML<'), { 'content-type': 'application/xml' });
    check(xml, 'good XML', 'POST');
    expect(broken, broken.join('\n')).toEqual([]);
    expect(count(kz, "SELECT COUNT(*) FROM messages WHERE direction = 'out'") - messagesBefore).toBe(accepted);
    expect(count(kz, "SELECT COUNT(*) FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.direction = 'out' AND m.type IN ('aci', 'ecoo', 'aeo')")).toBe(accepted);
  }, 30_000);
});
