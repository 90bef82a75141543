/**
 * Waiting for the final status over real HTTP, between real nodes: `GET /v1/messages/{id}?wait=` and
 * `POST /v1/messages` with `Prefer: wait=` (RFC 7240) hold their answer until the partner's signed receipt is
 * recorded, or answer with the current state when the wait runs out; `return=minimal` shortens that answer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MessageSummary, MessageView } from '../../../protocol/api/schemas.js';
import { api, networkForFile, restartNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci };

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);
let kgUp = true;


async function stopKg(): Promise<void> {
  await kg.node.stop();
  kgUp = false;
}

async function restartKg(): Promise<void> {
  await restartNode(kg);
  kgUp = true;
}

describe('waiting for the final status', () => {
  it('POST with Prefer: wait answers 200 with the delivered message and its receipt', async () => {
    const r = await api(kz, 'POST', '/v1/messages', submission, { prefer: 'wait=20' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ direction: 'out', partner: 'KG', type: 'aci', status: 'delivered' });
    expect(r.json.receipt).toMatchObject({ status: 'accepted', code: null });
    expect(Object.keys(r.json.envelope).sort()).toEqual(['payload', 'protected', 'signature']);
    expect(r.headers.get('location')).toBe(`/v1/messages/${r.json.id}`);
    expect(() => MessageView.parse(r.json)).not.toThrow();
    expect(kg.node.parts.store.messages.byKey('in', 'KZ', r.json.id)).toBeDefined();
  });

  it('POST with Prefer: wait and return=minimal answers 200 with the summary only, and says so', async () => {
    const r = await api(kz, 'POST', '/v1/messages', submission, { prefer: 'wait=20, return=minimal' });
    expect(r.status).toBe(200);
    expect(r.headers.get('preference-applied')).toBe('return=minimal');
    expect(r.json).toMatchObject({ direction: 'out', partner: 'KG', type: 'aci', status: 'delivered', receiptStatus: 'accepted' });
    expect(r.json).not.toHaveProperty('body');
    expect(r.json).not.toHaveProperty('envelope');
    expect(r.json).not.toHaveProperty('receipt');
    expect(() => MessageSummary.parse(r.json)).not.toThrow();
    // the full message stays one GET away
    const full = await api(kz, 'GET', r.headers.get('location')!);
    expect(full.json).toMatchObject({ id: r.json.id, status: 'delivered', receipt: { status: 'accepted' }, body: aci });
  });

  it('POST with Prefer: return=representation answers the full message and says so', async () => {
    const r = await api(kz, 'POST', '/v1/messages', submission, { prefer: 'return=representation; foo=1, wait=20' });
    expect(r.status).toBe(200);
    expect(r.headers.get('preference-applied')).toBe('return=representation');
    expect(() => MessageView.parse(r.json)).not.toThrow();
    expect(r.json.receipt).toMatchObject({ status: 'accepted' });
  });

  it('POST with return=minimal but no wait answers 202 with the submission result, as without it', async () => {
    const r = await api(kz, 'POST', '/v1/messages', submission, { prefer: 'return=minimal' });
    expect(r.status).toBe(202);
    expect(r.headers.get('preference-applied')).toBeNull();
    expect(r.json).toMatchObject({ status: 'queued', to: 'KG' });
  });

  it('POST ignores other preferences and malformed waits: 202 at once', async () => {
    for (const prefer of ['respond-async', 'wait=soon', 'handling=lenient; wait=20']) {
      const r = await api(kz, 'POST', '/v1/messages', submission, { prefer });
      expect(r.status).toBe(202);
      expect(r.json).toMatchObject({ status: 'queued', to: 'KG' });
    }
  });

  it('answers with the state as it stands when the wait runs out, and then with the final one', async () => {
    await stopKg();
    try {
      const posted = await api(kz, 'POST', '/v1/messages', submission, { prefer: 'wait=1' });
      expect(posted.status).toBe(202);
      expect(posted.json).toMatchObject({ status: 'queued', to: 'KG' });
      const id = posted.json.id as string;
      const held = await api(kz, 'GET', `/v1/messages/${id}?wait=1`);
      expect(held.status).toBe(200);
      expect(['queued', 'sending', 'retrying']).toContain(held.json.status);
      expect(held.json.receipt).toBeNull();
      const final = api(kz, 'GET', `/v1/messages/${id}?wait=20`);
      await restartKg();
      expect((await final).json).toMatchObject({ id, status: 'delivered', receipt: { status: 'accepted' } });
    } finally {
      if (!kgUp) await restartKg();
    }
  });

  it('holds many waiting requests at once, each woken by its own message, without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (e: Error): void => void warnings.push(`${e.name}: ${e.message}`);
    process.on('warning', onWarning);
    await stopKg();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 16; i++) ids.push((await api(kz, 'POST', '/v1/messages', submission)).json.id as string);
      const waiting = ids.map((id) => api(kz, 'GET', `/v1/messages/${id}?wait=20`));
      await new Promise((r) => setTimeout(r, 300)); // all sixteen requests are now held open
      await restartKg();
      const answers = await Promise.all(waiting);
      expect(answers.map((a) => [a.json.id, a.json.status])).toEqual(ids.map((id) => [id, 'delivered']));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
      if (!kgUp) await restartKg();
    }
    expect(warnings).toEqual([]);
  });

  it('refuses a wait beyond the limit (GNC_SCHEMA_INVALID names the parameter)', async () => {
    const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
    const r = await api(kz, 'GET', `/v1/messages/${id}?wait=31`);
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('GNC_SCHEMA_INVALID');
    expect(r.json.detail).toMatch(/wait/);
  });

  it('is documented in OpenAPI: the wait query, the Prefer header and both answers of a submission', async () => {
    const doc = (await api(kz, 'GET', '/v1/openapi.json')).json;
    const post = doc.paths['/v1/messages'].post;
    expect(post.parameters).toContainEqual(expect.objectContaining({ name: 'prefer', in: 'header' }));
    expect(Object.keys(post.responses).sort()).toEqual(['200', '202', 'default']);
    expect(post.responses['200'].content['application/json'].schema.oneOf).toEqual([{ $ref: '#/components/schemas/MessageView' }, { $ref: '#/components/schemas/MessageSummary' }]);
    expect(post.responses['200'].headers).toHaveProperty('Preference-Applied');
    expect(doc.components.schemas).toHaveProperty('MessageSummary');
    const get = doc.paths['/v1/messages/{id}'].get;
    expect(get.parameters).toContainEqual(expect.objectContaining({ name: 'wait', in: 'query', schema: expect.objectContaining({ maximum: 30 }) }));
  });

  // last: it stops KZ for good
  it('answers held requests when the node stops instead of keeping them open for the rest of their wait', async () => {
    await stopKg();
    const id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
    const held = api(kz, 'GET', `/v1/messages/${id}?wait=30`).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    expect(kz.node.finals.size).toBe(1);
    await kz.node.stop();
    expect(kz.node.finals.size).toBe(0);
    await held; // answered, or cut off with its connection
    expect(kz.node.parts.store.db.open).toBe(false);
  });
});
