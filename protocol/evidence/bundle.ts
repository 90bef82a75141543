/**
 * The evidence bundle (protocol/SPEC.md section 9.5): one self-contained JSON document with everything
 * an auditor needs to check, years later and offline, who sent what to whom and that it was received: the
 * envelopes exactly as signed, the certificates and root keys that vouch for their keys, the revocations and
 * root successions in force, and the segment of the sender's evidence log with its signed checkpoints.
 * Nothing in a bundle is trusted because it is in the bundle: every document carries its own signature, and
 * the root fingerprints are to be compared out of band.
 */
import { z } from 'zod';
import { MAX_FRAME_BYTES } from '../constants.js';
import { CountryCode } from '../codes/countries.js';
import { parseFlattened } from '../envelope/open.js';
import { FlattenedJws, UtcTimestamp, MessageDirection, MessageId } from '../envelope/payload.js';
import { encodeFlattened, sha256Hex } from '../envelope/seal.js';
import { Ed25519PublicJwk, jwkThumbprint } from '../jwk.js';
import { parseWith } from '../validate.js';
import { EvidenceEntry } from './chain.js';

export const BUNDLE_FORMAT = 'gnc-evidence-bundle';

/** A compact JWS (certificate, notice, checkpoint); 64 KiB is far above any of them (a certificate is ~1 KB). */
const CompactJws = z.string().min(5).max(64 * 1024);
const Thumbprint = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected an RFC 7638 thumbprint (43 base64url characters)');

export const BundleRoot = z.strictObject({ country: CountryCode, jwk: Ed25519PublicJwk, fingerprint: Thumbprint });
export type BundleRoot = z.infer<typeof BundleRoot>;

export const BundleEnvelope = z.strictObject({
  jws: FlattenedJws,
  /**
   * The exact JSON text as received, only when it is not byte-identical to the fixed-order encoding of `jws`
   * (another implementation may order members or add whitespace); receipts hash these bytes.
   */
  text: z.string().min(1).max(MAX_FRAME_BYTES).optional(),
});
export type BundleEnvelope = z.infer<typeof BundleEnvelope>;

/**
 * What the bundle covers (SPEC 9.5.1): the verifier requires an envelope for every id in `messageIds` and for
 * every message and receipt the segment records within the selection (SPEC 9.6 item 10). The exporter signs it in
 * the bundle's statement (SPEC 9.5.4), which binds it to the envelopes; it cannot show that the exporter was asked
 * for what it selected.
 */
export const BundleSelection = z.strictObject({
  messageIds: z.array(MessageId).max(10_000).optional(),
  partner: CountryCode.optional(),
  /** Only the messages received (`in`, with the receipts the exporter signed of them) or sent (`out`, with the partners' receipts). */
  direction: MessageDirection.optional(),
  since: UtcTimestamp.optional(),
  until: UtcTimestamp.optional(),
  /**
   * Messages the selection matches that the exporter received but no longer holds: retention purged their content
   * (their log entries stay), so the bundle has neither their envelopes nor their receipts.
   */
  purged: z.array(MessageId).optional(),
});
export type BundleSelection = z.infer<typeof BundleSelection>;

/**
 * A partner certificate the exporter set aside as conflicting (SPEC 9.5.1, 9.10): root-signed, but naming a node key
 * (`node-key`) or a libp2p peer id (`peer-id`) that another administration's certificate names, so the exporter no
 * longer trusts it for anything new. It is still the only certificate of the key that signed envelopes accepted
 * under it before that check existed; `claimedBy` is the other administration, when the exporter knows it.
 */
export const BundleSetAside = z.strictObject({
  certificate: CompactJws,
  conflict: z.enum(['node-key', 'peer-id']),
  claimedBy: CountryCode.optional(),
});
export type BundleSetAside = z.infer<typeof BundleSetAside>;

