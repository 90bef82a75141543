/** The agreement document: drafting rules, the example drafts, and the placeholder helper of the CLI. */
import { describe, expect, it } from 'vitest';
import { agreementPeriod, agreementRef, draftAgreement, resolveDraftPlaceholders } from '../../../protocol/agreement/index.js';
import { CN, draft, fingerprints, gncError, KG, KZ, paths, rawDraft } from './helpers.js';

describe('agreement document', () => {
  it('drafts the KZ-KG MRA example once its root placeholders are resolved', () => {
    const doc = draft('kz-kg-mra');
    expect(doc.parties.map((p) => p.rootFingerprint)).toEqual([KZ.fingerprint, KG.fingerprint]);
    expect(doc.directions.flatMap((d) => d.messages.map((m) => `${d.from}>${d.to}:${m.type}`))).toEqual([
      'KZ>KG:aci', 'KZ>KG:ecoo', 'KZ>KG:aeo', 'KG>KZ:aci', 'KG>KZ:ecoo', 'KG>KZ:aeo',
    ]);
  });

  it('drafts the CN-KZ example as ACI only from CN to KZ, minimised', () => {
    const doc = draft('cn-kz-aci');
    expect(doc.directions).toHaveLength(1);
    expect(doc.directions[0]).toMatchObject({ from: 'CN', to: 'KZ', messages: [{ type: 'aci', minimise: true, purposes: ['pre-arrival-risk-assessment'] }] });
  });

  it('drafts the same document again from its own output (drafting changes nothing)', () => {
    const doc = draft('kz-kg-mra');
    expect(draftAgreement(structuredClone(doc))).toEqual(doc);
  });

  it('names a dated agreement by id@version', () => {
    expect(agreementRef(draft('kz-kg-mra'))).toBe('KZ-KG-MRA-2026@1');
  });

  it('keeps a date-only validUntil in force through the end of that day (UTC)', () => {
    const { start, end } = agreementPeriod(draft('kz-kg-mra'));
    expect(new Date(start).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(new Date(end).toISOString()).toBe('2029-01-01T00:00:00.000Z');
  });

  it('refuses dates in the wrong order, naming validUntil and validFrom', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.validFrom = '2029-01-01'; }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toEqual(['/validUntil']);
    expect(err.message).toMatch(/validFrom \(2029-01-01\)/);
  });

  it('refuses a validity period that ends where it starts', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.validFrom = '2026-01-01T00:00:00Z'; d.validUntil = '2026-01-01T05:00:00+05:00'; }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
  });

  it('refuses an unknown message type', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.directions[0].messages[0].type = 'manifest'; }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toEqual(['/directions/0/messages/0/type']);
  });

  it('refuses an unknown field path, naming the entry and the members that exist', () => {
    const err = gncError(() => draft('cn-kz-aci', (d) => { d.directions[0].messages[0].fields.push('goodsItems[].value'); }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toEqual(['/directions/0/messages/0/fields/35']);
    expect(err.message).toMatch(/has no member "value".*hsCode/);
  });

  it('refuses a path through a list written without []', () => {
    const err = gncError(() => draft('cn-kz-aci', (d) => { const f = d.directions[0].messages[0].fields; f[f.indexOf('goodsItems[].hsCode')] = 'goodsItems.hsCode'; }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(err.message).toContain('write "goodsItems[].hsCode"');
  });

  it('refuses a field list that leaves out a field every message of the type must carry', () => {
    const err = gncError(() => draft('cn-kz-aci', (d) => { d.directions[0].messages[0].fields = d.directions[0].messages[0].fields.filter((f: string) => f !== 'consignee' && f !== 'goodsItems[].hsCode'); }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toEqual(['/directions/0/messages/0/fields']);
    expect(err.message).toContain('consignee, goodsItems[].hsCode');
  });

  it('refuses "*" mixed with field paths', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.directions[0].messages[0].fields = ['*', 'consignor']; }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
  });

  it('refuses two parties of the same country', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.parties[1].country = 'KZ'; }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toContain('/parties/1/country');
  });

  it('refuses a direction to a country that is not a party', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.directions[1].to = 'UZ'; }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toContain('/directions/1/to');
  });

  it('refuses a message type listed twice in one direction', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.directions[0].messages.push(structuredClone(d.directions[0].messages[0])); }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toEqual(['/directions/0/messages/3/type']);
  });

  it('refuses a purpose outside the vocabulary', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.directions[0].messages[0].purposes = ['marketing']; }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toEqual(['/directions/0/messages/0/purposes/0']);
  });

  it('refuses an agreement without a contact point for one party', () => {
    const err = gncError(() => draft('kz-kg-mra', (d) => { d.contacts = d.contacts.filter((c: { country: string }) => c.country !== 'KG'); }));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(err.message).toContain('contact point for KG');
  });

  it('refuses a draft whose root placeholders were never resolved, saying how to resolve them', () => {
    const err = gncError(() => draftAgreement(rawDraft('kz-kg-mra')));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(err.message).toContain('@root:KZ');
  });

  it('refuses to resolve a placeholder for a country whose root is not pinned', () => {
    const err = gncError(() => resolveDraftPlaceholders(rawDraft('cn-kz-aci'), fingerprints(KZ, KG)));
    expect(err.code).toBe('GNC_AGREEMENT_INVALID');
    expect(paths(err)).toEqual(['/parties/0/rootFingerprint']);
  });

  it('resolves placeholders without changing the draft it was given', () => {
    const raw = rawDraft('cn-kz-aci');
    const resolved = resolveDraftPlaceholders(raw, fingerprints(CN, KZ)) as typeof raw;
    expect(resolved.parties[0].rootFingerprint).toBe(CN.fingerprint);
    expect(raw.parties[0].rootFingerprint).toBe('@root:CN');
  });
});
