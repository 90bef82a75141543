/**
 * Revoking an API token ends the server-sent-events streams it opened (real nodes, real HTTP): the token was
 * checked once, when the stream opened, and a stream lives until the client leaves, so without a check on the
 * way out a revoked token would keep receiving every assessment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type TestNode } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;

beforeAll(async () => {
  net = await riskNetwork();
});
afterAll(async () => net?.close());

/** Everything the stream sends until it ends (bounded: fails after `ms`). */
async function readAll(res: Response, ms: number): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  const timer = setTimeout(() => void reader.cancel(new Error('the stream is still open')), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += Buffer.from(value).toString('utf8');
    }
  } finally {
    clearTimeout(timer);
  }
}

describe('assessment stream and token revocation', () => {
  it('ends the stream of a revoked token before it carries another assessment, and the token is refused after', async () => {
    const store = net.kg.node.parts.store;
    const { token, info } = store.tokens.create('risk-engine', ['read']);
    const reader: TestNode = { ...net.kg, token };
    const res = await fetch(`${net.kg.url}/v1/arrivals/stream`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) });
    expect(res.status).toBe(200);
    const all = readAll(res, 10_000);
    expect(store.tokens.revoke(info.id)).toBe(true);
    const id = await send(net.kz, 'aci', variant(road(), (d) => (d.functionalReference = 'REVOKED-1')));
    await arrival(net.kg, id);
    const text = await all;
    expect(text).not.toContain('REVOKED-1');
    expect(text).not.toContain('event: assessment');
    expect((await api(reader, 'GET', '/v1/arrivals/stream')).status).toBe(401);
  });
});
