/**
 * Chain checks of the offline verifier: the links of the exported log segment (deletion, reordering, change),
 * the checkpoints (signed by the exporter's node key valid at the time, pinning the hash of the entry at their
 * seq, with one at the last entry so a truncated or rewritten tail shows), that every envelope in the
 * bundle is recorded in the log with the event, partner and id its bytes imply, and the reverse: that every
 * message and receipt the segment records within the bundle's selection is in the bundle.
 */
import type { EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { walkChain, type EvidenceEntry, type EvidenceEvent } from '../../protocol/evidence/chain.js';
import { decodeCheckpoint } from '../../protocol/evidence/checkpoint.js';
import { GncError } from '../../protocol/errors.js';
import { ReceiptBody } from '../../protocol/messages/receipt.js';
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
  // every check below passes vacuously on nothing: a bundle is evidence of messages, and an exporter refuses a
  // selection that matches none (SPEC 9.5.3), so one without any envelope had them removed
  if (bundle.envelopes.length === 0) {
    findings.fail('chain coverage', 'GNC_AUDIT_BROKEN', 'bundle', `The bundle holds no envelope, so it proves no message and no receipt: \`gnc audit export\` never writes one (it refuses a selection that matches nothing), so its envelopes were removed. Ask ${node}'s administration for the export again.`);
  }
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
  checkCompleteness(bundle, envelopes, findings);
}

/**
 * Which entries of the segment the bundle claims to hold the envelopes of (SPEC 9.5.3, 9.6 item 10). The segment
 * runs from the first selected envelope to the head, so it also records messages outside the selection; the
 * selection (absent: everything) says which are in it, as far as an entry shows that:
 * - `sent`/`received` entries name the message and the partner, so messageIds, partner and direction (`sent` out,
 *   `received` in) decide; `since`/`until` select by the envelope's `created`, which an entry does not carry (its
 *   `at` is the exporter's logging time, for a received message later than `created` by transit, retries and clock
 *   skew), so under a time range only the envelopes present and the ids named are held to it;
 * - `receipt-received` entries name only the receipt, not the message it answers: every one belongs to a message
 *   the exporter sent (never purged, always exported with its receipts), so they are covered exactly when the
 *   selection takes all messages sent to that partner (no messageIds, no time range, no direction in);
 * - `receipt-sent` entries are also written for envelopes the exporter refused, which are not messages and
 *   never exported; instead each message it received in the bundle must come with its receipt, which it signed
 *   in the transaction that stored the message (SPEC 5);
 * - `key`/`agreement` entries hash key and agreement documents, not envelopes, and are informative (SPEC 9.2).
 * A `received` message in `selection.purged` is excused: retention purged its content (and so its receipt is
 * not exported either). Only received messages are purged, so a `sent` entry cannot be excused that way.
 */
function checkCompleteness(bundle: EvidenceBundle, envelopes: readonly ParsedEnvelope[], findings: Findings): void {
  const node = bundle.exportedBy.country;
  const sel = bundle.selection ?? {};
  const ids = sel.messageIds !== undefined && sel.messageIds.length > 0 ? new Set(sel.messageIds) : undefined;
  const timed = sel.since !== undefined || sel.until !== undefined;
  const purged = new Set(sel.purged ?? []);
  const held = new Set(envelopes.map((e) => e.sha256));
  const received = new Set(bundle.chain.entries.filter((x) => x.event === 'received').map((x) => x.messageId));
  const missing = new Set<string>();
  let covered = 0;

  const selects = (x: EvidenceEntry): boolean => {
    if (sel.partner !== undefined && x.peer !== sel.partner) return false;
    // a received message comes in; a sent one goes out, and so belongs the receipt-received of it
    if (sel.direction !== undefined && (x.event === 'received' ? 'in' : 'out') !== sel.direction) return false;
    if (x.event === 'sent' || x.event === 'received') return ids !== undefined ? ids.has(x.messageId) : !timed;
    if (x.event === 'receipt-received') return ids === undefined && !timed;
    return false;
  };
  for (const x of bundle.chain.entries) {
    if (!selects(x) || (x.event === 'received' && purged.has(x.messageId))) continue;
    covered++;
    if (held.has(x.sha256)) continue;
    missing.add(x.messageId);
    const what = x.event === 'receipt-received' ? `receipt ${x.messageId}` : `message ${x.messageId}`;
    findings.fail('chain coverage', 'GNC_AUDIT_BROKEN', what, `Log entry seq ${x.seq} records "${x.event}" ${x.messageId} with ${x.peer} (SHA-256 ${x.sha256.slice(0, 16)}...), which the bundle's selection covers, but the bundle has no envelope with those bytes: it was removed.`);
  }

  const messages = new Map<string, ParsedEnvelope>();
  const answered = new Set<string>();
  for (const e of envelopes) {
    if (e.payload.type !== 'receipt') {
      if (e.payload.from === node || e.payload.to === node) messages.set(e.payload.id, e);
      continue;
    }
    const body = ReceiptBody.safeParse(e.payload.body);
    if (body.success && e.payload.from === node) answered.add(body.data.sha256);
  }
  for (const id of ids ?? []) {
    if (messages.has(id) || missing.has(id)) continue;
    if (purged.has(id) && received.has(id)) continue;
    findings.fail('chain coverage', 'GNC_AUDIT_BROKEN', `message ${id}`, `The selection names message ${id}, but the bundle has no envelope of it${purged.has(id) ? ' (declared purged, but the segment does not record receiving it)' : ''}: it was removed.`);
  }
  for (const id of purged) {
    if (!received.has(id) && !ids?.has(id)) {
      findings.fail('chain coverage', 'GNC_AUDIT_BROKEN', `message ${id}`, `The selection declares message ${id} purged, but the segment does not record receiving it: retention purges only received messages.`);
    }
  }
  for (const m of messages.values()) {
    if (m.payload.to !== node || answered.has(m.sha256)) continue;
    findings.fail('chain coverage', 'GNC_AUDIT_BROKEN', `message ${m.payload.id}`, `${node} received message ${m.payload.id} from ${m.payload.from}, but the bundle lacks the receipt ${node} signed when it stored it: the receipt was removed.`);
  }

  const scope = timed && ids === undefined ? 'the envelopes present (a time range cannot be read from log entries)' : `${covered} messages and receipts the segment records for the selection`;
  findings.detail('chain coverage', `all ${envelopes.length} envelopes recorded in ${node}'s log; the bundle holds ${scope}${purged.size > 0 ? `, ${purged.size} purged by retention` : ''}`);
}

export function checkChain(bundle: EvidenceBundle, envelopes: readonly ParsedEnvelope[], dir: KeyDirectory, findings: Findings, counts: AuditCounts): void {
  const walk = walkChain(bundle.chain.entries);
  counts.entries = bundle.chain.entries.length;
  for (const p of walk.problems) findings.fail('chain links', 'GNC_AUDIT_BROKEN', `chain seq ${p.seq}`, p.message);
  findings.detail('chain links', walk.maxSeq > 0 ? `seq ${walk.minSeq} to ${walk.maxSeq}, every entry links to the hash of the one before` : 'no entries');
  checkCheckpoints(bundle, dir, findings, counts, walk);
  checkCoverage(bundle, envelopes, findings);
}
