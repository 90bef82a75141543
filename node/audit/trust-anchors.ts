/**
 * Which keys the evidence in a bundle may rest on, decided only from the bundle's roots and signed documents:
 * roots (pinned, then each successor named by a root-succession notice signed by its predecessor), node
 * certificates signed by a root of their own country while that root was in office, and root-signed
 * revocations. Every signature here is checked with strict noble (strict-ed25519.ts), never node:crypto.
 */
import { CERTIFICATE_TYP } from '../../protocol/constants.js';
import { NodeCertificatePayload } from '../../protocol/certificate.js';
import { GncError, type GncErrorCode } from '../../protocol/errors.js';
import { decodeCompactJws, type DecodedCompactJws } from '../../protocol/evidence/compact-jws.js';
import type { EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { jwkThumbprint } from '../../protocol/jwk.js';
import { decodeKeyNotice, type KeyNotice } from '../../protocol/notice.js';
import type { AuditRootView, Findings } from './report.js';
import { jwkPublicBytes, verifyStrict } from './strict-ed25519.js';

export interface RootKey {
  country: string;
  fingerprint: string;
  publicKey: Uint8Array;
  /** In office from (epoch ms; -Infinity for a pinned root) until (a successor's `effective`; Infinity). */
  from: number;
  until: number;
}

export interface CertifiedKey {
  kid: string;
  country: string;
  publicKey: Uint8Array;
  notBefore: number;
  notAfter: number;
  /**
   * From the bundle's `setAside`: a certificate the exporter set aside as conflicting (SPEC 9.10). It certifies its
   * key for envelopes only; `envelopes` collects the ids of those it was used for, for the report.
   */
  setAside?: { conflict: 'node-key' | 'peer-id'; claimedBy: string | undefined; envelopes: string[] };
}

export interface KeyDirectory {
  roots: Map<string, RootKey[]>;
  /** Keys of certificates that verified, by kid (several during renewals). */
  keys: Map<string, CertifiedKey[]>;
  /** Keys named only by certificates that failed: signatures are still checked, the evidence is not trusted. */
  untrusted: Map<string, CertifiedKey[]>;
  /** Keys of set-aside certificates that verified, by kid: for envelopes only, where `keys` has none. */
  setAside: Map<string, CertifiedKey[]>;
  /** Earliest valid revocation instant per kid. */
  revokedAt: Map<string, number>;
  rootViews: AuditRootView[];
  /** Signatures checked while building the directory. */
  signatures: number;
}

function decodeOr<T>(findings: Findings, check: 'root successions' | 'certificates' | 'revocations', subject: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    findings.fail(check, err instanceof GncError ? err.code : 'GNC_SCHEMA_INVALID', subject, (err as Error).message);
    return undefined;
  }
}

function short(s: string): string {
  return s.length > 16 ? `${s.slice(0, 12)}...` : s;
}

function loadRoots(bundle: EvidenceBundle, findings: Findings, trusted: Record<string, string | string[]> | undefined, dir: KeyDirectory): void {
  for (const r of bundle.roots) {
    const fp = jwkThumbprint(r.jwk);
    const publicKey = jwkPublicBytes(r.jwk);
    const given = trusted?.[r.country];
    const pinned = given === undefined ? undefined : (Array.isArray(given) ? given : [given]).includes(fp);
    dir.rootViews.push({ country: r.country, fingerprint: fp, pinned });
    if (fp !== r.fingerprint || publicKey === undefined) {
      findings.fail('root fingerprints', 'GNC_FINGERPRINT_MISMATCH', `root ${r.country}`, `Root of ${r.country} is listed with fingerprint ${r.fingerprint}, but its key's RFC 7638 thumbprint is ${fp}.`);
      continue;
    }
    if (pinned === false) {
      findings.fail('root fingerprints', 'GNC_FINGERPRINT_MISMATCH', `root ${r.country}`, `Root of ${r.country} in the bundle is ${fp}, not the fingerprint you gave (${String(given)}): the bundle rests on another root.`);
      continue;
    }
    const list = dir.roots.get(r.country) ?? [];
    if (!list.some((k) => k.fingerprint === fp)) list.push({ country: r.country, fingerprint: fp, publicKey, from: Number.NEGATIVE_INFINITY, until: Number.POSITIVE_INFINITY });
    dir.roots.set(r.country, list);
  }
  if (trusted !== undefined) {
    for (const country of Object.keys(trusted)) {
      if (!dir.roots.has(country) && !bundle.roots.some((r) => r.country === country)) {
        findings.fail('root fingerprints', 'GNC_FINGERPRINT_MISMATCH', `root ${country}`, `You gave a fingerprint for ${country}, but the bundle has no root for it.`);
      }
    }
  }
  findings.detail('root fingerprints', trusted === undefined ? 'fingerprints not given to the verifier: compare them out of band' : pinnedDetail(dir.rootViews));
}

