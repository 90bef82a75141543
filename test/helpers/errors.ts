/** Assertion helper for the GNC error contract: the stable code a call throws. */
import { expect } from 'vitest';
import { GncError, type GncErrorCode } from '../../protocol/errors.js';

/** The GncError code a call throws; fails the test when it returns or throws something else. */
export function codeOf(fn: () => unknown): GncErrorCode {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GncError);
    return (err as GncError).code;
  }
  throw new Error('expected a GncError, but the call returned');
}
