/**
 * When an agreement is in force. Both nodes compute this from the same inputs (the verified documents and
 * the verified notices) with the same rules, so they always agree whether a message may flow:
 *   - only a document signed by both parties counts;
 *   - it is in force from validFrom until validUntil, unless terminated, suspended, or superseded;
 *   - a later version of the same id, or a document whose `supersedes` names it, replaces it from the
 *     moment the new one starts (not before, so a renewal signed in advance leaves no gap);
 *   - a suspension lasts until the administration that suspended resumes; a termination is final;
 *   - two agreements between the same pair may not overlap in time unless one supersedes the other.
 */
import { z } from 'zod';
import { canonicalJson } from '../envelope/canonical.js';
import { GncError } from '../errors.js';
import { agreementInstant, agreementPeriod, agreementRef, type AgreementDocument } from './document.js';
import type { AgreementNotice } from './notice.js';

export const AGREEMENT_STATUSES = ['not-yet-valid', 'active', 'suspended', 'terminated', 'expired', 'superseded'] as const;
export const AgreementStatus = z.enum(AGREEMENT_STATUSES);
export type AgreementStatus = z.infer<typeof AgreementStatus>;

/** A verified agreement as the registry holds it. */
export interface AgreementCandidate {
  document: AgreementDocument;
  /** Signed by both parties. */
  complete: boolean;
  /** Verified notices; those about other agreements or by non-parties are ignored. */
  notices?: readonly AgreementNotice[] | undefined;
}

/** Whether `later` replaces `earlier`: same pair, and a higher version of the same id or named by `supersedes`. */
export function supersedes(later: AgreementDocument, earlier: AgreementDocument): boolean {
  if (!samePair(later, earlier)) return false;
  if (later.id === earlier.id) return later.version > earlier.version;
  return later.supersedes !== undefined && later.supersedes.id === earlier.id && later.supersedes.version >= earlier.version;
}

function samePair(x: AgreementDocument, y: AgreementDocument): boolean {
  return between(x, y.parties[0].country, y.parties[1].country);
}

function between(doc: AgreementDocument, a: string, b: string): boolean {
  const [p, q] = doc.parties;
  return (p.country === a && q.country === b) || (p.country === b && q.country === a);
}

const ACTION_RANK = { resume: 0, suspend: 1, terminate: 2 } as const;

/** The notices about this document by one of its parties, in effect order (ties: the stricter action last). */
function relevant(doc: AgreementDocument, notices: readonly AgreementNotice[]): AgreementNotice[] {
  const parties = doc.parties.map((p) => p.country);
  return notices
    .filter((n) => n.agreementId === doc.id && n.version === doc.version && parties.includes(n.by))
    .map((n) => ({ n, at: agreementInstant(n.effective, 'start') }))
    .sort((x, y) => x.at - y.at || ACTION_RANK[x.n.action] - ACTION_RANK[y.n.action])
    .map((x) => x.n);
}

/**
 * Whether `later` has replaced `doc` by `now`: it supersedes it and has started. A successor terminated with
 * effect at or before its start never started (a renewal withdrawn in time), so it replaces nothing.
 */
function replacedBy(later: AgreementDocument, notices: readonly AgreementNotice[], doc: AgreementDocument, now: number): boolean {
  if (!supersedes(later, doc)) return false;
  const start = agreementPeriod(later).start;
  if (start > now) return false;
  const ended = terminatedAt(later, notices);
  return ended === undefined || ended > start;
}

/** The instant a termination takes effect, if one of the parties terminated the document. */
function terminatedAt(doc: AgreementDocument, notices: readonly AgreementNotice[]): number | undefined {
  const t = relevant(doc, notices).find((n) => n.action === 'terminate');
  return t ? agreementInstant(t.effective, 'start') : undefined;
}

/**
 * Status of a document at `now` (epoch ms) given its verified notices, and optionally the other complete
 * documents between the same parties with their notices (to report `superseded`). Completeness is the
 * caller's concern: an agreement awaiting a signature has no status here.
 */
export function agreementStatus(
  doc: AgreementDocument,
  notices: readonly AgreementNotice[],
  now: number,
  others: readonly Pick<AgreementCandidate, 'document' | 'notices'>[] = [],
): AgreementStatus {
  const { start, end } = agreementPeriod(doc);
  const suspendedBy = new Set<string>();
  for (const n of relevant(doc, notices)) {
    if (agreementInstant(n.effective, 'start') > now) break;
    if (n.action === 'terminate') return 'terminated';
    if (n.action === 'suspend') suspendedBy.add(n.by);
    else suspendedBy.delete(n.by); // each administration lifts only its own suspension
  }
  if (now >= end) return 'expired';
  if (others.some((o) => replacedBy(o.document, o.notices ?? [], doc, now))) return 'superseded';
  if (now < start) return 'not-yet-valid';
  return suspendedBy.size > 0 ? 'suspended' : 'active';
}

/**
 * Refuses, with GNC_CONFLICT, a notice this administration is about to sign that would change nothing where it
 * takes effect: anything after a termination, a suspension of what it has already suspended, a resume of what it
 * has not suspended (each administration lifts only its own suspension). Signed and sent, such a notice would
 * tell the operator "done" while the status stays as it was.
 */
