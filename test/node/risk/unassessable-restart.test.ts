/**
 * A consignment whose assessment keeps failing is counted at once after a restart (GET /v1/health's risk.unassessable
 * and its GNC_RISK_UNASSESSABLE check), not only once it has failed again: its failures are kept with its queue entry
 * (risk_pending.failures, migration 36), written in the step's own transaction. Its backoff goes on where it was. Real
 * KZ and KG nodes; KG's database refuses the poison consignment's assessment (a trigger in the file, which outlives the
 * restart) until the test drops it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNode } from '../../../node/compose.js';
import { api, TEST_RETRY, waitFor } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, projectedCid, riskNetwork, send, type RiskNetwork } from './network.js';

const SECRET = 'Restart Poison Consignee 4410';
const FAILED = 'risk: a consignment could not be assessed';
const TOMORROW = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

let net: RiskNetwork;
const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
const log = (msg: string, fields?: Record<string, unknown>): void => void logged.push({ msg, ...(fields ? { fields } : {}) });
let id = '';
let cid = 0;
const db = () => net.kg.node.parts.store.db;
const attempts = (): number[] => logged.filter((l) => l.msg.startsWith(FAILED) && l.fields?.cid === cid).map((l) => l.fields!.attempts as number);

beforeAll(async () => {
  net = await riskNetwork({ riskRetryMs: 100, log });
  db().exec(`CREATE TRIGGER poison BEFORE UPDATE OF revision ON risk_consignments WHEN instr(NEW.view, '${SECRET}') > 0
    BEGIN SELECT RAISE(ABORT, 'assessment refused'); END`);
  id = await send(net.kz, 'aci', variant(road(), (d) => {
    d.functionalReference = 'RESTART-POISON-1';
    d.expectedArrival = TOMORROW;
    d.consignee.name = SECRET;
  }));
  cid = await projectedCid(net.kg, id);
  await waitFor(() => (attempts().length >= 2 ? true : undefined), 10_000, 'two failed attempts');
}, 60_000);
afterAll(async () => net?.close());

describe('a consignment whose assessment failed, across a restart', () => {
  it('is counted by the restarted node before any step, and its backoff goes on', async () => {
    const kg = net.kg;
    await kg.node.stop();
    const before = attempts().at(-1)!;
    logged.length = 0;
    kg.node = openNode(kg.dir, { apiPort: 0, log, retry: TEST_RETRY, riskRetryMs: 100 });
    // opened, not started: no step has run
    expect(kg.node.ext.health!()).toEqual({ unassessable: 1 });
    await kg.node.start();
    kg.url = kg.node.apiUrl;
    const h = await api(kg, 'GET', '/v1/health');
    expect(h.status, h.text).toBe(200);
    expect(h.json.risk).toEqual({ unassessable: 1 });
    expect(h.json.status).toBe('degraded');
    expect(h.json.checks.map((c: { code: string }) => c.code)).toEqual(['GNC_RISK_UNASSESSABLE']);
    expect(h.json.checks[0].detail).toMatch(/^1 queued consignment could not be assessed .*risk: a consignment could not be assessed/);
    expect(h.text).not.toContain(SECRET);
    // the first failure after the restart is the next in the row, not a first one
    await waitFor(() => (attempts().length >= 1 ? true : undefined), 10_000, 'a failed attempt after the restart');
    expect(attempts()[0]).toBe(before + 1);
  });

  it('is no longer counted once assessed', async () => {
    db().exec('DROP TRIGGER poison');
    await arrival(net.kg, id, (a) => a.assessment.revision >= 1);
    const h = await api(net.kg, 'GET', '/v1/health');
    expect(h.json).toMatchObject({ status: 'ok', checks: [], risk: { unassessable: 0 } });
    expect(db().prepare('SELECT COUNT(*) FROM risk_pending WHERE failures > 0').pluck().get()).toBe(0);
  }, 30_000);
});
