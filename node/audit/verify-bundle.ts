/**
 * The offline verifier behind `gnc audit verify FILE` and `GET /v1/messages/{id}/evidence` checks: takes a
 * parsed evidence bundle (protocol/SPEC.md section 9.5) and decides, from the bundle alone and the
 * root fingerprints the caller knows out of band, whether it proves who sent what to whom and that it was
 * received. Every signature goes through @noble/ed25519 with strict RFC 8032 rules, so the verdict does not
 * depend on the node's own node:crypto code. Bad input never throws: it becomes a failure in the report. Envelopes
 * signed under a certificate the exporter set aside as conflicting (SPEC 9.10) verify, and the report names them.
 */
import { parseBundle, type EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { GncError, isGncError } from '../../protocol/errors.js';
import { parseSignedJson } from '../../protocol/envelope/signed-json.js';
import { emptyCounts, Findings, type AuditReport, type AuditSetAside } from './report.js';
import { openSignatureVerifier, type PoolOptions } from './signature-pool.js';
import { loadTrustAnchors } from './trust-anchors.js';
import { checkChain } from './verify-chain-evidence.js';
import { checkReceipts, scanEnvelopes } from './verify-envelopes.js';
import { checkStatement } from './verify-statement.js';

export interface VerifyBundleOptions extends PoolOptions {
  /**
   * Root fingerprints (RFC 7638 thumbprints) known out of band, by country. Given: every bundle root of those
   * countries must match one. Not given: the report lists the fingerprints for the reader to compare.
   */
  trustedRoots?: Record<string, string | string[]>;
}

function formatFailure(err: unknown, started: number): AuditReport {
  const findings = new Findings();
  findings.fail('bundle format', err instanceof GncError ? err.code : 'GNC_SCHEMA_INVALID', 'bundle', (err as Error).message);
  return { ok: false, bundle: undefined, checks: findings.checks(), counts: emptyCounts(), failures: findings.failures, threads: 0, elapsedMs: Date.now() - started };
}

/**
 * Verify a bundle file's text, read as every envelope and document in it is (signed-json.ts): a member twice or named
 * "__proto__" anywhere, a JWS inside included, fails the format check naming it (another reader would read another
 * bundle). Text that is no JSON throws GNC_INVALID_JSON with `notJson`.
 */
export async function verifyBundleText(text: string, notJson: string, opts: VerifyBundleOptions = {}): Promise<AuditReport> {
  let input: unknown;
  try {
    input = parseSignedJson(text, { what: 'Bundle', code: 'GNC_SCHEMA_INVALID', notJson, notJsonCode: 'GNC_INVALID_JSON' });
  } catch (err) {
    if (isGncError(err) && err.code === 'GNC_INVALID_JSON') throw err;
    return formatFailure(err, Date.now());
  }
  return verifyBundle(input, opts);
}

/** Verify a bundle given as parsed JSON (or an already parsed EvidenceBundle). */
export async function verifyBundle(input: unknown, opts: VerifyBundleOptions = {}): Promise<AuditReport> {
  const started = Date.now();
  let bundle: EvidenceBundle;
  try {
    bundle = parseBundle(input);
  } catch (err) {
    return formatFailure(err, started);
  }
  const findings = new Findings();
  findings.detail('bundle format', `${bundle.format} v${bundle.v}`);
  const counts = emptyCounts();
  const dir = loadTrustAnchors(bundle, findings, opts.trustedRoots);
  counts.roots = bundle.roots.length;
  counts.successions = bundle.successions.length;
  counts.certificates = bundle.certificates.length;
  counts.revocations = bundle.revocations.length;
  counts.signatures = dir.signatures;

  const exporter = dir.keys.get(bundle.exportedBy.kid)?.some((k) => k.country === bundle.exportedBy.country);
  if (!exporter) {
    findings.fail('certificates', 'GNC_KEY_UNKNOWN', `exporter ${bundle.exportedBy.country}`, `The exporting node key ${bundle.exportedBy.kid} is not certified for ${bundle.exportedBy.country} by any certificate in the bundle.`);
  }

  const pool = openSignatureVerifier(bundle.envelopes.length, opts);
  let envelopes;
  try {
    envelopes = await scanEnvelopes(bundle, dir, findings, pool, counts);
  } finally {
    await pool.close();
  }
  const setAside: AuditSetAside[] = [...dir.setAside.values()].flat().map((k) => ({
    kid: k.kid, country: k.country, conflict: k.setAside!.conflict, ...(k.setAside!.claimedBy === undefined ? {} : { claimedBy: k.setAside!.claimedBy }), envelopes: k.setAside!.envelopes,
  }));
  const resting = setAside.reduce((n, c) => n + c.envelopes.length, 0);
  if (resting > 0) {
    findings.detail('key validity at signing', `every key certified for its sender and valid, unrevoked when it signed; ${resting} envelope${resting === 1 ? '' : 's'} by a certificate set aside as conflicting (see above)`);
  }
  checkReceipts(envelopes, findings, counts);
  checkChain(bundle, envelopes, dir, findings, counts);
  const selectionSigned = checkStatement(bundle, envelopes, dir, findings, counts);

  return {
    ok: findings.failures.length === 0,
    bundle: {
      created: bundle.created,
      exportedBy: bundle.exportedBy,
      roots: dir.rootViews,
      ...(bundle.selection === undefined ? {} : { selection: bundle.selection }),
      selectionSigned,
      ...(setAside.length === 0 ? {} : { setAside }),
    },
    checks: findings.checks(),
    counts,
    failures: findings.failures,
    threads: pool.threads,
    elapsedMs: Date.now() - started,
  };
}
