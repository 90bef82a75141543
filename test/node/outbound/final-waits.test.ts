import { describe, expect, it } from 'vitest';
import { FinalWaits } from '../../../node/outbound/final-waits.js';

const LONG_MS = 60_000;

describe('FinalWaits', () => {
  it('wakes only the waiters of the message that became final, and forgets them', async () => {
    const w = new FinalWaits();
    const woke: number[] = [];
    const waits = [1, 2, 2, 3].map((seq) => w.wait(seq, LONG_MS, () => false).then(() => woke.push(seq)));
    expect(w.size).toBe(3);
    w.settle(2);
    await Promise.all([waits[1], waits[2]]);
    expect(woke).toEqual([2, 2]);
    expect(w.size).toBe(2);
    w.settle(1);
    w.settle(3);
    await Promise.all(waits);
    expect(woke.sort()).toEqual([1, 2, 2, 3]);
    expect(w.size).toBe(0);
  });

  it('resolves at once when the message is already final, without registering', async () => {
    const w = new FinalWaits();
    await w.wait(7, LONG_MS, () => true);
    expect(w.size).toBe(0);
  });

  it('gives up after the wait and leaves nothing behind', async () => {
    const w = new FinalWaits();
    let settled = false;
    const p = w.wait(9, 20, () => false).then(() => (settled = true));
    expect(w.size).toBe(1);
    await p;
    expect(settled).toBe(true);
    expect(w.size).toBe(0);
    w.settle(9); // a late final status is harmless
  });

  it('releases every waiter at once when the node stops', async () => {
    const w = new FinalWaits();
    const waits = [4, 5, 5].map((seq) => w.wait(seq, LONG_MS, () => false));
    w.close();
    await Promise.all(waits);
    expect(w.size).toBe(0);
  });

  it('holds no wait that begins after the node started stopping', async () => {
    const w = new FinalWaits();
    w.close();
    await w.wait(6, LONG_MS, () => false);
    expect(w.size).toBe(0);
  });

  it('holds a thousand waiters without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (e: Error): void => void warnings.push(e.name);
    process.on('warning', onWarning);
    try {
      const w = new FinalWaits();
      const waits = Array.from({ length: 1000 }, (_, i) => w.wait(i, LONG_MS, () => false));
      for (let i = 0; i < 1000; i++) w.settle(i);
      await Promise.all(waits);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
