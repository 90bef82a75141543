/**
 * Content negotiation over real HTTP between real nodes: a message without an XML form (a control message) is
 * answered as JSON to a client that takes JSON as well, and one that takes only XML is told why there is no XML, not
 * that the message is gone; a route that cannot answer XML refuses a client that takes only XML (406) before it runs.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageView } from '../../../protocol/api/schemas.js';
import { api, makeNetwork, openAgreementDraft, type TestNode } from '../../helpers/network.js';

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let proposal: string;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  const draft = openAgreementDraft('KZ', 'KG', { id: 'KZ-KG-next', validFrom: '2031-01-01T00:00:00Z', validUntil: '2032-12-31T23:59:59Z' });
  const r = await api(kz, 'POST', '/v1/agreements', { draft, propose: true });
  expect(r.status).toBe(201);
  proposal = r.json.proposedAs as string;
});
afterAll(async () => net?.close());

describe('GET /v1/messages/{id} with Accept', () => {
  it('answers a control message as JSON when the client prefers XML but takes JSON too', async () => {
    for (const accept of ['application/xml, application/json;q=0.9', 'application/xml, */*;q=0.1']) {
      const r = await api(kz, 'GET', `/v1/messages/${proposal}`, undefined, { accept });
      expect(r.status, accept).toBe(200);
      expect(r.headers.get('content-type')).toContain('application/json');
      expect(MessageView.parse(r.json)).toMatchObject({ id: proposal, type: 'agreement' });
    }
  });

  it('tells a client that takes only XML that a control message has no XML form, not that it was purged', async () => {
    const r = await api(kz, 'GET', `/v1/messages/${proposal}`, undefined, { accept: 'application/xml' });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.json.code).toBe('GNC_NOT_FOUND');
    expect(r.json.detail).toContain(`Message ${proposal} is a control message (type agreement), which has no XML form`);
    expect(r.json.detail).not.toContain('purged');
  });

  it('names a control message the same way when refusing to withdraw it ("a control message (agreement propose)", not "a agreement")', async () => {
    const r = await api(kz, 'POST', `/v1/messages/${proposal}/withdraw`, { reason: 'changed our mind' });
    expect(r.status, r.text).toBe(409);
    expect(r.json.detail, r.json.detail).toContain(`Message ${proposal} is a control message (agreement propose): it carries`);
  });
});

describe('Accept on routes that answer only JSON', () => {
  const xml = readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.xml', import.meta.url), 'utf8');

  it('refuses a client that takes only XML with 406 GNC_NOT_ACCEPTABLE naming what the route answers, and answers the others as before', async () => {
    for (const accept of ['application/xml', 'text/xml', 'application/xml, application/json;q=0']) {
      const r = await api(kz, 'GET', '/v1/messages', undefined, { accept });
      expect(r.status, accept).toBe(406);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.json).toMatchObject({ code: 'GNC_NOT_ACCEPTABLE', type: 'urn:gnc:problem:GNC_NOT_ACCEPTABLE', instance: '/v1/messages' });
      expect(r.json.detail).toContain('answers application/json');
    }
    // as before: no Accept, */*, JSON, lists that take JSON, and an Accept that takes no XML (the route's type regardless)
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    for (const accept of [undefined, '*/*', '*', 'application/json', 'application/*', 'application/xml, application/json;q=0.5', browser, 'application/xml;q=0, */*', 'text/html']) {
      const r = await api(kz, 'GET', '/v1/messages', undefined, accept === undefined ? {} : { accept });
      expect(r.status, accept).toBe(200);
      expect(r.headers.get('content-type'), accept).toContain('application/json');
    }
    // errors are still answered, as problem details
    const missing = await api(kz, 'GET', '/v1/messages/01J0000000000000000000000X', undefined, { accept: 'application/xml' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    const anonymous = await api({ ...kz, token: '' }, 'GET', '/v1/messages/01J0000000000000000000000X', undefined, { accept: 'application/xml', authorization: '' });
    expect(anonymous.json.code).toBe('GNC_AUTH_MISSING');
    expect((await api(kz, 'GET', '/v1/nowhere', undefined, { accept: 'application/xml' })).json.code).toBe('GNC_NOT_FOUND');
  });

  it('refuses an XML submission that asks for an XML answer before queuing anything', async () => {
    const before = kz.node.parts.store.messages.list({ limit: 100 }).length;
    const r = await api(kz, 'POST', '/v1/messages?to=KG&purpose=pre-arrival-risk-assessment', xml, { 'content-type': 'application/xml', accept: 'application/xml' });
    expect(r.status, r.text).toBe(406);
    expect(r.json.code).toBe('GNC_NOT_ACCEPTABLE');
    expect(kz.node.parts.store.messages.list({ limit: 100 })).toHaveLength(before);
    const json = await api(kz, 'POST', '/v1/messages?to=KG&purpose=pre-arrival-risk-assessment', xml, { 'content-type': 'application/xml', accept: 'application/xml, application/json;q=0.5' });
    expect(json.status, json.text).toBe(202);
  });
});
