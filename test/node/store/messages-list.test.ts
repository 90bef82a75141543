/**
 * GET /v1/messages' query on a real store, on both sides of SINCE_NARROW_ROWS: a narrow `since` window is read
 * through messages_created and sorted, a wide one walked back from the newest row. Both must give exactly the
 * page a plain filter over all rows gives, with and without the cursor and the other filters.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_SELECT, SINCE_NARROW_ROWS, type MessageFilter, type MessageRow } from '../../../node/store/messages.js';
import { Store } from '../../../node/store/store.js';
import { tempDir } from '../../helpers/network.js';

const TOTAL = SINCE_NARROW_ROWS + 400;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const at = (i: number): string => new Date(T0 + i * 60_000).toISOString();

let dir: string;
let store: Store;
let all: MessageRow[];

beforeAll(() => {
  dir = tempDir('gnc-list-');
  store = Store.open(dir);
  store.db.transaction(() => {
    for (let i = 0; i < TOTAL; i++) {
      // created mostly in storage order, with some arriving late (a partner's clock, a retry)
      const created = at(i % 97 === 0 ? i - 30 : i);
      store.messages.insert({
        id: `m-${i}`, direction: i % 3 === 0 ? 'out' : 'in', partner: i % 2 ? 'KG' : 'CN', type: 'aci', kind: 'declaration', ref: null, purpose: null, agreement: null,
        created, status: 'accepted', jws: new Uint8Array([1]), sha256: 'x', body: '{}', removed: null, retainUntil: null,
      });
    }
  })();
  all = store.db.prepare(`${MESSAGE_SELECT} ORDER BY m.seq DESC`).all() as MessageRow[];
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The page by definition: every row, filtered in JavaScript. */
function expected(f: MessageFilter): number[] {
  return all
    .filter((r) => (f.direction === undefined || r.direction === f.direction) && (f.partner === undefined || r.partner === f.partner)
      && (f.since === undefined || r.created >= f.since) && (f.until === undefined || r.created < f.until) && (f.before === undefined || r.seq < f.before))
    .slice(0, f.limit)
    .map((r) => r.seq);
}

describe('listing messages', () => {
  it.each<[string, MessageFilter]>([
    ['a narrow since window', { since: at(TOTAL - 40), limit: 25 }],
    ['a narrow window of one direction', { since: at(TOTAL - 40), direction: 'in', limit: 25 }],
    ['a narrow window, second page', { since: at(TOTAL - 40), before: TOTAL - 20, limit: 25 }],
    ['a wide since window', { since: at(10), limit: 25 }],
    ['a wide window of one direction', { since: at(10), direction: 'out', limit: 25 }],
    ['a wide window, deep page', { since: at(10), before: 300, limit: 25 }],
    ['a wide window, its last page', { since: at(TOTAL - SINCE_NARROW_ROWS - 100), before: TOTAL - SINCE_NARROW_ROWS - 90, limit: 25 }],
    ['a window closed on both sides', { since: at(500), until: at(520), limit: 50 }],
    ['a partner since', { since: at(10), partner: 'KG', limit: 25 }],
  ])('gives the right page for %s', (_what, f) => {
    expect(store.messages.list(f).map((r) => r.seq)).toEqual(expected(f));
  });
});