export const EvidenceBundle = z.strictObject({
  v: z.literal(1),
  format: z.literal(BUNDLE_FORMAT),
  created: UtcTimestamp,
  /** The node whose evidence log the chain segment is; its key signs the checkpoints. */
  exportedBy: z.strictObject({ country: CountryCode, kid: Thumbprint }),
  /** What the exporter was asked for, and so what the bundle claims to hold; absent: the whole segment. */
  selection: BundleSelection.optional(),
  /** Pinned administration roots: the anchors of trust, to be compared with fingerprints known out of band. */
  roots: z.array(BundleRoot).min(1).max(256),
  /** Root-succession notices (compact JWS, each signed by the root it replaces). */
  successions: z.array(CompactJws).max(1024),
  /** Node certificates (compact JWS, signed by a root). */
  certificates: z.array(CompactJws).max(4096),
  /** Revocation notices (compact JWS, signed by a root). */
  revocations: z.array(CompactJws).max(4096),
  /**
   * Certificates set aside as conflicting that envelopes of the bundle were signed under (absent when none is: the
   * format older verifiers read). They certify a key for envelopes only, and the report names each.
   */
  setAside: z.array(BundleSetAside).min(1).max(4096).optional(),
  envelopes: z.array(BundleEnvelope),
  chain: z.strictObject({ entries: z.array(EvidenceEntry), checkpoints: z.array(CompactJws) }),
  /**
   * The exporter's signed statement of the selection and the envelopes (SPEC 9.5.4; compact JWS, `gnc-export+jws`).
   * Larger than the other documents: it repeats the selection, whose message ids may run to 10,000.
   */
  statement: z.string().min(5).max(MAX_FRAME_BYTES).optional(),
});
export type EvidenceBundle = z.infer<typeof EvidenceBundle>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The bytes an envelope in a bundle stands for: what was signed into the log and hashed by the receipt. */
export function envelopeBytes(e: BundleEnvelope): Uint8Array {
  return e.text === undefined ? encodeFlattened(e.jws) : encoder.encode(e.text);
}

/** Parse a bundle read from a file (throws GNC_SCHEMA_INVALID naming the first bad member). */
export function parseBundle(input: unknown): EvidenceBundle {
  return parseWith(EvidenceBundle, input, 'Evidence bundle');
}

export interface BundleParts {
  /** Default: now. */
  created?: string;
  exportedBy: { country: string; kid: string };
  selection?: BundleSelection;
  roots: { country: string; jwk: Ed25519PublicJwk }[];
  successions?: string[];
  certificates: string[];
  revocations?: string[];
  setAside?: BundleSetAside[];
  /** The exact stored bytes of each envelope (preferred), or the JWS object as signed. */
  envelopes: (Uint8Array | FlattenedJws)[];
  entries: EvidenceEntry[];
  checkpoints: string[];
}

function toBundleEnvelope(input: Uint8Array | FlattenedJws): { envelope: BundleEnvelope; sha256: string } {
  if (!(input instanceof Uint8Array)) {
    const jws = { protected: input.protected, payload: input.payload, signature: input.signature };
    return { envelope: { jws }, sha256: sha256Hex(encodeFlattened(jws)) };
  }
  const jws = parseFlattened(input);
  const canonical = encodeFlattened(jws);
  const same = canonical.byteLength === input.byteLength && canonical.every((b, i) => b === input[i]);
  return { envelope: same ? { jws } : { jws, text: decoder.decode(input) }, sha256: sha256Hex(input) };
}

/**
 * Assemble a bundle from what the store selected. Envelopes and documents are de-duplicated (first copy
 * wins); nothing is verified here: run the offline verifier on the result before handing it out.
 */
export function buildBundle(parts: BundleParts): EvidenceBundle {
  const seen = new Set<string>();
  const envelopes: BundleEnvelope[] = [];
  for (const input of parts.envelopes) {
    const { envelope, sha256 } = toBundleEnvelope(input);
    if (seen.has(sha256)) continue;
    seen.add(sha256);
    envelopes.push(envelope);
  }
  const roots = new Map<string, BundleRoot>();
  for (const r of parts.roots) {
    const fingerprint = jwkThumbprint(r.jwk);
    roots.set(fingerprint, { country: r.country, jwk: { kty: r.jwk.kty, crv: r.jwk.crv, x: r.jwk.x }, fingerprint });
  }
  const setAside = [...new Map((parts.setAside ?? []).map((c) => [c.certificate, c])).values()];
  const bundle: EvidenceBundle = {
    v: 1,
    format: BUNDLE_FORMAT,
    created: parts.created ?? new Date().toISOString(),
    exportedBy: { country: parts.exportedBy.country, kid: parts.exportedBy.kid },
    ...(parts.selection === undefined ? {} : { selection: parts.selection }),
    roots: [...roots.values()],
    successions: [...new Set(parts.successions ?? [])],
    certificates: [...new Set(parts.certificates)],
    revocations: [...new Set(parts.revocations ?? [])],
    ...(setAside.length === 0 ? {} : { setAside }),
    envelopes,
    chain: { entries: parts.entries, checkpoints: [...new Set(parts.checkpoints)] },
  };
  return bundle;
}