/**
 * The check line when the reader gave some fingerprints: it must not read "every root matches" when a root of
 * another country was never compared, since an exporter can fabricate that country's root, node keys and
 * receipts. An uncompared root stays "ok", not a failure or a new warning state: SPEC 9.6 item 2 and the README
 * ("For security teams", `gnc audit verify FILE [--root KZ=FP]`) make comparing a root the reader's choice, the
 * report lists each root as "(not compared)" for comparison out of band, and exit 0 keeps meaning "no check
 * failed". The line says instead which roots were not compared and what rests on them.
 */
function pinnedDetail(views: readonly AuditRootView[]): string {
  const compared = [...new Set(views.filter((r) => r.pinned === true).map((r) => r.country))];
  const open = [...new Set(views.filter((r) => r.pinned === undefined).map((r) => r.country))].filter((c) => !compared.includes(c));
  if (open.length === 0) return 'every root matches a fingerprint you gave';
  const matched = compared.length === 0 ? 'no root compared' : `${compared.join(', ')} match${compared.length === 1 ? 'es' : ''} a fingerprint you gave`;
  const rest = open.map((c) => `${c} NOT COMPARED (no fingerprint given): ${c}'s node keys, and so ${c}'s messages and receipts in this bundle, are only as trustworthy as that unverified root`);
  return `${matched}; ${rest.join('; ')}; compare ${open.length === 1 ? 'its fingerprint' : 'their fingerprints'} out of band`;
}

function rootOf(dir: KeyDirectory, country: string, fingerprint: string): RootKey | undefined {
  return dir.roots.get(country)?.find((r) => r.fingerprint === fingerprint);
}

function loadSuccessions(bundle: EvidenceBundle, findings: Findings, dir: KeyDirectory): void {
  let pending: { i: number; d: DecodedCompactJws<KeyNotice> }[] = [];
  bundle.successions.forEach((compact, i) => {
    const d = decodeOr(findings, 'root successions', `succession #${i}`, () => decodeKeyNotice(compact));
    if (d === undefined) return;
    if (d.payload.kind !== 'root-succession') findings.fail('root successions', 'GNC_SCHEMA_INVALID', `succession #${i}`, `Notice #${i} in "successions" is a ${d.payload.kind} notice.`);
    else pending.push({ i, d });
  });
  // a chain of successions may be listed in any order: apply what an office-holding root signed until none is left
  for (let progress = true; progress && pending.length > 0; ) {
    progress = false;
    const later: typeof pending = [];
    for (const { i, d } of pending) {
      const n = d.payload as Extract<KeyNotice, { kind: 'root-succession' }>;
      const old = rootOf(dir, n.country, d.header.kid);
      if (old === undefined) {
        later.push({ i, d });
        continue;
      }
      progress = true;
      const subject = `succession ${n.country} ${short(old.fingerprint)}`;
      dir.signatures++;
      if (!verifyStrict(d.signature, d.signingInput, old.publicKey)) {
        findings.fail('root successions', 'GNC_SIGNATURE_INVALID', subject, `Root-succession notice for ${n.country} does not verify under the old root ${old.fingerprint}.`);
        continue;
      }
      const effective = Date.parse(n.effective);
      const newFp = jwkThumbprint(n.newRoot);
      const newKey = jwkPublicBytes(n.newRoot);
      if (old.until !== Number.POSITIVE_INFINITY && old.until !== effective) {
        findings.fail('root successions', 'GNC_CERT_INVALID', subject, `Root ${old.fingerprint} of ${n.country} names two successors: the administration's root history is ambiguous.`);
        continue;
      }
      if (newKey === undefined || effective < old.from) {
        findings.fail('root successions', 'GNC_CERT_INVALID', subject, `Succession to ${newFp} takes effect ${n.effective}, before the old root itself was in office, or names a malformed key.`);
        continue;
      }
      old.until = effective;
      if (rootOf(dir, n.country, newFp) === undefined) {
        dir.roots.get(n.country)!.push({ country: n.country, fingerprint: newFp, publicKey: newKey, from: effective, until: Number.POSITIVE_INFINITY });
      }
    }
    pending = later;
  }
  for (const { i, d } of pending) {
    findings.fail('root successions', 'GNC_CERT_INVALID', `succession #${i}`, `Root-succession notice for ${d.payload.country} is signed by ${d.header.kid}, which is not a root of ${d.payload.country} in this bundle.`);
  }
  findings.detail('root successions', `${bundle.successions.length} applied, each signed by the root it replaces`);
}

