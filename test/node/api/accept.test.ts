/**
 * Content negotiation of GET /v1/messages/{id} over real HTTP between real nodes: a message without an XML
 * form (a control message) is answered as JSON to a client that takes JSON as well, and one that takes only
 * XML is told why there is no XML, not that the message is gone.
 */
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
    expect(r.json.detail).toContain('no XML form');
    expect(r.json.detail).not.toContain('purged');
  });
});
