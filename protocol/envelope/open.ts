/**
 * Opening an envelope received from a partner. Works from allowlists only: exactly the header members
 * {alg: EdDSA, kid, typ: gnc+jws}, a key the trust store names for `kid`, a canonical payload, a sender that
 * matches the certified country, this node as recipient, and a `created` time inside the skew and age bounds.
 * The caller checks id uniqueness against its store (a replay with other content is GNC_REPLAY) because
 * that needs the database, which protocol/ never touches.
 */
import { verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ENVELOPE_TYP, MAX_FRAME_BYTES } from '../constants.js';
import { GncError } from '../errors.js';
import { fromB64u } from './base64url.js';
import { canonicalJson } from './canonical.js';
import { EnvelopeHeader, EnvelopePayload, FlattenedJws } from './payload.js';
import { sha256Hex } from './seal.js';
import { parseSignedJson } from './signed-json.js';

/** A partner node key as certified by its administration's root, with the certificate's validity. */
export interface VerificationKey {
  kid: string;
  publicKey: KeyObject;
  /** Country of the administration whose root certified this key. */
  country: string;
  notBefore: number;
  notAfter: number;
  /** Epoch ms from which signatures by this key are refused (root-signed revocation), if revoked. */
  revokedAt?: number | undefined;
}

/**
 * The instants of this node's clock at which a certified key counts: its certificate's validity widened by the clock
 * skew on both sides (SPEC sections 2, 4 and 6), since a partner whose clock runs ahead uses a certificate that has
 * not started yet by this clock, and one whose clock runs behind a certificate that has just ended by it. Opening an
 * envelope holds the receiver's clock to the end of the window (check 11; its start follows from `nbf` <= `created`
 * <= now + skew, checks 11 and 14), and the connection gater holds it to the whole window.
 */
export function validityWindow(
  key: Pick<VerificationKey, 'notBefore' | 'notAfter'>,
  clockSkewMs: number,
): { from: number; until: number } {
  return { from: key.notBefore - clockSkewMs, until: key.notAfter + clockSkewMs };
}

export interface OpenOptions {
  resolveKey(kid: string): VerificationKey | undefined;
  /** This node's country: the only acceptable `to`. */
  self: string;
  now: number;
  clockSkewMs: number;
  maxAgeMs: number;
  /**
   * Whether the receiver holds a message it accepted earlier with this payload's `from` and `id` and the SHA-256 of
   * exactly these bytes (SPEC section 4, check 10). Such an envelope passed every check when it was accepted: it is
   * opened as `held`, without checks 11-15, for the receiver to answer its stored receipt. Asked only when one of
   * them fails (none of them can fail for the bytes when they were accepted, other than by time or a key that ended
   * since): an envelope that passes them reaches the receiver's own duplicate check, which answers the same.
   */
  held?(payload: EnvelopePayload, sha256: string): boolean;
  /**
   * Whether the envelope is a receipt that names exactly an envelope this node sent and holds (SPEC section 5: its
   * `messageId`, `ref` and `sha256`, from the partner it was sent to, read over that partner's connection, and
   * `created` not before that envelope's `created` minus the clock skew). Such a receipt is accepted although its
   * key's certificate has ended since (check 11 holds it to `nbf` <= `created` <= `exp` only, not to this node's
   * clock) and although it is older than this node's maximum age (check 15), since the partner answers a message it
   * holds with the receipt it stored then (check 10). Asked only when one of those is the reason to refuse it; every
   * other check applies as before.
   */
  answersSent?(payload: EnvelopePayload): boolean;
}