/**
 * Check one node certificate (SPEC 9.6 item 4): the key it certifies, or undefined after reporting why not. A key
 * of a certificate that decoded but failed goes to `untrusted`.
 */
function checkCertificate(compact: string, label: string, findings: Findings, dir: KeyDirectory): CertifiedKey | undefined {
  const d = decodeOr(findings, 'certificates', label, () =>
    decodeCompactJws(compact, { typ: CERTIFICATE_TYP, schema: NodeCertificatePayload, what: 'Node certificate', code: 'GNC_CERT_INVALID', canonical: false }),
  );
  if (d === undefined) return undefined;
  const p = d.payload;
  const subject = `${label.startsWith('set-aside') ? 'set-aside ' : ''}certificate ${short(p.sub)} (${p.country})`;
  const publicKey = jwkPublicBytes(p.jwk);
  const key: CertifiedKey | undefined = publicKey && { kid: p.sub, country: p.country, publicKey, notBefore: Date.parse(p.nbf), notAfter: Date.parse(p.exp) };
  const bad = (code: GncErrorCode, message: string): undefined => {
    findings.fail('certificates', code, subject, message);
    if (key) dir.untrusted.set(key.kid, [...(dir.untrusted.get(key.kid) ?? []), key]);
    return undefined;
  };
  const root = rootOf(dir, p.country, d.header.kid);
  if (root === undefined) return bad('GNC_CERT_INVALID', `Certificate of ${p.country} node key ${p.sub} is signed by ${d.header.kid}, which is not a root of ${p.country} (pinned or succeeded): wrong root.`);
  dir.signatures++;
  if (!verifyStrict(d.signature, d.signingInput, root.publicKey)) return bad('GNC_CERT_INVALID', `Certificate of ${p.country} node key ${p.sub} does not verify under root ${root.fingerprint}: it was altered or signed by another key.`);
  if (p.iss !== root.fingerprint) return bad('GNC_CERT_INVALID', `Certificate names issuer ${p.iss} but is signed by root ${root.fingerprint}.`);
  if (key === undefined || p.sub !== jwkThumbprint(p.jwk)) return bad('GNC_CERT_INVALID', 'Certificate subject is not the thumbprint of its key.');
  if (key.notBefore >= key.notAfter) return bad('GNC_CERT_INVALID', `Certificate validity ends (${p.exp}) before it starts (${p.nbf}).`);
  const iat = Date.parse(p.iat);
  if (iat < root.from || iat >= root.until) {
    return bad('GNC_CERT_INVALID', `Certificate was issued ${p.iat}, when root ${root.fingerprint} was not in office (succession): a retired root no longer certifies.`);
  }
  return key;
}

function loadCertificates(bundle: EvidenceBundle, findings: Findings, dir: KeyDirectory): void {
  bundle.certificates.forEach((compact, i) => {
    const key = checkCertificate(compact, `certificate #${i}`, findings, dir);
    if (key) dir.keys.set(key.kid, [...(dir.keys.get(key.kid) ?? []), key]);
  });
  // the certificates the exporter set aside as conflicting (SPEC 9.10): the same checks; trusted for envelopes only
  (bundle.setAside ?? []).forEach((s, i) => {
    const key = checkCertificate(s.certificate, `set-aside certificate #${i}`, findings, dir);
    if (key) dir.setAside.set(key.kid, [...(dir.setAside.get(key.kid) ?? []), { ...key, setAside: { conflict: s.conflict, claimedBy: s.claimedBy, envelopes: [] } }]);
  });
  const setAside = [...dir.setAside.values()].flat().length;
  findings.detail('certificates', `${dir.keys.size} node keys certified by their country's root${setAside ? `; ${setAside} set aside by the exporter as conflicting, for the envelopes signed under them only (see above)` : ''}`);
}