export function checkNoticeHasEffect(doc: AgreementDocument, notices: readonly AgreementNotice[], notice: AgreementNotice): void {
  const at = agreementInstant(notice.effective, 'start');
  const suspendedBy = new Set<string>();
  for (const n of relevant(doc, notices)) {
    if (agreementInstant(n.effective, 'start') > at) break;
    if (n.action === 'terminate') {
      throw new GncError('GNC_CONFLICT', `Agreement ${agreementRef(doc)} is terminated from ${n.effective} (by ${n.by}): nothing can ${notice.action} it; negotiate a new agreement instead.`);
    }
    if (n.action === 'suspend') suspendedBy.add(n.by);
    else suspendedBy.delete(n.by);
  }
  if (notice.action === 'suspend' && suspendedBy.has(notice.by)) {
    throw new GncError('GNC_CONFLICT', `Agreement ${agreementRef(doc)} is already suspended by ${notice.by} at ${notice.effective}: nothing to do (resume it first to suspend it again).`);
  }
  // at equal times a resume comes before a suspend (SPEC 8.5): a suspension by the same party at this very instant
  // takes effect after the resume and leaves the agreement suspended, so such a resume would change nothing
  const sameInstant = notice.action === 'resume'
    ? relevant(doc, notices).find((n) => n.action === 'suspend' && n.by === notice.by && agreementInstant(n.effective, 'start') === at)
    : undefined;
  if (sameInstant) {
    throw new GncError('GNC_CONFLICT', `Agreement ${agreementRef(doc)} has a suspension by ${notice.by} taking effect at ${sameInstant.effective}, the same time as this resume; at equal times the suspension prevails, so the resume would change nothing: give a later effective time (e.g. one second later).`);
  }
  if (notice.action === 'resume' && !suspendedBy.has(notice.by)) {
    const others = [...suspendedBy];
    throw new GncError('GNC_CONFLICT', `Agreement ${agreementRef(doc)} is not suspended by ${notice.by} at ${notice.effective}: nothing to resume${others.length ? ` (the suspension by ${others.join(', ')} only that administration can lift)` : ''}.`);
  }
}

/**
 * Refuses, with GNC_CONFLICT, a termination this administration is about to sign at `now` that takes effect at or
 * before the start of an agreement that has started. Taking effect there, it would make the agreement one that
 * never started (SPEC 8.4): the version it superseded would be in force again, and a new agreement over the period
 * it ran would no longer overlap it. Before the start, such a termination is how a renewal is withdrawn in time.
 */
export function checkTerminationTime(doc: AgreementDocument, notice: AgreementNotice, now: number): void {
  if (notice.action !== 'terminate') return;
  const { start } = agreementPeriod(doc);
  if (now < start || agreementInstant(notice.effective, 'start') > start) return;
  const from = new Date(start).toISOString().replace('.000Z', 'Z');
  throw new GncError(
    'GNC_CONFLICT',
    `Agreement ${agreementRef(doc)} started at ${from}; a termination effective ${notice.effective}, at or before its start, would undo that it was ever in force (what it superseded would apply again): give an effective time after ${from}, or none to terminate it now.`,
  );
}

/**
 * The agreement in force between countries `a` and `b` at `now`: complete, active, not replaced by a
 * complete successor that has started. When several qualify (which checkOverlap prevents for documents
 * this node accepted), the highest version, then the latest start, then the smallest id wins.
 */
export function agreementInForce(items: readonly AgreementCandidate[], a: string, b: string, now: number): AgreementDocument | undefined {
  const complete = items.filter((i) => i.complete && between(i.document, a, b));
  const active = complete.filter((i) => agreementStatus(i.document, i.notices ?? [], now, complete) === 'active').map((i) => i.document);
  active.sort((x, y) => y.version - x.version || agreementPeriod(y).start - agreementPeriod(x).start || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return active[0];
}

/**
 * Refuses a candidate that would overlap in time with an agreement already held for the same pair, with
 * GNC_AGREEMENT_OVERLAP naming both. No overlap problem exists when one supersedes the other; an existing
 * document ends early where a (verified) termination notice ended it. The same id and version with other
 * content is an overlap too: a changed document needs a new version.
 */
export function checkOverlap(existing: readonly AgreementDocument[], candidate: AgreementDocument, notices: readonly AgreementNotice[] = []): void {
  const c = agreementPeriod(candidate);
  for (const e of existing) {
    if (!samePair(e, candidate)) continue;
    if (e.id === candidate.id && e.version === candidate.version) {
      if (canonicalJson(e) === canonicalJson(candidate)) continue;
      throw new GncError(
        'GNC_AGREEMENT_OVERLAP',
        `Agreement ${agreementRef(candidate)} differs from the ${agreementRef(e)} already held: a changed document needs a higher version.`,
      );
    }
    if (supersedes(candidate, e) || supersedes(e, candidate)) continue;
    const p = agreementPeriod(e);
    const end = Math.min(p.end, terminatedAt(e, notices) ?? Infinity);
    if (c.start < end && p.start < c.end) {
      throw new GncError(
        'GNC_AGREEMENT_OVERLAP',
        `Agreement ${agreementRef(candidate)} (${candidate.validFrom} to ${candidate.validUntil}) overlaps ${agreementRef(e)} (${e.validFrom} to ${e.validUntil}) between ${e.parties[0].country} and ${e.parties[1].country}: make it a new version of ${e.id}, name it in "supersedes", or choose dates that do not overlap.`,
      );
    }
  }
}

