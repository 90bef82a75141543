/** When an agreement is in force: signatures, dates, supersession, notices, and overlapping versions. */
import { describe, expect, it } from 'vitest';
import {
  agreementInForce,
  agreementStatus,
  checkNoticeHasEffect,
  checkOverlap,
  checkTerminationTime,
  verifyAgreement,
  verifyNotice,
  type AgreementCandidate,
  type AgreementDocument,
} from '../../../protocol/agreement/index.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { codeOf } from '../../helpers/errors.js';
import { admin, CN, draft, gncError, KG, KZ, notice, ROOTS, signedBy, T } from './helpers.js';

const v1 = draft('kz-kg-mra');
const v2 = draft('kz-kg-mra', (d) => { d.version = 2; d.validFrom = '2027-01-01'; });
const NOW = T('2026-11-23T08:00:00Z');

function held(doc: AgreementDocument, complete = true, notices: string[] = []): AgreementCandidate {
  return { document: doc, complete, notices: notices.map((n) => verifyNotice(n, ROOTS, doc)) };
}

describe('agreement in force', () => {
  it('puts an agreement signed by both roots in force within its dates', () => {
    const v = verifyAgreement(signedBy(v1, KZ, KG), ROOTS);
    expect(agreementInForce([v], 'KG', 'KZ', NOW)).toEqual(v1);
  });

  it('does not put an agreement with one signature in force', () => {
    const v = verifyAgreement(signedBy(v1, KZ), ROOTS);
    expect(v.complete).toBe(false);
    expect(agreementInForce([v], 'KZ', 'KG', NOW)).toBeUndefined();
  });

  it('finds no agreement for a pair it does not bind', () => {
    expect(agreementInForce([held(v1)], 'KZ', 'CN', NOW)).toBeUndefined();
  });

  it('is not in force before validFrom and reports not-yet-valid', () => {
    expect(agreementInForce([held(v1)], 'KZ', 'KG', T('2025-12-31T23:59:59Z'))).toBeUndefined();
    expect(agreementStatus(v1, [], T('2025-12-31T23:59:59Z'))).toBe('not-yet-valid');
  });

  it('is in force through the last day named by validUntil and expired after it', () => {
    expect(agreementStatus(v1, [], T('2028-12-31T23:59:59Z'))).toBe('active');
    expect(agreementStatus(v1, [], T('2029-01-01T00:00:00Z'))).toBe('expired');
  });

  it('keeps the old version in force until the superseding version starts, then picks the new one', () => {
    const list = [held(v1), held(v2)];
    expect(agreementInForce(list, 'KZ', 'KG', NOW)).toEqual(v1);
    expect(agreementInForce(list, 'KZ', 'KG', T('2027-01-01T00:00:00Z'))).toEqual(v2);
    expect(agreementStatus(v1, [], T('2027-06-01T00:00:00Z'), [held(v2)])).toBe('superseded');
  });

  it('keeps the old version in force when the new one was terminated before it started (a renewal withdrawn in time)', () => {
    const withdrawn = held(v2, true, [notice(v2, KZ, 'terminate', '2026-12-01T00:00:00Z')]);
    const after = T('2027-06-01T00:00:00Z');
    expect(agreementStatus(v1, [], after, [withdrawn])).toBe('active');
    expect(agreementInForce([held(v1), withdrawn], 'KZ', 'KG', after)).toEqual(v1);
  });

  it('still counts a new version as superseding once it started, even if terminated later', () => {
    const endedLater = held(v2, true, [notice(v2, KZ, 'terminate', '2027-03-01T00:00:00Z')]);
    expect(agreementStatus(v1, [], T('2027-06-01T00:00:00Z'), [endedLater])).toBe('superseded');
  });

  it('does not let a new version signed by one side only supersede the old one', () => {
    expect(agreementInForce([held(v1), held(v2, false)], 'KZ', 'KG', T('2027-06-01T00:00:00Z'))).toEqual(v1);
  });

  it('lets a document with another id supersede the one its "supersedes" names', () => {
    const renamed = draft('kz-kg-mra', (d) => { d.id = 'KZ-KG-MRA-2027'; d.validFrom = '2027-01-01'; d.supersedes = { id: v1.id, version: 1 }; });
    expect(agreementInForce([held(v1), held(renamed)], 'KZ', 'KG', T('2027-06-01T00:00:00Z'))).toEqual(renamed);
  });

  it('takes a suspended agreement out of force and puts it back when the suspending side resumes', () => {
    const suspend = notice(v1, KG, 'suspend', '2026-11-01T00:00:00Z');
    const resume = notice(v1, KG, 'resume', '2026-12-01T00:00:00Z');
    expect(agreementInForce([held(v1, true, [suspend])], 'KZ', 'KG', NOW)).toBeUndefined();
    expect(agreementStatus(v1, [verifyNotice(suspend, ROOTS)], NOW)).toBe('suspended');
    expect(agreementInForce([held(v1, true, [suspend, resume])], 'KZ', 'KG', T('2026-12-01T00:00:00Z'))).toEqual(v1);
  });

  it('does not let one administration lift the other\'s suspension', () => {
    const notices = [notice(v1, KG, 'suspend', '2026-11-01'), notice(v1, KZ, 'resume', '2026-11-02')].map((n) => verifyNotice(n, ROOTS));
    expect(agreementStatus(v1, notices, NOW)).toBe('suspended');
  });

  it('treats termination as final, whatever notice follows', () => {
    const notices = [notice(v1, KZ, 'terminate', '2026-11-01'), notice(v1, KZ, 'resume', '2026-11-02')].map((n) => verifyNotice(n, ROOTS));
    expect(agreementStatus(v1, notices, NOW)).toBe('terminated');
  });

  it('refuses, before signing, a notice that would change nothing where it takes effect (GNC_CONFLICT)', () => {
    const v = (n: string) => verifyNotice(n, ROOTS);
    const draftOf = (by: typeof KZ, action: 'suspend' | 'resume' | 'terminate', effective: string) => v(notice(v1, by, action, effective));
    const suspendedByKg = [v(notice(v1, KG, 'suspend', '2026-11-01'))];
    expect(codeOf(() => checkNoticeHasEffect(v1, [], draftOf(KZ, 'resume', '2026-11-23')))).toBe('GNC_CONFLICT');
    expect(codeOf(() => checkNoticeHasEffect(v1, suspendedByKg, draftOf(KG, 'suspend', '2026-11-23')))).toBe('GNC_CONFLICT');
    expect(() => checkNoticeHasEffect(v1, suspendedByKg, draftOf(KZ, 'resume', '2026-11-23'))).toThrow(/only that administration can lift/);
    const terminated = [v(notice(v1, KZ, 'terminate', '2026-11-01'))];
    for (const action of ['suspend', 'resume', 'terminate'] as const) expect(codeOf(() => checkNoticeHasEffect(v1, terminated, draftOf(KG, action, '2026-11-23')))).toBe('GNC_CONFLICT');
    // what does change something passes: the suspending side resumes, the other side suspends too, a
    // suspension before a termination that only takes effect later
    checkNoticeHasEffect(v1, suspendedByKg, draftOf(KG, 'resume', '2026-11-23'));
    checkNoticeHasEffect(v1, suspendedByKg, draftOf(KZ, 'suspend', '2026-11-23'));
    checkNoticeHasEffect(v1, [v(notice(v1, KZ, 'terminate', '2027-01-01'))], draftOf(KG, 'suspend', '2026-11-23'));
  });

  it('refuses a resume at the instant its own suspension takes effect, which prevails at equal times (GNC_CONFLICT)', () => {
    const v = (n: string) => verifyNotice(n, ROOTS);
    const scheduled = [v(notice(v1, KZ, 'suspend', '2026-12-01'))];
    const resume = v(notice(v1, KZ, 'resume', '2026-12-01T00:00:00Z'));
    // at equal times resume comes before suspend (SPEC 8.5): signed, this resume would leave the agreement suspended
    expect(agreementStatus(v1, [...scheduled, resume], T('2026-12-02T00:00:00Z'))).toBe('suspended');
    expect(() => checkNoticeHasEffect(v1, scheduled, resume)).toThrow(expect.objectContaining({ code: 'GNC_CONFLICT', message: expect.stringContaining('later') }));
    // a resume after it does lift it
    checkNoticeHasEffect(v1, scheduled, v(notice(v1, KZ, 'resume', '2026-12-01T00:00:01Z')));
  });

  it('refuses a termination of a started agreement that takes effect at or before its start (GNC_CONFLICT)', () => {
    const v = (n: string) => verifyNotice(n, ROOTS);
    const afterStart = T('2027-06-01T00:00:00Z');
    // signed after v2 started, effective before its start: v2 would count as never started, and v1 would be back
    const backdated = v(notice(v2, KZ, 'terminate', '2026-12-01T00:00:00Z'));
    expect(agreementStatus(v1, [], afterStart, [held(v2, true, [notice(v2, KZ, 'terminate', '2026-12-01T00:00:00Z')])])).toBe('active');
    expect(() => checkTerminationTime(v2, backdated, afterStart)).toThrow(expect.objectContaining({ code: 'GNC_CONFLICT', message: expect.stringContaining('2027-01-01') }));
    expect(codeOf(() => checkTerminationTime(v2, v(notice(v2, KZ, 'terminate', '2027-01-01')), afterStart))).toBe('GNC_CONFLICT');
    // after its start it ends the agreement from then on; before its start it withdraws a renewal in time (SPEC 8.4)
    checkTerminationTime(v2, v(notice(v2, KZ, 'terminate', '2027-01-01T00:00:01Z')), afterStart);
    checkTerminationTime(v2, backdated, NOW);
    // other notices are about suspension, which has no such meaning
    checkTerminationTime(v2, v(notice(v2, KZ, 'suspend', '2026-12-01T00:00:00Z')), afterStart);
  });

  it('applies a notice only from its effective time', () => {
    const n = verifyNotice(notice(v1, KZ, 'suspend', '2026-12-01'), ROOTS);
    expect(agreementStatus(v1, [n], NOW)).toBe('active');
    expect(agreementStatus(v1, [n], T('2026-12-01T00:00:00Z'))).toBe('suspended');
  });

  it('leaves a later version in force when an earlier one is suspended', () => {
    const suspend = notice(v1, KZ, 'suspend', '2026-11-01');
    expect(agreementInForce([held(v1, true, [suspend]), held(v2)], 'KZ', 'KG', T('2027-02-01T00:00:00Z'))).toEqual(v2);
  });
});

