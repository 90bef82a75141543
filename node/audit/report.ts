/**
 * The offline verifier's result: a structured report for the CLI, the API and scripts (`ok`, one line per
 * check, counts, and every failure with its stable GNC_ code and the object it concerns), and its
 * human-readable form. Security teams read the text; tools read the JSON, so both come from one object.
 */
import type { GncErrorCode } from '../../protocol/errors.js';
import type { BundleSelection } from '../../protocol/evidence/bundle.js';

export const AUDIT_CHECKS = [
  'bundle format',
  'root fingerprints',
  'root successions',
  'certificates',
  'revocations',
  'envelope signatures',
  'key validity at signing',
  'receipts',
  'chain links',
  'checkpoints',
  'chain coverage',
  'export statement',
] as const;
export type AuditCheckName = (typeof AUDIT_CHECKS)[number];

export interface AuditFailure {
  code: GncErrorCode;
  /** What the failure is about: `envelope <id>`, `certificate <kid> (KZ)`, `chain seq 42`, ... */
  subject: string;
  message: string;
  check: AuditCheckName;
}

export interface AuditCheck {
  name: AuditCheckName;
  ok: boolean;
  detail: string;
}

export interface AuditCounts {
  roots: number;
  successions: number;
  certificates: number;
  revocations: number;
  envelopes: number;
  messages: number;
  receipts: number;
  /** Messages in the bundle with a matching receipt. */
  receipted: number;
  entries: number;
  checkpoints: number;
  /** Ed25519 signatures checked with noble (strict RFC 8032). */
  signatures: number;
}

export interface AuditRootView {
  country: string;
  fingerprint: string;
  /** true: matched a fingerprint given to the verifier; false: mismatched; undefined: none given, compare out of band. */
  pinned: boolean | undefined;
}

/**
 * A certificate the exporter set aside as conflicting (SPEC 9.5.1, 9.10) that verified, and the envelopes signed under
 * it. They verify; the reader should know that the key's administration is in dispute.
 */
export interface AuditSetAside {
  kid: string;
  country: string;
  /** `node-key`: another administration's certificate names the same node key; `peer-id`: the same libp2p peer id. */
  conflict: 'node-key' | 'peer-id';
  /** That other administration, when the exporter named it. */
  claimedBy?: string;
  /** Ids of the envelopes in the bundle that rest on it. */
  envelopes: string[];
}

export interface AuditReport {
  ok: boolean;
  bundle: {
    created: string;
    exportedBy: { country: string; kid: string };
    roots: AuditRootView[];
    selection?: BundleSelection;
    /** The exporter's statement (SPEC 9.5.4) verified and binds the selection to the envelopes. */
    selectionSigned: boolean;
    /** Certificates set aside as conflicting that verified (none: absent); the verdict does not change for them. */
    setAside?: AuditSetAside[];
  } | undefined;
  checks: AuditCheck[];
  counts: AuditCounts;
  failures: AuditFailure[];
  /** Worker threads used for signatures (0: in-thread) and wall time, for the operator's information. */
  threads: number;
  elapsedMs: number;
}

export function emptyCounts(): AuditCounts {
  return { roots: 0, successions: 0, certificates: 0, revocations: 0, envelopes: 0, messages: 0, receipts: 0, receipted: 0, entries: 0, checkpoints: 0, signatures: 0 };
}

/** Collects failures while the checks run; `details` holds the success text of each check. */
export class Findings {
  readonly failures: AuditFailure[] = [];
  readonly details = new Map<AuditCheckName, string>();

  fail(check: AuditCheckName, code: GncErrorCode, subject: string, message: string): void {
    this.failures.push({ check, code, subject, message });
  }

  detail(check: AuditCheckName, text: string): void {
    this.details.set(check, text);
  }

  checks(): AuditCheck[] {
    return AUDIT_CHECKS.filter((name) => this.details.has(name) || this.failures.some((f) => f.check === name)).map((name) => {
      const n = this.failures.filter((f) => f.check === name).length;
      const detail = this.details.get(name) ?? '';
      return { name, ok: n === 0, detail: n === 0 ? detail : `${n} failure${n === 1 ? '' : 's'}${detail ? `; ${detail}` : ''}` };
    });
  }
}

