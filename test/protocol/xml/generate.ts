/**
 * A bounded, seeded generator of valid message bodies for the XML round-trip tests: ACI (declaration, amendment,
 * cancellation), e-CoO (certificate, status) and AEO (snapshot, change). Deterministic for a seed (mulberry32), it
 * walks the code lists (every country, currency, package kind, unit and transport mode comes up across a few hundred
 * bodies), fills optional fields about half the time, writes arrays of several entries, text at its maximum length in
 * Latin, Cyrillic, Chinese, Mongolian, Georgian and Arabic script (Pashto, Dari) with the characters XML must escape,
 * decimals with many places and large values, and date-times at every whole-hour zone.
 */
import { ISO_3166_ALPHA2 } from '../../../protocol/codes/countries.js';
import { ISO_4217_CURRENCIES } from '../../../protocol/codes/currencies.js';
import { REC21_PACKAGE_KINDS, UNCOUNTED_PACKAGE_KINDS } from '../../../protocol/codes/package-kinds.js';
import { REC19_TRANSPORT_MODES } from '../../../protocol/codes/transport-modes.js';
import { MASS_UNITS, REC20_UNITS, toKilograms, type MassUnit } from '../../../protocol/codes/units.js';
// the bench's seeded PRNG (mulberry32): deterministic, enough to spread values, never for secrets
import { prng } from '../../../examples/risk/traffic.js';
import { fitsDigits } from '../../../protocol/messages/common.js';

type Obj = Record<string, unknown>;

/** Characters by script; `special` are those XML escapes or that sit oddly in text (inner spaces and tabs, U+2028, ZWNJ). */
export const SCRIPTS = {
  latin: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/.,()',
  cyrillic: 'АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяҚқҒғҮүҰұӨөҺһІіЎўҲҳ',
  // with CJK Extension B ideographs (outside the BMP: two UTF-16 units, one character)
  chinese: '中国哈萨克斯坦铁路货物小麦粉面条集装箱乌鲁木齐霍尔果斯阿拉山口有限公司𠮷𡈼𩸽𠀋',
  mongolian: 'ᠮᠣᠩᠭᠣᠯᠤᠯᠤᠰᠤᠯᠠᠭᠠᠨᠪᠠᠭᠠᠲᠤᠷ᠋᠌᠍',
  georgian: 'აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ',
  pashto: 'پښتوکابلګړځښۍېټډړڼ',
  dari: 'دریکابلافغانستانهرات‌گچژ',
  special: ['&', '<', '>', '"', "'", ']]>', '&amp;', '&#x41;', '<![CDATA[', ' ', '  ', '\u00a0', '\u2028', '\u200c', '🚚', '\u180e', '\t'],
} as const;

const SCRIPT_NAMES = ['latin', 'cyrillic', 'chinese', 'mongolian', 'georgian', 'pashto', 'dari'] as const;

export class Gen {
  readonly rand: () => number;
  private readonly cursors = new Map<string, number>();

  constructor(readonly seed: number) {
    this.rand = prng(seed);
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }

