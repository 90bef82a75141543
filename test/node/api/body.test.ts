/**
 * Request bodies over real loopback HTTP: bytes that are not UTF-8 are refused with the code of the format
 * they claim to be, never decoded leniently into U+FFFD and stored.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { networkForFile } from '../../helpers/network.js';

const examples = new URL('../../../examples/messages/', import.meta.url);
const roadXml = readFileSync(new URL('aci-kz-kg-road.xml', examples), 'utf8');
const roadJson = readFileSync(new URL('aci-kz-kg-road.json', examples), 'utf8');

const { nodes: { KZ: kz } } = networkForFile(['KZ', 'KG']);

/** POSTs raw bytes; answers status and the problem body. */
async function post(path: string, bytes: Uint8Array, type: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; type: string | null }> {
  const res = await fetch(`${kz.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${kz.token}`, 'content-type': type, ...headers },
    body: bytes,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, type: res.headers.get('content-type'), json: await res.json() };
}

/** The document with the consignor's name in Latin-1, as an editor set to ISO 8859-1 saves it. */
function latin1(doc: string): Buffer {
  return Buffer.from(doc.replace('Almaty Flour Mill JSC', 'Almaty Société JSC'), 'latin1');
}

describe('request bodies', () => {
  it('refuses an XML body that is not UTF-8 (GNC_XML_INVALID) instead of storing U+FFFD', async () => {
    const r = await post('/v1/messages?to=KG&purpose=pre-arrival-risk-assessment', latin1(roadXml), 'application/xml');
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ code: 'GNC_XML_INVALID', issues: [{ path: '/', received: 'bytes that are not UTF-8' }] });
  });

  it('refuses a JSON body that is not UTF-8 (GNC_INVALID_JSON) instead of storing U+FFFD', async () => {
    const submission = `{"to":"KG","type":"aci","purpose":"pre-arrival-risk-assessment","body":${roadJson}}`;
    const r = await post('/v1/messages', latin1(submission), 'application/json');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'GNC_INVALID_JSON', detail: expect.stringContaining('not UTF-8') });
  });

  it('refuses a compressed body (415 GNC_UNSUPPORTED_MEDIA_TYPE naming the coding) instead of calling it not UTF-8, and stores nothing', async () => {
    const submission = `{"to":"KG","type":"aci","purpose":"pre-arrival-risk-assessment","body":${roadJson}}`;
    const stored = kz.node.parts.store.messages.list({ limit: 1000 }).length;
    for (const [bytes, type, path] of [[gzipSync(submission), 'application/json', '/v1/messages'], [gzipSync(roadXml), 'application/xml', '/v1/messages?to=KG&purpose=pre-arrival-risk-assessment'], [Buffer.from(submission), 'application/json', '/v1/messages']] as const) {
      const r = await post(path, bytes, type, { 'content-encoding': 'gzip' });
      expect(r.status).toBe(415);
      expect(r.type).toContain('application/problem+json');
      expect(r.json).toMatchObject({ code: 'GNC_UNSUPPORTED_MEDIA_TYPE', detail: expect.stringContaining('Content-Encoding "gzip"') });
    }
    expect(kz.node.parts.store.messages.list({ limit: 1000 })).toHaveLength(stored);
    expect((await post('/v1/messages', Buffer.from(submission), 'application/json', { 'content-encoding': 'identity' })).status).toBe(202);
  });

  it('accepts the same documents in UTF-8', async () => {
    const utf8 = Buffer.from(roadXml.replace('Almaty Flour Mill JSC', 'Almaty Société JSC'), 'utf8');
    expect((await post('/v1/messages?to=KG&purpose=pre-arrival-risk-assessment', utf8, 'application/xml')).status).toBe(202);
  });
});
