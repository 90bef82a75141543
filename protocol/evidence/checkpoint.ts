/**
 * Signed checkpoints of the evidence log (protocol/SPEC.md section 9.3): a compact JWS by the node key
 * over `{v, node, seq, hash, at}` that pins the hash of the entry at `seq`. The hash chain detects changes
 * between entries; a checkpoint detects a rewrite of everything after some point and a truncated tail,
 * which no link can show. The typ differs from envelopes and certificates so that a checkpoint can never be
 * replayed as either.
 */
import { z } from 'zod';
import { CHECKPOINT_TYP, JWS_ALG } from '../constants.js';
import { CountryCode } from '../codes/countries.js';
import { GncError } from '../errors.js';
import { canonicalBytes } from '../envelope/canonical.js';
import { UtcTimestamp } from '../envelope/payload.js';
import { signJws, type Signer } from '../envelope/seal.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../jwk.js';
import { HexSha256 } from './chain.js';
import { decodeCompactJws, verifyCompactWithNode, type DecodedCompactJws } from './compact-jws.js';

export { CHECKPOINT_TYP };

export const CheckpointPayload = z.strictObject({
  v: z.literal(1),
  /** Country of the node whose log this is. */
  node: CountryCode,
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** entryHash of the entry at `seq`. */
  hash: HexSha256,
  /** When the checkpoint was signed. */
  at: UtcTimestamp,
});
export type CheckpointPayload = z.infer<typeof CheckpointPayload>;

/** Sign a checkpoint with the node key; the header `kid` is the node key thumbprint (the signer's kid). */
export function signCheckpoint(payload: CheckpointPayload, signer: Signer): string {
  const jws = signJws({ alg: JWS_ALG, kid: signer.kid, typ: CHECKPOINT_TYP }, canonicalBytes(payload), signer);
  return `${jws.protected}.${jws.payload}.${jws.signature}`;
}

/** Decode without checking the signature (throws GNC_SCHEMA_INVALID when malformed). */
export function decodeCheckpoint(compact: string): DecodedCompactJws<CheckpointPayload> {
  return decodeCompactJws(compact, { typ: CHECKPOINT_TYP, schema: CheckpointPayload, what: 'Checkpoint', code: 'GNC_SCHEMA_INVALID', canonical: true });
}

/**
 * Verify a checkpoint with node:crypto under the node key `jwk` (the running node's `gnc audit verify` of its
 * own log). Throws GNC_SIGNATURE_INVALID when the kid or signature does not match.
 */
export function verifyCheckpoint(compact: string, jwk: Ed25519PublicJwk): CheckpointPayload {
  const decoded = decodeCheckpoint(compact);
  const kid = jwkThumbprint(jwk);
  if (decoded.header.kid !== kid || !verifyCompactWithNode(compact, jwk)) {
    throw new GncError('GNC_SIGNATURE_INVALID', `Checkpoint at seq ${decoded.payload.seq} is not signed by node key ${kid}: the checkpoint was altered or signed with another key.`);
  }
  return decoded.payload;
}
