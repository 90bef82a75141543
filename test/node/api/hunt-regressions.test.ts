/**
 * Bugs the seeded API hunt (fuzz.test.ts) found, each named: a body member named `__proto__` sent without a word
 * instead of refused, an amendment without `ref` refused without naming the field or saying where to give it, an
 * agreement of other parties refused without saying what to do, an XML element named `constructor` refused as XML that
 * is not well-formed, an Expect answered with Node's bare 417, a Transfer-Encoding gzip read as if it were none, an AEO
 * list cursor of one partner read as a position in another's list, a byte order mark reported as an invisible token. Real nodes, real HTTP; nothing refused is stored.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gnc } from '../../helpers/cli.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { api, networkForFile, openAgreementDraft, tempDir, waitFor, type TestNode } from '../../helpers/network.js';
import { example, exampleXml } from '../../protocol/messages/fixtures.js';

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG', 'CN'], { agreements: [{ a: 'KZ', b: 'KG' }] });

const risk = 'pre-arrival-risk-assessment';
const outbound = (n: TestNode): number => n.node.parts.store.db.prepare("SELECT COUNT(*) FROM messages WHERE direction = 'out'").pluck().get() as number;
const problemOf = (r: Awaited<ReturnType<typeof api>>, status: number, code: string): Record<string, any> => {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  expect(r.json).toMatchObject({ status, code, type: `urn:gnc:problem:${code}` });
  return r.json;
};

describe('a JSON member named __proto__', () => {
  const good = JSON.stringify({ to: 'KG', type: 'aci', purpose: risk, body: example('aci-kz-kg-road') });

  it('is refused as an unknown member where the body has it (zod dropped it from the body, which was then sent without it), plainly or escaped, and nothing is queued', async () => {
    const before = outbound(kz);
    for (const [text, path] of [
      [good.replace('"kind":"declaration"', '"kind":"declaration","__proto__":{"consignee":null}'), '/body/__proto__'],
      [good.replace('"kind":"declaration"', '"kind":"declaration","\\u005f_proto__":1'), '/body/__proto__'],
      [good.replace('"kind":"declaration"', '"kind":"declaration","__pr\\u006fto__":null'), '/body/__proto__'],
      [good.replace('"seals":[', '"seals":[],"x":[{"__proto__":{}}],"y":['), '/body/transportEquipment/0/x/0/__proto__'],
    ] as const) {
      expect(text, path).not.toBe(good);
      const p = problemOf(await api(kz, 'POST', '/v1/messages', text, { 'content-type': 'application/json' }), 422, 'GNC_SCHEMA_INVALID');
      expect(p.issues[0], text.slice(0, 80)).toMatchObject({ path, expected: 'no such member', received: 'unknown member "__proto__"' });
      expect(p.detail).toContain(`${path}: expected no such member`);
      expect(p.detail).toContain('remove it and send the document again');
    }
    expect(outbound(kz)).toBe(before);
    // the body without it is accepted, and a value that only mentions the name is no member
    const fine = await api(kz, 'POST', '/v1/messages', good.replace('"Almaty Flour Mill JSC"', '"__proto__ Flour \\u00e9 Mill"'), { 'content-type': 'application/json' });
    expect(fine.status, fine.text).toBe(202);
    expect(outbound(kz)).toBe(before + 1);
  });

  it('is refused by gnc send in a JSON body file too, under /body as the API names it', async () => {
    const dir = tempDir('gnc-proto-');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'aci.json');
    writeFileSync(file, JSON.stringify(example('aci-kz-kg-road')).replace('"kind":"declaration"', '"kind":"declaration","__proto__":{}'));
    const before = outbound(kz);
    const r = await gnc('send', '--dir', kz.dir, '--to', 'KG', '--purpose', risk, '--json', file);
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('/body/__proto__: expected no such member');
    expect(outbound(kz)).toBe(before);
  });
});

describe('a JSON document that starts with a byte order mark', () => {
  const bom = `\ufeff${JSON.stringify({ to: 'KG', type: 'aci', purpose: risk, body: example('aci-kz-kg-road') })}`;
  const said = 'it starts with a byte order mark (U+FEFF), which JSON does not allow (RFC 8259 section 8.1): send it as UTF-8 without a BOM.';

  it('is refused saying so, not as an invisible "Unexpected token" to fix with quoting and commas, and nothing is queued', async () => {
    const before = outbound(kz);
    const p = problemOf(await api(kz, 'POST', '/v1/messages', bom, { 'content-type': 'application/json' }), 400, 'GNC_INVALID_JSON');
    expect(p.detail).toBe(`Body is not valid JSON: ${said}`);
    expect(outbound(kz)).toBe(before);
  });

  it('is refused by gnc send in a body file saying so too', async () => {
    const file = join(tempDir('gnc-bom-'), 'aci.json');
    writeFileSync(file, `\ufeff${JSON.stringify(example('aci-kz-kg-road'))}`);
    const r = await gnc('send', '--dir', kz.dir, '--to', 'KG', '--purpose', risk, '--type', 'aci', file);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(`${file} is not valid JSON: ${said}`);
  });
});

describe('an XML element or attribute named __proto__, constructor or prototype', () => {
  it('is refused naming the element and saying to rename or remove it, not as XML that is not well-formed (it is), and nothing is queued', async () => {
    const before = outbound(kz);
    const xml = exampleXml('aci-kz-kg-road');
    for (const [inserted, path, received] of [
      ['<Exporter><constructor>1</constructor>', '/Declaration/Exporter/constructor', '<constructor> at line'],
      ['<Exporter><__proto__><ID>1</ID></__proto__>', '/Declaration/Exporter/__proto__', '<__proto__> at line'],
      ['<Exporter prototype="x">', '/Declaration/Exporter', 'attribute prototype of <Exporter> at line'],
    ] as const) {
      const r = await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, xml.replace('<Exporter>', inserted), { 'content-type': 'application/xml' });
      const p = problemOf(r, 422, 'GNC_XML_INVALID');
      expect(p.issues[0], inserted).toMatchObject({ path, expected: 'a name other than __proto__, constructor and prototype' });
      expect(p.issues[0].received).toContain(received);
      expect(p.detail).toContain('Rename or remove it');
      expect(p.detail).not.toContain('well-formed');
      expect(p.detail).not.toContain('SECURITY');
    }
    expect(outbound(kz)).toBe(before);
  });
});

describe('what the HTTP layer let through or answered bare', () => {
  const body = JSON.stringify({ to: 'KG', type: 'aci', purpose: risk, body: example('aci-kz-kg-road') });
  const post = (headers: string, payload: string): string => `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${kz.token}\r\nContent-Type: application/json\r\nConnection: close\r\n${headers}\r\n${payload}`;

  it('answers an Expect other than 100-continue with 417 GNC_EXPECTATION_FAILED problem details, not Node\'s bare 417, and queues nothing', async () => {
    const before = outbound(kz);
    const r = await rawHttp(post(`Content-Length: ${body.length}\r\nExpect: teapot\r\n`, body), kz);
    expect(r.status, r.body).toBe(417);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(r.body)).toMatchObject({ status: 417, code: 'GNC_EXPECTATION_FAILED', type: 'urn:gnc:problem:GNC_EXPECTATION_FAILED' });
    expect(JSON.parse(r.body).detail).toBe('Expect: "teapot" is not an expectation this node can meet (it meets 100-continue only), so nothing of the request was applied: send it without Expect, or with Expect: 100-continue.');
    expect(outbound(kz)).toBe(before);
    // 100-continue is met as before
    const ok = await rawHttp(post(`Content-Length: ${body.length}\r\nExpect: 100-continue\r\n`, body), kz);
    expect(ok.status, ok.body).toBe(100);
    expect(outbound(kz)).toBe(before + 1);
  });

  it('refuses a Transfer-Encoding other than chunked (gzip, chunked: the body would be read as the coded bytes) with 415, as a Content-Encoding, and queues nothing', async () => {
    const before = outbound(kz);
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    for (const coding of ['gzip, chunked', 'deflate, chunked', 'x-custom, chunked']) {
      const r = await rawHttp(post(`Transfer-Encoding: ${coding}\r\n`, chunked), kz);
      expect(r.status, `${coding}: ${r.body}`).toBe(415);
      expect(JSON.parse(r.body)).toMatchObject({ code: 'GNC_UNSUPPORTED_MEDIA_TYPE' });
      expect(JSON.parse(r.body).detail).toBe(`Transfer-Encoding "${coding.replace(', chunked', '')}" is not accepted: send the body uncoded (chunked alone, or with Content-Length).`);
    }
    expect(outbound(kz)).toBe(before);
    const ok = await rawHttp(post('Transfer-Encoding: chunked\r\n', chunked), kz);
    expect(ok.status, ok.body).toBe(202);
    expect(outbound(kz)).toBe(before + 1);
  });
});

describe('a cursor of another filter', () => {
  it('of the AEO list of one partner is refused with another partner, not answered with an empty page (or the first again) as if it were the next', async () => {
    const sent = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aeo', purpose: 'aeo-mra-benefits', body: example('aeo-kz-snapshot') });
    expect(sent.status, sent.text).toBe(202);
    await waitFor(async () => ((await api(kg, 'GET', '/v1/aeo?partner=KZ')).json.items.length === 4 ? true : undefined), 15_000, 'the AEO register of KZ at KG');
    const first = await api(kg, 'GET', '/v1/aeo?partner=KZ&limit=1');
    const cursor = first.json.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    for (const other of ['CN', 'UZ']) {
      const r = problemOf(await api(kg, 'GET', `/v1/aeo?partner=${other}&cursor=${cursor}`), 422, 'GNC_SCHEMA_INVALID');
      expect(r.issues[0]).toMatchObject({ path: '/cursor', expected: 'the nextCursor of the previous page' });
    }
    // the next page of the same partner's list; the list of every partner is another query (it has partners before KZ
    // that the page would skip), so its cursor is refused too (node/api/cursor.ts)
    const next = await api(kg, 'GET', `/v1/aeo?partner=KZ&limit=1&cursor=${cursor}`);
    expect(next.status, next.text).toBe(200);
    expect(next.json.items[0].aeoId).not.toBe(first.json.items[0].aeoId);
    problemOf(await api(kg, 'GET', `/v1/aeo?limit=1&cursor=${cursor}`), 422, 'GNC_SCHEMA_INVALID');
  });
});

describe('an amendment, cancellation or status change without ref, or with one to nothing', () => {
  it('is refused naming /ref and saying where to give it, in JSON and XML, and nothing is queued', async () => {
    const before = outbound(kz);
    const amendment = { ...example('aci-kz-kg-amendment') };
    const json = problemOf(await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: amendment }), 422, 'GNC_SCHEMA_INVALID');
    expect(json.issues).toEqual([{ path: '/ref', expected: 'the id of the message it refers to', received: 'nothing (missing)', message: '/ref: expected the id of the message it refers to, received nothing (missing)' }]);
    expect(json.detail).toBe('An aci amendment must name the original message id in "ref": add "ref" with the id POST /v1/messages answered for the original (for an XML body ?ref=ID, with gnc send --ref ID) and submit again.');
    const xml = problemOf(await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, exampleXml('aci-kz-kg-cancellation'), { 'content-type': 'application/xml' }), 422, 'GNC_SCHEMA_INVALID');
    expect(xml.issues[0]).toMatchObject({ path: '/ref' });
    expect(xml.issues[0].xmlPath).toBeUndefined();
    expect(xml.detail).toContain('?ref=ID');
    expect(outbound(kz)).toBe(before);
  });

  it('with a ref to no message sent to the partner names /ref (GNC_ORIGINAL_UNKNOWN) and reads "an aci message"', async () => {
    const r = problemOf(await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, ref: 'no-such-message', body: example('aci-kz-kg-amendment') }), 422, 'GNC_ORIGINAL_UNKNOWN');
    expect(r.detail).toBe('aci amendment refers to no-such-message, which is not an aci message this node sent to KG: check "ref".');
    expect(r.issues).toEqual([{ path: '/ref', expected: 'the id of an aci message this node sent to KG', received: 'string "no-such-message"', message: '/ref: expected the id of an aci message this node sent to KG, received string "no-such-message"' }]);
  });

  it('and a ref on a kind that takes none names /ref too', async () => {
    const r = problemOf(await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, ref: 'some-earlier-id', body: example('aci-kz-kg-road') }), 422, 'GNC_SCHEMA_INVALID');
    expect(r.issues).toEqual([{ path: '/ref', expected: 'no "ref" on this kind', received: 'string "some-earlier-id"', message: '/ref: expected no "ref" on this kind, received string "some-earlier-id"' }]);
    expect(r.detail).toContain('remove "ref"');
  });
});

describe('an agreement this node is no party to', () => {
  it('is refused as a draft saying to name this node among the parties or draft it on a party\'s node', async () => {
    const r = problemOf(await api(kz, 'POST', '/v1/agreements', { draft: openAgreementDraft('KG', 'CN', { id: 'KG-CN-hunt' }) }), 422, 'GNC_AGREEMENT_INVALID');
    expect(r.detail).toBe('This node (KZ) is not a party to agreement KG-CN-hunt: a node drafts only agreements of its own administration, so name KZ in "parties" (and its directions), or draft it on a party\'s node.');
    expect((await api(kz, 'GET', '/v1/agreements/KG-CN-hunt')).status).toBe(404);
  });

  it('is refused on import saying where it can be imported', async () => {
    const made = await api(kz, 'POST', '/v1/agreements', { draft: openAgreementDraft('KZ', 'CN', { id: 'KZ-CN-hunt' }) });
    expect(made.status, made.text).toBe(201);
    const r = problemOf(await api(kg, 'POST', '/v1/agreements/import', made.json.signed), 422, 'GNC_AGREEMENT_INVALID');
    expect(r.detail).toBe('Agreement KZ-CN-hunt is between KZ and CN; this node is KG: it holds only agreements KG is a party to, so import or propose this one on a party\'s node.');
    expect((await api(kg, 'GET', '/v1/agreements/KZ-CN-hunt')).status).toBe(404);
  });
});
