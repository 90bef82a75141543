import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { headOf, nextEntry, type EvidenceEntry } from '../../../protocol/evidence/chain.js';
import { asFile, Exchange } from './fixture.js';
import { codes, failureAbout } from './helpers.js';

function failures(report: Awaited<ReturnType<typeof verifyBundle>>, check: string): [string, string][] {
  return report.failures.filter((f) => f.check === check).map((f) => [f.code, f.subject]);
}

/** Re-chain entries from the first one, as an exporter rewriting its log would. */
function rechain(entries: EvidenceEntry[]): EvidenceEntry[] {
  const out: EvidenceEntry[] = [];
  for (const e of entries) out.push(nextEntry(out.length ? headOf(out[out.length - 1]!) : undefined, e));
  return out;
}

describe('evidence chain and checkpoints in the offline verifier', () => {
  it('reports GNC_AUDIT_BROKEN for a removed chain entry', async () => {
    const x = new Exchange(3);
    const cp = x.checkpoint();
    const report = await verifyBundle(asFile(x.bundle({ checkpoints: [cp], entries: x.entries.filter((e) => e.seq !== 3) })));
    expect(failures(report, 'chain links')).toEqual([['GNC_AUDIT_BROKEN', 'chain seq 3']]);
    expect(report.failures.find((f) => f.check === 'chain links')?.message).toMatch(/deleted/);
  });

  it('reports GNC_AUDIT_BROKEN for reordered entries', async () => {
    const x = new Exchange(3);
    const entries = [...x.entries];
    [entries[2], entries[3]] = [entries[3]!, entries[2]!];
    const report = await verifyBundle(asFile(x.bundle({ entries })));
    expect(failures(report, 'chain links')).toEqual([['GNC_AUDIT_BROKEN', 'chain seq 3']]);
    expect(report.failures[0]?.message).toMatch(/reordered/);
  });

  it('reports GNC_AUDIT_BROKEN for a changed entry in the middle of the log', async () => {
    const x = new Exchange(3);
    const entries = x.entries.map((e) => (e.seq === 2 ? { ...e, at: '2026-03-02T00:00:00.000Z' } : e));
    const report = await verifyBundle(asFile(x.bundle({ entries })));
    expect(failures(report, 'chain links')).toEqual([['GNC_AUDIT_BROKEN', 'chain seq 2']]);
  });

  it('reports GNC_AUDIT_BROKEN through the checkpoint when the last entry is changed', async () => {
    const x = new Exchange(2);
    const entries = x.entries.map((e) => (e.seq === 4 ? { ...e, at: '2026-03-02T00:00:00.000Z' } : e));
    const report = await verifyBundle(asFile(x.bundle({ entries })));
    expect(failures(report, 'checkpoints')).toContainEqual(['GNC_AUDIT_BROKEN', 'checkpoint seq 4']);
  });

  it('reports GNC_AUDIT_BROKEN when entries after the checkpointed head are cut off', async () => {
    const x = new Exchange(3);
    const report = await verifyBundle(asFile(x.bundle({ entries: x.entries.slice(0, 4) })));
    expect(failures(report, 'checkpoints')).toContainEqual(['GNC_AUDIT_BROKEN', 'checkpoint seq 6']);
  });

  it('detects a log rewritten by its owner through an earlier checkpoint', async () => {
    const x = new Exchange(3);
    const early = x.checkpoint(4);
    x.entries = rechain(x.entries.map((e) => (e.seq === 2 ? { ...e, at: '2026-03-02T00:00:00.000Z' } : e)));
    const report = await verifyBundle(asFile(x.bundle({ checkpoints: [early, x.checkpoint()] })));
    expect(failures(report, 'checkpoints')).toEqual([['GNC_AUDIT_BROKEN', 'checkpoint seq 4']]);
  });

  it('reports GNC_SIGNATURE_INVALID for a checkpoint with a bad signature', async () => {
    const x = new Exchange(2);
    const [h, p, s] = x.checkpoint().split('.') as [string, string, string];
    const bad = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const report = await verifyBundle(asFile(x.bundle({ checkpoints: [bad] })));
    expect(failureAbout(report, 'checkpoint seq 4').map((f) => f.code)).toEqual(['GNC_SIGNATURE_INVALID']);
  });

  it('reports GNC_SENDER_MISMATCH for a checkpoint signed by the partner node instead of the exporter', async () => {
    const x = new Exchange(1);
    const report = await verifyBundle(asFile(x.bundle({ checkpoints: [x.checkpoint(2, x.kg.node.signer)] })));
    expect(failureAbout(report, 'checkpoint seq 2').map((f) => f.code)).toEqual(['GNC_SENDER_MISMATCH']);
  });

  it('reports GNC_AUDIT_BROKEN when no checkpoint pins the last entry', async () => {
    const x = new Exchange(2);
    const report = await verifyBundle(asFile(x.bundle({ checkpoints: [x.checkpoint(2)] })));
    expect(failures(report, 'checkpoints')).toEqual([['GNC_AUDIT_BROKEN', 'chain seq 4']]);
  });

  it('fails with GNC_AUDIT_BROKEN, never VERIFIED, for a bundle whose envelopes, entries and checkpoints were all removed', async () => {
    const bundle = asFile(new Exchange(2).bundle());
    bundle.envelopes = [];
    bundle.chain = { entries: [], checkpoints: [] };
    const report = await verifyBundle(bundle);
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => [f.code, f.subject])).toEqual([['GNC_AUDIT_BROKEN', 'bundle']]);
  });

  it('fails with GNC_AUDIT_BROKEN for a bundle whose envelopes were all removed under a time-range selection', async () => {
    const bundle = asFile(new Exchange(2).bundle());
    bundle.envelopes = [];
    bundle.selection = { since: '2026-01-01T00:00:00.000Z' };
    const report = await verifyBundle(bundle);
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['GNC_AUDIT_BROKEN']);
  });
});
