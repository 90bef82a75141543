/**
 * The export statement of an evidence bundle (protocol/SPEC.md section 9.5.4): a compact JWS by the exporting
 * node's key over what the bundle answers (its selection), when it was made, where its log segment ends and a
 * digest of the envelopes it holds. The checkpoints pin the log; the statement pins the bundle itself, so that
 * an envelope removed from a time-range export, or a selection narrowed after export, shows in the verdict
 * (the log alone cannot show either: its entries carry logging times, not the envelopes' `created`).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EXPORT_STATEMENT_TYP, JWS_ALG } from '../constants.js';
import { CountryCode } from '../codes/countries.js';
import { canonicalBytes } from '../envelope/canonical.js';
import { UtcTimestamp } from '../envelope/payload.js';
import { signJws, type Signer } from '../envelope/seal.js';
import { BundleSelection, type BundleSetAside } from './bundle.js';
import { HexSha256 } from './chain.js';
import { decodeCompactJws, type DecodedCompactJws } from './compact-jws.js';

export { EXPORT_STATEMENT_TYP };

export const ExportStatementPayload = z.strictObject({
  v: z.literal(1),
  /** Country of the exporting node (the bundle's `exportedBy.country`). */
  node: CountryCode,
  /** The bundle's `created`. */
  at: UtcTimestamp,
  /** Seq of the last entry of the exported log segment. */
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The bundle's `selection`, member for member; absent when the bundle has none. */
  selection: BundleSelection.optional(),
  /** The distinct envelopes of the bundle: how many, and `envelopesDigest` of their SHA-256s. */
  envelopes: z.strictObject({ count: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), digest: HexSha256 }),
  /**
   * `setAsideDigests` of the bundle's `setAside`; absent when the bundle has none. Only such bundles carry it, and
   * verifiers that predate `setAside` refuse those anyway.
   */
  setAside: z.array(HexSha256).min(1).max(4096).optional(),
});
export type ExportStatementPayload = z.infer<typeof ExportStatementPayload>;

/**
 * SHA-256 of the distinct lowercase-hex SHA-256s of the envelope bytes (SPEC 9.5.2), sorted, each followed by a
 * line feed: `sort -u hashes.txt | sha256sum` gives the same with standard tools.
 */
export function envelopesDigest(sha256s: Iterable<string>): { count: number; digest: string } {
  const sorted = [...new Set(sha256s)].sort();
  const h = createHash('sha256');
  for (const s of sorted) h.update(`${s}\n`);
  return { count: sorted.length, digest: h.digest('hex') };
}

/**
 * The distinct SHA-256s (lowercase hex) of the RFC 8785 form of each `setAside` entry of a bundle, sorted: signing
 * them binds the exporter's set-aside mark, so that moving such a certificate into `certificates` (which would drop
 * the report's warning) or changing its conflict shows in the verdict.
 */
export function setAsideDigests(setAside: readonly BundleSetAside[]): string[] {
  return [...new Set(setAside.map((s) => createHash('sha256').update(canonicalBytes(s)).digest('hex')))].sort();
}

/** Sign a statement with the node key; the header `kid` is the node key thumbprint. */
export function signExportStatement(payload: ExportStatementPayload, signer: Signer): string {
  const jws = signJws({ alg: JWS_ALG, kid: signer.kid, typ: EXPORT_STATEMENT_TYP }, canonicalBytes(payload), signer);
  return `${jws.protected}.${jws.payload}.${jws.signature}`;
}

/** Decode without checking the signature (throws GNC_SCHEMA_INVALID when malformed). */
export function decodeExportStatement(compact: string): DecodedCompactJws<ExportStatementPayload> {
  return decodeCompactJws(compact, { typ: EXPORT_STATEMENT_TYP, schema: ExportStatementPayload, what: 'Export statement', code: 'GNC_SCHEMA_INVALID', canonical: true });
}
