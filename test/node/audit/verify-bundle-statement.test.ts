/**
 * The export statement (protocol/SPEC.md 9.5.4, 9.6 item 11) in the offline verifier: the exporter's node key
 * signs the bundle's selection, creation time, segment end and envelopes, so that what the log cannot show (an
 * envelope removed from a time-range export, a narrowed selection) fails the verdict.
 */
import { describe, expect, it } from 'vitest';
import { formatReport } from '../../../node/audit/report.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { b64u, fromB64u } from '../../../protocol/envelope/base64url.js';
import type { EvidenceBundle } from '../../../protocol/evidence/bundle.js';
import { asFile, DAY, Exchange, iso, newKey, T0 } from './fixture.js';

const RANGE = { since: iso(T0 - DAY), until: iso(T0 + DAY) };

function statementFailures(report: Awaited<ReturnType<typeof verifyBundle>>): [string, string][] {
  return report.failures.filter((f) => f.check === 'export statement').map((f) => [f.code, f.message]);
}

/** Drop message `id` and its receipt, as someone hiding it from a time-range export would. */
function withoutMessage(bundle: EvidenceBundle, id: string): void {
  bundle.envelopes = bundle.envelopes.filter((e) => {
    const p = JSON.parse(Buffer.from(e.jws.payload, 'base64url').toString('utf8')) as { id: string; ref?: string };
    return p.id !== id && p.ref !== id;
  });
}

describe('export statement in the offline verifier', () => {
  it('verifies a signed bundle and says that its selection is signed', async () => {
    const x = new Exchange(3);
    const report = await verifyBundle(asFile(x.bundle({ selection: RANGE, signed: true })));
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.bundle?.selectionSigned).toBe(true);
    expect(report.checks.find((c) => c.name === 'export statement')).toMatchObject({ ok: true, detail: expect.stringContaining('6 envelopes are as the KZ node key signed them') });
    expect(formatReport(report)).toContain(`Covers, as the exporter signed it (compare it with what you asked for): since ${RANGE.since}, until ${RANGE.until}.`);
  });

  it('finds a message removed from a time-range export, which the log alone cannot show', async () => {
    const x = new Exchange(3);
    const unsigned = asFile(x.bundle({ selection: RANGE }));
    withoutMessage(unsigned, 'kz-msg-1');
    // without a statement the verdict holds: log entries carry logging times, not the envelopes' `created`
    const before = await verifyBundle(unsigned);
    expect(before.ok).toBe(true);
    expect(before.bundle?.selectionSigned).toBe(false);
    expect(formatReport(before)).toContain('Covers, as the exporter states (not signed: compare it with what you asked for)');

    const signed = asFile(x.bundle({ selection: RANGE, signed: true }));
    withoutMessage(signed, 'kz-msg-1');
    const report = await verifyBundle(signed);
    expect(report.ok).toBe(false);
    expect(statementFailures(report)).toEqual([
      ['GNC_AUDIT_BROKEN', 'The exporter signed 6 envelopes, but the bundle\'s differ (4 held; 2 are missing): envelopes were removed, added or swapped after export.'],
    ]);
    expect(report.bundle?.selectionSigned).toBe(false);
  });

  it('fails a bundle whose selection, creation time or segment was changed after export', async () => {
    const x = new Exchange(3);
    const narrowed = asFile(x.bundle({ selection: RANGE, signed: true }));
    narrowed.selection = { ...RANGE, partner: 'KG' };
    expect(statementFailures(await verifyBundle(narrowed))).toEqual([['GNC_AUDIT_BROKEN', expect.stringContaining('The exporter signed the selection {"since"')]]);

    const dropped = asFile(x.bundle({ selection: RANGE, signed: true }));
    delete dropped.selection;
    expect(statementFailures(await verifyBundle(dropped))).toEqual([['GNC_AUDIT_BROKEN', expect.stringContaining('but the bundle states none')]]);

    const redated = asFile(x.bundle({ signed: true }));
    redated.created = iso(T0 + 20 * DAY);
    expect(statementFailures(await verifyBundle(redated))).toEqual([['GNC_AUDIT_BROKEN', expect.stringContaining(`signed the bundle as created at ${iso(T0 + 10 * DAY)}, but it says ${iso(T0 + 20 * DAY)}`)]]);

    const cut = asFile(x.bundle({ signed: true }));
    cut.chain = { entries: cut.chain.entries.slice(0, -1), checkpoints: [x.checkpoint(x.entries.length - 1)] };
    expect(statementFailures(await verifyBundle(cut))).toEqual([['GNC_AUDIT_BROKEN', expect.stringContaining('segment ending at seq 6, but the bundle\'s ends at seq 5')]]);
  });

  it('fails a statement added with a swapped envelope, whatever the count', async () => {
    const x = new Exchange(3);
    const bundle = asFile(x.bundle({ signed: true }));
    const other = asFile(new Exchange(1).bundle());
    bundle.envelopes[0] = other.envelopes[0]!;
    expect(statementFailures(await verifyBundle(bundle))).toContainEqual(['GNC_AUDIT_BROKEN', expect.stringContaining('(6 held; others are in their place)')]);
  });

  it('judges the statement key like a checkpoint key, and its signature by strict RFC 8032', async () => {
    const x = new Exchange(2);
    const base = x.bundle();
    const byPartner = asFile({ ...base, statement: x.statement(base, x.kg.node.signer) });
    expect(statementFailures(await verifyBundle(byPartner)).map(([c]) => c)).toEqual(['GNC_SENDER_MISMATCH']);

    const byStranger = asFile({ ...base, statement: x.statement(base, newKey().signer) });
    expect(statementFailures(await verifyBundle(byStranger)).map(([c]) => c)).toEqual(['GNC_KEY_UNKNOWN']);

    const late = asFile({ ...base, statement: x.statement(base, x.kz.node.signer, { at: iso(T0 + 400 * DAY) }) });
    late.created = iso(T0 + 400 * DAY);
    expect(statementFailures(await verifyBundle(late)).map(([c]) => c)).toEqual(['GNC_KEY_EXPIRED']);

    const altered = asFile({ ...base, statement: x.statement(base) });
    const [h, p, s] = altered.statement!.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(fromB64u(p, 'payload')).toString('utf8')) as { envelopes: { count: number } };
    payload.envelopes.count += 1; // stays canonical: the keys and their order are unchanged
    altered.statement = `${h}.${b64u(Buffer.from(JSON.stringify(payload)))}.${s}`;
    expect(statementFailures(await verifyBundle(altered))).toEqual([['GNC_SIGNATURE_INVALID', expect.stringContaining('does not verify under KZ node key')]]);

    const garbled = asFile({ ...base, statement: 'not.a.statement' });
    expect(statementFailures(await verifyBundle(garbled)).map(([c]) => c)).toEqual(['GNC_SCHEMA_INVALID']);
  });
});
