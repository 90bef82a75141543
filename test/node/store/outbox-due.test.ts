/**
 * What the dispatcher's pump reads as due for a partner (OutboxRepo.due): rows on the wire ('sending') are not, nor
 * rows waiting out a backoff, nor rows of another partner; a queued row behind those is, as is a retrying one whose
 * time has come. `due` first asks whether anything is due at all, and answers the full query only then.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../node/store/store.js';
import { tempDir } from '../../helpers/network.js';

let store: Store | undefined;
let dir: string | undefined;

afterEach(() => {
  store?.db.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});

const NOW = Date.parse('2026-03-01T00:00:00Z');

function queue(s: Store, id: string, partner: string, nextAt = NOW, ref: string | null = null): number {
  const seq = s.messages.insert({
    id, direction: 'out', partner, type: 'aci', kind: ref ? 'amendment' : 'declaration', ref, purpose: null, agreement: 'a@1', created: new Date(NOW).toISOString(),
    status: 'queued', jws: Buffer.from(`{"protected":"${id}"}`), sha256: 'x'.repeat(64), body: '{}', removed: null, retainUntil: null,
  }, NOW);
  s.outbox.add(seq, partner, nextAt, NOW + 86_400_000, 'aci');
  return seq;
}

describe('outbox rows due for a partner', () => {
  it('leaves out rows on the wire, in backoff, of another partner or waiting for their original, and finds a due row behind them', () => {
    dir = tempDir('gnc-due-');
    const s = (store = Store.open(dir));
    const due = (skip: number[] = []): number[] => s.outbox.due('KG', NOW, 10, new Set(skip)).map((r) => r.seq);
    const onWire = s.db.transaction(() => Array.from({ length: 64 }, (_, i) => {
      const seq = queue(s, `w${i}`, 'KG');
      s.messages.markSending(seq, NOW);
      s.outbox.markSent(seq, 0);
      return seq;
    }))();
    s.outbox.transactionEnded(true);
    const later = queue(s, 'later', 'KG', NOW + 1_000);
    queue(s, 'other', 'UZ');
    expect(due()).toEqual([]);
    // an amendment of a message still on the wire waits for it
    const amendment = queue(s, 'amend', 'KG', NOW, 'w0');
    expect(due()).toEqual([]);
    const next = queue(s, 'next', 'KG');
    expect(due()).toEqual([next]);
    expect(due([next])).toEqual([]);
    s.messages.setStatus(onWire[0]!, 'delivered', null, null, NOW);
    s.outbox.remove(onWire[0]!);
    expect(due()).toEqual([amendment, next]);
    // the row in backoff once its time has come, after the rows due before it
    expect(s.outbox.due('KG', NOW + 1_000, 10, new Set()).map((r) => r.seq)).toEqual([amendment, next, later]);
  });
});
