/**
 * `gnc audit verify --dir D` and `GET /v1/audit/verify`: the status of this node's own evidence log, read
 * straight from its SQLite table, so that a deleted, reordered or edited row shows up as GNC_AUDIT_BROKEN.
 * Checkpoints are checked under every node key this administration certified (rotations keep the old ones).
 */
import type { EvidenceEntry } from '../../protocol/evidence/chain.js';
import type { Keyring } from '../keys/keyring.js';
import type { EvidenceLog } from '../store/evidence.js';
import { verifyLog, type LogStatus } from './verify-log.js';

export function verifyOwnLog(evidence: EvidenceLog, country: string, keyring: Keyring): LogStatus {
  let entries: EvidenceEntry[];
  try {
    entries = evidence.entries();
  } catch (err) {
    return { ok: false, entries: 0, head: undefined, checkpointed: 0, uncheckpointed: 0, problems: [{ code: 'GNC_AUDIT_BROKEN', seq: 0, message: `An entry of the evidence table is not JSON (${(err as Error).message}): the table was edited.` }] };
  }
  const keys = keyring.ownKeys();
  // the node's own log is whole: it starts at seq 1 (entries are never deleted, SPEC 9.2, not even by retention), so
  // rows missing before the first one present were deleted; no link shows that, as the first row left links to one gone
  return verifyLog({ entries, checkpoints: evidence.checkpoints(), node: country, keys: (kid) => keys.get(kid), startSeq: 1 });
}

export function formatLogStatus(s: LogStatus): string {
  const lines = [
    `GNC evidence log: ${s.ok ? 'INTACT' : `BROKEN (${s.problems.length} problem${s.problems.length === 1 ? '' : 's'})`}`,
    `${s.entries} entries; head seq ${s.head?.seq ?? 0}${s.head ? ` (${s.head.hash})` : ''}; signed checkpoints pin up to seq ${s.checkpointed}; ${s.uncheckpointed} newer entries protected by links only until the next checkpoint.`,
  ];
  for (const p of s.problems) lines.push(`  ${p.code}  seq ${p.seq}: ${p.message}`);
  return lines.join('\n');
}