  bool(p = 0.5): boolean {
    return this.rand() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  /** The next entry of a code list, round robin across the whole run, so every code comes up. */
  cycle<T>(name: string, list: readonly T[]): T {
    const i = this.cursors.get(name) ?? Math.floor(this.rand() * list.length);
    this.cursors.set(name, i + 1);
    return list[i % list.length]!;
  }

  /** Some visible character of a script (a code point, one or two UTF-16 units). */
  private char(script: (typeof SCRIPT_NAMES)[number]): string {
    return this.pick([...SCRIPTS[script]]);
  }

  /**
   * One-line text of at most `max` characters (code points, as the schemas count them): often exactly `max` (the
   * boundary), in one script or mixed, with special characters inside, never at either end.
   */
  text(max: number, opts: { ascii?: boolean } = {}): string {
    const mode = this.int(0, 3);
    const length = mode === 0 ? max : mode === 1 ? this.int(1, Math.min(max, 8)) : this.int(1, max);
    const scripts = opts.ascii ? (['latin'] as const) : mode === 3 ? SCRIPT_NAMES : [this.pick(SCRIPT_NAMES)];
    let out: string[] = [];
    for (;;) {
      const piece = !opts.ascii && this.bool(0.15) ? this.pick(SCRIPTS.special) : this.char(this.pick(scripts));
      if (out.length + [...piece].length > length) break;
      out.push(...piece);
    }
    // no space at either end, then visible characters of the script up to the length (the boundary stays)
    out = [...out.join('').trim()];
    while (out.length < length) out.push(this.char(scripts[0]));
    return out.join('');
  }

  id(max: number): string {
    return this.bool(0.6) ? this.text(max, { ascii: true }) : this.text(max);
  }

  digits(min: number, max: number): string {
    let s = String(this.int(1, 9));
    const n = this.int(min, max);
    while (s.length < n) s += String(this.int(0, 9));
    return s;
  }

  /**
   * A decimal of the WCO format n..`totalDigits`,`fracDigits` whose shortest JS form keeps to it: every digit
   * before the point (16 nines), the most after it, one of each, or any split in between.
   */
  decimal(totalDigits: number, fracDigits: number, positive = true): number {
    for (;;) {
      const mode = this.int(0, 5);
      const fracMax = Math.min(fracDigits, totalDigits);
      const fracCount = mode === 0 || mode === 2 ? 0 : mode === 1 ? fracMax : this.int(1, fracMax);
      const room = totalDigits - fracCount;
      const intCount = mode === 0 ? totalDigits : mode === 1 || room === 0 ? 0 : this.int(1, room);
      const int = mode === 0 ? '9'.repeat(intCount) : intCount === 0 ? '0' : this.digits(1, intCount);
      const frac = fracCount === 0 ? '' : mode === 1 ? '0'.repeat(fracCount - 1) + '1' : this.digits(1, fracCount);
      const v = Number(frac ? `${int}.${frac}` : int);
      if (fitsDigits(String(v), totalDigits, fracDigits) && (!positive || v > 0)) return v;
    }
  }

  country(): string {
    return this.cycle('country', ISO_3166_ALPHA2);
  }

  aeoId(): string {
    const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let s = this.cycle('aeo-country', ISO_3166_ALPHA2);
    const n = this.pick([1, 15, this.int(1, 15)]);
    for (let i = 0; i < n; i++) s += this.pick([...alnum]);
    return s;
  }

  /** A date-time in 2000-2099 at a whole-hour zone from -14 to +14 or Z, on any real day (29 February too). */
  dateTime(): string {
    const y = this.int(2000, 2099);
    const mo = this.int(1, 12);
    const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    const d = this.bool(0.2) ? days : this.int(1, days);
    const zone = this.int(-15, 14);
    const z = zone === -15 ? 'Z' : `${zone < 0 ? '-' : '+'}${String(Math.abs(zone)).padStart(2, '0')}:00`;
    const p = (n: number): string => String(n).padStart(2, '0');
    return `${y}-${p(mo)}-${p(d)}T${p(this.int(0, 23))}:${p(this.int(0, 59))}:${p(this.int(0, 59))}${z}`;
  }

  /** A calendar date, now and then at the ends of what xs:date and the schema allow (years 0001 and 9999). */
  date(): string {
    const edge = this.int(0, 9);
    if (edge === 0) return this.pick(['0001-01-01', '9999-12-31', '2000-02-29', '2096-02-29']);
    return this.dateTime().slice(0, 10);
  }

  address(): Obj {
    const a: Obj = { line: this.text(70), city: this.text(35) };
    if (this.bool()) a['postcode'] = this.id(9);
    a['country'] = this.country();
    return a;
  }

  party(aeo = this.bool(0.4)): Obj {
    const p: Obj = { name: this.text(70) };
    if (this.bool()) p['id'] = this.id(17);
    if (aeo) p['aeoId'] = this.aeoId();
    p['address'] = this.address();
    return p;
  }

  packages(): Obj {
    const kind = this.cycle('package-kind', Object.keys(REC21_PACKAGE_KINDS));
    const count = UNCOUNTED_PACKAGE_KINDS.has(kind) && this.bool() ? 0 : this.pick([1, 99_999_999, this.int(1, 5000)]);
    const p: Obj = { count, kind };
    if (this.bool()) p['marks'] = this.text(512);
    return p;
  }

  mass(): { value: number; unit: MassUnit } {
    return { value: this.decimal(this.pick([1, 4, 10, 16]), 6), unit: this.cycle('mass-unit', Object.keys(MASS_UNITS) as MassUnit[]) };
  }

  hsCode(): string {
    return this.digits(6, 10).replace(/^./, () => String(this.int(0, 9)));
  }

  aciGoodsItem(sequence: number): Obj {
    const item: Obj = {
      sequence,
      hsCode: this.hsCode(),
      description: this.text(512),
      packages: this.packages(),
      grossMass: this.mass(),
    };
    if (this.bool()) item['netMass'] = this.mass();
    item['customsValue'] = { amount: this.bool(0.1) ? 0 : this.decimal(this.pick([2, 13, 16]), 3, false), currency: this.cycle('currency', ISO_4217_CURRENCIES) };
    item['originCountry'] = this.country();
    if (this.bool()) item['ecooReference'] = this.id(35);
    if (this.bool(0.3)) item['unNumber'] = String(this.int(0, 9999)).padStart(4, '0');
    else if (this.bool(0.2)) item['unNumbers'] = [...new Set(Array.from({ length: this.pick([2, 3, 99]) }, () => String(this.int(0, 9999)).padStart(4, '0')))];
    return item;
  }

  /**
   * Totals the goods items add up to, in the first unit (from the cycled one on) that states them within the
   * schema's digits and tolerance; when none can (huge masses in tonnes), the items' masses are made small.
   */
  private totals(d: Obj): void {
    const items = d['goodsItems'] as { packages: { count: number }; grossMass: { value: number; unit: MassUnit } }[];
    const units = Object.keys(MASS_UNITS) as MassUnit[];
    const first = units.indexOf(this.cycle('total-unit', units));
    for (let attempt = 0; ; attempt++) {
      const kg = items.reduce((n, i) => n + toKilograms(i.grossMass.value, i.grossMass.unit), 0);
      const total = units.map((_, k) => units[(first + k) % units.length]!).map((unit) => ({ value: +(kg / MASS_UNITS[unit]).toFixed(6), unit })).find(({ value, unit }) =>
        value > 0 && /^\d{1,10}(?:\.\d{1,6})?$/.test(String(value)) && Math.abs(toKilograms(value, unit) - kg) <= 1e-6 * Math.max(1, kg));
      if (total) {
        d['totalGrossMass'] = total;
        break;
      }
      if (attempt > 0) throw new Error(`generator: no total for ${kg} kg`);
      for (const item of items) item.grossMass = { value: this.int(1, 99999), unit: 'KGM' };
    }
    // the total is n..8 as well: share the maximum among the items
    const share = Math.floor(99_999_999 / items.length);
    for (const item of items) item.packages.count = Math.min(item.packages.count, share);
    d['totalPackages'] = items.reduce((n, i) => n + i.packages.count, 0);
    d['goodsItemCount'] = items.length;
  }

  aci(kind = this.pick(['declaration', 'declaration', 'amendment', 'cancellation'] as const)): Obj {
    if (kind === 'cancellation') {
      const c: Obj = { kind };
      if (this.bool()) c['functionalReference'] = this.id(35);
      c['reason'] = this.text(512);
      return c;
    }
    const d: Obj = { kind, functionalReference: this.id(35) };
    if (this.bool()) d['declarationId'] = this.id(70);
    d['declarationType'] = this.cycle('declaration-type', ['export', 'transit', 'pre-arrival']);
    if (this.bool()) d['issueDateTime'] = this.dateTime();
    if (this.bool()) d['ucr'] = this.id(35);
    d['declarationOffice'] = this.id(17);
    if (this.bool()) d['exporter'] = this.party();
    d['consignor'] = this.party();
    d['consignee'] = this.party();
    if (this.bool()) d['carrier'] = this.party();
    if (this.bool()) d['notifyParty'] = this.party();
    const m: Obj = { mode: this.cycle('mode', Object.keys(REC19_TRANSPORT_MODES)), id: this.id(35) };
    if (this.bool()) m['idType'] = this.id(17);
    if (this.bool()) m['name'] = this.text(35);
    m['nationality'] = this.country();
    d['borderTransportMeans'] = m;
    d['itinerary'] = Array.from({ length: this.int(1, 5) }, () => this.country());
    if (this.bool()) {
      const exit: Obj = { id: this.id(17) };
      if (this.bool()) exit['borderCrossingPoint'] = this.text(70);
      d['officeOfExit'] = exit;
    }
    const entry: Obj = { id: this.id(17) };
    if (this.bool()) entry['borderCrossingPoint'] = this.text(70);
    d['officeOfEntry'] = entry;
    d['expectedArrival'] = this.dateTime();
    d['containerised'] = this.bool();
    d['transportEquipment'] = Array.from({ length: this.pick([0, 1, 3]) }, () => ({ id: this.id(17), seals: Array.from({ length: this.pick([0, 1, 4]) }, () => this.id(35)) }));
    d['goodsItems'] = Array.from({ length: this.pick([1, 2, 5]) }, (_, i) => this.aciGoodsItem(i + 1));
    this.totals(d);
    if (kind === 'amendment' && this.bool()) d['amendmentReason'] = this.text(512);
    return d;
  }

  ecoo(kind = this.pick(['certificate', 'certificate', 'status'] as const)): Obj {
    if (kind === 'status') {
      const status = this.cycle('ecoo-status', ['issued', 'replaced', 'cancelled']);
      const s: Obj = { kind, certificateNumber: this.id(35), status, statusDate: this.date() };
      if (status === 'replaced' && this.bool()) s['replacementCertificateNumber'] = this.id(35);
      if (this.bool()) s['reason'] = this.text(512);
      return s;
    }
    const preference = this.cycle('preference', ['preferential', 'non-preferential']);
    const c: Obj = { kind, certificateNumber: this.id(35), issueDate: this.date(), issuingCountry: this.country() };
    c['issuingAuthority'] = this.bool() ? { name: this.text(140), id: this.id(17) } : { name: this.text(140) };
    c['preference'] = preference;
    if (preference === 'preferential') c['arrangement'] = this.text(70);
    if (this.bool()) c['certificateForm'] = this.id(17);
    c['exporter'] = this.party();
    if (this.bool()) c['producer'] = this.party();
    c['consignee'] = this.party();
    const t: Obj = { mode: this.cycle('mode', Object.keys(REC19_TRANSPORT_MODES)) };
    if (this.bool()) t['meansId'] = this.id(35);
    if (this.bool()) t['route'] = this.text(256);
    if (this.bool()) t['departureDate'] = this.date();
    c['transport'] = t;
    const invoices = Array.from({ length: this.pick([1, 3]) }, (_, i) => ({ number: `${this.id(30)}#${i}`, date: this.date() }));
    c['invoices'] = invoices;
    c['goodsItems'] = Array.from({ length: this.pick([1, 2, 4]) }, (_, i) => {
      const item: Obj = {
        sequence: i + 1,
        hsCode: this.hsCode(),
        description: this.text(512),
        quantity: { value: this.decimal(this.pick([1, 10, 16]), 6), unit: this.cycle('unit', REC20_UNITS) },
      };
      if (this.bool()) item['grossMass'] = this.mass();
      if (this.bool()) item['packages'] = this.packages();
      item['originCriterion'] = this.text(35);
      item['originCountry'] = this.country();
      if (this.bool()) item['invoiceNumber'] = this.pick(invoices).number;
      return item;
    });
    const sig: Obj = { name: this.text(70) };
    if (this.bool()) sig['position'] = this.text(70);
    sig['place'] = this.text(35);
    c['signatory'] = sig;
    if (this.bool()) c['remarks'] = this.text(512);
    return c;
  }

  aeoOperator(): Obj {
    const validFrom = this.date();
    const o: Obj = {
      aeoId: this.aeoId(),
      nationalTraderId: this.id(17),
      legalName: this.text(256),
      address: this.address(),
      programme: this.cycle('programme', ['security', 'simplifications', 'both']),
      status: this.cycle('aeo-status', ['valid', 'suspended', 'revoked']),
      statusDate: this.bool() ? validFrom : '9999-12-31',
      validFrom,
    };
    if (this.bool()) o['validUntil'] = this.bool() ? validFrom : '9999-12-31';
    return o;
  }

  aeo(kind = this.pick(['snapshot', 'change'] as const)): Obj {
    if (kind === 'change') {
      const c: Obj = { kind, operator: this.aeoOperator() };
      if (this.bool()) c['reason'] = this.text(512);
      return c;
    }
    const s: Obj = { kind, asOf: this.dateTime() };
    if (this.bool()) {
      const of = this.int(1, 100);
      s['part'] = { number: this.int(1, of), of };
    }
    const seen = new Set<string>();
    s['operators'] = Array.from({ length: this.pick([0, 1, 3, 6]) }, () => this.aeoOperator()).filter((o) => {
      if (seen.has(o['aeoId'] as string)) return false;
      seen.add(o['aeoId'] as string);
      return true;
    });
    return s;
  }
}
