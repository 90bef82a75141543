/**
 * reasonOf: what a failure's stored reason and log line say for any thrown value. libp2p's stream negotiation rejects
 * with the stream's close event (p-event's rejectionEvents) when the connection closes while it waits to write: the
 * reason said "Cannot reach KG at ...: undefined." (found by the session hunt).
 */
import { describe, expect, it } from 'vitest';
import { pEvent } from 'p-event';
import { StreamCloseEvent } from '@libp2p/interface';
import { GncError, reasonOf } from '../../protocol/errors.js';

describe('reasonOf', () => {
  it('says what the close event libp2p rejects a negotiation with means, not "undefined"', async () => {
    const stream = new EventTarget();
    const waiting = pEvent(stream, 'drain', { rejectionEvents: ['close'] });
    stream.dispatchEvent(new StreamCloseEvent(false));
    const thrown = await waiting.then(() => undefined, (err: unknown) => err);
    expect((thrown as Error).message).toBeUndefined(); // what the session read before
    expect(reasonOf(thrown)).toBe('the close event, without an error (the connection closed meanwhile)');
  });

  it('gives the error a close event carries', () => {
    expect(reasonOf(new StreamCloseEvent(false, new Error('stream reset by the remote')))).toBe('stream reset by the remote');
  });

  it('gives an error its message and anything else as text', () => {
    expect(reasonOf(new GncError('GNC_PARTNER_UNREACHABLE', 'dial timed out'))).toBe('dial timed out');
    expect(reasonOf('socket hang up')).toBe('socket hang up');
    expect(reasonOf(undefined)).toBe('undefined');
  });
});
