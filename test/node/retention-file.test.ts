/**
 * What the retention purge removes is gone from the node's database files, not only from its tables: SQLite leaves
 * deleted and overwritten bytes in the file's free space (and in the write-ahead log) unless told otherwise, where
 * `strings gnc.sqlite` or a copy of the file (`gnc backup`) still shows a trader's name the agreement says must no
 * longer be held. Real KZ and KG nodes with the risk view composed (it copies names into its own tables, and
 * rewrites them as assessments change); KG purges at a later time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REJECTION_RETENTION_DAYS } from '../../node/retention.js';
import { sealEnvelope } from '../../protocol/envelope/seal.js';
import { newMessageId } from '../../protocol/ids.js';
import { occurrences } from '../helpers/files.js';
import { arrival, assessedAs, riskNetwork, send, type RiskNetwork } from './risk/network.js';
import { road, variant } from './risk/fixtures.js';

/** Names only the purged messages (and the refusal's reason) carry: the declaration's, then its amendment's. */
const ACCEPTED = 'Zhetysu Secret Consignee Partnership';
const AMENDED = 'Amended Secret Consignee Cooperative';
const REFUSED = 'Refused Secret Consignee Holding';

let net: RiskNetwork;
let id = '';
let amendment = '';

/** How often `text` occurs in KG's database files (the database, its write-ahead log). */
const inFiles = (text: string): Record<string, number> => occurrences(net.kg.dir, 'gnc.sqlite', text);

beforeAll(async () => {
  net = await riskNetwork();
  const body = variant(road(), (d) => {
    d.consignee.name = ACCEPTED;
    d.expectedArrival = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  });
  id = await send(net.kz, 'aci', body);
  await arrival(net.kg, id, (a) => a.assessment?.revision >= 1);
  // the amendment rewrites the consignment's rows in the risk view (its list view, search keys, assessment)
  amendment = await send(net.kz, 'aci', variant(body, (d) => {
    d.kind = 'amendment';
    d.consignee.name = AMENDED;
  }), id);
  await arrival(net.kg, id, (a) => assessedAs(a, amendment));
  // refused for a consignee name too long: the rejection's reason quotes it
  const refused = variant(road(), (d) => (d.consignee.name = `${REFUSED} ${'Z'.repeat(80)}`));
  const sealed = sealEnvelope(
    { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: refused } as never,
    net.kz.node.parts.identity.node.signer,
  );
  await net.kz.node.session('KG').request(sealed.bytes);
}, 60_000);
afterAll(async () => net?.close());

describe('the retention purge and the database files', () => {
  it('holds the names before the purge', () => {
    expect(Object.keys(inFiles(ACCEPTED)).length).toBeGreaterThan(0);
    expect(Object.keys(inFiles(AMENDED)).length).toBeGreaterThan(0);
    expect(Object.keys(inFiles(REFUSED)).length).toBeGreaterThan(0);
  });

  it('leaves no byte of purged content in the database or its log', async () => {
    const db = net.kg.node.parts.store.db;
    const until = db.prepare(`SELECT retain_until FROM messages WHERE id = ? AND direction = 'in'`).pluck().get(amendment) as number;
    expect(net.kg.node.retention.purge(Math.max(until, Date.now() + (REJECTION_RETENTION_DAYS + 1) * 86_400_000))).toBe(2);
    expect(db.prepare(`SELECT COUNT(*) FROM rejections WHERE reason LIKE ?`).pluck().get(`%${REFUSED}%`)).toBe(0);
    expect(inFiles(ACCEPTED)).toEqual({});
    expect(inFiles(AMENDED)).toEqual({});
    expect(inFiles(REFUSED)).toEqual({});
  });
});
