/**
 * The export statement check of the offline verifier (protocol/SPEC.md 9.5.4, 9.6 item 11): the exporter's node
 * key, valid at the statement's time, signed this bundle's selection, creation time, segment end and envelopes.
 * Anything removed from, added to or changed in those after export fails here, including an envelope removed
 * from a time-range export, which the log cannot show. A bundle without a statement passes this check (older
 * exporters wrote none) and the report says that its selection is not signed.
 */
import { canonicalJson } from '../../protocol/envelope/canonical.js';
import { sha256Hex } from '../../protocol/envelope/seal.js';
import { envelopeBytes, type EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { decodeExportStatement, envelopesDigest, setAsideDigests } from '../../protocol/evidence/statement.js';
import { GncError } from '../../protocol/errors.js';
import type { AuditCounts, Findings } from './report.js';
import { verifyStrict } from './strict-ed25519.js';
import { keyStatus, type KeyDirectory } from './trust-anchors.js';
import type { ParsedEnvelope } from './verify-envelopes.js';

/** True when the bundle carries a statement that verified and matches it in every member. */
export function checkStatement(bundle: EvidenceBundle, envelopes: readonly ParsedEnvelope[], dir: KeyDirectory, findings: Findings, counts: AuditCounts): boolean {
  const check = 'export statement';
  if (bundle.statement === undefined) {
    findings.detail(check, 'none: the exporter did not sign its selection (older versions did not), so compare it with what you asked for');
    return false;
  }
  let decoded;
  try {
    decoded = decodeExportStatement(bundle.statement);
  } catch (err) {
    findings.fail(check, err instanceof GncError ? err.code : 'GNC_SCHEMA_INVALID', 'statement', (err as Error).message);
    return false;
  }
  const node = bundle.exportedBy.country;
  const p = decoded.payload;
  const before = findings.failures.length;
  const status = keyStatus(dir, decoded.header.kid, node, Date.parse(p.at));
  if (!status.ok) findings.fail(check, status.code, 'statement', status.message);
  if (status.key !== undefined) {
    counts.signatures++;
    if (!verifyStrict(decoded.signature, decoded.signingInput, status.key.publicKey)) {
      findings.fail(check, 'GNC_SIGNATURE_INVALID', 'statement', `The export statement does not verify under ${node} node key ${decoded.header.kid}: it was altered or forged.`);
      return false;
    }
  }
  const broken = (message: string): void => findings.fail(check, 'GNC_AUDIT_BROKEN', 'statement', message);
  if (p.node !== node) broken(`The export statement is ${p.node}'s, but the bundle says ${node} exported it.`);
  if (p.at !== bundle.created) broken(`The exporter signed the bundle as created at ${p.at}, but it says ${bundle.created}: it was changed after export.`);
  const signed = p.selection === undefined ? 'none' : canonicalJson(p.selection);
  const stated = bundle.selection === undefined ? 'none' : canonicalJson(bundle.selection);
  if (signed !== stated) broken(`The exporter signed the selection ${signed}, but the bundle states ${stated}: it was changed after export.`);
  const last = bundle.chain.entries.reduce((m, e) => Math.max(m, e.seq), 0);
  if (p.seq !== last) broken(`The exporter signed a log segment ending at seq ${p.seq}, but the bundle's ends at seq ${last}: entries were removed or added after export.`);
  // the hashes the envelope scan took; only an envelope it could not parse (or a repeat) is hashed here
  const scanned = new Map(envelopes.map((e) => [e.index, e.sha256]));
  const held = envelopesDigest(bundle.envelopes.map((e, i) => scanned.get(i) ?? sha256Hex(envelopeBytes(e))));
  if (held.digest !== p.envelopes.digest) {
    const n = p.envelopes.count - held.count;
    const what = n > 0 ? `${n} ${n === 1 ? 'is' : 'are'} missing` : n < 0 ? `${-n} more ${-n === 1 ? 'is' : 'are'} present` : 'others are in their place';
    broken(`The exporter signed ${p.envelopes.count} envelopes, but the bundle's differ (${held.count} held; ${what}): envelopes were removed, added or swapped after export.`);
  }
  const signedAside = [...new Set(p.setAside ?? [])].sort();
  const heldAside = setAsideDigests(bundle.setAside ?? []);
  if (signedAside.join() !== heldAside.join()) {
    broken(`The exporter signed ${signedAside.length} certificates set aside as conflicting, but the bundle's differ (${heldAside.length} held): the set-aside mark was removed, added or changed after export.`);
  }
  const ok = findings.failures.length === before;
  const n = heldAside.length;
  const what = n === 0 ? `segment end and ${p.envelopes.count} envelopes` : `segment end, ${p.envelopes.count} envelopes and the ${n === 1 ? 'certificate' : `${n} certificates`} set aside as conflicting`;
  if (ok) findings.detail(check, `the selection, creation time, ${what} are as the ${node} node key signed them at export`);
  return ok;
}
