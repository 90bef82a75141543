/** LogBudget: lines a peer can provoke at will are capped per key and window, and the cap is reported. */
import { describe, expect, it } from 'vitest';
import { LogBudget } from '../../node/log.js';

describe('LogBudget', () => {
  it('admits perWindow lines per key, drops the rest, and says how many on the first line of the next window', () => {
    let now = 1_000;
    const budget = new LogBudget(3, 60_000, () => now);
    const admitted = Array.from({ length: 10 }, (_, i) => budget.admit('KZ', `line ${i}`));
    expect(admitted).toEqual(['line 0', 'line 1', 'line 2', ...Array(7).fill(undefined)]);
    now += 59_999;
    expect(budget.admit('KZ', 'still this window')).toBeUndefined();
    now += 1;
    expect(budget.admit('KZ', 'next window')).toBe('next window (8 more such lines about KZ were not logged after the last one logged)');
    expect(budget.admit('KZ', 'again')).toBe('again');
  });

  it('keeps keys apart: one partner exhausting its budget does not silence another', () => {
    const budget = new LogBudget(1, 60_000, () => 0);
    expect(budget.admit('KZ', 'a')).toBe('a');
    expect(budget.admit('KZ', 'b')).toBeUndefined();
    expect(budget.admit('untrusted peers', 'c')).toBe('c');
  });

  it('forgets quiet keys once many are held, but keeps the count of a key that had lines dropped', () => {
    let now = 0;
    const budget = new LogBudget(1, 10, () => now);
    budget.admit('noisy', 'x');
    budget.admit('noisy', 'dropped');
    for (let i = 0; i < 1000; i++) budget.admit(`k${i}`, 'x');
    now = 20;
    budget.admit('new key', 'x'); // sweeps the quiet keys
    expect(budget.admit('noisy', 'back')).toBe('back (1 more such lines about noisy were not logged after the last one logged)');
  });
});
