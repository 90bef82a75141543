/**
 * openReceipt checks that a receipt answers exactly the envelope sent (message id, ref and SHA-256), and its
 * GNC_RECEIPT_MISMATCH sentence names the part that differs; it accepts such a receipt, and only such a receipt, under
 * a key whose certificate has ended since it was signed, or older than the maximum age, if it is not older than the
 * envelope it answers (SPEC section 5). KG seals with the RFC 8032 TEST 2 key, KZ opens.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_AGE_MS } from '../../protocol/constants.js';
import { isGncError } from '../../protocol/errors.js';
import type { VerificationKey } from '../../protocol/envelope/open.js';
import { codeOf } from '../helpers/errors.js';
import { openReceipt, sealReceipt } from '../../node/receipts.js';
import { KG, NOW, verificationKey } from '../protocol/envelope/fixtures.js';

const MESSAGE_ID = '019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b';
const SHA = 'a'.repeat(64);
const kzOptions = { resolveKey: (kid: string) => (kid === KG.kid ? verificationKey(KG) : undefined), self: 'KZ', now: NOW, clockSkewMs: DEFAULT_CLOCK_SKEW_MS, maxAgeMs: DEFAULT_MAX_MESSAGE_AGE_MS };

/** The envelope KZ sent to KG, created at `at`. */
const sentAt = (at: number) => ({ messageId: MESSAGE_ID, sha256: SHA, created: new Date(at).toISOString(), partner: 'KG' });

function receipt(messageId: string, sha256: string, at = NOW, to = 'KZ'): Uint8Array {
  return sealReceipt(KG.signer, { self: 'KG', to, messageId, sha256, agreement: 'KZ-KG-MRA-2026@1', outcome: { status: 'accepted' }, now: at }).sealed.bytes;
}

function mismatch(bytes: Uint8Array, sha256 = SHA): string {
  try {
    openReceipt(bytes, kzOptions, { ...sentAt(NOW), sha256 });
  } catch (err) {
    if (isGncError(err) && err.code === 'GNC_RECEIPT_MISMATCH') return err.message;
    throw err;
  }
  throw new Error('the receipt was accepted');
}

describe('openReceipt', () => {
  it('opens the receipt of the envelope sent', () => {
    const { body } = openReceipt(receipt(MESSAGE_ID, SHA), kzOptions, sentAt(NOW));
    expect(body).toMatchObject({ messageId: MESSAGE_ID, sha256: SHA, status: 'accepted' });
  });

  it('names both ids when the receipt is for another message', () => {
    const other = '019ab3c4-5d6e-7f80-9a1b-000000000000';
    expect(mismatch(receipt(other, SHA))).toContain(`names message ${other}, not ${MESSAGE_ID} as sent`);
  });

  it('names both hashes, not the same id twice, when only the SHA-256 differs', () => {
    const message = mismatch(receipt(MESSAGE_ID, 'b'.repeat(64)));
    expect(message).toContain(`has sha256 bbbbbbbbbbbb..., not aaaaaaaaaaaa... of the envelope sent`);
    expect(message).not.toContain(`not ${MESSAGE_ID} as sent`);
  });
});