function loadRevocations(bundle: EvidenceBundle, findings: Findings, dir: KeyDirectory): void {
  bundle.revocations.forEach((compact, i) => {
    const d = decodeOr(findings, 'revocations', `revocation #${i}`, () => decodeKeyNotice(compact));
    if (d === undefined) return;
    if (d.payload.kind !== 'revocation') return findings.fail('revocations', 'GNC_SCHEMA_INVALID', `revocation #${i}`, `Notice #${i} in "revocations" is a ${d.payload.kind} notice.`);
    const n = d.payload;
    const subject = `revocation ${short(n.kid)} (${n.country})`;
    // any root the country has had may revoke: refusing a revocation is never the safe side
    const root = rootOf(dir, n.country, d.header.kid);
    if (root === undefined) return findings.fail('revocations', 'GNC_CERT_INVALID', subject, `Revocation of ${n.kid} is signed by ${d.header.kid}, which is not a root of ${n.country}.`);
    dir.signatures++;
    if (!verifyStrict(d.signature, d.signingInput, root.publicKey)) return findings.fail('revocations', 'GNC_SIGNATURE_INVALID', subject, `Revocation of ${n.kid} does not verify under root ${root.fingerprint}.`);
    const certified = [...(dir.keys.get(n.kid) ?? []), ...(dir.untrusted.get(n.kid) ?? []), ...(dir.setAside.get(n.kid) ?? [])];
    if (certified.some((k) => k.country !== n.country)) return findings.fail('revocations', 'GNC_CERT_INVALID', subject, `Root of ${n.country} revokes ${n.kid}, a key certified for another country.`);
    const at = Date.parse(n.revokedAt);
    dir.revokedAt.set(n.kid, Math.min(at, dir.revokedAt.get(n.kid) ?? Number.POSITIVE_INFINITY));
  });
  findings.detail('revocations', `${dir.revokedAt.size} keys revoked by root-signed notices`);
}

/** Build the key directory; every problem is recorded in `findings`, nothing throws for bad input. */
export function loadTrustAnchors(bundle: EvidenceBundle, findings: Findings, trustedRoots?: Record<string, string | string[]>): KeyDirectory {
  const dir: KeyDirectory = { roots: new Map(), keys: new Map(), untrusted: new Map(), setAside: new Map(), revokedAt: new Map(), rootViews: [], signatures: 0 };
  loadRoots(bundle, findings, trustedRoots, dir);
  loadSuccessions(bundle, findings, dir);
  loadCertificates(bundle, findings, dir);
  loadRevocations(bundle, findings, dir);
  return dir;
}

export type KeyStatus =
  | { ok: true; key: CertifiedKey }
  | { ok: false; code: GncErrorCode; message: string; key: CertifiedKey | undefined };

/**
 * Could `kid` sign for `country` at `at`? Certificate validity is judged at the time of signing (not now),
 * and a revocation only removes signatures made at or after its `revokedAt`. With `setAside` (envelopes only, never
 * checkpoints or statements), a set-aside certificate of `country` counts where no other certifies the key for it;
 * the key returned then carries `setAside`.
 */
export function keyStatus(dir: KeyDirectory, kid: string, country: string, at: number, opts: { setAside?: boolean } = {}): KeyStatus {
  const trusted = dir.keys.get(kid) ?? [];
  const regular = trusted.filter((k) => k.country === country);
  const mine = regular.length > 0 || !opts.setAside ? regular : (dir.setAside.get(kid) ?? []).filter((k) => k.country === country);
  const fallback = mine[0] ?? trusted[0] ?? dir.untrusted.get(kid)?.[0];
  if (mine.length === 0) {
    if (trusted.length > 0) return { ok: false, code: 'GNC_SENDER_MISMATCH', message: `Key ${kid} is certified for ${trusted[0]!.country}, not ${country}.`, key: fallback };
    if (fallback) return { ok: false, code: 'GNC_CERT_INVALID', message: `Key ${kid} is named only by a certificate that failed verification.`, key: fallback };
    return { ok: false, code: 'GNC_KEY_UNKNOWN', message: `No certificate in the bundle certifies key ${kid} for ${country}.`, key: undefined };
  }
  const covering = mine.find((k) => at >= k.notBefore && at <= k.notAfter);
  if (covering === undefined) {
    const k = mine[0]!;
    return { ok: false, code: 'GNC_KEY_EXPIRED', message: `Signed ${new Date(at).toISOString()}, outside the certificate validity of key ${kid} (${new Date(k.notBefore).toISOString()} to ${new Date(k.notAfter).toISOString()}).`, key: k };
  }
  const revoked = dir.revokedAt.get(kid);
  if (revoked !== undefined && at >= revoked) {
    return { ok: false, code: 'GNC_KEY_REVOKED', message: `Signed ${new Date(at).toISOString()}, at or after key ${kid} was revoked (${new Date(revoked).toISOString()}).`, key: covering };
  }
  return { ok: true, key: covering };
}
