/**
 * The risk engine against a real SQLite store (no network): rows are inserted as the receiver inserts them,
 * then projected and assessed in the same steps the running node takes. The wire tests cover each indicator
 * end to end; these pin the projection rules (versions, cancellation, catch-up) and the registry dates.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RiskEngine } from '../../../node/risk/engine.js';
import { RiskFeed } from '../../../node/risk/feed.js';
import { ArrivalQueries } from '../../../node/risk/query.js';
import { defaultRules, loadRules } from '../../../node/risk/rules.js';
import { Store } from '../../../node/store/store.js';
import { certificate, receive, road, snapshot, tempDir, variant } from './fixtures.js';

let dir: string;
let store: Store;
let engine: RiskEngine;
let queries: ArrivalQueries;

/** The engine and its queries over the store, with the built-in rules unless a rules document is given (read as a rules file is). */
function build(rules?: Record<string, unknown>): void {
  const file = join(dir, 'risk-rules.json');
  if (rules) writeFileSync(file, JSON.stringify({ v: 1, ...rules }));
  const loaded = rules ? loadRules(file) : defaultRules();
  engine = new RiskEngine({ store, feed: new RiskFeed(store.db), rules: () => loaded, clock: () => Date.parse('2026-11-23T08:00:00Z'), log: () => undefined });
  queries = new ArrivalQueries(store.db, engine.consignments);
}

function run(): number {
  let events = 0;
  for (let more = true; more; ) {
    const r = store.db.transaction(() => engine.step())();
    events += r.events.length;
    more = r.more;
  }
  return events;
}

const codes = (id: string): string[] => queries.detail(id).indicators.map((i) => i.code);

