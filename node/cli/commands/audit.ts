/**
 * `gnc audit export` and `gnc audit verify` (issue 6): write the evidence bundle of selected messages, and
 * check a bundle offline (every signature by @noble/ed25519, strict RFC 8032) or this node's own log. A
 * failed verification prints the full report and exits 7 (GNC_AUDIT_BROKEN) so scripts can branch on it.
 */
import { EvidenceQuery } from '../../../protocol/api/schemas.js';
import { afterStart, QueryInstant } from '../../../protocol/api/instant.js';
import { GncError, quoted, shellWord } from '../../../protocol/errors.js';
import { formatReport } from '../../audit/report.js';
import { formatLogStatus, verifyOwnLog } from '../../audit/self-check.js';
import { exportEvidence } from '../../audit/export.js';
import { verifyBundleText } from '../../audit/verify-bundle.js';
import { openOffline } from '../../compose.js';
import { restoreRecorded } from '../../keys/service.js';
import { optionInvalid, parse, parseOptions } from '../args.js';
import type { Command } from '../command.js';
import { checkOutFile, FORCE_OPTION, readInputFile, writeOutFile } from '../files.js';

const exportSpec = {
  name: 'audit export',
  usage: 'gnc audit export --dir DIR --out FILE [--force] [--message ID]... [--partner KG] [--direction in|out] [--from T] [--to T]',
  description: 'Write a self-contained evidence bundle (envelopes as signed, receipts, certificates, roots, revocations, log segment and checkpoints).',
  options: {
    dir: { type: 'string' }, out: { type: 'string' }, message: { type: 'string', multiple: true }, partner: { type: 'string' }, direction: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, ...FORCE_OPTION,
  },
  required: ['dir', 'out'],
} as const;

/**
 * --from and --to of `gnc audit export`: strict, as for API windows (Date.parse would read `--from 1` as the year 2001
 * and narrow the bundle silently), and in order (an empty window exports nothing).
 */
function checkWindow(from: string | undefined, to: string | undefined): void {
  for (const [option, value] of [['--from', from], ['--to', to]] as const) {
    if (value !== undefined && !QueryInstant.safeParse(value).success) throw optionInvalid(option, 'an RFC 3339 time with its zone, like 2026-03-01T00:00:00Z', `string ${quoted(value)}`);
  }
  if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) throw optionInvalid('--to', afterStart('--from'), `string ${quoted(to)}`);
}

export const auditExportCommand: Command = {
  spec: exportSpec,
  async run(argv, out) {
    const { values } = parse(exportSpec, argv);
    // as GET /v1/messages/{id}/evidence?direction=&partner= (a partner may send a message with the id of one sent to it):
    // a partner that is no country is refused, not read as no message
    const filters = parseOptions(EvidenceQuery, { partner: values.partner, direction: values.direction });
    checkWindow(values.from, values.to);
    checkOutFile(values.out, values.force, values.dir);
    const n = openOffline(values.dir!);
    try {
      // key notices identity/ records that a database restored from an older backup lacks: without them the bundle
      // would not show this node's roots' chain (README step 7)
      for (const advice of (await restoreRecorded(n, 'gnc audit export')).said) out(`WARNING: ${advice}`);
      const bundle = exportEvidence(
        { dir: values.dir!, store: n.parts.store, identity: n.parts.identity, evidence: n.evidence, clock: n.parts.clock },
        {
          ...(values.message ? { messageIds: values.message } : {}),
          ...(filters.partner ? { partner: filters.partner } : {}),
          ...(filters.direction ? { direction: filters.direction } : {}),
          ...(values.from ? { since: values.from } : {}),
          ...(values.to ? { until: values.to } : {}),
        },
      );
      writeOutFile(values.out!, JSON.stringify(bundle) + '\n', values.force);
      const setAside = bundle.setAside ? `${bundle.setAside.length} certificates set aside as conflicting (SPEC 9.10; older verifiers refuse the bundle), ` : '';
      out(`Wrote ${values.out}: ${bundle.envelopes.length} envelopes, ${bundle.certificates.length} certificates, ${setAside}${bundle.revocations.length} revocations, ` +
        `${bundle.chain.entries.length} log entries, ${bundle.chain.checkpoints.length} checkpoints.`);
      out(`Verify it with: gnc audit verify ${shellWord(values.out!)} ${bundle.roots.map((r) => `--root ${r.country}=${r.fingerprint}`).join(' ')}`);
    } finally {
      await n.close();
    }
  },
};

const verifySpec = {
  name: 'audit verify',
  usage: 'gnc audit verify FILE [--root KZ=FINGERPRINT]... [--threads N] [--json] | gnc audit verify --dir DIR [--json]',
  description: "Verify an evidence bundle offline (strict RFC 8032 signatures, certificates, revocations, receipts, chain; certificates the exporter set aside as conflicting are named in the report), or this node's own evidence log with --dir.",
  options: { dir: { type: 'string' }, root: { type: 'string', multiple: true }, json: { type: 'boolean' }, threads: { type: 'string' } },
  positionals: { min: 0, max: 1, names: 'FILE' },
} as const;

function trustedRoots(specs: string[] | undefined): Record<string, string[]> | undefined {
  if (specs === undefined) return undefined;
  const out: Record<string, string[]> = {};
  for (const s of specs) {
    const m = /^([A-Za-z]{2})=([A-Za-z0-9_-]{43})$/.exec(s.trim());
    if (!m) throw new GncError('GNC_CONFIG_INVALID', `--root takes COUNTRY=FINGERPRINT (the 43-character fingerprint the administration gave you), got "${s}".`);
    (out[m[1]!.toUpperCase()] ??= []).push(m[2]!);
  }
  return out;
}

export const auditVerifyCommand: Command = {
  spec: verifySpec,
  async run(argv, out) {
    const { values, positionals } = parse(verifySpec, argv);
    if (values.dir !== undefined) {
      if (positionals.length > 0) throw new GncError('GNC_CONFIG_INVALID', 'Give either a bundle FILE or --dir, not both. Usage: ' + verifySpec.usage);
      const n = openOffline(values.dir);
      try {
        const status = verifyOwnLog(n.evidence, n.parts.identity.country, n.keyring);
        out(values.json ? JSON.stringify(status) : formatLogStatus(status));
        if (!status.ok) throw new GncError('GNC_AUDIT_BROKEN', `The evidence log of ${values.dir} was altered (${status.problems.length} problem(s) above): keep the data dir as it is and hand it to your security team.`);
      } finally {
        await n.close();
      }
      return;
    }
    const file = positionals[0];
    if (file === undefined) throw new GncError('GNC_CONFIG_INVALID', `Name a bundle FILE or give --dir. Usage: ${verifySpec.usage}`);
    const text = readInputFile(file, { hint: 'pass the file written by `gnc audit export`' });
    const threads = values.threads === undefined ? undefined : Number(values.threads);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new GncError('GNC_CONFIG_INVALID', `--threads must be a positive integer, got "${values.threads}".`);
    const roots = trustedRoots(values.root);
    const report = await verifyBundleText(text, `Cannot read ${file} as JSON: pass the file written by \`gnc audit export\`.`, { ...(roots ? { trustedRoots: roots } : {}), ...(threads ? { threads } : {}) });
    out(values.json ? JSON.stringify(report) : formatReport(report));
    if (!report.ok) {
      throw new GncError('GNC_AUDIT_BROKEN', `The bundle ${file} does not prove what it claims (${report.failures.length} failure(s) above): do not rely on it; ask the exporting administration for an explanation.`);
    }
  },
};
