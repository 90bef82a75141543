/**
 * An edited rules file queues the upcoming consignments for reassessment. When that queueing cannot be committed
 * (a full disk), the node says so once and tries again at its next look at the file, instead of dropping it and
 * scoring with the new rules only the consignments that happen to change later. A real store, the real risk part.
 * A rules file put in the data dir's default place while the node runs is read as an edit is (real KZ and KG), and a
 * border time zone it sets, or one per office, moves the date the AEO register is read on.
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRisk } from '../../../node/risk/extension.js';
import { offlineNodePerTest, waitFor } from '../../helpers/network.js';
import { road, snapshot, variant } from './fixtures.js';
import { arrival, codesOf, has, riskNetwork, send } from './network.js';

const offlineNode = offlineNodePerTest();

describe('risk rules reload', () => {
  it('tries the reassessment again when queueing it failed, and says so once', async () => {
    const rules = (dir: string): string => join(dir, 'risk-rules.json');
    const { dir, off } = await offlineNode('KG', (d) => writeFileSync(rules(d), JSON.stringify({ v: 1, levels: { medium: 3, high: 6 } })));
    const file = rules(dir);
    const logged: string[] = [];
    const risk = createRisk({ ...off.parts, log: (msg) => void logged.push(msg) });
    let calls = 0;
    const rulesChanged = risk.engine.rulesChanged.bind(risk.engine);
    risk.engine.rulesChanged = () => {
      calls++;
      if (calls <= 2) throw new Error('database or disk is full');
      rulesChanged();
    };
    try {
      risk.start();
      writeFileSync(file, JSON.stringify({ v: 1, levels: { medium: 4, high: 8 } }));
      // the file's time must differ from the one loaded at start
      const later = new Date(Date.now() + 2_000);
      utimesSync(file, later, later);
      // each look at the file (the poll, here reload()) tries again once the previous try has failed
      for (let look = 1; look <= 3; look++) {
        await waitFor(() => {
          if (calls < look) risk.reload();
          return calls >= look ? true : undefined;
        }, 5_000, `look ${look} to try the reassessment`);
      }
      expect(calls).toBe(3);
      expect(logged.filter((l) => l.includes('could not be queued'))).toHaveLength(1);
      // once queued, nothing is left to try
      risk.reload();
      await risk.idle();
      expect(calls).toBe(3);
    } finally {
      await risk.stop();
    }
  });
});

describe('a rules file created while the node runs', () => {
  it('is read from the default place in the data dir, and the upcoming consignments are reassessed with it', async () => {
    const net = await riskNetwork(); // no riskRules in gnc.json, no risk-rules.json in KG's data dir
    try {
      const id = await send(net.kz, 'aci', road());
      expect(codesOf(await arrival(net.kg, id))).not.toContain('local-hs-prefix');
      writeFileSync(join(net.kg.dir, 'risk-rules.json'), JSON.stringify({ v: 1, watch: { hsPrefixes: [{ prefix: '1101', weight: 1 }] } }));
      await arrival(net.kg, id, has('local-hs-prefix'));
    } finally {
      await net.close();
    }
  }, 30_000);
});

describe('a border time zone set by a rules edit', () => {
  it('reassesses an arrival near midnight on its date at the border, then at its office: an AEO suspension from that date counts', async () => {
    const net = await riskNetwork();
    try {
      const shymkent = snapshot()['operators'][2];
      await send(net.kz, 'aeo', snapshot());
      await send(net.kz, 'aeo', { kind: 'change', operator: { ...shymkent, status: 'suspended', statusDate: '2026-11-26' }, reason: 'Under investigation' });
      // 23:30 at +04:00 on the 25th, as the sender wrote it, is 01:30 on the 26th in Bishkek (+06:00)
      const id = await send(net.kz, 'aci', variant(road(), (d) => {
        d.expectedArrival = '2026-11-25T23:30:00+04:00';
        for (const p of [d.consignor, d.exporter]) Object.assign(p, { aeoId: shymkent.aeoId, id: shymkent.nationalTraderId });
        for (const it of d.goodsItems) delete it.ecooReference;
      }));
      expect(codesOf(await arrival(net.kg, id, has('aeo-valid')))).not.toContain('aeo-suspended');
      writeFileSync(join(net.kg.dir, 'risk-rules.json'), JSON.stringify({ v: 1, border: { timeZone: 'Asia/Bishkek' } }));
      const a = await arrival(net.kg, id, has('aeo-suspended'));
      expect(codesOf(a)).not.toContain('aeo-valid');
      expect(a.assessment.indicators.find((i: { code: string }) => i.code === 'aeo-suspended').summary).toContain('as it stands for the arrival date 2026-11-26 in Asia/Bishkek');
      // an edit giving its crossing point (written in another letter case) a zone of its own, where it is still the 25th
      const file = join(net.kg.dir, 'risk-rules.json');
      writeFileSync(file, JSON.stringify({ v: 1, border: { timeZone: 'Asia/Bishkek', offices: { 'AK-ZHOL': 'Europe/Samara' } } }));
      const later = new Date(Date.now() + 2_000); // the file's time must differ from the one loaded before
      utimesSync(file, later, later);
      const b = await arrival(net.kg, id, has('aeo-valid'));
      expect(codesOf(b)).not.toContain('aeo-suspended');
      expect(b.assessment.indicators.find((i: { code: string }) => i.code === 'aeo-valid').summary).toContain('as it stands for the arrival date 2026-11-25 in Europe/Samara');
    } finally {
      await net.close();
    }
  }, 30_000);
});
