/**
 * The evidence log (issue 6, protocol/SPEC.md section 9.2): every envelope a node sends or receives
 * and every receipt is appended as an entry that holds the SHA-256 of the previous entry's RFC 8785 form.
 * Changing, deleting or reordering a stored entry breaks a link, and signed checkpoints (checkpoint.ts) pin
 * the head so that rewriting the whole tail is detected too. Pure: the store and the verifiers share it.
 */
import { z } from 'zod';
import { CountryCode } from '../codes/countries.js';
import { canonicalBytes } from '../envelope/canonical.js';
import { UtcTimestamp } from '../envelope/payload.js';
import { sha256Hex } from '../envelope/seal.js';
import { MESSAGE_ID_PATTERN } from '../ids.js';

/** Lowercase hex SHA-256 (64 digits), the only digest form used in evidence. */
export const HexSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (SHA-256)');

/** `prev` of the first entry of a log (seq 1): 64 zeros, as no entry precedes it. */
export const GENESIS_PREV = '0'.repeat(64);

export const EVIDENCE_EVENTS = ['sent', 'received', 'receipt-sent', 'receipt-received', 'key', 'agreement'] as const;
export const EvidenceEvent = z.enum(EVIDENCE_EVENTS);
export type EvidenceEvent = z.infer<typeof EvidenceEvent>;

/**
 * `messageId` of an entry (SPEC 9.2): the id of the envelope the entry is about, or for a key or agreement document
 * made here `key:<kid>` / `agreement:<agreement id>`. A message id has at most 64 characters; an agreement id may
 * too, so `agreement:` may come before 64 more.
 */
export const EvidenceMessageId = z
  .string()
  .regex(new RegExp(`^(?:agreement:)?${MESSAGE_ID_PATTERN.source.slice(1, -1)}$`), 'expected a message id (1-64 letters, digits, ".", "_", ":" or "-"), or "agreement:" and an agreement id');

export const EvidenceEntry = z.strictObject({
  /** Position in this node's log, from 1, without gaps. */
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** entryHash of the entry at seq - 1; GENESIS_PREV for seq 1. */
  prev: HexSha256,
  /** When the node appended the entry (its own clock). */
  at: UtcTimestamp,
  event: EvidenceEvent,
  /** Id of the envelope whose bytes `sha256` names (for receipts the receipt's own id), or key:/agreement: (above). */
  messageId: EvidenceMessageId,
  /** The partner administration involved (for key/agreement events: the administration the document belongs to). */
  peer: CountryCode,
  /** SHA-256 of the exact bytes the event is about (JWS JSON text of an envelope or an agreement, or a compact JWS). */
  sha256: HexSha256,
});
export type EvidenceEntry = z.infer<typeof EvidenceEntry>;

/** What the caller supplies for a new entry; seq and prev come from the chain. */
export type EvidenceFields = Omit<EvidenceEntry, 'seq' | 'prev'>;

/** The last entry of a log as far as appending needs it (store `seq` and `hash` to avoid re-hashing). */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** SHA-256 (hex) of the RFC 8785 canonical JSON of the entry: what the next entry's `prev` holds. */
export function entryHash(entry: EvidenceEntry): string {
  return sha256Hex(canonicalBytes(entry));
}

export function headOf(entry: EvidenceEntry): ChainHead {
  return { seq: entry.seq, hash: entryHash(entry) };
}

/** The entry that follows `prev` (an entry or a stored head); `undefined` starts a log at seq 1. */
export function nextEntry(prev: EvidenceEntry | ChainHead | undefined, fields: EvidenceFields): EvidenceEntry {
  const head = prev === undefined ? undefined : 'hash' in prev ? prev : headOf(prev);
  return {
    seq: head === undefined ? 1 : head.seq + 1,
    prev: head === undefined ? GENESIS_PREV : head.hash,
    at: fields.at,
    event: fields.event,
    messageId: fields.messageId,
    peer: fields.peer,
    sha256: fields.sha256,
  };
}

export type ChainProblemKind = 'deleted' | 'reordered' | 'changed' | 'duplicate';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** Index in the array given to verifyChain where the problem shows. */
  position: number;
  /** The seq the problem is about (for `deleted`: the first missing seq). */
  seq: number;
  message: string;
}

export interface VerifyChainOptions {
  /** Hash the first entry's `prev` must equal (the head before a segment); implied GENESIS_PREV for seq 1. */
  startPrev?: string;
  /** Seq the segment must start at (entries before it missing are deletions). */
  startSeq?: number;
}

