/**
 * What a `ref` may name (originalMismatch), as sender and receiver both check it: the original of an ACI amendment
 * or cancellation is an ACI message, the message of an e-CoO status its certificate with the same number; with the
 * original's body purged by retention only its type and kind can be compared.
 */
import { describe, expect, it } from 'vitest';
import { missingRef, originalMismatch, parseBody, refuseStrayRef, type BusinessBody } from '../../../protocol/messages/registry.js';
import { isGncError } from '../../../protocol/errors.js';
import { example } from './fixtures.js';

const certificate = example('ecoo-kz-kg-preferential');
const held = (type: string, kind: string, body: Record<string, unknown> | null) => ({ type, kind, body: body === null ? null : JSON.stringify(body) });
const status = (number: string) => parseBody('ecoo', { ...example('ecoo-status-cancelled'), certificateNumber: number });

describe('originalMismatch', () => {
  it('accepts an ACI amendment of an ACI message', () => {
    expect(originalMismatch('aci', parseBody('aci', example('aci-kz-kg-amendment')), held('aci', 'declaration', example('aci-kz-kg-road')))).toBeUndefined();
  });

  it('names the type of an original of another type', () => {
    expect(originalMismatch('aci', parseBody('aci', example('aci-kz-kg-cancellation')), held('ecoo', 'certificate', certificate))).toBe('an ecoo message, not an aci one');
  });

  it('accepts an e-CoO status naming its certificate, whatever the case of the number', () => {
    expect(originalMismatch('ecoo', status(String(certificate['certificateNumber']).toLowerCase()), held('ecoo', 'certificate', certificate))).toBeUndefined();
  });

  it('names the certificate an e-CoO status names in vain', () => {
    expect(originalMismatch('ecoo', status('KZ-ST1-2026-0047990'), held('ecoo', 'certificate', certificate))).toBe(`certificate ${certificate['certificateNumber']}, not KZ-ST1-2026-0047990`);
  });

  it('refuses a status as the message of an e-CoO status', () => {
    expect(originalMismatch('ecoo', status('KZ-ST1-2026-0047990'), held('ecoo', 'status', example('ecoo-status-cancelled')))).toBe('an e-CoO status, not a certificate');
  });

  it('compares only type and kind once the certificate body was purged', () => {
    expect(originalMismatch('ecoo', status('KZ-ST1-2026-0047990'), held('ecoo', 'certificate', null))).toBeUndefined();
  });
});

describe('the refusals of a missing or stray ref', () => {
  const thrown = (f: () => void): unknown => {
    try {
      f();
    } catch (err) {
      return err;
    }
    return undefined;
  };
  const amendment = parseBody('aci', example('aci-kz-kg-amendment')) as BusinessBody;

  it('name the field /ref in their issues, submitted or received from a partner, as a stray ref does', () => {
    const stray = thrown(() => refuseStrayRef('aci', parseBody('aci', example('aci-kz-kg-road')) as BusinessBody, 'x'));
    for (const err of [missingRef('aci', amendment), missingRef('aci', amendment, 'received'), stray]) {
      expect(isGncError(err) && err.code).toBe('GNC_SCHEMA_INVALID');
      expect(isGncError(err) && err.issues?.map((i) => i.path)).toEqual(['/ref']);
    }
    expect(missingRef('aci', amendment, 'received').issues?.[0]).toMatchObject({ expected: 'the id of the message it refers to', received: 'nothing (missing)' });
  });

  it('tell a partner what its envelope lacks, and a submitter where each way of submitting gives it', () => {
    expect(missingRef('aci', amendment, 'received').message).toBe('An aci amendment must name the message it refers to in "ref".');
    expect(missingRef('aci', amendment).message).toMatch(/^An aci amendment must name the original message id in "ref": add "ref" with the id POST \/v1\/messages answered/);
  });
});