describe('agreement notices', () => {
  it('refuses a notice signed by the root of an administration that is not a party', () => {
    const err = gncError(() => verifyNotice(notice(v1, CN, 'suspend', '2026-11-01'), ROOTS, v1));
    expect(err.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect(err.message).toContain('not a party');
  });

  it('ignores a non-party notice when computing the status', () => {
    const n = verifyNotice(notice(v1, CN, 'terminate', '2026-11-01'), ROOTS);
    expect(agreementStatus(v1, [n], NOW)).toBe('active');
  });

  it('refuses a notice that names one administration but is signed by another\'s root', () => {
    const err = gncError(() => verifyNotice(notice(v1, KZ, 'suspend', '2026-11-01', KG.signer), ROOTS));
    expect(err.code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses a notice signed by a key other than the pinned root under the root\'s fingerprint', () => {
    const other = admin('KZ');
    const forged = notice(v1, KZ, 'terminate', '2026-11-01', { kid: KZ.fingerprint, sign: other.signer.sign });
    expect(gncError(() => verifyNotice(forged, ROOTS)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses a notice whose content was changed after signing', () => {
    const [h, p, s] = notice(v1, KZ, 'suspend', '2026-11-01').split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    const changed = Buffer.from(canonicalJson({ ...payload, action: 'terminate' })).toString('base64url');
    expect(gncError(() => verifyNotice(`${h}.${changed}.${s}`, ROOTS)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses a notice about another agreement when checked against this one', () => {
    expect(gncError(() => verifyNotice(notice(v2, KZ, 'suspend', '2026-11-01'), ROOTS, v1)).code).toBe('GNC_AGREEMENT_INVALID');
  });
});

describe('overlapping agreements', () => {
  it('refuses an agreement with another id between the same parties whose dates overlap', () => {
    const other = draft('kz-kg-mra', (d) => { d.id = 'KZ-KG-AEO-2027'; d.validFrom = '2027-06-01'; d.validUntil = '2029-06-01'; });
    const err = gncError(() => checkOverlap([v1], other));
    expect(err.code).toBe('GNC_AGREEMENT_OVERLAP');
    expect(err.message).toContain('KZ-KG-MRA-2026@1');
  });

  it('refuses the same id and version with different content', () => {
    const changed = draft('kz-kg-mra', (d) => { d.title = 'Another title'; });
    expect(gncError(() => checkOverlap([v1], changed)).code).toBe('GNC_AGREEMENT_OVERLAP');
  });

  it('accepts a higher version of the same id, which supersedes the old one', () => {
    expect(() => checkOverlap([v1], v2)).not.toThrow();
  });

  it('accepts an agreement between another pair, or one that starts after the existing one ends', () => {
    const later = draft('kz-kg-mra', (d) => { d.id = 'KZ-KG-MRA-2029'; d.validFrom = '2029-01-01'; d.validUntil = '2031-12-31'; });
    expect(() => checkOverlap([v1, draft('cn-kz-aci')], later)).not.toThrow();
  });

  it('accepts an agreement that starts after the existing one was terminated', () => {
    const next = draft('kz-kg-mra', (d) => { d.id = 'KZ-KG-NEW'; d.validFrom = '2027-01-01'; });
    const terminated = verifyNotice(notice(v1, KG, 'terminate', '2026-12-31'), ROOTS);
    expect(() => checkOverlap([v1], next, [terminated])).not.toThrow();
  });
});
