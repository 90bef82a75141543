import { describe, expect, it } from 'vitest';
import { formatReport } from '../../../node/audit/report.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { jwkThumbprint } from '../../../protocol/jwk.js';
import { asFile, Exchange } from './fixture.js';
import { codes, failureAbout, flipPayloadByte } from './helpers.js';

describe('offline verification of an evidence bundle', () => {
  it('verifies a bundle of messages, receipts, certificates and a checkpointed chain', async () => {
    const report = await verifyBundle(asFile(new Exchange(3).bundle()));
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.counts).toMatchObject({ envelopes: 6, messages: 3, receipts: 3, receipted: 3, entries: 6, checkpoints: 1, certificates: 2, signatures: 9 });
  });

  it('accepts the root fingerprints the reader gives out of band', async () => {
    const x = new Exchange(1);
    const report = await verifyBundle(asFile(x.bundle()), { trustedRoots: { KZ: jwkThumbprint(x.kz.root.jwk), KG: jwkThumbprint(x.kg.root.jwk) } });
    expect(report.ok).toBe(true);
    expect(report.bundle?.roots.map((r) => r.pinned)).toEqual([true, true]);
  });

  it('fails with GNC_FINGERPRINT_MISMATCH when a root is not the one the reader knows', async () => {
    const x = new Exchange(1);
    const other = new Exchange(0);
    const report = await verifyBundle(asFile(x.bundle()), { trustedRoots: { KG: jwkThumbprint(other.kg.root.jwk) } });
    expect(failureAbout(report, 'root KG').map((f) => f.code)).toEqual(['GNC_FINGERPRINT_MISMATCH']);
  });

  it('reports GNC_SIGNATURE_INVALID for an envelope with one flipped byte', async () => {
    const bundle = asFile(new Exchange(3).bundle());
    flipPayloadByte(bundle, 2, 'Almaty');
    const report = await verifyBundle(bundle);
    expect(report.ok).toBe(false);
    expect(failureAbout(report, 'envelope kz-msg-1').map((f) => f.code)).toContain('GNC_SIGNATURE_INVALID');
  });

  it('reports GNC_RECEIPT_MISMATCH when the receipt acknowledges other bytes than the message in the bundle', async () => {
    const x = new Exchange(2);
    x.replaceMessage(1, { kind: 'snapshot', asOf: '2026-03-01T08:01:00.000Z', operators: [] });
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.map((f) => [f.code, f.subject])).toEqual([['GNC_RECEIPT_MISMATCH', 'receipt kg-receipt-kz-msg-1']]);
  });

  it('reports GNC_RECEIPT_MISMATCH for a receipt of a message the bundle does not contain', async () => {
    const x = new Exchange(2);
    x.envelopes = x.envelopes.filter((_, i) => i !== 2); // drop message 1, keep its receipt
    const report = await verifyBundle(asFile(x.bundle()));
    expect(failureAbout(report, 'receipt kg-receipt-kz-msg-1').map((f) => f.code)).toEqual(['GNC_RECEIPT_MISMATCH']);
  });

  it('fails with GNC_AUDIT_BROKEN when an envelope is not recorded in the log', async () => {
    const x = new Exchange(2);
    x.entries = x.entries.slice(0, 2);
    const report = await verifyBundle(asFile(x.bundle()));
    expect(failureAbout(report, 'envelope kz-msg-1').map((f) => f.code)).toEqual(['GNC_AUDIT_BROKEN']);
  });

  it('reports GNC_SCHEMA_INVALID instead of throwing for a document that is not a bundle', async () => {
    const report = await verifyBundle({ format: 'something-else' });
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['GNC_SCHEMA_INVALID']);
  });

  it('formats a failed report with the verdict, the roots to compare and each failure code', async () => {
    const bundle = asFile(new Exchange(1).bundle());
    flipPayloadByte(bundle, 0, 'Almaty');
    const text = formatReport(await verifyBundle(bundle));
    expect(text).toMatch(/^GNC evidence bundle: FAILED/);
    expect(text).toContain(bundle.roots[0]!.fingerprint);
    expect(text).toContain('GNC_SIGNATURE_INVALID  envelope kz-msg-0');
    expect(text).toContain('Covers: everything in the log segment it holds (no selection; the exporter did not sign it).');
  });
});
