/**
 * Agreements and notices across a root succession: a verifier gets each country's chain of roots (pinned root
 * and successors) and uses, per party, the root whose fingerprint the document names; roots outside the chain
 * stay refused with GNC_AGREEMENT_SIGNATURE.
 */
import { describe, expect, it } from 'vitest';
import { rootByFingerprint, rootChain, verifyAgreement, verifyNotice, type AgreementRoots } from '../../../protocol/agreement/index.js';
import { admin, draft, gncError, KG, KZ, notice, signedBy, type Admin } from './helpers.js';

/** KG after a root succession: its successor root, with KG's country. */
const KG2: Admin = admin('KG');
const STRANGER: Admin = admin('KG');

/** What a KZ node holds after KG's succession: KZ's root, KG's pinned root and its successor. */
const CHAINS: AgreementRoots = new Map([
  ['KZ', [KZ.jwk]],
  ['KG', [KG.jwk, KG2.jwk]],
]);

/** The example document drafted for KG's successor root. */
const forKg2 = draft('kz-kg-mra', (d) => {
  d.parties.find((p: { country: string }) => p.country === 'KG').rootFingerprint = KG2.fingerprint;
});
const forKg1 = draft('kz-kg-mra');

describe('root chains', () => {
  it('reads a single root as a chain of one', () => {
    expect(rootChain(new Map([['KZ', KZ.jwk]]), 'KZ')).toEqual([KZ.jwk]);
    expect(rootChain(CHAINS, 'CN')).toEqual([]);
  });

  it('picks the root of the chain by its fingerprint', () => {
    expect(rootByFingerprint(CHAINS, 'KG', KG2.fingerprint)).toEqual(KG2.jwk);
    expect(rootByFingerprint(CHAINS, 'KG', KZ.fingerprint)).toBeUndefined();
  });
});

describe('agreements across a root succession', () => {
  it('verifies a new agreement signed by the successor root the document names', () => {
    expect(verifyAgreement(signedBy(forKg2, KZ, KG2), CHAINS)).toMatchObject({ signedBy: ['KZ', 'KG'], complete: true });
  });

  it('still verifies an agreement signed by the pinned root before the succession', () => {
    expect(verifyAgreement(signedBy(forKg1, KZ, KG), CHAINS)).toMatchObject({ complete: true });
  });

  it('refuses a document naming a root outside the chain (GNC_AGREEMENT_SIGNATURE)', () => {
    const forStranger = draft('kz-kg-mra', (d) => {
      d.parties.find((p: { country: string }) => p.country === 'KG').rootFingerprint = STRANGER.fingerprint;
    });
    const err = gncError(() => verifyAgreement(signedBy(forStranger, KZ, STRANGER), CHAINS));
    expect(err.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect(err.message).toContain(KG2.fingerprint);
  });

  it("refuses another key signing under the successor's fingerprint", () => {
    const forged = signedBy(forKg2, KZ, { ...STRANGER, signer: { kid: KG2.fingerprint, sign: (data: Uint8Array) => STRANGER.signer.sign(data) } });
    expect(gncError(() => verifyAgreement(forged, CHAINS)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses the successor signing a document drafted for the pinned root (each party signs with the root it names)', () => {
    const signed = signedBy(forKg1, KZ);
    expect(gncError(() => signedBy(forKg1, KG2)).code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect(verifyAgreement(signed, CHAINS).complete).toBe(false);
  });
});

describe('agreement notices across a root succession', () => {
  it('accepts a notice about an old agreement signed by the successor root', () => {
    const n = notice(forKg1, KG, 'suspend', '2026-11-01', KG2.signer);
    expect(verifyNotice(n, CHAINS, forKg1)).toMatchObject({ action: 'suspend', by: 'KG' });
  });

  it('accepts a notice signed by the pinned root', () => {
    expect(verifyNotice(notice(forKg2, KG, 'terminate', '2026-11-01'), CHAINS, forKg2)).toMatchObject({ by: 'KG' });
  });

  it('refuses a notice by a root outside the chain (GNC_AGREEMENT_SIGNATURE)', () => {
    expect(gncError(() => verifyNotice(notice(forKg1, KG, 'suspend', '2026-11-01', STRANGER.signer), CHAINS)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it("refuses another key signing under the successor's fingerprint", () => {
    const n = notice(forKg1, KG, 'suspend', '2026-11-01', { kid: KG2.fingerprint, sign: (data: Uint8Array) => STRANGER.signer.sign(data) });
    expect(gncError(() => verifyNotice(n, CHAINS, forKg1)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });

  it('refuses the successor root of one country signing for the other', () => {
    const n = notice(forKg1, KZ, 'suspend', '2026-11-01', KG2.signer);
    expect(gncError(() => verifyNotice(n, CHAINS, forKg1)).code).toBe('GNC_AGREEMENT_SIGNATURE');
  });
});
