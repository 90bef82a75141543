/**
 * Status of the node's own evidence log for `GET /v1/audit/verify` and the store's self-check: the same link
 * and checkpoint rules as the offline verifier, but with node:crypto (fast; the node already trusts its own
 * key) and without requiring a checkpoint at the head, since entries keep arriving after the last one.
 */
import { walkChain, type ChainHead, type EvidenceEntry, type VerifyChainOptions } from '../../protocol/evidence/chain.js';
import { decodeCheckpoint, verifyCheckpoint } from '../../protocol/evidence/checkpoint.js';
import { GncError, type GncErrorCode } from '../../protocol/errors.js';
import type { Ed25519PublicJwk } from '../../protocol/jwk.js';
import type { AuditLogStatus } from '../../protocol/api/schemas.js';

export type LogProblem = AuditLogStatus['problems'][number];

/** The report of `GET /v1/audit/verify` (schema in protocol/api/schemas.ts). */
export type LogStatus = AuditLogStatus;

export interface LogInput extends VerifyChainOptions {
  entries: readonly EvidenceEntry[];
  checkpoints: readonly string[];
  /** This node's country (checkpoints name it). */
  node: string;
  /** This node's public keys by kid, current and retired (checkpoints made before a rotation). */
  keys(kid: string): Ed25519PublicJwk | undefined;
}

export function verifyLog(input: LogInput): LogStatus {
  const walk = walkChain(input.entries, input);
  const problems: LogProblem[] = walk.problems.map((p) => ({ code: 'GNC_AUDIT_BROKEN', seq: p.seq, message: p.message }));
  let checkpointed = 0;
  for (const compact of input.checkpoints) {
    try {
      const { header, payload } = decodeCheckpoint(compact);
      const jwk = input.keys(header.kid);
      if (jwk === undefined) throw new GncError('GNC_KEY_UNKNOWN', `Checkpoint at seq ${payload.seq} is signed by ${header.kid}, not a key of this node.`);
      const p = verifyCheckpoint(compact, jwk);
      const hash = walk.hashes.get(p.seq);
      if (p.node !== input.node || p.seq > walk.maxSeq || (hash !== undefined && hash !== p.hash)) {
        problems.push({ code: 'GNC_AUDIT_BROKEN', seq: p.seq, message: p.seq > walk.maxSeq ? `Checkpoint pins seq ${p.seq}, but the log ends at ${walk.maxSeq}: entries were removed.` : `Entry seq ${p.seq} no longer has the hash its checkpoint pinned: the log was changed.` });
        continue;
      }
      if (hash !== undefined) checkpointed = Math.max(checkpointed, p.seq);
    } catch (err) {
      problems.push({ code: err instanceof GncError ? err.code : 'GNC_AUDIT_BROKEN', seq: 0, message: (err as Error).message });
    }
  }
  const last = input.entries.length > 0 ? walk.maxSeq : 0;
  return {
    ok: problems.length === 0,
    entries: input.entries.length,
    head: last > 0 ? { seq: last, hash: walk.hashes.get(last)! } : undefined,
    checkpointed,
    uncheckpointed: Math.max(0, last - checkpointed),
    problems,
  };
}
