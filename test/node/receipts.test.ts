/**
 * openReceipt checks that a receipt answers exactly the envelope sent (message id, ref and SHA-256), and its
 * GNC_RECEIPT_MISMATCH sentence names the part that differs. KG seals with the RFC 8032 TEST 2 key, KZ opens.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_AGE_MS } from '../../protocol/constants.js';
import { isGncError } from '../../protocol/errors.js';
import { openReceipt, sealReceipt } from '../../node/receipts.js';
import { KG, NOW, verificationKey } from '../protocol/envelope/fixtures.js';

const MESSAGE_ID = '019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b';
const SHA = 'a'.repeat(64);
const kzOptions = { resolveKey: (kid: string) => (kid === KG.kid ? verificationKey(KG) : undefined), self: 'KZ', now: NOW, clockSkewMs: DEFAULT_CLOCK_SKEW_MS, maxAgeMs: DEFAULT_MAX_MESSAGE_AGE_MS };

function receipt(messageId: string, sha256: string): Uint8Array {
  return sealReceipt(KG.signer, { self: 'KG', to: 'KZ', messageId, sha256, agreement: 'KZ-KG-MRA-2026@1', outcome: { status: 'accepted' }, now: NOW }).sealed.bytes;
}

function mismatch(bytes: Uint8Array, sha256 = SHA): string {
  try {
    openReceipt(bytes, kzOptions, { messageId: MESSAGE_ID, sha256, partner: 'KG' });
  } catch (err) {
    if (isGncError(err) && err.code === 'GNC_RECEIPT_MISMATCH') return err.message;
    throw err;
  }
  throw new Error('the receipt was accepted');
}

describe('openReceipt', () => {
  it('opens the receipt of the envelope sent', () => {
    const { body } = openReceipt(receipt(MESSAGE_ID, SHA), kzOptions, { messageId: MESSAGE_ID, sha256: SHA, partner: 'KG' });
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
