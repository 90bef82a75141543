/**
 * openEnvelope (protocol/envelope/open.ts): every check of protocol/SPEC.md section "Opening an envelope" with
 * its stable GNC_ code. Each hostile envelope is otherwise valid (correctly signed where the check under test
 * comes after the signature), so a test fails if the check it names is removed.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_AGE_MS, MAX_FRAME_BYTES } from '../../../protocol/constants.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { openEnvelope, parseFlattened, peekPayload } from '../../../protocol/envelope/open.js';
import { sealEnvelope, sha256Hex } from '../../../protocol/envelope/seal.js';
import { CERT_NOT_AFTER, CERT_NOT_BEFORE, KG, KZ, NOW, STRANGER, bytesOf, codeOf, encodeFlattened, kgOptions, payload, signRaw, verificationKey } from './fixtures.js';

const HEADER = { alg: 'EdDSA', kid: KZ.kid, typ: 'gnc+jws' };

function sealed(overrides: Parameters<typeof payload>[0] = {}) {
  return sealEnvelope(payload(overrides), KZ.signer);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

describe('openEnvelope: round trip', () => {
  it('opens what sealEnvelope sealed and returns the payload, header, key, bytes and SHA-256', () => {
    const s = sealed();
    const opened = openEnvelope(s.bytes, kgOptions());
    expect(opened.payload).toStrictEqual(payload());
    expect(opened.header).toStrictEqual(HEADER);
    expect(opened.key.kid).toBe(KZ.kid);
    expect(opened.bytes).toStrictEqual(s.bytes);
    expect(opened.sha256).toBe(s.sha256);
    expect(opened.sha256).toBe(sha256Hex(s.bytes));
  });

  it('keeps a private copy of the verified bytes: changing the input buffer afterwards changes nothing', () => {
    const input = new Uint8Array(sealed().bytes);
    const opened = openEnvelope(input, kgOptions());
    const before = opened.sha256;
    input.fill(0x20);
    expect(sha256Hex(opened.bytes)).toBe(before);
  });

  it('opens an envelope with ref and without purpose, and a receipt-style envelope with agreement null', () => {
    const withRef = payload({ ref: '019ab3c4-0000-7000-8000-000000000001', purpose: undefined });
    delete withRef.purpose;
    expect(openEnvelope(sealEnvelope(withRef, KZ.signer).bytes, kgOptions()).payload).toStrictEqual(withRef);
    const noAgreement = payload({ type: 'receipt', agreement: null });
    expect(openEnvelope(sealEnvelope(noAgreement, KZ.signer).bytes, kgOptions()).payload.agreement).toBeNull();
  });
});

describe('openEnvelope: outer form', () => {
  it('refuses bytes that are not UTF-8 JSON: GNC_ENVELOPE_MALFORMED', () => {
    expect(codeOf(() => openEnvelope(new TextEncoder().encode('eyJhbGciOiJFZERTQSJ9.e30.AA'), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
    expect(codeOf(() => openEnvelope(Uint8Array.of(0x7b, 0xff, 0x7d), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses an extra unprotected "header" member: GNC_ENVELOPE_MALFORMED', () => {
    const { jws } = sealed();
    expect(codeOf(() => openEnvelope(bytesOf({ ...jws, header: { kid: KZ.kid } }), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses the general JSON serialization (a "signatures" array): GNC_ENVELOPE_MALFORMED', () => {
    const { jws } = sealed();
    const general = { payload: jws.payload, signatures: [{ protected: jws.protected, signature: jws.signature }] };
    expect(codeOf(() => openEnvelope(bytesOf(general), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses a part outside the base64url alphabet (padding or standard base64): GNC_ENVELOPE_MALFORMED', () => {
    const { jws } = sealed();
    expect(codeOf(() => openEnvelope(bytesOf({ ...jws, signature: `${jws.signature}==` }), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
    expect(codeOf(() => openEnvelope(bytesOf({ ...jws, protected: `${jws.protected}+` }), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses a correctly signed payload part in standard base64 (signature checked first, then decoding): GNC_ENVELOPE_MALFORMED', () => {
    const { jws } = sealed();
    const payloadPart = Buffer.from(canonicalJson(payload()), 'utf8').toString('base64').replace(/=+$/, '') + '+';
    const signature = Buffer.from(KZ.signer.sign(new TextEncoder().encode(`${jws.protected}.${payloadPart}`))).toString('base64url');
    expect(codeOf(() => openEnvelope(bytesOf({ protected: jws.protected, payload: payloadPart, signature }), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses an envelope over MAX_FRAME_BYTES before parsing it: GNC_FRAME_TOO_LARGE', () => {
    expect(codeOf(() => openEnvelope(new Uint8Array(MAX_FRAME_BYTES + 1), kgOptions()))).toBe('GNC_FRAME_TOO_LARGE');
  });
});

describe('openEnvelope: protected header allowlist', () => {
  const text = canonicalJson(payload());

  it('refuses alg other than EdDSA, even when the signature is valid: GNC_ENVELOPE_HEADER', () => {
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ ...HEADER, alg: 'ES256' }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ ...HEADER, alg: 'none' }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ ...HEADER, alg: 'Ed25519' }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
  });

  it('refuses a typ other than gnc+jws: GNC_ENVELOPE_HEADER', () => {
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ ...HEADER, typ: 'JWT' }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ ...HEADER, typ: 'gnc-cert+jws' }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
  });

  it('refuses a header without typ: GNC_ENVELOPE_HEADER', () => {
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ alg: 'EdDSA', kid: KZ.kid }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
  });

  it('refuses a header without kid: GNC_ENVELOPE_HEADER', () => {
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ alg: 'EdDSA', typ: 'gnc+jws' }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
  });

  it('refuses any other protected member (crit, jku, b64): GNC_ENVELOPE_HEADER', () => {
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ ...HEADER, crit: ['b64'], b64: false }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
    expect(codeOf(() => openEnvelope(bytesOf(signRaw({ ...HEADER, jku: 'https://example.org/keys' }, text)), kgOptions()))).toBe('GNC_ENVELOPE_HEADER');
  });

  it('refuses a protected header with a member twice, whichever copy is EdDSA: GNC_ENVELOPE_HEADER', () => {
    for (const alg of ['"alg":"none","alg":"EdDSA"', '"alg":"EdDSA","alg":"EdDSA"']) {
      const jws = signRaw({ ...HEADER }, text);
      const header = Buffer.from(`{${alg},"kid":"${KZ.kid}","typ":"gnc+jws"}`).toString('base64url');
      const resigned = { ...jws, protected: header, signature: Buffer.from(KZ.signer.sign(Buffer.from(`${header}.${jws.payload}`, 'ascii'))).toString('base64url') };
      expect(codeOf(() => openEnvelope(bytesOf(resigned), kgOptions())), alg).toBe('GNC_ENVELOPE_HEADER');
    }
  });

  it('refuses an envelope with a member twice, the last copy the signed one: GNC_ENVELOPE_MALFORMED', () => {
    const { jws } = sealed();
    for (const twice of ['protected', 'payload', 'signature'] as const) {
      const bytes = Buffer.from(`{"${twice}":"AAAA",` + new TextDecoder().decode(encodeFlattened(jws)).slice(1));
      expect(codeOf(() => openEnvelope(bytes, kgOptions())), twice).toBe('GNC_ENVELOPE_MALFORMED');
    }
    // whitespace between the members stays allowed
    expect(openEnvelope(Buffer.from(JSON.stringify(jws, null, 2)), kgOptions()).payload).toStrictEqual(payload());
  });

  it('accepts the same header members in another order (the header need not be canonical)', () => {
    const jws = signRaw({ typ: 'gnc+jws', kid: KZ.kid, alg: 'EdDSA' }, text);
    expect(openEnvelope(bytesOf(jws), kgOptions()).payload).toStrictEqual(payload());
  });
});

describe('openEnvelope: key and signature', () => {
  it('refuses a kid no trusted root certified: GNC_KEY_UNKNOWN', () => {
    const s = sealEnvelope(payload(), STRANGER.signer);
    expect(codeOf(() => openEnvelope(s.bytes, kgOptions()))).toBe('GNC_KEY_UNKNOWN');
  });

  it('refuses a tampered payload under the original signature: GNC_SIGNATURE_INVALID', () => {
    const { jws } = sealed();
    const changed = Buffer.from(canonicalJson(payload({ body: { kind: 'change', reason: 'tampered' } })), 'utf8').toString('base64url');
    expect(codeOf(() => openEnvelope(bytesOf({ ...jws, payload: changed }), kgOptions()))).toBe('GNC_SIGNATURE_INVALID');
  });

  it('refuses a signature with one bit flipped: GNC_SIGNATURE_INVALID', () => {
    const { jws } = sealed();
    const sig = Buffer.from(jws.signature, 'base64url');
    sig[10] = sig[10]! ^ 0x01;
    expect(codeOf(() => openEnvelope(bytesOf({ ...jws, signature: sig.toString('base64url') }), kgOptions()))).toBe('GNC_SIGNATURE_INVALID');
  });

  it('refuses a signature that is not 64 bytes: GNC_SIGNATURE_INVALID', () => {
    const { jws } = sealed();
    const short = Buffer.from(jws.signature, 'base64url').subarray(0, 63).toString('base64url');
    expect(codeOf(() => openEnvelope(bytesOf({ ...jws, signature: short }), kgOptions()))).toBe('GNC_SIGNATURE_INVALID');
  });

  it('refuses a signature by another key that claims the trusted kid: GNC_SIGNATURE_INVALID', () => {
    const forged = sealEnvelope(payload(), { kid: KZ.kid, sign: (d) => STRANGER.signer.sign(d) });
    expect(codeOf(() => openEnvelope(forged.bytes, kgOptions()))).toBe('GNC_SIGNATURE_INVALID');
  });

  it('refuses a changed protected header under the original signature: GNC_SIGNATURE_INVALID', () => {
    const { jws } = sealed();
    const reordered = Buffer.from(JSON.stringify({ typ: 'gnc+jws', alg: 'EdDSA', kid: KZ.kid }), 'utf8').toString('base64url');
    expect(codeOf(() => openEnvelope(bytesOf({ ...jws, protected: reordered }), kgOptions()))).toBe('GNC_SIGNATURE_INVALID');
  });

  it('refuses a second base64url spelling of the same signature bytes (non-zero pad bits): GNC_ENVELOPE_MALFORMED', () => {
    const { jws } = sealed();
    // 64 bytes take 86 characters; the last one carries 2 data bits and 4 pad bits (RFC 4648 section 3.5)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(jws.signature.at(-1)!);
    const twin = jws.signature.slice(0, -1) + alphabet[last ^ 0x01]!;
    expect(Buffer.from(twin, 'base64url')).toStrictEqual(Buffer.from(jws.signature, 'base64url'));
    expect(codeOf(() => openEnvelope(bytesOf({ ...jws, signature: twin }), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });
});

describe('openEnvelope: payload', () => {
  it('refuses a correctly signed payload that is the same JSON but not RFC 8785 canonical: GNC_ENVELOPE_MALFORMED', () => {
    const p = payload();
    expect(codeOf(() => openEnvelope(bytesOf(signRaw(HEADER, JSON.stringify(p))), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
    expect(codeOf(() => openEnvelope(bytesOf(signRaw(HEADER, JSON.stringify(JSON.parse(canonicalJson(p)), null, 1))), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses a signed payload with a duplicate member (canonical form has it once): GNC_ENVELOPE_MALFORMED', () => {
    const text = canonicalJson(payload()).replace('"v":1', '"v":1,"v":1');
    expect(codeOf(() => openEnvelope(bytesOf(signRaw(HEADER, text)), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('returns the body as signed, a member named "__proto__" included, for the body schemas to refuse', () => {
    // zod's record leaves such a member out of its copy: the receiver then stored and accepted a body it never checked
    const p = payload();
    const text = canonicalJson(p).replace('"body":{', '"body":{"__proto__":{"evil":1},');
    const body = openEnvelope(bytesOf(signRaw(HEADER, text)), kgOptions()).payload.body;
    expect(Object.keys(body)[0]).toBe('__proto__');
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
  });

  it('refuses a signed payload with an unknown member: GNC_ENVELOPE_MALFORMED', () => {
    expect(codeOf(() => openEnvelope(bytesOf(signRaw(HEADER, canonicalJson({ ...payload(), extra: 1 }))), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses a signed payload of another layout version: GNC_ENVELOPE_MALFORMED', () => {
    expect(codeOf(() => openEnvelope(bytesOf(signRaw(HEADER, canonicalJson({ ...payload(), v: 2 }))), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses a signed payload whose created is not a UTC timestamp with milliseconds: GNC_ENVELOPE_MALFORMED', () => {
    const text = canonicalJson({ ...payload(), created: '2026-11-24T09:29:58+00:00' });
    expect(codeOf(() => openEnvelope(bytesOf(signRaw(HEADER, text)), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('refuses a signed payload with an unknown type: GNC_ENVELOPE_MALFORMED', () => {
    expect(codeOf(() => openEnvelope(bytesOf(signRaw(HEADER, canonicalJson({ ...payload(), type: 'invoice' }))), kgOptions()))).toBe('GNC_ENVELOPE_MALFORMED');
  });
});

describe('openEnvelope: certificate validity and revocation', () => {
  it('refuses an envelope created after the certificate expired: GNC_KEY_EXPIRED', () => {
    const opts = kgOptions({}, [verificationKey(KZ, { notAfter: NOW - 60_000 })]);
    expect(codeOf(() => openEnvelope(sealed().bytes, opts))).toBe('GNC_KEY_EXPIRED');
  });

  it('refuses an envelope created before the certificate was valid: GNC_KEY_EXPIRED', () => {
    const opts = kgOptions({}, [verificationKey(KZ, { notBefore: NOW })]);
    expect(codeOf(() => openEnvelope(sealed().bytes, opts))).toBe('GNC_KEY_EXPIRED');
  });

  it('refuses an envelope created inside the validity once the certificate has expired by more than the skew: GNC_KEY_EXPIRED', () => {
    const created = CERT_NOT_AFTER - 60_000;
    const s = sealed({ created: iso(created) });
    expect(openEnvelope(s.bytes, kgOptions({ now: CERT_NOT_AFTER + DEFAULT_CLOCK_SKEW_MS })).payload.created).toBe(iso(created));
    expect(codeOf(() => openEnvelope(s.bytes, kgOptions({ now: CERT_NOT_AFTER + DEFAULT_CLOCK_SKEW_MS + 1 })))).toBe('GNC_KEY_EXPIRED');
    // the sentence says what is wrong: the certificate has ended by the receiver's clock, not that `created` is outside it
    const late = (): unknown => openEnvelope(s.bytes, kgOptions({ now: CERT_NOT_AFTER + DEFAULT_CLOCK_SKEW_MS + 1 }));
    expect(late).toThrow(/has ended by this node's clock/);
    expect(late).not.toThrow(/falls outside/);
  });

  it('accepts envelopes created exactly at notBefore and at notAfter', () => {
    expect(openEnvelope(sealed({ created: iso(CERT_NOT_BEFORE) }).bytes, kgOptions({ now: CERT_NOT_BEFORE })).payload.created).toBe(iso(CERT_NOT_BEFORE));
    expect(openEnvelope(sealed({ created: iso(CERT_NOT_AFTER) }).bytes, kgOptions({ now: CERT_NOT_AFTER })).payload.created).toBe(iso(CERT_NOT_AFTER));
  });

  it('refuses an envelope created at or after the key was revoked: GNC_KEY_REVOKED', () => {
    const created = NOW - 2_000;
    expect(codeOf(() => openEnvelope(sealed().bytes, kgOptions({}, [verificationKey(KZ, { revokedAt: created })])))).toBe('GNC_KEY_REVOKED');
  });

  it('accepts an envelope created before the key was revoked', () => {
    const opts = kgOptions({}, [verificationKey(KZ, { revokedAt: NOW - 1_999 })]);
    expect(openEnvelope(sealed().bytes, opts).key.revokedAt).toBe(NOW - 1_999);
  });
});

describe('openEnvelope: sender and recipient', () => {
  it('refuses "from" that is not the country the key is certified for: GNC_SENDER_MISMATCH', () => {
    expect(codeOf(() => openEnvelope(sealed({ from: 'CN' }).bytes, kgOptions()))).toBe('GNC_SENDER_MISMATCH');
  });

  it('refuses "to" that is not this node: GNC_WRONG_RECIPIENT', () => {
    expect(codeOf(() => openEnvelope(sealed({ to: 'UZ' }).bytes, kgOptions()))).toBe('GNC_WRONG_RECIPIENT');
  });

  it('refuses an envelope addressed to its own sender when opened by that sender: GNC_WRONG_RECIPIENT', () => {
    const opts = kgOptions({ self: 'KZ' });
    expect(codeOf(() => openEnvelope(sealed().bytes, opts))).toBe('GNC_WRONG_RECIPIENT');
  });

  it('opens an envelope from KG at KZ when KZ trusts the KG key (the direction is not fixed)', () => {
    const s = sealEnvelope(payload({ from: 'KG', to: 'KZ' }), KG.signer);
    expect(openEnvelope(s.bytes, kgOptions({ self: 'KZ' }, [verificationKey(KG)])).payload.from).toBe('KG');
  });
});

describe('openEnvelope: clock', () => {
  it('refuses created further in the future than the clock skew: GNC_CLOCK_SKEW', () => {
    const s = sealed({ created: iso(NOW + DEFAULT_CLOCK_SKEW_MS + 1) });
    expect(codeOf(() => openEnvelope(s.bytes, kgOptions()))).toBe('GNC_CLOCK_SKEW');
  });

  it('accepts created exactly the clock skew in the future', () => {
    const s = sealed({ created: iso(NOW + DEFAULT_CLOCK_SKEW_MS) });
    expect(openEnvelope(s.bytes, kgOptions()).payload.created).toBe(iso(NOW + DEFAULT_CLOCK_SKEW_MS));
  });

  it('refuses created older than the maximum message age: GNC_CLOCK_SKEW', () => {
    const s = sealed({ created: iso(NOW - DEFAULT_MAX_MESSAGE_AGE_MS - 1) });
    expect(codeOf(() => openEnvelope(s.bytes, kgOptions()))).toBe('GNC_CLOCK_SKEW');
  });

  it('accepts created exactly the maximum message age ago', () => {
    const s = sealed({ created: iso(NOW - DEFAULT_MAX_MESSAGE_AGE_MS) });
    expect(openEnvelope(s.bytes, kgOptions()).payload.created).toBe(iso(NOW - DEFAULT_MAX_MESSAGE_AGE_MS));
  });
});

describe('parseFlattened and peekPayload (addressing a negative receipt)', () => {
  it('parseFlattened returns the three members without verifying anything', () => {
    const forged = sealEnvelope(payload(), STRANGER.signer);
    expect(parseFlattened(forged.bytes)).toStrictEqual(forged.jws);
  });

  it('peekPayload reads the claimed id of an unverified envelope, and undefined for a payload that is not JSON', () => {
    const forged = sealEnvelope(payload(), STRANGER.signer);
    expect(peekPayload(forged.jws)?.id).toBe(payload().id);
    expect(peekPayload({ ...forged.jws, payload: 'bm90IGpzb24' })).toBeUndefined();
  });

  it('the bytes of encodeFlattened are exactly {"protected","payload","signature"} in that order', () => {
    const s = sealed();
    expect(new TextDecoder().decode(encodeFlattened(s.jws))).toBe(`{"protected":"${s.jws.protected}","payload":"${s.jws.payload}","signature":"${s.jws.signature}"}`);
  });
});
