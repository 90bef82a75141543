/**
 * RFC 8032 section 7.1 Ed25519 test vectors (rfc8032.json) against both Ed25519 implementations the product
 * uses: node:crypto through keyObjectSigner / verifyEd25519 (the hot path of seal and open) and @noble/ed25519
 * with strict RFC 8032 rules (`zip215: false`, the offline auditor's path). Ed25519 is deterministic, so
 * both must produce exactly the published signatures, and both must refuse a malleable S + L signature.
 */
import { createPublicKey, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { verifyEd25519 } from '../../protocol/envelope/open.js';
import { keyObjectSigner } from '../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf } from '../../protocol/jwk.js';

interface Rfc8032Vector {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
}

const file = JSON.parse(readFileSync(new URL('./rfc8032.json', import.meta.url), 'utf8')) as { source: string; vectors: Rfc8032Vector[] };

/** Group order of edwards25519 (RFC 8032 section 5.1: L = 2^252 + 27742317777372353535851937790883648493). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function privateKeyOf(seedHex: string, publicHex: string): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(seedHex, 'hex').toString('base64url'), x: Buffer.from(publicHex, 'hex').toString('base64url') }, format: 'jwk' });
}

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(bytes).reverse().toString('hex'));
}

function bigIntToLittleEndian32(n: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());
}

/** The same signature with S replaced by S + L: equal modulo L, so a lax verifier accepts it (malleability). */
function withSPlusL(signature: Uint8Array): Uint8Array {
  const s = littleEndianToBigInt(signature.subarray(32));
  const out = new Uint8Array(64);
  out.set(signature.subarray(0, 32), 0);
  out.set(bigIntToLittleEndian32(s + L), 32);
  return out;
}

function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[index] = out[index]! ^ 0x01;
  return out;
}

describe('RFC 8032 section 7.1 vectors (test/vectors/rfc8032.json)', () => {
  it('names its source and holds TEST 1, 2, 3, 1024 and SHA(abc)', () => {
    expect(file.source).toContain('RFC 8032');
    expect(file.source).toContain('7.1');
    expect(file.vectors.map((v) => v.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3', 'TEST 1024', 'TEST SHA(abc)']);
    expect(file.vectors.map((v) => v.message.length / 2)).toEqual([0, 1, 2, 1023, 64]);
  });

  describe.each(file.vectors)('$name', (v) => {
    const privateKey = privateKeyOf(v.secretKey, v.publicKey);
    const publicKey = createPublicKey(privateKey);
    const message = hex(v.message);
    const signature = hex(v.signature);

    it('node:crypto derives the published public key from the secret key', () => {
      expect(Buffer.from(publicJwkOf(privateKey).x, 'base64url').toString('hex')).toBe(v.publicKey);
    });

    it('keyObjectSigner (the seal path) produces exactly the published signature', () => {
      const signer = keyObjectSigner(jwkThumbprint(publicJwkOf(privateKey)), privateKey);
      expect(toHex(signer.sign(message))).toBe(v.signature);
    });

    it('verifyEd25519 (the open path) accepts the published signature', () => {
      expect(verifyEd25519(message, signature, publicKey)).toBe(true);
    });

    it('verifyEd25519 rejects the signature with one bit flipped in R, in S, or in the message', () => {
      expect(verifyEd25519(message, flipBit(signature, 0), publicKey)).toBe(false);
      expect(verifyEd25519(message, flipBit(signature, 40), publicKey)).toBe(false);
      const tampered = message.byteLength === 0 ? Uint8Array.of(0) : flipBit(message, 0);
      expect(verifyEd25519(tampered, signature, publicKey)).toBe(false);
    });

    it('verifyEd25519 rejects a non-canonical S (S + L >= L) that is equal modulo L', () => {
      const malleated = withSPlusL(signature);
      expect(littleEndianToBigInt(malleated.subarray(32)) >= L).toBe(true);
      expect(verifyEd25519(message, malleated, publicKey)).toBe(false);
    });

    it('@noble/ed25519 derives the public key and produces exactly the published signature', async () => {
      expect(toHex(await ed.getPublicKeyAsync(hex(v.secretKey)))).toBe(v.publicKey);
      expect(toHex(await ed.signAsync(message, hex(v.secretKey)))).toBe(v.signature);
    });

    it('@noble/ed25519 with zip215: false accepts the signature and rejects a flipped bit and S + L', async () => {
      const pk = hex(v.publicKey);
      expect(await ed.verifyAsync(signature, message, pk, { zip215: false })).toBe(true);
      expect(await ed.verifyAsync(flipBit(signature, 63), message, pk, { zip215: false })).toBe(false);
      expect(await ed.verifyAsync(withSPlusL(signature), message, pk, { zip215: false })).toBe(false);
    });
  });

  it('verifyEd25519 refuses a signature that is not 64 bytes without calling into OpenSSL', () => {
    const v = file.vectors[0]!;
    const publicKey = createPublicKey(privateKeyOf(v.secretKey, v.publicKey));
    expect(verifyEd25519(hex(v.message), hex(v.signature).subarray(0, 63), publicKey)).toBe(false);
    expect(verifyEd25519(hex(v.message), new Uint8Array([...hex(v.signature), 0]), publicKey)).toBe(false);
  });
});