beforeEach(() => {
  dir = tempDir('gnc-risk-');
  store = Store.open(dir);
  build();
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('risk engine on a real store', () => {
  it('projects a received declaration into one active consignment at its border crossing point', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road() });
    run();
    const { rows } = queries.list({ borderCrossingPoint: 'ak-zhol', limit: 10 });
    expect(rows.map((r) => r.root_id)).toEqual([id]);
    expect(queries.detail(id)).toMatchObject({ status: 'active', version: 1, officeOfEntry: { id: 'KGAKZ001', borderCrossingPoint: 'Ak-Zhol' } });
  });

  it('matches a border crossing point and an office of entry in another letter case of Cyrillic and Mongolian script', () => {
    const at = (officeOfEntry: Record<string, string>) => receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => (d.officeOfEntry = officeOfEntry)) });
    const korday = at({ id: 'KZКОР001', borderCrossingPoint: 'Қордай' }); // Kazakh Cyrillic
    const zamyn = at({ id: 'MNЗАМ001', borderCrossingPoint: 'Замын-Үүд' }); // Mongolian Cyrillic
    const mongol = at({ id: 'MNBIC001', borderCrossingPoint: 'ᠵᠠᠮᠢᠨ ᠡᠭᠦᠳᠡ' }); // Mongolian script: no letter case
    run();
    const ids = (f: { borderCrossingPoint?: string; officeOfEntry?: string }) => queries.list({ ...f, limit: 10 }).rows.map((r) => r.root_id);
    expect(ids({ borderCrossingPoint: 'ҚОРДАЙ' })).toEqual([korday]);
    expect(ids({ borderCrossingPoint: 'замын-үүд' })).toEqual([zamyn]);
    expect(ids({ borderCrossingPoint: 'ЗАМЫН-ҮҮД' })).toEqual([zamyn]);
    expect(ids({ borderCrossingPoint: 'ᠵᠠᠮᠢᠨ ᠡᠭᠦᠳᠡ' })).toEqual([mongol]);
    expect(ids({ officeOfEntry: 'kzкор001' })).toEqual([korday]);
    expect(ids({ officeOfEntry: 'Mnзам001' })).toEqual([zamyn]);
    // Unicode forms too (NFKC): "Й" composed in the filter, decomposed in the declaration; a full-width office id
    const maikap = at({ id: 'KZMAI001', borderCrossingPoint: 'Майкапшагай'.normalize('NFD') });
    run();
    expect(ids({ borderCrossingPoint: 'МАЙКАПШАГАЙ' })).toEqual([maikap]);
    expect(ids({ officeOfEntry: 'ＭＮＢＩＣ００１' })).toEqual([mongol]);
    // the list shows the names as the partner wrote them
    expect(queries.detail(zamyn).officeOfEntry).toEqual({ id: 'MNЗАМ001', borderCrossingPoint: 'Замын-Үүд' });
  });

  it('matches a watched route by border crossing point and office in another letter case or Unicode form of Cyrillic', () => {
    // the partner's system wrote "й" decomposed (и + combining breve, NFD); the rules file has it composed
    const maikapchagai = 'Майкапшагай'.normalize('NFD');
    build({ watch: { routes: [{ borderCrossingPoint: 'МАЙКАПШАГАЙ', weight: 2 }, { officeOfEntry: 'kzкор001', weight: 1 }] } });
    const maikap = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => (d.officeOfEntry = { id: 'KZMAI001', borderCrossingPoint: maikapchagai })) });
    const korday = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => (d.officeOfEntry = { id: 'KZКОР001', borderCrossingPoint: 'Қордай' })) });
    run();
    const rulesOf = (id: string) => queries.detail(id).assessment.indicators.flatMap((i) => (i.code === 'local-route' ? [i.rule] : []));
    expect(rulesOf(maikap)).toEqual(['watch.routes[0]']);
    expect(rulesOf(korday)).toEqual(['watch.routes[1]']);
  });

  it('makes the amendment the version in force and keeps the original in the history', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road(), created: '2026-11-23T07:00:00.000Z' });
    const amended = variant(road(), (d) => {
      d.kind = 'amendment';
      d.officeOfEntry = { id: 'KGKAR001', borderCrossingPoint: 'Karasu' };
    });
    const am = receive(store, { partner: 'KZ', type: 'aci', body: amended, ref: id, created: '2026-11-23T07:30:00.000Z' });
    run();
    const d = queries.detail(id);
    expect(d).toMatchObject({ version: 2, currentMessageId: am, officeOfEntry: { borderCrossingPoint: 'Karasu' } });
    expect(d.history.map((h) => [h.kind, h.current])).toEqual([['declaration', false], ['amendment', true]]);
    expect(queries.list({ borderCrossingPoint: 'Ak-Zhol', limit: 10 }).rows).toHaveLength(0);
  });

  it('keeps the latest created amendment in force when an older one arrives after it', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road(), created: '2026-11-23T07:00:00.000Z' });
    const newer = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => (d.kind = 'amendment')), ref: id, created: '2026-11-23T07:40:00.000Z' });
    receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => (d.kind = 'amendment')), ref: id, created: '2026-11-23T07:20:00.000Z' });
    run();
    expect(queries.detail(id)).toMatchObject({ version: 3, currentMessageId: newer });
  });

  it('marks a cancelled consignment and lists it only with includeCancelled', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road() });
    receive(store, { partner: 'KZ', type: 'aci', body: { kind: 'cancellation', reason: 'Withdrawn by the exporter' }, ref: id });
    run();
    expect(queries.list({ limit: 10 }).rows).toHaveLength(0);
    const all = queries.list({ includeCancelled: true, limit: 10 }).rows;
    expect(all.map((r) => r.status)).toEqual(['cancelled']);
    expect(queries.detail(id).cancellation?.reason).toBe('Withdrawn by the exporter');
  });

  it('recomputes a declaration when its certificate arrives afterwards', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road() });
    run();
    expect(codes(id)).toContain('preferential-origin-without-ecoo');
    receive(store, { partner: 'KZ', type: 'ecoo', body: certificate() });
    expect(run()).toBe(1);
    expect(codes(id)).not.toContain('preferential-origin-without-ecoo');
    expect(codes(id)).toContain('ecoo-confirmed');
  });

  it('ends a certificate validity ecoo.validityMonths after its issue date, on the month end when the month is shorter', () => {
    build({ ecoo: { validityMonths: 3 } });
    const issued = (n: string, issueDate: string) => {
      receive(store, { partner: 'KZ', type: 'ecoo', body: variant(certificate(), (c) => Object.assign(c, { certificateNumber: n, issueDate })) });
      return receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => { for (const it of d.goodsItems) it.ecooReference = n; }) });
    };
    // the road declaration is expected on 2026-11-25: 31 August + 3 months is 30 November, 24 August + 3 months 24 November
    const monthEnd = issued('KZ-V-1', '2026-08-31');
    const ended = issued('KZ-V-2', '2026-08-24');
    run();
    expect(codes(monthEnd)).toContain('ecoo-confirmed');
    expect(codes(monthEnd)).not.toContain('ecoo-date-mismatch');
    const date = queries.detail(ended).assessment.indicators.find((i) => i.code === 'ecoo-date-mismatch');
    expect(date?.summary).toBe('Certificate KZ-V-2, issued on 2026-08-24, was valid 3 months, to 2026-11-24: 1 day before the expected arrival (2026-11-25)');
    expect(codes(ended)).not.toContain('ecoo-confirmed');
  });

  it('lowers the score less for a certificate whose quantities were compared in part than for one compared in full', () => {
    build({ weights: { 'ecoo-confirmed': -3 } });
    const litres = variant(certificate(), (c) => Object.assign(c, { certificateNumber: 'KZ-P-1' }));
    for (const k of ['grossMass', 'packages']) delete litres['goodsItems'][2][k];
    receive(store, { partner: 'KZ', type: 'ecoo', body: litres });
    receive(store, { partner: 'KZ', type: 'ecoo', body: variant(certificate(), (c) => Object.assign(c, { certificateNumber: 'KZ-P-2' })) });
    const citing = (n: string) => receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => { for (const it of d.goodsItems) it.ecooReference = n; }) });
    const partly = citing('KZ-P-1');
    const full = citing('KZ-P-2');
    run();
    const weights = (id: string) => queries.detail(id).indicators.map((i) => [i.code, i.weight]);
    expect(weights(partly)).toEqual([['aeo-unverified', 0], ['ecoo-partly-confirmed', -1]]);
    expect(weights(full)).toEqual([['aeo-unverified', 0], ['ecoo-confirmed', -3]]);
    expect(queries.detail(partly).assessment.explanation).toContain('ecoo-partly-confirmed -1');
  });

  it('keeps a cancelled certificate cancelled when an older status (replaced) arrives after the cancellation', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road() });
    const cert = receive(store, { partner: 'KZ', type: 'ecoo', body: certificate() });
    const number = certificate()['certificateNumber'];
    const cancelled = receive(store, { partner: 'KZ', type: 'ecoo', ref: cert, body: { kind: 'status', certificateNumber: number, status: 'cancelled', statusDate: '2026-11-20', reason: 'Issued in error' } });
    run();
    receive(store, { partner: 'KZ', type: 'ecoo', ref: cert, body: { kind: 'status', certificateNumber: number, status: 'replaced', statusDate: '2026-11-10', replacementCertificateNumber: 'KZ-ST1-2026-0048299' } });
    run();
    expect(codes(id)).toContain('ecoo-cancelled');
    expect(codes(id)).not.toContain('ecoo-replaced');
    expect(queries.detail(id).level).toBe('high');
    expect(engine.ecoo.find('KZ', number)).toMatchObject({ status: 'cancelled', status_message_id: cancelled, status_date: '2026-11-20', replacement: null });
  });

  it('reads the AEO register on the arrival date in border.timeZone, the expected arrival instant there, and as written without it', () => {
    const shymkent = snapshot()['operators'][2];
    receive(store, { partner: 'KZ', type: 'aeo', body: snapshot() });
    receive(store, { partner: 'KZ', type: 'aeo', body: { kind: 'change', operator: { ...shymkent, status: 'suspended', statusDate: '2026-11-26' }, reason: 'Under investigation' } });
    // 23:30 at +04:00 on the 25th is 00:30 on the 26th in Almaty (+05:00 all year since 2024)
    const id = receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => {
      d.expectedArrival = '2026-11-25T23:30:00+04:00';
      for (const p of [d.consignor, d.exporter]) Object.assign(p, { aeoId: shymkent.aeoId, id: shymkent.nationalTraderId });
      for (const it of d.goodsItems) delete it.ecooReference;
    }) });
    const aeo = () => queries.detail(id).assessment.indicators.filter((i) => i.code.startsWith('aeo-')).map((i) => [i.code, i.summary]);
    run();
    expect(aeo()).toEqual([['aeo-valid', 'Consignor and exporter KZAEO060140009876 is a valid AEO in the KZ register as it stands for the arrival date 2026-11-25']]);
    // the rules change: the consignment is reassessed with the border's date
    build({ border: { timeZone: 'Asia/Almaty' } });
    engine.rulesChanged();
    expect(run()).toBe(1);
    expect(aeo()).toEqual([['aeo-suspended', 'Consignor and exporter KZAEO060140009876 is an AEO whose status was suspended in the KZ register as it stands for the arrival date 2026-11-26 in Asia/Almaty']]);
  });

  it('compares e-CoO dates with the arrival date in border.timeZone, and with the date as written without it', () => {
    receive(store, { partner: 'KZ', type: 'ecoo', body: variant(certificate(), (c) => (c.issueDate = '2026-11-26')) });
    const at = (ref: string, expectedArrival: string) => receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => Object.assign(d, { functionalReference: ref, expectedArrival })) });
    const almatyNextDay = at('TZ-1', '2026-11-25T23:30:00+04:00'); // 2026-11-26 00:30 in Almaty
    const almatySameDay = at('TZ-2', '2026-11-26T00:30:00+06:00'); // 2026-11-25 23:30 in Almaty
    const dates = (id: string) => queries.detail(id).assessment.indicators.filter((i) => i.code === 'ecoo-date-mismatch').map((i) => i.summary);
    run();
    // it departed 2026-11-24: issued retrospectively where it was not issued after the arrival
    const late = (id: string) => codes(id).includes('ecoo-issued-retrospectively');
    expect(dates(almatyNextDay)).toEqual(['Certificate KZ-ST1-2026-0048213 was issued on 2026-11-26, 1 day after the expected arrival (2026-11-25)']);
    expect(late(almatyNextDay)).toBe(false);
    expect(dates(almatySameDay)).toEqual([]);
    expect(late(almatySameDay)).toBe(true);
    build({ border: { timeZone: 'Asia/Almaty' } });
    engine.rulesChanged();
    run();
    expect(dates(almatyNextDay)).toEqual([]);
    expect(codes(almatyNextDay)).toContain('ecoo-confirmed');
    expect(late(almatyNextDay)).toBe(true);
    expect(dates(almatySameDay)).toEqual(['Certificate KZ-ST1-2026-0048213 was issued on 2026-11-26, 1 day after the expected arrival (2026-11-25 in Asia/Almaty)']);
    expect(late(almatySameDay)).toBe(false);
  });

  it('does not count a negated endorsement as issued retrospectively (English not/never/no/n\'t, Russian не/нет), but a plain one in either language', () => {
    // departing 2026-11-24 (as in the example), issued 2026-11-25: on the day of the declared arrival
    const late = (n: number, remarks: string): string => {
      const number = `KZ-ST1-2026-R${n}`;
      receive(store, { partner: 'KZ', type: 'ecoo', body: variant(certificate(), (c) => Object.assign(c, { certificateNumber: number, issueDate: '2026-11-25', remarks })) });
      return receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => {
        d.functionalReference = `RETRO-${n}`;
        for (const it of d.goodsItems) it.ecooReference = number;
      }) });
    };
    const negated = ['Not issued retrospectively', 'NOT ISSUED RETROSPECTIVELY.', 'never issued retrospectively', 'No issued-retrospectively endorsement',
      'Certificate wasn\'t issued retrospectively', 'не выдан впоследствии', 'НЕ ВЫДАН ВПОСЛЕДСТВИИ', 'Нет: выдан впоследствии', 'NOTISSUED RETROSPECTIVELY'].map((r, i) => late(i, r));
    const endorsed = ['Issued retrospectively', 'ISSUED  RETROSPECTIVELY!', 'Выдан впоследствии', 'Goods comply with the CIS Rules (2009). Выдан  впоследствии.',
      'Reissued retrospectively', 'Not a duplicate. Issued retrospectively', 'not issued retrospectively; correction: issued retrospectively'].map((r, i) => late(100 + i, r));
    run();
    const retro = (id: string) => codes(id).includes('ecoo-issued-retrospectively');
    expect(negated.map(retro)).toEqual(negated.map(() => true));
    expect(endorsed.map(retro)).toEqual(endorsed.map(() => false));
    for (const id of [...negated, ...endorsed]) expect(codes(id)).toContain('ecoo-confirmed');
  });

  describe('with a zone per office of entry (Mongolia: Asia/Hovd, UTC+7, in the western aimags; Asia/Ulaanbaatar, UTC+8)', () => {
    // 16:30 UTC on the 25th is 23:30 on the 25th at a Hovd-zone office and 00:30 on the 26th at an Ulaanbaatar-zone one
    const expectedArrival = '2026-11-25T16:30:00Z';
    // offices written in another letter case (Cyrillic) and as full-width compatibility characters than in the declarations
    const border = { timeZone: 'Asia/Ulaanbaatar', offices: { 'ЦАГААННУУР': 'Asia/Hovd', 'ｍｎｂｕｌ００１': 'Asia/Hovd' } };
    const tsagaannuur = { id: 'MNTSG001', borderCrossingPoint: 'Цагааннуур' }; // Bayan-Ölgii, listed by crossing point
    const bulgan = { id: 'MNBUL001', borderCrossingPoint: 'Bulgan' }; // Khovd, listed by office id
    const zamynUud = { id: 'MNZAM001', borderCrossingPoint: 'Замын-Үүд' }; // Dornogovi, not listed: border.timeZone

    it('reads the AEO register on the arrival date at the office: the day before in Hovd than in Ulaanbaatar', () => {
      const shymkent = snapshot()['operators'][2];
      receive(store, { partner: 'KZ', type: 'aeo', body: snapshot() });
      receive(store, { partner: 'KZ', type: 'aeo', body: { kind: 'change', operator: { ...shymkent, status: 'suspended', statusDate: '2026-11-26' }, reason: 'Under investigation' } });
      const at = (ref: string, officeOfEntry: Record<string, string>) => receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => {
        Object.assign(d, { functionalReference: ref, expectedArrival, officeOfEntry });
        for (const p of [d.consignor, d.exporter]) Object.assign(p, { aeoId: shymkent.aeoId, id: shymkent.nationalTraderId });
        for (const it of d.goodsItems) delete it.ecooReference;
      }) });
      const ids = [at('MN-1', tsagaannuur), at('MN-2', bulgan), at('MN-3', zamynUud)];
      const aeo = (id: string) => queries.detail(id).assessment.indicators.filter((i) => i.code.startsWith('aeo-')).map((i) => [i.code, i.summary]);
      run();
      build({ border });
      engine.rulesChanged();
      run();
      const who = 'Consignor and exporter KZAEO060140009876';
      expect(ids.map(aeo)).toEqual([
        [['aeo-valid', `${who} is a valid AEO in the KZ register as it stands for the arrival date 2026-11-25 in Asia/Hovd`]],
        [['aeo-valid', `${who} is a valid AEO in the KZ register as it stands for the arrival date 2026-11-25 in Asia/Hovd`]],
        [['aeo-suspended', `${who} is an AEO whose status was suspended in the KZ register as it stands for the arrival date 2026-11-26 in Asia/Ulaanbaatar`]],
      ]);
    });

    it('compares e-CoO dates with the arrival date at the office', () => {
      receive(store, { partner: 'KZ', type: 'ecoo', body: variant(certificate(), (c) => (c.issueDate = '2026-11-26')) });
      const at = (ref: string, officeOfEntry: Record<string, string>) => receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => Object.assign(d, { functionalReference: ref, expectedArrival, officeOfEntry })) });
      const hovd = at('MN-4', tsagaannuur);
      const ulaanbaatar = at('MN-5', zamynUud);
      const dates = (id: string) => queries.detail(id).assessment.indicators.filter((i) => i.code === 'ecoo-date-mismatch').map((i) => i.summary);
      build({ border });
      run();
      expect(dates(hovd)).toEqual(['Certificate KZ-ST1-2026-0048213 was issued on 2026-11-26, 1 day after the expected arrival (2026-11-25 in Asia/Hovd)']);
      expect(dates(ulaanbaatar)).toEqual([]);
      expect(codes(ulaanbaatar)).toContain('ecoo-confirmed');
    });
  });

  it('catches up from its cursor after a restart without applying a message twice', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road() });
    run();
    receive(store, { partner: 'KZ', type: 'aeo', body: snapshot() });
    build();
    run();
    expect(queries.detail(id)).toMatchObject({ version: 1, level: 'low', score: 1 });
    expect(codes(id)).toEqual(expect.arrayContaining(['aeo-valid', 'preferential-origin-without-ecoo']));
  });

  it('answers AEO validity on a date from the recorded history and infers it before the first record', () => {
    receive(store, { partner: 'KZ', type: 'aeo', body: snapshot() });
    run();
    const revoked = 'KZAEO010240005678';
    expect(engine.aeo.validityAt('KZ', revoked, '2026-06-01')).toMatchObject({ valid: false, status: 'revoked', basis: 'recorded' });
    expect(engine.aeo.validityAt('KZ', revoked, '2025-01-10')).toMatchObject({ valid: true, status: 'valid', basis: 'inferred' });
    expect(engine.aeo.validityAt('KZ', revoked, '2021-01-10')).toMatchObject({ valid: false, status: 'not-yet-valid' });
    expect(engine.aeo.validityAt('KZ', 'KZAEO150940012345', '2031-01-01')).toMatchObject({ valid: false, status: 'expired' });
  });

  it('marks operators a later snapshot no longer lists as removed from that date', () => {
    receive(store, { partner: 'KZ', type: 'aeo', body: snapshot() });
    const later = variant(snapshot(), (s) => {
      s.asOf = '2026-11-24T06:00:00+05:00';
      s.operators = s.operators.slice(1);
    });
    receive(store, { partner: 'KZ', type: 'aeo', body: later });
    run();
    expect(engine.aeo.get('KZ', 'KZAEO981140001234')?.listed).toBe(0);
    expect(engine.aeo.validityAt('KZ', 'KZAEO981140001234', '2026-11-23')).toMatchObject({ valid: true });
    expect(engine.aeo.validityAt('KZ', 'KZAEO981140001234', '2026-11-24')).toMatchObject({ valid: false, status: 'removed' });
  });

  it('pages through arrivals in expected-arrival order with the cursor', () => {
    for (let h = 0; h < 5; h++) receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => (d.expectedArrival = `2026-11-25T1${h}:00:00+06:00`)) });
    run();
    const first = queries.list({ limit: 2 });
    const second = queries.list({ limit: 2, cursor: first.nextCursor! });
    const third = queries.list({ limit: 2, cursor: second.nextCursor! });
    const hours = [...first.rows, ...second.rows, ...third.rows].map((r) => new Date(r.expected_arrival).getUTCHours());
    expect(hours).toEqual([4, 5, 6, 7, 8]);
    expect(third.nextCursor).toBeNull();
  });

  it('filters by HS prefix, trader, container and transport means', () => {
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road() });
    receive(store, { partner: 'KZ', type: 'aci', body: variant(road(), (d) => (d.goodsItems = [{ ...d.goodsItems[0], hsCode: '8471300000' }])) });
    run();
    expect(queries.list({ hsPrefix: '1902', limit: 10 }).rows.map((r) => r.root_id)).toEqual([id]);
    expect(queries.list({ hsPrefix: '1902', from: '2026-11-25T00:00:00Z', to: '2026-11-26T00:00:00Z', limit: 10 }).rows.map((r) => r.root_id)).toEqual([id]);
    expect(queries.list({ trader: '02304201910123', limit: 10 }).rows).toHaveLength(2);
    expect(queries.list({ container: '4512ab02', limit: 10 }).rows).toHaveLength(2);
    expect(queries.list({ transportMeans: 'NOPE', limit: 10 }).rows).toHaveLength(0);
  });

  it('projects again what a failed step rolled back, in the same process', () => {
    const feed = new RiskFeed(store.db);
    let fail = true;
    const record = feed.record.bind(feed);
    feed.record = (...args: Parameters<RiskFeed['record']>) => {
      // what better-sqlite3 throws on a full disk: a failure of the database, which fails the step as a whole
      if (fail) throw Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
      return record(...args);
    };
    engine = new RiskEngine({ store, feed, rules: defaultRules, clock: () => Date.parse('2026-11-23T08:00:00Z'), log: () => undefined });
    const id = receive(store, { partner: 'KZ', type: 'aci', body: road() });
    // the step's transaction (a group-commit savepoint in the node) rolls back: nothing of it was stored
    expect(() => store.db.transaction(() => engine.step())()).toThrow('disk full');
    expect(engine.consignments.find(id)).toBeUndefined();
    fail = false;
    run();
    expect(engine.consignments.find(id)).toMatchObject({ root_id: id, status: 'active' });
  });
});
