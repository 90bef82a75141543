/**
 * The AEO registry an older version projected is rebuilt once after the upgrade (migration 15): migration 10 set
 * risk_aeo.as_of from the history, which can predate the snapshot a record rests on. Real KZ and KG nodes: KG holds
 * a snapshot, its record is given the date migration 10 would have given it, migration 15 runs on the database, and
 * KG restarts on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { Store } from '../../../node/store/store.js';
import { restartNode, waitFor } from '../../helpers/network.js';
import { snapshot } from './fixtures.js';
import { riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;

beforeAll(async () => {
  net = await riskNetwork();
});
afterAll(async () => net?.close());

describe('the AEO registry after an upgrade', () => {
  it('is rebuilt once from the AEO messages held, restoring the date of the snapshot each record rests on', async () => {
    const s = snapshot();
    const aeoId = s.operators[0].aeoId as string;
    await send(net.kz, 'aeo', s);
    const asOf = () => net.kg.node.parts.store.db.prepare('SELECT as_of FROM risk_aeo WHERE partner = ? AND aeo_id = ?').pluck().get('KZ', aeoId) as string | undefined;
    const projected = await waitFor(asOf, 10_000, 'the snapshot to be projected');
    expect(projected).toBe(String(s.asOf).slice(0, 10));
    await net.kg.node.stop();
    const store = Store.open(net.kg.dir);
    try {
      // what migration 10 left: the record's own status date, older than the snapshot; then the upgrade to 15 (run
      // as such: taking user_version back one step would run the newest migration again, not this one)
      store.db.prepare('UPDATE risk_aeo SET as_of = status_date WHERE partner = ?').run('KZ');
      store.db.exec(MIGRATIONS.find((m) => m.includes(`SELECT 'aeo-rebuild', 1 WHERE EXISTS (SELECT 1 FROM risk_aeo)`))!);
    } finally {
      store.close();
    }
    await restartNode(net.kg);
    await waitFor(() => (asOf() === projected ? true : undefined), 10_000, 'the rebuilt record');
    expect(net.kg.node.parts.store.db.prepare(`SELECT COUNT(*) FROM risk_state WHERE key = 'aeo-rebuild'`).pluck().get()).toBe(0);
  }, 60_000);
});
