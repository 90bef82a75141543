import { describe, expect, it } from 'vitest';
import { preferredReturn, preferredWait } from '../../../node/api/prefer.js';
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

describe('Prefer: return (RFC 7240)', () => {
  it.each([
    ['return=minimal', 'minimal'],
    ['return=representation', 'representation'],
    ['RETURN = Minimal', 'minimal'],
    ['return="minimal"', 'minimal'],
    ['wait=10, return=minimal', 'minimal'],
    ['return=minimal;foo=bar', 'minimal'],
    ['return=bogus, return=representation', 'representation'],
    ['return=minimal, return=representation', 'minimal'],
  ])('reads %j as %j', (header, shape) => {
    expect(preferredReturn(header)).toBe(shape);
  });

  it.each([undefined, '', 'return', 'return=', 'return=full', 'wait=5; return=minimal', 'returns=minimal', 'return=minimalist'])('ignores %j', (header) => {
    expect(preferredReturn(header)).toBeUndefined();
  });
});
