/**
 * The public identity file an administration hands to a partner out of band (`gnc identity export`): its root
 * public key, the root's fingerprint, and the node certificates a partner needs to verify what the node signs. The
 * partner pins the root only if the fingerprint it was told over a separate channel (letter, phone, meeting) matches
 * (`gnc partner add --fingerprint`), so trust never comes from first contact.
 */
import { z } from 'zod';
import { CountryCode } from './codes/countries.js';
import { Ed25519PublicJwk } from './jwk.js';
import { UtcTimestamp } from './envelope/payload.js';

/** Most node certificates one identity file carries. */
export const MAX_IDENTITY_CERTIFICATES = 8;

/** Most key notices one identity file carries. */
export const MAX_IDENTITY_NOTICES = 16;

export const PublicIdentity = z.strictObject({
  v: z.literal(1),
  format: z.literal('gnc-identity'),
  country: CountryCode,
  name: z.string().min(1).max(200),
  root: z.strictObject({ jwk: Ed25519PublicJwk, fingerprint: z.string().length(43) }),
  /**
   * Compact JWS node certificates: the current one first, then the others still valid (during a key rotation, the
   * old key's, which may still sign). Files with the current certificate only are as valid.
   */
  certificates: z.array(z.string().min(1)).min(1).max(MAX_IDENTITY_CERTIFICATES),
  addresses: z.array(z.string().min(1).max(256)).max(16),
  exported: UtcTimestamp,
  /**
   * Compact root-signed key notices (SPEC 9.4) still relevant to the file: the root successions that lead to `root`,
   * then the revocations by `root` of keys `certificates` certifies (a rotation's retirement at the end of its
   * overlap). Absent when there are none, as in files of earlier versions, which import as before.
   */
  notices: z.array(z.string().min(1).max(4096)).min(1).max(MAX_IDENTITY_NOTICES).optional(),
});
export type PublicIdentity = z.infer<typeof PublicIdentity>;
