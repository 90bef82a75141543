/**
 * Chain checks of the offline verifier: the links of the exported log segment (deletion, reordering, change),
 * the checkpoints (signed by the exporter's node key valid at the time, pinning the hash of the entry at their
 * seq, with one at the last entry so a truncated or rewritten tail shows), and that every envelope in the
 * bundle is recorded in the log with the event, partner and id its bytes imply.
 */
import type { EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { walkChain, type EvidenceEntry, type EvidenceEvent } from '../../protocol/evidence/chain.js';
import { decodeCheckpoint } from '../../protocol/evidence/checkpoint.js';
import { GncError } from '../../protocol/errors.js';
import type { AuditCounts, Findings } from './report.js';
import { verifyStrict } from './strict-ed25519.js';
import { keyStatus, type KeyDirectory } from './trust-anchors.js';
import type { ParsedEnvelope } from './verify-envelopes.js';

function checkCheckpoints(bundle: EvidenceBundle, dir: KeyDirectory, findings: Findings, counts: AuditCounts, walk: ReturnType<typeof walkChain>): void {
  const node = bundle.exportedBy.country;
  let covered = 0;
  bundle.chain.checkpoints.forEach((compact, i) => {
    let decoded;
    try {
      decoded = decodeCheckpoint(compact);
    } catch (err) {
      findings.fail('checkpoints', err instanceof GncError ? err.code : 'GNC_SCHEMA_INVALID', `checkpoint #${i}`, (err as Error).message);
      return;
    }
    const p = decoded.payload;
    const subject = `checkpoint seq ${p.seq}`;
    counts.checkpoints++;
    if (p.node !== node) {
      findings.fail('checkpoints', 'GNC_AUDIT_BROKEN', subject, `Checkpoint is for the log of ${p.node}, but the chain is ${node}'s.`);
      return;
    }
    const status = keyStatus(dir, decoded.header.kid, node, Date.parse(p.at));
    if (!status.ok) findings.fail('checkpoints', status.code, subject, status.message);
    if (status.key !== undefined) {
      counts.signatures++;
      if (!verifyStrict(decoded.signature, decoded.signingInput, status.key.publicKey)) {
        findings.fail('checkpoints', 'GNC_SIGNATURE_INVALID', subject, `Checkpoint signature does not verify under ${node} node key ${decoded.header.kid}: the checkpoint was altered or forged.`);
        return;
      }
    }
    if (!status.ok) return;
    if (p.seq > walk.maxSeq) {
      findings.fail('checkpoints', 'GNC_AUDIT_BROKEN', subject, `Checkpoint pins seq ${p.seq}, but the segment ends at seq ${walk.maxSeq}: entries after it were removed.`);
      return;
    }
    const hash = walk.hashes.get(p.seq);
    if (hash === undefined) return; // before the segment (or a deleted entry, already reported by the links)
    if (hash !== p.hash) {
      findings.fail('checkpoints', 'GNC_AUDIT_BROKEN', subject, `Checkpoint pins hash ${p.hash.slice(0, 16)}... at seq ${p.seq}, but that entry hashes to ${hash.slice(0, 16)}...: the log was changed after it was signed.`);
      return;
    }
    covered = Math.max(covered, p.seq);
  });
  if (walk.maxSeq > 0 && covered < walk.maxSeq) {
    findings.fail(
      'checkpoints',
      'GNC_AUDIT_BROKEN',
      `chain seq ${walk.maxSeq}`,
      `No valid checkpoint pins the last entry (seq ${walk.maxSeq}; last covered: ${covered || 'none'}): a truncated or rewritten tail could not be detected. The exporter signs one at the end of every segment.`,
    );
  }
  findings.detail('checkpoints', `${counts.checkpoints} signed by the ${node} node key; the last pins seq ${covered}`);
}

function expected(e: ParsedEnvelope, node: string): { event: EvidenceEvent; peer: string } | undefined {
  const receipt = e.payload.type === 'receipt';
  if (e.payload.from === node) return { event: receipt ? 'receipt-sent' : 'sent', peer: e.payload.to };
  if (e.payload.to === node) return { event: receipt ? 'receipt-received' : 'received', peer: e.payload.from };
  return undefined;
}

function checkCoverage(bundle: EvidenceBundle, envelopes: readonly ParsedEnvelope[], findings: Findings): void {
  const node = bundle.exportedBy.country;
  const bySha = new Map<string, EvidenceEntry[]>();
  for (const entry of bundle.chain.entries) bySha.set(entry.sha256, [...(bySha.get(entry.sha256) ?? []), entry]);
  for (const e of envelopes) {
    const subject = `envelope ${e.payload.id}`;
    const want = expected(e, node);
    if (want === undefined) {
      findings.fail('chain coverage', 'GNC_AUDIT_BROKEN', subject, `Envelope from ${e.payload.from} to ${e.payload.to} cannot be in ${node}'s log: ${node} neither sent nor received it.`);
      continue;
    }
    const entries = bySha.get(e.sha256);
    if (entries === undefined) {
      findings.fail('chain coverage', 'GNC_AUDIT_BROKEN', subject, `Envelope (SHA-256 ${e.sha256.slice(0, 16)}...) is not recorded in the evidence log segment.`);
      continue;
    }
    if (!entries.some((x) => x.event === want.event && x.peer === want.peer && x.messageId === e.payload.id)) {
      const x = entries[0]!;
      findings.fail('chain coverage', 'GNC_AUDIT_BROKEN', subject, `Log entry seq ${x.seq} records this envelope as "${x.event}" ${x.messageId} with ${x.peer}; expected "${want.event}" ${e.payload.id} with ${want.peer}.`);
    }
  }
  findings.detail('chain coverage', `all ${envelopes.length} envelopes recorded in ${node}'s log`);
}

export function checkChain(bundle: EvidenceBundle, envelopes: readonly ParsedEnvelope[], dir: KeyDirectory, findings: Findings, counts: AuditCounts): void {
  const walk = walkChain(bundle.chain.entries);
  counts.entries = bundle.chain.entries.length;
  for (const p of walk.problems) findings.fail('chain links', 'GNC_AUDIT_BROKEN', `chain seq ${p.seq}`, p.message);
  findings.detail('chain links', walk.maxSeq > 0 ? `seq ${walk.minSeq} to ${walk.maxSeq}, every entry links to the hash of the one before` : 'no entries');
  checkCheckpoints(bundle, dir, findings, counts, walk);
  checkCoverage(bundle, envelopes, findings);
}
