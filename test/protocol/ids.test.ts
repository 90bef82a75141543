/**
 * Message ids (protocol/ids.ts): UUID version 7, time-ordered, with random bits drawn from a pool of crypto-random
 * bytes filled in one call. No bytes of the pool serve two ids, also across a refill.
 */
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../protocol/ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newMessageId', () => {
  it('is a UUID v7 carrying the millisecond, counting up within it', () => {
    const now = Date.UTC(2026, 10, 24, 12, 0, 0, 123);
    const a = newMessageId(now);
    const b = newMessageId(now);
    expect(a).toMatch(UUID_V7);
    expect(parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
    expect(b > a).toBe(true);
  });

  it('never gives two ids the same random bits, across many pool refills', () => {
    const tails = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = newMessageId(1_700_000_000_000 + i);
      ids.add(id);
      // the last 62 bits (after the variant) are random in every id
      tails.add(id.slice(19));
    }
    expect(ids.size).toBe(5000);
    expect(tails.size).toBe(5000);
  });
});
