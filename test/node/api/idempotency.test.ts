/**
 * `Idempotency-Key` on POST /v1/messages between two real nodes: an integrator that retries a submission whose
 * answer it lost gets the message its first attempt made, and the partner receives it once; a key reused for
 * another submission, or a malformed key, is refused and stores nothing; keys are the token's own, and are
 * forgotten after IDEMPOTENCY_KEY_TTL_MS by the retention job.
 */
import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_KEY_TTL_MS } from '../../../protocol/constants.js';
import { api, networkForFile, type TestNode, waitFor } from '../../helpers/network.js';
import { example, exampleXml } from '../../protocol/messages/fixtures.js';

const aci = example('aci-kz-kg-road');
const aciXml = exampleXml('aci-kz-kg-road');
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci };

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

const count = (n: TestNode, sql: string, ...args: unknown[]): number => n.node.parts.store.db.prepare(sql).pluck().get(...args) as number;
const outMessages = (): number => count(kz, `SELECT COUNT(*) FROM messages WHERE direction = 'out'`);
const withKey = (key: string, extra: Record<string, string> = {}): Record<string, string> => ({ 'idempotency-key': key, ...extra });

describe('Idempotency-Key on submissions', () => {
  it('answers a retry with the message the first attempt made, and the partner receives it once', async () => {
    const before = outMessages();
    const first = await api(kz, 'POST', '/v1/messages', submission, withKey('"KZ-SW-2026-000001"'));
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // the retry: same key, same submission (other JSON formatting, the key bare)
    const retry = await api(kz, 'POST', '/v1/messages', JSON.stringify(submission, null, 2), withKey('KZ-SW-2026-000001', { 'content-type': 'application/json' }));
    expect(retry.status).toBe(202);
    expect(retry.json).toEqual(first.json);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('location')).toBe(`/v1/messages/${first.json.id}`);
    expect(outMessages()).toBe(before + 1);
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${first.json.id}`)).json.status === 'delivered' ? true : undefined), 10_000, 'delivery');
    // a retry after delivery, waiting for the outcome: the delivered message, still not a second one
    const late = await api(kz, 'POST', '/v1/messages', submission, withKey('"KZ-SW-2026-000001"', { prefer: 'wait=5, return=minimal' }));
    expect(late.status).toBe(200);
    expect(late.json).toMatchObject({ id: first.json.id, status: 'delivered', receiptStatus: 'accepted' });
    expect(late.headers.get('idempotent-replayed')).toBe('true');
    expect(outMessages()).toBe(before + 1);
    expect(count(kg, `SELECT COUNT(*) FROM messages WHERE direction = 'in' AND partner = 'KZ' AND id = ?`, first.json.id)).toBe(1);
  });

  it('makes one message of submissions with one key sent at the same time', async () => {
    const before = outMessages();
    const answers = await Promise.all(Array.from({ length: 8 }, () => api(kz, 'POST', '/v1/messages', submission, withKey('"KZ-SW-2026-000002"'))));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    expect(new Set(answers.map((a) => a.json.id)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
    expect(outMessages()).toBe(before + 1);
    expect(count(kz, `SELECT COUNT(*) FROM evidence WHERE message_id = ?`, answers[0]!.json.id)).toBeGreaterThanOrEqual(1);
  });

  it('makes one message when they meet in one group commit (the key is checked again inside the transaction)', async () => {
    const before = outMessages();
    const key = { tokenId: 'service-test', key: 'KZ-SW-2026-000006' };
    // all in one event-loop turn: every one passes the check before any commits, and they share one transaction
    const done = await Promise.all(Array.from({ length: 4 }, () => kz.node.submit.submit(submission, key)));
    expect(new Set(done.map((d) => d.result.id)).size).toBe(1);
    expect(done.map((d) => d.replayed)).toEqual([false, true, true, true]);
    expect(outMessages()).toBe(before + 1);
  });

  it('holds for XML submissions too', async () => {
    const before = outMessages();
    const path = '/v1/messages?to=KG&purpose=pre-arrival-risk-assessment';
    const headers = withKey('"KZ-SW-2026-000003"', { 'content-type': 'application/xml' });
    const first = await api(kz, 'POST', path, aciXml, headers);
    const retry = await api(kz, 'POST', path, aciXml, headers);
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(retry.json.id).toBe(first.json.id);
    expect(outMessages()).toBe(before + 1);
  });

  it('refuses a key reused for another submission (422 GNC_IDEMPOTENCY_KEY_REUSED) and stores nothing of it', async () => {
    await api(kz, 'POST', '/v1/messages', submission, withKey('"KZ-SW-2026-000004"'));
    const before = outMessages();
    const other = { ...submission, body: { ...aci, functionalReference: 'KZEXP-20261124-9999' } };
    const r = await api(kz, 'POST', '/v1/messages', other, withKey('"KZ-SW-2026-000004"'));
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ code: 'GNC_IDEMPOTENCY_KEY_REUSED', status: 422 });
    expect(r.json.detail).toMatch(/use a new key/);
    expect((await api(kz, 'POST', '/v1/messages', { ...submission, purpose: undefined }, withKey('"KZ-SW-2026-000004"'))).status).toBe(422);
    expect(outMessages()).toBe(before);
  });

  it('refuses a malformed key (400 GNC_IDEMPOTENCY_KEY_INVALID) and stores nothing', async () => {
    const before = outMessages();
    for (const bad of ['""', '"a\\"b"', 'two words', `"${'k'.repeat(256)}"`, '"schlüssel"', 'a,b']) {
      const r = await api(kz, 'POST', '/v1/messages', submission, withKey(bad));
      expect(r.status, bad).toBe(400);
      expect(r.json.code, bad).toBe('GNC_IDEMPOTENCY_KEY_INVALID');
    }
    expect(outMessages()).toBe(before);
  });

  it('keeps keys apart per API token', async () => {
    const other = { ...kz, token: kz.node.parts.store.tokens.create('second integrator', ['submit', 'read']).token };
    const a = await api(kz, 'POST', '/v1/messages', submission, withKey('"shared-key-1"'));
    const b = await api(other, 'POST', '/v1/messages', submission, withKey('"shared-key-1"'));
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.json.id).not.toBe(a.json.id);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
  });

  it('forgets a key after its time, at the retention run, and then makes a new message', async () => {
    const first = await api(kz, 'POST', '/v1/messages', submission, withKey('"KZ-SW-2026-000005"'));
    kz.node.retention.purge(Date.now() + IDEMPOTENCY_KEY_TTL_MS - 60_000);
    expect((await api(kz, 'POST', '/v1/messages', submission, withKey('"KZ-SW-2026-000005"'))).json.id).toBe(first.json.id);
    kz.node.retention.purge(Date.now() + IDEMPOTENCY_KEY_TTL_MS + 60_000);
    const later = await api(kz, 'POST', '/v1/messages', submission, withKey('"KZ-SW-2026-000005"'));
    expect(later.status).toBe(202);
    expect(later.json.id).not.toBe(first.json.id);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await api(kz, 'GET', '/v1/openapi.json')).json;
    const post = doc.paths['/v1/messages'].post;
    expect(post.parameters.map((p: { name: string }) => p.name)).toContain('idempotency-key');
    expect(Object.keys(post.responses['202'].headers)).toContain('Idempotent-Replayed');
  });
});