describe('openReceipt under a key that has ended since the receipt was signed', () => {
  const DAY = 86_400_000;
  /** The receipt was signed two days ago; KG's certificate ended yesterday. */
  const SIGNED = NOW - 2 * DAY;
  const ended = (overrides: Partial<VerificationKey> = {}) => ({ ...kzOptions, resolveKey: (kid: string) => (kid === KG.kid ? verificationKey(KG, { notAfter: NOW - DAY, ...overrides }) : undefined) });
  const sent = sentAt(SIGNED);

  it('accepts the receipt that names exactly the envelope sent, signed while the certificate counted', () => {
    const { body, opened } = openReceipt(receipt(MESSAGE_ID, SHA, SIGNED), ended(), sent);
    expect(body).toMatchObject({ messageId: MESSAGE_ID, sha256: SHA, status: 'accepted' });
    expect(opened.key.kid).toBe(KG.kid);
  });

  it('refuses it as before when it names anything else or comes from another partner (GNC_KEY_EXPIRED)', () => {
    const other = '019ab3c4-5d6e-7f80-9a1b-000000000000';
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, 'b'.repeat(64), SIGNED), ended(), sent))).toBe('GNC_KEY_EXPIRED');
    expect(codeOf(() => openReceipt(receipt(other, SHA, SIGNED), ended(), sent))).toBe('GNC_KEY_EXPIRED');
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, SIGNED), ended(), { ...sent, partner: 'UZ' }))).toBe('GNC_KEY_EXPIRED');
  });

  it('refuses it when it was created outside the certificate (GNC_KEY_EXPIRED)', () => {
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, SIGNED), ended({ notAfter: SIGNED - 1 }), sent))).toBe('GNC_KEY_EXPIRED');
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, SIGNED), ended({ notBefore: SIGNED + 1 }), sent))).toBe('GNC_KEY_EXPIRED');
  });

  it('refuses it when it was created more than the clock skew before the envelope it names (GNC_KEY_EXPIRED)', () => {
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, SIGNED - DEFAULT_CLOCK_SKEW_MS - 1), ended(), sent))).toBe('GNC_KEY_EXPIRED');
  });

  it('refuses it when the key was revoked at or before its created (GNC_KEY_REVOKED)', () => {
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, SIGNED), ended({ revokedAt: SIGNED }), sent))).toBe('GNC_KEY_REVOKED');
    // a revocation after it (a rotation's retirement) does not
    expect(openReceipt(receipt(MESSAGE_ID, SHA, SIGNED), ended({ revokedAt: SIGNED + 1 }), sent).body.status).toBe('accepted');
  });

  it('applies every other check as before: a receipt addressed to another node is GNC_WRONG_RECIPIENT', () => {
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, SIGNED, 'UZ'), ended(), sent))).toBe('GNC_WRONG_RECIPIENT');
  });
});

describe('openReceipt older than the maximum age of the node that opens it', () => {
  const HOUR = 3_600_000;
  const SKEW = DEFAULT_CLOCK_SKEW_MS;
  /** KZ keeps one hour; it sent the envelope three hours ago and KG, which keeps longer, signed its receipt a minute later. */
  const SENT = NOW - 3 * HOUR;
  const oneHour = { ...kzOptions, maxAgeMs: HOUR };
  const sent = sentAt(SENT);

  it('accepts the receipt that names exactly the envelope sent, created after it', () => {
    const { body } = openReceipt(receipt(MESSAGE_ID, SHA, SENT + 60_000), oneHour, sent);
    expect(body).toMatchObject({ messageId: MESSAGE_ID, sha256: SHA, status: 'accepted' });
  });

  it('accepts it created up to the clock skew before the envelope (the partner\'s clock behind), not earlier (GNC_CLOCK_SKEW)', () => {
    expect(openReceipt(receipt(MESSAGE_ID, SHA, SENT - SKEW), oneHour, sent).body.status).toBe('accepted');
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, SENT - SKEW - 1), oneHour, sent))).toBe('GNC_CLOCK_SKEW');
  });

  it('refuses it as before when it names anything else or comes from another partner (GNC_CLOCK_SKEW)', () => {
    const other = '019ab3c4-5d6e-7f80-9a1b-000000000000';
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, 'b'.repeat(64), SENT + 60_000), oneHour, sent))).toBe('GNC_CLOCK_SKEW');
    expect(codeOf(() => openReceipt(receipt(other, SHA, SENT + 60_000), oneHour, sent))).toBe('GNC_CLOCK_SKEW');
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, SENT + 60_000), oneHour, { ...sent, partner: 'UZ' }))).toBe('GNC_CLOCK_SKEW');
  });

  it('refuses it created more than the clock skew ahead of this node\'s clock (GNC_CLOCK_SKEW)', () => {
    expect(codeOf(() => openReceipt(receipt(MESSAGE_ID, SHA, NOW + SKEW + 1), oneHour, sent))).toBe('GNC_CLOCK_SKEW');
    expect(openReceipt(receipt(MESSAGE_ID, SHA, NOW + SKEW), oneHour, sent).body.status).toBe('accepted');
  });
});
