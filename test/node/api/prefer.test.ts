import { describe, expect, it } from 'vitest';
import { preferredWait } from '../../../node/api/prefer.js';
import { MAX_WAIT_SECONDS } from '../../../protocol/constants.js';

describe('Prefer: wait (RFC 7240)', () => {
  it.each([
    ['wait=5', 5],
    ['WAIT = 7', 7],
    ['wait="3"', 3],
    ['respond-async, wait=10', 10],
    ['return=representation,wait=2', 2],
    ['wait=4;foo=bar', 4],
    ['wait=0', 0],
    [`wait=${MAX_WAIT_SECONDS * 100}`, MAX_WAIT_SECONDS],
  ])('reads %j as %j seconds', (header, seconds) => {
    expect(preferredWait(header)).toBe(seconds);
  });

  it.each([undefined, '', 'respond-async', 'wait', 'wait=', 'wait=soon', 'wait=-1', 'wait=1.5', 'handling=lenient; wait=5', 'waiter=5', 'wait=12345678901'])(
    'ignores %j',
    (header) => {
      expect(preferredWait(header)).toBeUndefined();
    },
  );
});
