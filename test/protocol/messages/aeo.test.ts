import { describe, expect, it } from 'vitest';
import { MAX_AEO_SNAPSHOT_PARTS } from '../../../protocol/constants.js';
import { parseAeoBody } from '../../../protocol/messages/aeo.js';
import { example, gncError, paths } from './fixtures.js';

const snapshot = () => example('aeo-kz-snapshot');
const change = () => example('aeo-kz-suspension');

describe('AEO snapshot schema', () => {
  it('accepts the KZ snapshot', () => {
    const parsed = parseAeoBody(snapshot());
    expect(parsed.kind === 'snapshot' && parsed.operators.map((o) => o.status)).toEqual(['valid', 'valid', 'valid', 'revoked']);
  });

  it('accepts an empty snapshot, which clears the partner list', () => {
    expect(parseAeoBody({ kind: 'snapshot', asOf: '2026-11-23T06:00:00+05:00', operators: [] })).toMatchObject({ operators: [] });
  });

  it.each(['aeoId', 'nationalTraderId', 'legalName', 'address', 'programme', 'status', 'statusDate', 'validFrom'])('refuses an operator without %s', (field) => {
    const body = snapshot();
    delete body['operators'][1][field];
    expect(paths(gncError(() => parseAeoBody(body)))).toEqual([`/operators/1/${field}`]);
  });

  it('refuses an AEO id whose prefix is not an ISO 3166 country', () => {
    const body = snapshot();
    body['operators'][0]['aeoId'] = 'ZZAEO981140001234';
    const err = gncError(() => parseAeoBody(body));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: '/operators/0/aeoId', received: 'string "ZZAEO981140001234"' });
  });

  it('refuses an AEO id of 18 characters', () => {
    const body = snapshot();
    body['operators'][0]['aeoId'] = 'KZAEO9811400012345';
    expect(paths(gncError(() => parseAeoBody(body)))).toEqual(['/operators/0/aeoId']);
  });

  it('refuses a lower-case AEO id', () => {
    const body = snapshot();
    body['operators'][0]['aeoId'] = 'kzaeo981140001234';
    expect(paths(gncError(() => parseAeoBody(body)))).toEqual(['/operators/0/aeoId']);
  });

  it('refuses the same AEO id twice in a snapshot', () => {
    const body = snapshot();
    body['operators'][3]['aeoId'] = body['operators'][0]['aeoId'];
    expect(paths(gncError(() => parseAeoBody(body)))).toEqual(['/operators/3/aeoId']);
  });

  it('refuses a programme outside security, simplifications and both', () => {
    const body = snapshot();
    body['operators'][0]['programme'] = 'AEOF';
    expect(paths(gncError(() => parseAeoBody(body)))).toEqual(['/operators/0/programme']);
  });

  it('refuses a validity that ends before it starts', () => {
    const body = snapshot();
    body['operators'][1]['validUntil'] = '2025-01-01';
    expect(paths(gncError(() => parseAeoBody(body)))).toEqual(['/operators/1/validUntil']);
  });
});

describe('AEO snapshot parts', () => {
  const part = () => example('aeo-cn-snapshot-part');

  it('accepts part 2 of 3', () => {
    expect(parseAeoBody(part())).toMatchObject({ kind: 'snapshot', part: { number: 2, of: 3 } });
  });

  it('accepts a part of one, the same as a snapshot without part', () => {
    expect(parseAeoBody({ ...part(), part: { number: 1, of: 1 } })).toMatchObject({ part: { number: 1, of: 1 } });
  });

  it('refuses a part number above the number of parts, naming the number', () => {
    const err = gncError(() => parseAeoBody({ ...part(), part: { number: 4, of: 3 } }));
    expect(err.code).toBe('GNC_SCHEMA_INVALID');
    expect(err.issues).toEqual([expect.objectContaining({ path: '/part/number', message: expect.stringContaining('from 1 to 3') })]);
  });

  it.each([
    [{ number: 0, of: 3 }, '/part/number'],
    [{ number: 1, of: MAX_AEO_SNAPSHOT_PARTS + 1 }, '/part/of'],
    [{ number: 1.5, of: 3 }, '/part/number'],
    [{ number: 1 }, '/part/of'],
    [{ number: 1, of: 3, total: 5000 }, '/part/total'],
  ])('refuses the part %j at %s', (p, path) => {
    expect(paths(gncError(() => parseAeoBody({ ...part(), part: p })))).toEqual([path]);
  });
});

describe('AEO change schema', () => {
  it('accepts the suspension of one operator', () => {
    expect(parseAeoBody(change())).toMatchObject({ kind: 'change', operator: { aeoId: 'KZAEO060140009876', status: 'suspended' } });
  });

  it('refuses a change without the operator', () => {
    const body = change();
    delete body['operator'];
    expect(paths(gncError(() => parseAeoBody(body)))).toEqual(['/operator']);
  });

  it('refuses a status outside valid, suspended and revoked', () => {
    const body = change();
    body['operator']['status'] = 'expired';
    expect(paths(gncError(() => parseAeoBody(body)))).toEqual(['/operator/status']);
  });
});