/**
 * Check the links of a log or a contiguous segment of one. Seq gaps are deletions, seq going backwards is a
 * reordering, a repeated seq a duplicate, and an entry whose `prev` is not the hash of the entry at seq - 1 a
 * change (of that earlier entry, or of this entry's link). Links are checked by seq, so a reordering with
 * intact entries reports only the reordering. Removing entries from the end leaves no broken link: only a
 * signed checkpoint at (or after) the last entry detects that, so callers check checkpoints too.
 */
export function verifyChain(entries: readonly EvidenceEntry[], opts: VerifyChainOptions = {}): ChainProblem[] {
  return walkChain(entries, opts).problems;
}

export interface ChainWalk {
  problems: ChainProblem[];
  /** entryHash of every entry by seq (first occurrence), for checking checkpoints without hashing twice. */
  hashes: Map<number, string>;
  /** Lowest and highest seq present (0 and 0 when empty). */
  minSeq: number;
  maxSeq: number;
}

/** verifyChain, also returning the entry hashes it computed. */
export function walkChain(entries: readonly EvidenceEntry[], opts: VerifyChainOptions = {}): ChainWalk {
  const problems: ChainProblem[] = [];
  const hashes = new Map<number, string>();
  if (entries.length === 0) return { problems, hashes, minSeq: 0, maxSeq: 0 };
  const bySeq = new Map<number, { entry: EvidenceEntry; position: number; hash: string }>();
  let maxSeq = 0;
  let minSeq = Number.POSITIVE_INFINITY;
  entries.forEach((entry, position) => {
    if (bySeq.has(entry.seq)) {
      problems.push({ kind: 'duplicate', position, seq: entry.seq, message: `Entry seq ${entry.seq} appears twice (positions ${bySeq.get(entry.seq)!.position} and ${position}): the log was altered.` });
      return;
    }
    if (entry.seq < maxSeq) {
      problems.push({ kind: 'reordered', position, seq: entry.seq, message: `Entry seq ${entry.seq} comes after seq ${maxSeq}: entries were reordered.` });
    }
    const hash = entryHash(entry);
    bySeq.set(entry.seq, { entry, position, hash });
    hashes.set(entry.seq, hash);
    maxSeq = Math.max(maxSeq, entry.seq);
    minSeq = Math.min(minSeq, entry.seq);
  });

  if (opts.startSeq !== undefined && minSeq > opts.startSeq) {
    problems.push({ kind: 'deleted', position: 0, seq: opts.startSeq, message: `Entries seq ${opts.startSeq} to ${minSeq - 1} are missing at the start of the segment: they were deleted.` });
  }
  const first = bySeq.get(minSeq)!;
  const expectedStart = opts.startPrev ?? (minSeq === 1 ? GENESIS_PREV : undefined);
  if (expectedStart !== undefined && first.entry.prev !== expectedStart) {
    problems.push({ kind: 'changed', position: first.position, seq: minSeq, message: `Entry seq ${minSeq} links to ${first.entry.prev.slice(0, 16)}..., expected ${expectedStart.slice(0, 16)}...: the start of the log was changed.` });
  }

  for (let seq = minSeq + 1; seq <= maxSeq; seq++) {
    const cur = bySeq.get(seq);
    if (cur === undefined) {
      let end = seq;
      while (!bySeq.has(end + 1)) end++;
      const next = bySeq.get(end + 1)!;
      problems.push({ kind: 'deleted', position: next.position, seq, message: end === seq ? `Entry seq ${seq} is missing: it was deleted.` : `Entries seq ${seq} to ${end} are missing: they were deleted.` });
      seq = end + 1; // the entry after the gap links to a deleted entry: nothing present to compare with
      continue;
    }
    const before = bySeq.get(seq - 1)!;
    if (cur.entry.prev !== before.hash) {
      problems.push({
        kind: 'changed',
        position: before.position,
        seq: seq - 1,
        message: `Entry seq ${seq - 1} does not hash to the prev recorded by seq ${seq}: entry ${seq - 1} (or the link of ${seq}) was changed.`,
      });
    }
  }
  // a changed first entry breaks both its start link and the next link: report it once
  const seen = new Set<string>();
  const unique = problems.filter((p) => !seen.has(`${p.kind}:${p.seq}`) && seen.add(`${p.kind}:${p.seq}`) !== undefined);
  unique.sort((a, b) => a.position - b.position || a.seq - b.seq);
  return { problems: unique, hashes, minSeq, maxSeq };
}
