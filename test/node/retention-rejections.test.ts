/**
 * A refused envelope is never stored, but its rejection record keeps the reason and the negative receipt, and a
 * schema error quotes the value it got. Both go after REJECTION_RETENTION_DAYS; the code and the hash stay.
 * Real KZ and KG nodes: KZ puts a refused envelope on the wire, KG's retention job runs at a later time.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../protocol/ids.js';
import { sealEnvelope } from '../../protocol/envelope/seal.js';
import { REJECTION_RETENTION_DAYS } from '../../node/retention.js';
import { makeNetwork, type TestNode } from '../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const SECRET = 'Secret Trader Name That Must Not Outlive Its Retention';

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
  // consignee name too long for the schema: the refusal quotes it
  const body = { ...aci, consignee: { ...(aci['consignee'] as Record<string, unknown>), name: `${SECRET} ${'Z'.repeat(80)}` } };
  const sealed = sealEnvelope(
    { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body } as never,
    kz.node.parts.identity.node.signer,
  );
  const answer = JSON.parse(Buffer.from(await kz.node.session('KG').request(sealed.bytes)).toString('utf8'));
  expect(JSON.parse(Buffer.from(answer.payload, 'base64url').toString('utf8')).body).toMatchObject({ status: 'rejected', code: 'GNC_SCHEMA_INVALID' });
}, 60_000);
afterAll(async () => net?.close());

function rejection(): { code: string; reason: string; receipt: Buffer | null } {
  return kg.node.parts.store.db.prepare('SELECT code, reason, receipt FROM rejections ORDER BY seq DESC LIMIT 1').get() as never;
}

describe('rejection records under retention', () => {
  it('keeps the reason and the negative receipt while the period runs', () => {
    kg.node.retention.purge(Date.now() + (REJECTION_RETENTION_DAYS - 1) * 86_400_000);
    const r = rejection();
    expect(r.reason).toContain(SECRET.slice(0, 20));
    expect(r.receipt).not.toBeNull();
  });

  it('drops the reason and the receipt, which quote refused content, after the period, and keeps the code', () => {
    kg.node.retention.purge(Date.now() + (REJECTION_RETENTION_DAYS + 1) * 86_400_000);
    const r = rejection();
    expect(r.code).toBe('GNC_SCHEMA_INVALID');
    expect(r.reason).not.toContain(SECRET.slice(0, 20));
    expect(r.reason).toContain(`${REJECTION_RETENTION_DAYS} days`);
    expect(r.receipt).toBeNull();
  });
});