export interface OpenedEnvelope {
  payload: EnvelopePayload;
  header: EnvelopeHeader;
  key: VerificationKey;
  /** A private copy of the verified bytes: store exactly these. */
  bytes: Uint8Array;
  sha256: string;
  /** A byte-identical duplicate of a message the receiver holds (OpenOptions.held): answer its stored receipt. */
  held?: true;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

const notJson = (what: string): string => `${what} is not UTF-8 JSON: send a JWS in flattened JSON serialization (RFC 7515 section 7.2.2).`;

/**
 * The payload, read as JSON.parse reads it: check 8 (canonical form) refuses a member twice, and a member named
 * `__proto__` in the body goes on to the checks of its type as signed (check 7), so no strict read here.
 */
function parseJson(bytes: Uint8Array, what: string): { value: unknown; text: string } {
  try {
    const text = decoder.decode(bytes);
    return { value: JSON.parse(text), text };
  } catch {
    throw new GncError('GNC_ENVELOPE_MALFORMED', notJson(what));
  }
}

/**
 * Parse the outer JWS without trusting anything in it (used to address a rejection receipt), refusing a member
 * twice or named `__proto__` (SPEC section 4, check 2) as every reader of envelope bytes does (signed-json.ts).
 */
export function parseFlattened(input: Uint8Array): FlattenedJws {
  if (input.byteLength > MAX_FRAME_BYTES) {
    throw new GncError('GNC_FRAME_TOO_LARGE', `Envelope is ${input.byteLength} bytes; the limit is ${MAX_FRAME_BYTES}. Split the consignment into several messages.`);
  }
  const parsed = FlattenedJws.safeParse(parseSignedJson(input, { what: 'Envelope', code: 'GNC_ENVELOPE_MALFORMED', notJson: notJson('Envelope') }));
  if (!parsed.success) {
    throw new GncError('GNC_ENVELOPE_MALFORMED', 'Envelope must be a JSON object with exactly the string members "protected", "payload" and "signature".');
  }
  return parsed.data;
}

/** The protected header of an envelope (SPEC section 4, checks 3 and 4), read as every reader of it reads it. */
export function parseEnvelopeHeader(protectedHeader: string): EnvelopeHeader {
  const value = parseSignedJson(fromB64u(protectedHeader, 'Protected header'), { what: 'Protected header', code: 'GNC_ENVELOPE_HEADER', notJson: notJson('Protected header'), notJsonCode: 'GNC_ENVELOPE_MALFORMED' });
  const header = EnvelopeHeader.safeParse(value);
  if (!header.success) {
    throw new GncError('GNC_ENVELOPE_HEADER', 'Protected header must be exactly {"alg":"EdDSA","kid":<thumbprint>,"typ":"gnc+jws"}, each member once; other algorithms and members are refused.');
  }
  if (header.data.typ !== ENVELOPE_TYP) {
    throw new GncError('GNC_ENVELOPE_HEADER', `Protected header typ is "${header.data.typ}"; expected "${ENVELOPE_TYP}".`);
  }
  return header.data;
}

/** Best-effort read of the unverified payload: only for addressing a negative receipt, never for trust. */
export function peekPayload(jws: FlattenedJws): Partial<EnvelopePayload> | undefined {
  try {
    const v = parseSignedJson(fromB64u(jws.payload, 'Payload'), { what: 'Payload', code: 'GNC_ENVELOPE_MALFORMED' });
    return v !== null && typeof v === 'object' ? (v as Partial<EnvelopePayload>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Best-effort read of the `kid` in an unverified protected header (the base64url first part of a JWS): to select the
 * key, certificate or chain a stored document was signed under, never for trust.
 */
export function peekKid(protectedHeader: string): string | undefined {
  try {
    const kid: unknown = (parseSignedJson(fromB64u(protectedHeader, 'Protected header'), { what: 'Protected header', code: 'GNC_ENVELOPE_HEADER' }) as { kid?: unknown } | null)?.kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Ed25519 verification (RFC 8032 section 5.1.7) of raw bytes: the one place every JWS check of the product ends
 * in. node:crypto (OpenSSL 3) applies the strict rules, including the S < L check that refuses malleable
 * signatures; test/vectors/rfc8032.test.ts holds it to the RFC vectors and to that rule.
 */
export function verifyEd25519(data: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  if (signature.byteLength !== 64) return false;
  return nodeVerify(null, data, publicKey, signature);
}

export function verifyJwsSignature(jws: FlattenedJws, publicKey: KeyObject): boolean {
  const signature = fromB64u(jws.signature, 'JWS signature');
  return verifyEd25519(Buffer.from(`${jws.protected}.${jws.payload}`, 'ascii'), signature, publicKey);
}

/**
 * The canonical text of a parsed payload, or undefined for one that has none (a lone surrogate, nesting too deep to
 * canonicalize): such bytes are not canonical either (check 8), whatever the reason canonicalJson gives.
 */
function canonicalOrUndefined(raw: unknown): string | undefined {
  try {
    return canonicalJson(raw);
  } catch {
    return undefined;
  }
}

export function openEnvelope(input: Uint8Array, opts: OpenOptions): OpenedEnvelope {
  const bytes = new Uint8Array(input); // copy before verifying: the caller's buffer may be reused
  const jws = parseFlattened(bytes);
  const header = parseEnvelopeHeader(jws.protected);

  const key = opts.resolveKey(header.kid);
  if (key === undefined) {
    throw new GncError('GNC_KEY_UNKNOWN', `Key ${header.kid} is not certified by any trusted partner root: the sender must send its current node certificate (or its identity file) first.`);
  }
  if (!verifyJwsSignature(jws, key.publicKey)) {
    throw new GncError('GNC_SIGNATURE_INVALID', `Signature does not verify under key ${key.kid}: the envelope was altered or signed with another key.`);
  }

  // the text is decoded once: parsed here, and compared with its canonical form below
  const { value: raw, text } = parseJson(fromB64u(jws.payload, 'Payload'), 'Payload');
  const parsed = EnvelopePayload.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const path = first ? '/' + first.path.map(String).join('/') : '/';
    throw new GncError('GNC_ENVELOPE_MALFORMED', `Payload member ${path} is invalid: ${first?.message ?? 'unknown problem'}.`);
  }
  if (canonicalOrUndefined(raw) !== text) {
    throw new GncError('GNC_ENVELOPE_MALFORMED', 'Payload is not in RFC 8785 canonical form: sort members and use canonical number and string forms before signing.');
  }
  // the body as parsed from the signed bytes, not zod's copy: a record leaves out a member named "__proto__" (it would
  // set the copy's prototype), so the body schemas would never see, and never refuse, a member the sender signed
  const payload: EnvelopePayload = { ...parsed.data, body: (raw as Pick<EnvelopePayload, 'body'>).body };

  const created = Date.parse(payload.created);
  if (key.revokedAt !== undefined && created >= key.revokedAt) {
    throw new GncError('GNC_KEY_REVOKED', `Key ${key.kid} was revoked at ${new Date(key.revokedAt).toISOString()}; this envelope was created after that. The sender must use its new certified key.`);
  }
  const sha256 = sha256Hex(bytes);
  try {
    checkValidity(payload, key, opts);
  } catch (err) {
    // check 10: a byte-identical duplicate of an accepted message gets its stored receipt, also after its key ended
    if (opts.held?.(payload, sha256) === true) return { payload, header, key, bytes, sha256, held: true };
    throw err;
  }
  return { payload, header, key, bytes, sha256 };
}

/** Checks 11-15 of SPEC section 4: the key's validity at `created` and now, sender, recipient, clock skew and age. */
function checkValidity(payload: EnvelopePayload, key: VerificationKey, opts: OpenOptions): void {
  const created = Date.parse(payload.created);
  const ended = opts.now > validityWindow(key, opts.clockSkewMs).until;
  const valid = `${new Date(key.notBefore).toISOString()} to ${new Date(key.notAfter).toISOString()}`;
  if (created < key.notBefore || created > key.notAfter) {
    throw new GncError('GNC_KEY_EXPIRED', `Certificate of key ${key.kid} is valid ${valid}; the envelope (created ${payload.created}) falls outside. The sender must renew its node certificate.`);
  }
  if (ended && opts.answersSent?.(payload) !== true) {
    // created inside the validity: say that the certificate has ended by this clock, not that created falls outside
    throw new GncError('GNC_KEY_EXPIRED', `Certificate of key ${key.kid} is valid ${valid}: it has ended by this node's clock (by more than the ${opts.clockSkewMs / 1000} s clock skew), so nothing signed by that key is accepted now, whenever it was created (${payload.created}). The sender must renew its node certificate.`);
  }
  if (payload.from !== key.country) {
    throw new GncError('GNC_SENDER_MISMATCH', `Envelope says from "${payload.from}" but key ${key.kid} is certified for "${key.country}".`);
  }
  if (payload.to !== opts.self) {
    throw new GncError('GNC_WRONG_RECIPIENT', `Envelope is addressed to "${payload.to}"; this node is "${opts.self}".`);
  }
  if (created > opts.now + opts.clockSkewMs) {
    throw new GncError('GNC_CLOCK_SKEW', `Envelope created ${payload.created} is ahead of this node's clock by more than ${opts.clockSkewMs / 1000} s: check the sender's NTP time.`);
  }
  if (created < opts.now - opts.maxAgeMs && opts.answersSent?.(payload) !== true) {
    throw new GncError('GNC_CLOCK_SKEW', `Envelope created ${payload.created} is older than the ${Math.round(opts.maxAgeMs / 3_600_000)} h acceptance window: it is stale or replayed; send a new message.`);
  }
}
