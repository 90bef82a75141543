import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { entryHash, EvidenceEntry, GENESIS_PREV, headOf, nextEntry, verifyChain, type EvidenceFields } from '../../../protocol/evidence/chain.js';

const vectors = JSON.parse(readFileSync(new URL('./evidence-vectors.json', import.meta.url), 'utf8')) as { entries: { entry: EvidenceEntry; canonical: string; hash: string }[] };

function fields(i: number): EvidenceFields {
  return { at: new Date(Date.UTC(2026, 2, 1, 8, 0, i)).toISOString(), event: i % 2 ? 'receipt-received' : 'sent', messageId: `m-${i}`, peer: 'KG', sha256: String(i % 10).repeat(64) };
}

function log(n: number): EvidenceEntry[] {
  const out: EvidenceEntry[] = [];
  for (let i = 0; i < n; i++) out.push(nextEntry(out[i - 1], fields(i)));
  return out;
}

describe('evidence chain', () => {
  it('hashes the published example entries to their vector values', () => {
    for (const v of vectors.entries) {
      expect(canonicalJson(v.entry)).toBe(v.canonical);
      expect(entryHash(v.entry)).toBe(v.hash);
    }
  });

  it('links the vector entries: the second holds the hash of the first', () => {
    expect(vectors.entries[1]!.entry.prev).toBe(vectors.entries[0]!.hash);
    expect(verifyChain(vectors.entries.map((v) => v.entry))).toEqual([]);
  });

  it('starts a log at seq 1 with 64 zeros as prev', () => {
    expect(nextEntry(undefined, fields(0))).toMatchObject({ seq: 1, prev: GENESIS_PREV });
  });

  it('appends the same entry from a stored head as from the previous entry', () => {
    const first = nextEntry(undefined, fields(0));
    expect(nextEntry(headOf(first), fields(1))).toEqual(nextEntry(first, fields(1)));
  });

  it('accepts the schema of an appended entry', () => {
    expect(EvidenceEntry.safeParse(log(2)[1]).success).toBe(true);
  });

  it('accepts agreement:<id> as the messageId of an agreement made locally, for an agreement id of 64 characters', () => {
    const entry = nextEntry(undefined, { ...fields(0), event: 'agreement', messageId: `agreement:${'K'.repeat(64)}` });
    expect(EvidenceEntry.safeParse(entry).success).toBe(true);
  });

  it('refuses a messageId beyond a message id or agreement:<id>', () => {
    for (const messageId of [`agreement:${'K'.repeat(65)}`, `key:${'K'.repeat(61)}`, 'agreement:@1']) {
      expect(EvidenceEntry.safeParse(nextEntry(undefined, { ...fields(0), event: 'agreement', messageId })).success, messageId).toBe(false);
    }
  });

  it('finds no problem in an intact log', () => {
    expect(verifyChain(log(6))).toEqual([]);
  });

  it('reports a deleted entry with the missing seq', () => {
    const entries = log(6).filter((e) => e.seq !== 4);
    expect(verifyChain(entries).map((p) => [p.kind, p.seq, p.position])).toEqual([['deleted', 4, 3]]);
  });

  it('reports a run of deleted entries once', () => {
    const entries = log(8).filter((e) => e.seq < 3 || e.seq > 5);
    expect(verifyChain(entries).map((p) => [p.kind, p.seq])).toEqual([['deleted', 3]]);
  });

  it('reports swapped entries as reordered', () => {
    const entries = log(6);
    [entries[2], entries[3]] = [entries[3]!, entries[2]!];
    expect(verifyChain(entries).map((p) => [p.kind, p.seq])).toEqual([['reordered', 3]]);
  });

  it('reports a changed entry at its own seq', () => {
    const entries = log(6);
    entries[2] = { ...entries[2]!, peer: 'CN' };
    expect(verifyChain(entries).map((p) => [p.kind, p.seq])).toEqual([['changed', 3]]);
  });

  it('reports a repeated seq as a duplicate', () => {
    const entries = log(4);
    entries.splice(2, 0, { ...entries[1]! });
    expect(verifyChain(entries).map((p) => p.kind)).toContain('duplicate');
  });

  it('reports a first entry whose prev is not 64 zeros', () => {
    const entries = log(3);
    entries[0] = { ...entries[0]!, prev: 'f'.repeat(64) };
    expect(verifyChain(entries).map((p) => [p.kind, p.seq])).toEqual([['changed', 1]]);
  });

  it('checks a segment against the head that preceded it', () => {
    const entries = log(6);
    expect(verifyChain(entries.slice(3), { startPrev: headOf(entries[2]!).hash, startSeq: 4 })).toEqual([]);
    expect(verifyChain(entries.slice(4), { startPrev: headOf(entries[2]!).hash, startSeq: 4 }).map((p) => p.kind)).toEqual(['deleted', 'changed']);
  });
});