/** Plain-text report: verdict, roots to compare out of band, one line per check, then the failures. */
export function formatReport(report: AuditReport, maxFailures = 50): string {
  const lines: string[] = [];
  const verdict = report.ok ? 'VERIFIED' : `FAILED (${report.failures.length} failure${report.failures.length === 1 ? '' : 's'})`;
  lines.push(`GNC evidence bundle: ${verdict}`);
  if (report.bundle) {
    lines.push(`Exported by ${report.bundle.exportedBy.country} (node key ${report.bundle.exportedBy.kid}) at ${report.bundle.created}`);
    lines.push('Root keys this verdict rests on (compare each fingerprint with the one the administration gave you out of band):');
    for (const r of report.bundle.roots) {
      const pin = r.pinned === undefined ? 'not compared' : r.pinned ? 'matches the given fingerprint' : 'DOES NOT MATCH the given fingerprint';
      lines.push(`  ${r.country}  ${r.fingerprint}  (${pin})`);
    }
  }
  if (report.bundle) lines.push(selectionLine(report.bundle.selection, report.bundle.selectionSigned));
  if (report.bundle?.setAside?.length) lines.push(...setAsideLines(report.bundle.setAside));
  const c = report.counts;
  lines.push(
    `Checked ${c.envelopes} envelopes (${c.messages} messages, ${c.receipts} receipts; ${c.receipted} messages receipted), ${c.certificates} certificates, ` +
      `${c.revocations} revocations, ${c.successions} root successions, ${c.entries} log entries, ${c.checkpoints} checkpoints; ` +
      `${c.signatures} signatures by strict RFC 8032 (@noble/ed25519) in ${(report.elapsedMs / 1000).toFixed(1)} s.`,
  );
  for (const check of report.checks) lines.push(`  [${check.ok ? ' ok ' : 'FAIL'}] ${check.name}${check.detail ? `: ${check.detail}` : ''}`);
  if (report.failures.length > 0) {
    lines.push('Failures:');
    for (const f of report.failures.slice(0, maxFailures)) lines.push(`  ${f.code}  ${f.subject}: ${f.message}`);
    if (report.failures.length > maxFailures) lines.push(`  ... and ${report.failures.length - maxFailures} more (see the JSON report).`);
  }
  return lines.join('\n');
}

/**
 * What the bundle says it covers. Signed (SPEC 9.5.4), the exporter vouches that it selected that and that the
 * envelopes are those it exported; either way the auditor compares the selection with what was asked for, since
 * a narrower one would leave messages outside it.
 */
function selectionLine(selection: BundleSelection | undefined, signed: boolean): string {
  if (selection === undefined) {
    return signed ? 'Covers, as the exporter signed it: everything in the log segment it holds (no selection).' : 'Covers: everything in the log segment it holds (no selection; the exporter did not sign it).';
  }
  const parts = [
    selection.partner === undefined ? undefined : `partner ${selection.partner}`,
    selection.direction === undefined ? undefined : selection.direction === 'in' ? 'received only' : 'sent only',
    selection.since === undefined ? undefined : `since ${selection.since}`,
    selection.until === undefined ? undefined : `until ${selection.until}`,
    selection.messageIds === undefined ? undefined : `${selection.messageIds.length} message id${selection.messageIds.length === 1 ? '' : 's'}`,
  ].filter((p) => p !== undefined);
  const purged = selection.purged?.length ? `; ${selection.purged.length} of them purged by retention (log entries only)` : '';
  const lead = signed ? 'Covers, as the exporter signed it (compare it with what you asked for)' : 'Covers, as the exporter states (not signed: compare it with what you asked for)';
  return `${lead}: ${parts.length ? parts.join(', ') : 'everything'}${purged}.`;
}

/**
 * The certificates the exporter set aside as conflicting (SPEC 9.10), like an unsigned selection a statement of the
 * report that leaves the verdict as it is: each is signed by its country's root and the signatures under it are
 * genuine, but another administration names the same node key or peer id, so the exporter trusts it no more.
 */
function setAsideLines(list: readonly AuditSetAside[]): string[] {
  const n = list.length;
  const lines = [`Rests on ${n === 1 ? 'a certificate' : `${n} certificates`} the exporter SET ASIDE AS CONFLICTING (SPEC 9.10): signed by the root of ${n === 1 ? 'its' : 'their'} country and checked like the others, but another administration claims the same node key or peer id, so the exporter trusts ${n === 1 ? 'it' : 'them'} for nothing new; ask both administrations whose node it was:`];
  for (const c of list) {
    const other = c.claimedBy ?? 'another administration';
    const why = c.conflict === 'node-key' ? `its node key is also certified by ${other} (node-key)` : `its libp2p peer id is also named by a certificate of ${other} (peer-id)`;
    const used = c.envelopes.length === 0 ? 'no envelope in this bundle rests on it' : `${c.envelopes.length} envelope${c.envelopes.length === 1 ? '' : 's'} rest on it: ${c.envelopes.slice(0, 10).join(', ')}${c.envelopes.length > 10 ? ', ...' : ''}`;
    lines.push(`  ${c.country} node key ${c.kid}: ${why}; ${used}`);
  }
  return lines;
}
