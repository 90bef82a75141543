/**
 * Key management of this administration (issue 6), behind `gnc keys rotate|revoke|status`: rotate the node
 * key (new root-signed certificate, announced to every partner over the wire, old key retired by a
 * root-signed revocation at the end of the overlap), name a successor root, and revoke a key. Every document
 * is recorded in the evidence log (`key` entries) and kept in the store so that exports carry it.
 */
import { sha256Ascii } from '../../protocol/envelope/seal.js';
import { loadIdentity, loadRootKey, promoteRotatingKey, rotateCommand, writeRootPublic } from '../../certs/identity.js';
import { installRootRotation, installRotation, ownCertificates, readRevocations, readRootRotation, readRotation, readSuccessions, recordHeldSuccessions, recordRevocation, REVOCATIONS_FILE, rotateNodeKey, SUCCESSIONS_FILE, rotatingKey, rotationCertificate, unusedKeyFiles, writeRootRotation, writeRotation, type RootRotationState, type RotationState, type UnusedKeyFile } from '../../certs/rotation.js';
import type { RotatedKeyRole } from '../../certs/identity.js';
import { decodeNodeCertificate, issueNodeCertificate } from '../../protocol/certificate.js';
import { QueryInstant } from '../../protocol/api/instant.js';
import { dirOption, GncError } from '../../protocol/errors.js';
import { decodeKeyNotice, signKeyNotice, type KeyNotice, type RevocationNotice, type RootSuccessionNotice } from '../../protocol/notice.js';
import { jwkThumbprint } from '../../protocol/jwk.js';
import { openOffline, type OfflineNode } from '../compose.js';
import { KeyNoticeRepo, type KeyNoticeRow } from '../store/key-notices.js';
import { evidenceHolds } from '../store/evidence.js';
import type { NodeParts } from '../main.js';
import type { QueueIn } from '../outbound/submit.js';
import { isWildcardAddress, ListenAddress, readConfig, writeConfig } from '../config.js';
import { parseWith } from '../../protocol/validate.js';
import { z } from 'zod';
import { withRotationLock, type RotationLockCommand } from './lock.js';

/** Default overlap of a node key rotation: partners accept the old key's signatures for this long (hours). */
export const DEFAULT_OVERLAP_HOURS = 24;

async function withOffline<T>(dir: string, now: (() => number) | undefined, fn: (n: OfflineNode) => Promise<T>): Promise<T> {
  const n = openOffline(dir, now ? { clock: now } : {});
  try {
    return await fn(n);
  } finally {
    await n.close();
  }
}

/** What the key documents of this administration are stored and queued with: an offline node's, or a running node's. */
type KeyParts = Pick<OfflineNode, 'parts' | 'evidence' | 'keyring' | 'submit'>;

function partners(n: Pick<OfflineNode, 'parts'>): string[] {
  return n.parts.store.partners.pinned().map((p) => p.country);
}

export interface RotateResult {
  previous: string;
  current: string;
  overlapUntil: string;
  announcements: Record<string, string>;
  /** True when this run completed a rotation an earlier run began and was interrupted in. */
  resumed: boolean;
  /** True when the new key is the one a run interrupted before it recorded the rotation had written (no other was made). */
  reusedKey: boolean;
}

/** The reason of a rotation's retirement notice (SPEC 9.10). */
const retirementReason = (to: string): string => `superseded by node key ${to} (key rotation)`;

/** Where an interrupted rotation stands: each step's result, in the order the rotation does them. */
export interface RotationProgress {
  state: RotationState;
  certificate: string;
  /** The new certificate is the current one (installRotation ran). */
  installed: boolean;
  /** The old key's retirement notice, once stored (with its `key` entry). */
  retirement: string | undefined;
  /** Pinned partners that were not queued the announcement or the retirement. */
  unannounced: string[];
  /** The new certificate's `key` entry is in the evidence log. */
  logged: boolean;
}

/**
 * The rotation recorded in the data dir, if it is incomplete: `gnc keys rotate` was interrupted (killed, a power loss, a
 * full disk) after it recorded the rotation and before its last step. Each step leaves a trace this reads: the current
 * certificate, the retirement notice in the store, the envelopes queued to each partner, the `key` entry of the new
 * certificate. Undefined when there is no rotation or it completed.
 */
export function rotationProgress(parts: NodeParts): RotationProgress | undefined {
  const { dir, identity, store } = parts;
  const state = readRotation(dir);
  if (state === undefined) return undefined;
  const certificate = rotationCertificate(dir, state);
  const logged = evidenceHolds(store.db, 'key', `key:${state.to}`, sha256Ascii(certificate));
  if (state.announced && logged) return undefined;
  const installed = identity.node.thumbprint === state.to;
  const retirement = retirementOf(parts, state);
  const announced = announcedCertificate(parts, state);
  const unannounced = store.partners.pinned().map((p) => p.country).filter((p) => queuedTo(parts, p, announced, retirement) === undefined);
  return { state, certificate, installed, retirement, unannounced, logged };
}

/**
 * The certificate of a rotation's new key that partners are sent: the one the root in office issued, when a root
 * rotation re-issued it after the rotation (a database restored from a backup older than both finds the rotation
 * unrecorded), since a partner refuses a key announced under a succeeded root (SPEC 9.10, GNC_CERT_INVALID); else the
 * one the rotation recorded.
 */
function announcedCertificate(parts: NodeParts, state: RotationState): string {
  const inOffice = parts.identity.certPayload.iss;
  return ownCertificates(parts.dir).find((c) => {
    const p = decodeNodeCertificate(c);
    return p.sub === state.to && p.iss === inOffice;
  }) ?? rotationCertificate(parts.dir, state);
}

/**
 * A rotation record `identity/` marks announced, whose documents the database does not hold (a node rotation's
 * retirement, a root rotation's succession): every run stores them before it marks the record, so the database was
 * restored from a backup taken before the rotation (README step 7). The words that say so.
 */
const RESTORED = 'the database (gnc.sqlite) was restored from a backup taken before it and does not record it';

/** The steps of a rotation of `role`, in words of what it lacks (a root succession is stored with its `key` entry). */
const MISSING_STEP: Record<RotatedKeyRole, { installed: string; retired: string; unannounced: string; logged: string | undefined }> = {
  node: { installed: 'the new certificate is not installed', retired: "the old key's retirement is not signed", unannounced: 'the new key is not queued to', logged: 'its evidence entry is not written' },
  root: { installed: 'the node certificate the new root issued is not installed', retired: 'the root succession is not stored', unannounced: 'the root succession is not queued to', logged: undefined },
};

/** What an incomplete rotation of `role` lacks, in words (gnc keys status, gnc start). */
export function rotationMissing(p: { installed: boolean; retired: boolean; unannounced: string[]; logged: boolean }, role: RotatedKeyRole = 'node'): string[] {
  const words = MISSING_STEP[role];
  return [
    ...(p.installed ? [] : [words.installed]),
    ...(p.retired ? [] : [words.retired]),
    ...(p.unannounced.length > 0 ? [`${words.unannounced} ${p.unannounced.join(', ')}`] : []),
    ...(p.logged || words.logged === undefined ? [] : [words.logged]),
  ];
}

/**
 * An interrupted node key rotation, what it lacks and what to do, in one sentence (gnc keys status, gnc start): the
 * node cannot complete it itself (the old key's retirement needs the root key, kept offline). After the overlap the
 * node signs with the new key all the same, which a partner never told refuses (GNC_KEY_UNKNOWN).
 */
export function rotationAdvice(p: RotationProgress, dir: string, now: number, opts: { rootFirst?: boolean; signing?: string } = {}): string {
  const { to, startedAt, overlapUntil } = p.state;
  const over = Date.parse(overlapUntil) <= now;
  // the key that signs says it, where the keyring knows it (gnc keys status): the old key's revocation or the end of its
  // certificate switches to the new one before the overlap ends
  const when = over || opts.signing === to
    ? `now: this node signs with ${to} ${over ? `since ${overlapUntil}` : 'already (its old key is revoked or has expired)'}, which a partner never told refuses (GNC_KEY_UNKNOWN)`
    : `before ${overlapUntil}, when this node starts signing with ${to} whether partners know it or not`;
  const what = p.state.announced && p.retirement === undefined ? `is recorded in identity/, but ${RESTORED}` : 'was interrupted';
  const first = opts.rootFirst ? 'once the root rotation named above is completed, ' : '';
  return `the node key rotation to ${to} begun at ${startedAt} ${what} (${rotationMissing({ ...p, retired: p.retirement !== undefined }).join('; ')}). Complete it ${first}with \`${rotateCommand(dir, 'node')}\` (the same command again), ${when}.`;
}

/** Where an interrupted root rotation stands (RotationProgress of `gnc keys rotate --root`). */
export interface RootRotationProgress {
  state: RootRotationState;
  /** The certificate the new root issued is the current one (installRootRotation ran). */
  installed: boolean;
  /** The succession is stored, with its `key` entry (one transaction). */
  stored: boolean;
  /** Pinned partners that were not queued the succession. */
  unannounced: string[];
}

/**
 * The root rotation recorded in the data dir, if it is incomplete: `gnc keys rotate --root` was interrupted after it
 * recorded the succession and before it was queued to every partner (rotationProgress of a root rotation).
 */
export function rootRotationProgress(parts: NodeParts): RootRotationProgress | undefined {
  const state = readRootRotation(parts.dir);
  if (state === undefined || (state.announced && successionStored(parts, state))) return undefined;
  const unannounced = parts.store.partners.pinned().map((p) => p.country).filter((p) => successionQueued(parts, p, state) === undefined);
  const progress = { state, installed: parts.identity.root.thumbprint === state.to, stored: successionStored(parts, state), unannounced };
  // interrupted only before it marked the record: nothing is missing
  return progress.installed && progress.stored && unannounced.length === 0 ? undefined : progress;
}

/** An interrupted root rotation, what it lacks and what to do, in one sentence (gnc keys status, gnc start). */
export function rootRotationAdvice(p: RootRotationProgress, dir: string): string {
  const meanwhile = p.installed
    ? `until then this node's certificate is issued by root ${p.state.to}, which a partner not told of it refuses`
    : `until then the node keeps its certificate by root ${p.state.from}`;
  const what = p.state.announced ? `is recorded in identity/, but ${RESTORED}` : 'was interrupted';
  return `the root rotation to ${p.state.to} (from ${p.state.from}, effective ${p.state.effective}) ${what} (${rotationMissing({ ...p, retired: p.stored, logged: p.stored }, 'root').join('; ')}). Complete it with \`${rotateCommand(dir, 'root')}\` (the same command again; it needs no root key): ${meanwhile}.`;
}

function successionStored(parts: NodeParts, state: RootRotationState): boolean {
  return evidenceHolds(parts.store.db, 'key', `key:${state.to}`, sha256Ascii(state.notice));
}

/** The id of the root succession of `state` queued to `partner` (by a run, or by `gnc partner add`), if any. */
function successionQueued(parts: NodeParts, partner: string, state: RootRotationState): string | undefined {
  return parts.store.messages.firstOutControl(partner, 'key', 'root-succession', (b) => b['notice'] === state.notice)?.id;
}

/**
 * What a private key file no certificate names is (UnusedKeyFile), and what to do about it: one sentence, which `gnc
 * keys status` lists and `gnc start` warns with.
 */
export function unusedKeyFileAdvice(f: UnusedKeyFile, dir: string): string {
  const command = `\`${rotateCommand(dir, f.role)}\``;
  const rotation = f.role === 'node' ? 'rotation' : 'root rotation';
  const what = f.state === 'unfinished'
    ? `the new ${f.role === 'node' ? 'key' : 'root key'} of a ${rotation} interrupted before it recorded itself; no certificate names it. ${command} uses it (and makes no other key)`
    : f.state === 'partial'
      ? `a key file a ${rotation} was interrupted writing; no certificate names it. ${command} deletes it`
      : `a private ${f.role} key no certificate of this node names (left by a ${rotation} interrupted before it recorded itself, by an earlier version, or put there by hand); it signs nothing, and the node neither uses nor deletes it. ${f.role === 'node' ? 'Delete it once you know no certificate of it is kept elsewhere' : 'Delete it once you know no partner was sent a root succession to it'}`;
  return `${f.file} is ${what}.`;
}

/** The stored retirement notice of a rotation's old key (reason and time as the rotation signs them), if any. */
function retirementOf(parts: NodeParts, state: RotationState): string | undefined {
  return new KeyNoticeRepo(parts.store.db).list('revocation', [parts.identity.country]).find((r) => {
    const p = decodeKeyNotice(r.compact).payload;
    return p.kind === 'revocation' && p.kid === state.from && p.revokedAt === state.overlapUntil && p.reason === retirementReason(state.to);
  })?.compact;
}

/** The id of the announcement queued to `partner`, when both it and the retirement were queued; else undefined. */
function queuedTo(parts: NodeParts, partner: string, certificate: string, retirement: string | undefined): string | undefined {
  const messages = parts.store.messages;
  const announced = messages.firstOutControl(partner, 'key', 'announce', (b) => b['certificate'] === certificate);
  if (announced === undefined || retirement === undefined) return undefined;
  return messages.firstOutControl(partner, 'key', 'revoke', (b) => b['notice'] === retirement) ? announced.id : undefined;
}

/**
 * Rotate the node key; partners get the new certificate and the old key's retirement at the end of the overlap.
 * With `announce`, the new certificate names those addresses (a node that moves to another host or port): partners
 * dial them once they have the announcement, and gnc.json's `announce` says so too.
 *
 * A rotation interrupted at any step (killed, a power loss, a full disk) is completed by the same command run again:
 * every step is done once, with what the interrupted run recorded (the same key, certificate, overlap and retirement
 * notice), and a step found done is skipped, so no partner is queued an announcement twice and no evidence entry is
 * written twice. The node cannot complete it by itself: the retirement is signed by the root, which may be offline.
 */
export async function rotateNodeKeys(dir: string, opts: { overlapHours?: number; clock?: () => number; announce?: string[] } = {}): Promise<RotateResult> {
  return withRotationLock(dir, () => rotateNodeKeysLocked(dir, opts));
}

async function rotateNodeKeysLocked(dir: string, opts: { overlapHours?: number; clock?: () => number; announce?: string[] }): Promise<RotateResult> {
  const now = (opts.clock ?? Date.now)();
  const overlapMs = (opts.overlapHours ?? DEFAULT_OVERLAP_HOURS) * 3_600_000;
  const announce = opts.announce === undefined ? undefined : announceAddresses(opts.announce);
  const interrupted = await withOffline(dir, opts.clock, async (n) => {
    // a root rotation first, also to complete a node key rotation (a database restored from a backup older than both):
    // a new node key now would be certified by a root that some partner was not told of, and refused by it, and the
    // rotation's announcement would go ahead of the succession that makes partners accept its certificate
    const root = rootRotationProgress(n.parts);
    if (root) {
      const what = root.state.announced ? 'is recorded in identity/ but not in the database (gnc.sqlite), restored from a backup taken before it' : 'was interrupted';
      throw new GncError('GNC_CONFLICT', `The root rotation to ${root.state.to} effective ${root.state.effective} ${what}: complete it first with \`${rotateCommand(dir, 'root')}\` (the same command again), then rotate the node key.`);
    }
    const progress = rotationProgress(n.parts);
    if (progress) return progress;
    // a second rotation now would make the node sign with the first new key, which some partner has not
    // acknowledged yet (SPEC 9.10: no partner receives a signature by a key it does not know)
    const { pending } = n.keyring.status();
    if (pending) {
      throw new GncError('GNC_CONFLICT', `The rotation to key ${pending.to} is still waiting for partners to acknowledge it (at the latest until ${pending.overlapUntil}; see \`gnc keys status\`): rotate again once it has completed.`);
    }
    return undefined;
  });
  let state: RotationState;
  let reusedKey = false;
  if (interrupted) {
    state = interrupted.state;
    // the interrupted rotation is completed as it began: other options would be another rotation
    const cert = decodeNodeCertificate(interrupted.certificate);
    const overlapOf = Date.parse(state.overlapUntil) - Date.parse(state.startedAt);
    const differs = [
      ...(announce !== undefined && JSON.stringify(announce) !== JSON.stringify(cert.addrs) ? [`--announce (it certified ${cert.addrs.join(', ') || 'no address'})`] : []),
      ...(opts.overlapHours !== undefined && Math.abs(opts.overlapHours * 3_600_000 - overlapOf) > 1000 ? [`--overlap-hours (it has ${overlapOf / 3_600_000})`] : []),
    ];
    if (differs.length > 0) {
      throw new GncError('GNC_CONFLICT', `A key rotation to ${state.to} was interrupted, with other options than ${differs.join(' and ')}: complete it first with \`gnc keys rotate ${dirOption(dir)}\` (no options), then rotate again with the ones you want.`);
    }
  } else {
    ({ state, reused: reusedKey } = rotateNodeKey(dir, { now, overlapMs, ...(announce ? { addrs: announce } : {}) }));
  }
  installRotation(dir, state);
  const certificate = rotationCertificate(dir, state);
  followAddresses(dir, state, certificate, announce !== undefined);
  return withOffline(dir, opts.clock, async (n) => {
    const retirement = retireOldKey(n, state);
    const announcements: Record<string, string> = {};
    for (const p of partners(n)) announcements[p] = await queueRotationTo(n, state, p, retirement);
    writeRotation(dir, { ...state, announcements, announced: true });
    // after the rotation file: this commit wakes a running node, which then re-reads it (the new certificate is a
    // file of the data dir, written above)
    logRotation(n, state);
    return { previous: state.from, current: state.to, overlapUntil: state.overlapUntil, announcements, resumed: interrupted !== undefined, reusedKey };
  });
}

/**
 * Step 3 of a rotation (after rotateNodeKey and installRotation): the old key's retirement at the end of the overlap,
 * signed by the root and stored with its `key` entry in one transaction before any partner is sent it (a failure
 * leaves neither). One stored already (an interrupted run) is returned as it is: never signed nor logged twice.
 */
export function retireOldKey(n: OfflineNode, state: RotationState): string {
  const held = retirementOf(n.parts, state);
  if (held !== undefined) return held;
  const { dir, identity } = n.parts;
  // the old key stops being valid evidence for anything signed after the overlap (it may be on old backups)
  const retirement: KeyNotice = { v: 1, kind: 'revocation', country: identity.country, kid: state.from, reason: retirementReason(state.to), revokedAt: state.overlapUntil };
  const signed = signKeyNotice(retirement, loadRootKey(dir, decodeNodeCertificate(rotationCertificate(dir, state)).iss).signer);
  storeKeyNotice(n, signed, retirement, state.from, n.parts.clock());
  return signed;
}

/**
 * Step 4, for each partner: the announcement of the new certificate, then the retirement, on the partner's one outbox
 * (the announcement is delivered before anything the new key signs). One queued already (an interrupted run, or `gnc
 * partner add` meanwhile) is not queued again. Returns the announcement's id.
 */
export async function queueRotationTo(n: OfflineNode, state: RotationState, partner: string, retirement: string): Promise<string> {
  const id = await queueKeyOnce(n, partner, { action: 'announce', certificate: announcedCertificate(n.parts, state) }, 'certificate');
  await queueKeyOnce(n, partner, { action: 'revoke', notice: retirement }, 'notice');
  return id;
}

/**
 * Queue the `key` control envelope `body` to `partner` unless one of its action with the same `same` (the document it
 * carries) is queued already; the id of the one queued.
 */
async function queueKeyOnce(n: OfflineNode, partner: string, body: { action: string } & Record<string, string>, same: string): Promise<string> {
  const held = n.parts.store.messages.firstOutControl(partner, 'key', body.action, (b) => b[same] === body[same]);
  return held?.id ?? (await n.submit.queueControl(partner, 'key', body)).id;
}

/** A root-signed key notice of this administration stored with its `key` entry (of `kid`) in one transaction: a failure leaves neither. */
function storeKeyNotice(n: Pick<OfflineNode, 'parts' | 'evidence'>, compact: string, notice: KeyNotice, kid: string, at: number): void {
  n.parts.store.db.transaction(() => writeKeyNotice(n, compact, notice, kid, at)).immediate();
}

/** storeKeyNotice inside the caller's transaction. */
function writeKeyNotice(n: Pick<OfflineNode, 'parts' | 'evidence'>, compact: string, notice: KeyNotice, kid: string, at: number): void {
  new KeyNoticeRepo(n.parts.store.db).add(compact, notice, at);
  n.evidence.append('key', `key:${kid}`, n.parts.identity.country, sha256Ascii(compact));
}

/** The last step, after the rotation file says every partner was queued: the new certificate's `key` entry, once. */
export function logRotation(n: OfflineNode, state: RotationState): void {
  const certificate = rotationCertificate(n.parts.dir, state);
  if (!evidenceHolds(n.parts.store.db, 'key', `key:${state.to}`, sha256Ascii(certificate))) n.evidence.append('key', `key:${state.to}`, n.parts.identity.country, sha256Ascii(certificate));
}

/**
 * gnc.json's `announce` names the addresses the new certificate certifies when the rotation moved the node (`--announce`,
 * or they differ from the old certificate's: the rotation was interrupted before it wrote them).
 */
function followAddresses(dir: string, state: RotationState, certificate: string, given: boolean): void {
  const addrs = decodeNodeCertificate(certificate).addrs;
  const before = ownCertificates(dir).map(decodeNodeCertificate).find((p) => p.sub === state.from)?.addrs;
  if (!given && JSON.stringify(before) === JSON.stringify(addrs)) return;
  const config = readConfig(dir);
  if (JSON.stringify(config.announce) !== JSON.stringify(addrs)) writeConfig(dir, { ...config, announce: addrs });
}

export interface RevokeResult {
  kid: string;
  revokedAt: string;
  notice: string;
  sentTo: string[];
}

/** Revoke one of this administration's node keys from `at` (default now), and tell every partner. */
export async function revokeNodeKey(dir: string, kid: string, reason: string, opts: { at?: string; clock?: () => number } = {}): Promise<RevokeResult> {
  // which key signs and which one a rotation moves to are read below: no rotation may change them meanwhile
  return withRotationLock(dir, () => revokeNodeKeyLocked(dir, kid, reason, opts), 'gnc keys revoke');
}

async function revokeNodeKeyLocked(dir: string, kid: string, reason: string, opts: { at?: string; clock?: () => number }): Promise<RevokeResult> {
  return withOffline(dir, opts.clock, async (n) => {
    const { identity, clock } = n.parts;
    if (!n.keyring.ownKeys().has(kid)) {
      throw new GncError('GNC_NOT_FOUND', `Key ${kid} is not a node key of ${identity.country}: see \`gnc keys status\`. A partner's keys are revoked by the partner's root.`);
    }
    const revokedAt = opts.at ?? new Date(clock()).toISOString();
    // strict: the earliest revocation of a key always applies, so a misread time (`--at 1` read as 2001) would
    // irrevocably void everything the key signed since
    if (!QueryInstant.safeParse(revokedAt).success) {
      throw new GncError('GNC_CONFIG_INVALID', `--at must be an RFC 3339 time with its zone, such as 2026-03-01T08:00:00Z or 2026-03-01T13:00:00+05:00, got "${revokedAt}": fix --at, then run the command again.`);
    }
    const { active, pending } = n.keyring.status();
    if (kid === active) {
      // with a rotation under way, a second `gnc keys rotate` is refused: the way out is to wait for this one
      const first = pending ? `the rotation to ${pending.to} is under way: wait until \`gnc keys status\` shows ${pending.to} signing (every partner acknowledged it, at the latest ${pending.overlapUntil})` : `rotate first (\`gnc keys rotate ${dirOption(dir)}\`), wait until partners received the new certificate (\`gnc keys status\`)`;
      throw new GncError('GNC_CONFLICT', `Key ${kid} is the key this node signs with: ${first}, then revoke it.`);
    }
    if (kid === pending?.to) {
      throw new GncError('GNC_CONFLICT', `Key ${kid} is the key this node is rotating to: it signs as soon as partners acknowledge it. Wait until the rotation has completed (\`gnc keys status\`), rotate again, then revoke it.`);
    }
    const notice: RevocationNotice = { v: 1, kind: 'revocation', country: identity.country, kid, reason, revokedAt: new Date(Date.parse(revokedAt)).toISOString() };
    const compact = signKeyNotice(notice, loadRootKey(dir, identity.certPayload.iss).signer);
    // stored with its `key` entry and queued to every partner in one transaction: a revocation kept here without its
    // envelopes (a crash, a failed queueing) would leave partners accepting the key, and nothing would say so
    // recorded in identity/ first, like a rotation: a database restored from a backup taken before it, or a run
    // interrupted before it stored it, gets it back at the next start (restoreRevocations)
    recordRevocation(dir, compact);
    let sentTo: string[];
    try {
      sentTo = await storeRevocation(n, compact, notice);
    } catch (err) {
      recordRevocation(dir, compact, true);
      throw err;
    }
    return { kid, revokedAt: notice.revokedAt, notice: compact, sentTo };
  });
}

/**
 * A revocation of this administration stored with its `key` entry and queued to every partner in one transaction: a
 * revocation kept here without its envelopes (a crash, a failed queueing) would leave partners accepting the key, and
 * nothing would say so. The partners it was queued to.
 */
function storeRevocation(n: KeyParts, compact: string, notice: RevocationNotice): Promise<string[]> {
  return storeQueued(n, compact, notice, notice.kid, n.parts.clock(), partners(n), { action: 'revoke', notice: compact },
    (cause) => `Key ${notice.kid} was not revoked: its revocation could not be stored and queued for every partner (${cause}), and it is stored only with its envelopes. Nothing was stored; run the command again, and if it fails again check the node's log and its data dir and report it.`);
}

/** Key notice `compact` stored with its `key` entry (of `kid`) and `body` queued to each of `sentTo`, in one transaction; `sentTo`. */
async function storeQueued(n: KeyParts, compact: string, notice: KeyNotice, kid: string, at: number, sentTo: string[], body: Record<string, string>, notStored: (cause: string) => string): Promise<string[]> {
  await n.submit.commitQueuing(
    (queue) => {
      writeKeyNotice(n, compact, notice, kid, at);
      for (const p of sentTo) queue(p, 'key', body);
    },
    notStored,
  );
  return sentTo;
}

/**
 * Notice `compact` of the record `file` in identity/, verified under this administration's roots (no root key needed);
 * else GNC_CONFIG_INVALID naming the file. `applies` says why a verified notice does not belong there, if it does not.
 */
function recordedNotice(n: KeyParts, file: string, compact: string, applies: (notice: KeyNotice) => string | undefined): KeyNotice {
  const { dir, identity } = n.parts;
  const refused = (why: string): GncError => new GncError('GNC_CONFIG_INVALID', `${file} in ${dir} holds a notice that ${why}: the file was changed by hand or damaged; restore it from the data dir's backup (README, step 7).`);
  let notice: KeyNotice;
  try {
    notice = n.keyring.verifyOwnNotice(compact);
  } catch (err) {
    throw refused(`no root of ${identity.country} signed (${(err as Error).message})`);
  }
  const wrong = applies(notice);
  if (wrong !== undefined) throw refused(wrong);
  return notice;
}

/** A revocation identity/ records that the database did not hold, stored again and queued to partners (restoreRevocations). */
export interface RestoredRevocation {
  kid: string;
  revokedAt: string;
  sentTo: string[];
}

/**
 * The revocations `gnc keys revoke` recorded in identity/ (REVOCATIONS_FILE) that the database does not hold, stored
 * again with their `key` entry and queued to every partner, as `gnc keys revoke` does (storeRevocation): the database was
 * restored from a backup taken before them (README step 7), or a run was interrupted before it stored one. Each is
 * root-signed and verified under this administration's roots first, so no root key is needed. A partner that holds it
 * already keeps it as it is (SPEC 9.10). Run at start, before the node signs anything (it must not sign with a key it
 * revoked), and by `gnc keys status` (both after restoreSuccessions: restoreRecorded).
 */
export async function restoreRevocations(n: KeyParts): Promise<RestoredRevocation[]> {
  const { dir, identity, store } = n.parts;
  const held = new KeyNoticeRepo(store.db);
  const restored: RestoredRevocation[] = [];
  for (const compact of readRevocations(dir).filter((c) => !held.holds(c))) {
    const notice = recordedNotice(n, REVOCATIONS_FILE, compact, (x) => (x.kind !== 'revocation' || !n.keyring.ownKeys().has(x.kid) ? `revokes no node key of ${identity.country}` : undefined)) as RevocationNotice;
    restored.push({ kid: notice.kid, revokedAt: notice.revokedAt, sentTo: await storeRevocation(n, compact, notice) });
  }
  return restored;
}

/** A revocation restoreRevocations stored again, in one sentence (gnc keys status, the log of gnc start). */
export function restoredRevocationAdvice(r: RestoredRevocation): string {
  return `the revocation of node key ${r.kid} from ${r.revokedAt} is recorded in identity/, but ${RESTORED} (or \`gnc keys revoke\` was interrupted before it stored it): stored it again and queued it to ${r.sentTo.join(', ') || 'no partner'} again (a partner that holds it already keeps it unchanged); the node signs nothing more with that key.`;
}

/** A root succession identity/ records that the database did not hold, stored again and queued to partners (restoreSuccessions). */
export interface RestoredSuccession {
  /** The successor root's fingerprint. */
  to: string;
  effective: string;
  sentTo: string[];
}

/**
 * The root successions `gnc keys rotate --root` recorded in identity/ (SUCCESSIONS_FILE) that the database does not
 * hold, stored again with their `key` entry and queued to every partner with the node certificate the new root issued:
 * the database was restored from a backup taken before them (README step 7). Without them this node's audit exports
 * name only the roots its certificates do, not the chain from the root partners pinned, and a verifier refuses every
 * certificate by a later root ("not a root"); and a partner that was queued one and had not received it by the
 * restore would never get it. Each is verified under this administration's roots first (the original one signed the
 * first), so no root key is needed; a partner that holds it already keeps it as it is (SPEC 9.10). The succession of
 * the rotation identity/root-rotation.json records is left to `gnc keys rotate --root` (rootRotationProgress), which
 * also installs its certificate. Run at start before anything is signed or queued, by `gnc keys status`, `gnc keys
 * rotate --root` and `gnc audit export`.
 */
export async function restoreSuccessions(n: KeyParts): Promise<RestoredSuccession[]> {
  const { dir, identity, store } = n.parts;
  const held = new KeyNoticeRepo(store.db);
  const pending = readRootRotation(dir)?.notice;
  const restored: RestoredSuccession[] = [];
  for (const compact of readSuccessions(dir).filter((c) => c !== pending && !held.holds(c))) {
    const notice = recordedNotice(n, SUCCESSIONS_FILE, compact, (x) => (x.kind !== 'root-succession' ? `names no successor root of ${identity.country} (a ${x.kind} notice)` : undefined)) as RootSuccessionNotice;
    const to = jwkThumbprint(notice.newRoot);
    // the node certificate the new root issued, which the partner verifies the notice's envelope with (the submit path
    // swaps it for the one of the key that seals it); none, and partners are not sent it (every rotation installs one)
    const certificate = ownCertificates(dir).map((c) => ({ c, p: decodeNodeCertificate(c) })).filter((x) => x.p.iss === to).sort((a, b) => Date.parse(b.p.iat) - Date.parse(a.p.iat))[0]?.c;
    const sentTo = await storeQueued(n, compact, notice, to, Date.parse(notice.effective), certificate === undefined ? [] : partners(n), { action: 'root-succession', notice: compact, certificate: certificate ?? '' },
      (cause) => `The root succession to ${to} recorded in ${SUCCESSIONS_FILE} could not be stored and queued for every partner (${cause}). Nothing was stored; run the command again, and if it fails again check the node's log and its data dir and report it.`);
    restored.push({ to, effective: notice.effective, sentTo });
  }
  return restored;
}

/** A root succession restoreSuccessions stored again, in one sentence (gnc keys status, the log of gnc start, gnc audit export). */
export function restoredSuccessionAdvice(r: RestoredSuccession): string {
  return `the root succession to ${r.to} effective ${r.effective} is recorded in identity/, but ${RESTORED}: stored it again and queued it to ${r.sentTo.join(', ') || 'no partner'} again (a partner that holds it already keeps it unchanged); audit exports show this node's roots' chain again.`;
}

/**
 * The key notices identity/ records that the database does not hold, stored and queued again: the root successions
 * first (a partner verifies a revocation under the root that signed it, which a succession may name), then the
 * revocations. Each in one sentence, in that order (gnc start, gnc audit export). Then the other way round (recordHeld):
 * the root successions the database holds that identity/ lacks are recorded there, `command` naming the run.
 */
export async function restoreRecorded(n: KeyParts, command: RecordingCommand): Promise<{ successions: RestoredSuccession[]; revocations: RestoredRevocation[]; said: string[] }> {
  const successions = await restoreSuccessions(n);
  const revocations = await restoreRevocations(n);
  await recordHeld(n, command);
  return { successions, revocations, said: [...successions.map(restoredSuccessionAdvice), ...revocations.map(restoredRevocationAdvice)] };
}

type RecordingCommand = Extract<RotationLockCommand, 'gnc start' | 'gnc keys status' | 'gnc audit export'>;

/** This administration's root successions the database holds, oldest first. */
function heldSuccessions(n: Pick<OfflineNode, 'parts'>): KeyNoticeRow[] {
  return new KeyNoticeRepo(n.parts.store.db).list('root-succession', [n.parts.identity.country]);
}

/**
 * Record in identity/ (SUCCESSIONS_FILE) the root successions of this administration the database holds and the file
 * lacks, each in its place by time (recordHeldSuccessions): a data dir of a version before the file holds the
 * successions it made only in its database, and a database restored from an older backup would lose them for good
 * (the original root, kept offline, signed the first). Under the rotation lock, as `gnc keys rotate --root` writes the
 * file, so neither write loses the other's notices; taken only when a notice is missing (a moment, once per data dir).
 * When another run holds the lock it is left to that run: `gnc keys rotate --root` records them itself, and after
 * `gnc keys revoke` the next start or `gnc keys status` does. The number recorded.
 */
async function recordHeld(n: KeyParts, command: RecordingCommand): Promise<number> {
  const { dir } = n.parts;
  const recorded = readSuccessions(dir);
  if (heldSuccessions(n).every((r) => recorded.includes(r.compact))) return 0;
  let ran = false;
  try {
    return await withRotationLock(dir, async () => {
      ran = true;
      return recordHeldSuccessions(dir, heldSuccessions(n));
    }, command);
  } catch (err) {
    if (ran || !(err instanceof GncError && err.code === 'GNC_CONFLICT')) throw err;
    return 0;
  }
}

export interface RootRotateResult {
  previous: string;
  current: string;
  effective: string;
  sentTo: string[];
  /** True when this run completed a root rotation an earlier run began and was interrupted in. */
  resumed: boolean;
  /** True when the new root key is the one a run interrupted before it recorded the root rotation had written (no other was made). */
  reusedKey: boolean;
  /** Earlier root successions identity/ records that the database did not hold, stored and queued again first (restoreSuccessions). */
  restoredSuccessions: RestoredSuccession[];
}

/**
 * Name a successor root, signed by the current root, and re-certify the node key under it (same validity
 * period, so signatures made before stay verifiable). Partners verify the notice under the root they know.
 *
 * Its steps, like a node key rotation's: make the new root key (written under its rotating name,
 * keys/rotating-root-<fingerprint>.jwk), sign the succession and the re-issued certificate and record both in
 * identity/root-rotation.json (beginRootRotation); make that certificate current, the key then taking its root name
 * (installRootRotation); store the succession with its `key` entry (storeSuccession); queue it to each partner
 * (queueSuccessionTo); mark the record announced. Interrupted before the record, the next run uses the key file left
 * (`reusedKey`); after it, the next run completes the rotation with what it recorded, doing only the missing steps
 * (`resumed`): nothing is signed, stored, queued or logged twice, and neither root's private key is needed.
 */
export async function rotateRootKey(dir: string, opts: { clock?: () => number } = {}): Promise<RootRotateResult> {
  return withRotationLock(dir, async () => {
    // interrupted (before it marked the record announced), or announced and not recorded by a database restored from
    // a backup taken before it (rootRotationProgress)
    const record = readRootRotation(dir);
    const resumed = record !== undefined && (!record.announced || (await withOffline(dir, opts.clock, async (n) => rootRotationProgress(n.parts) !== undefined)));
    const { state, reusedKey } = resumed ? { state: record, reusedKey: false } : beginRootRotation(dir, (opts.clock ?? Date.now)());
    installRootRotation(dir, state);
    return withOffline(dir, opts.clock, async (n) => {
      // earlier successions a restored database lacks go to partners first: this one is signed by the root they name
      const restoredSuccessions = await restoreSuccessions(n);
      // in identity/ before it is stored or queued, with every earlier one the database holds (a data dir of a version
      // before the record): identity/root-rotation.json keeps only the last, and a backup restored later lacks them
      recordHeldSuccessions(dir, [...heldSuccessions(n), { compact: state.notice, at: Date.parse(state.effective) }]);
      storeSuccession(n, state);
      const sentTo = partners(n);
      for (const p of sentTo) await queueSuccessionTo(n, state, p);
      writeRootRotation(dir, { ...state, announced: true });
      return { previous: state.from, current: state.to, effective: state.effective, sentTo, resumed, reusedKey, restoredSuccessions };
    });
  });
}

/**
 * The first steps of a root rotation: the new root key, the succession signed by the current root and the node
 * certificate re-issued by the new one, recorded (not announced) before anything else changes.
 */
export function beginRootRotation(dir: string, now: number): { state: RootRotationState; reusedKey: boolean } {
  const id = loadIdentity(dir);
  // an interrupted node-key rotation holds a certificate issued by this root, installed when it is completed: a new
  // root now would leave it issued by a succeeded root, which partners refuse
  const pending = readRotation(dir);
  if (pending !== undefined && !pending.announced) {
    throw new GncError('GNC_CONFLICT', `The node-key rotation to ${pending.to} begun at ${pending.startedAt} was interrupted: complete it first with \`gnc keys rotate ${dirOption(dir)}\` (the same command again), then rotate the root.`);
  }
  // the current root's private key first: kept offline, it is asked for (GNC_IDENTITY_MISSING) before a new
  // root key is written, so a refused attempt leaves no stray key behind
  const current = loadRootKey(dir, id.root.thumbprint);
  // written under its rotating name, and used by the next run if this one stops before it is recorded
  const { key: next, reused: reusedKey } = rotatingKey(dir, 'root');
  writeRootPublic(dir, next.jwk, false);
  const effective = new Date(now).toISOString();
  const notice: KeyNotice = { v: 1, kind: 'root-succession', country: id.country, newRoot: next.jwk, effective };
  const certificate = issueNodeCertificate({ ...decodeNodeCertificate(id.certificate), iss: next.thumbprint, iat: effective }, next.signer);
  const state: RootRotationState = { v: 1, from: id.root.thumbprint, to: next.thumbprint, effective, notice: signKeyNotice(notice, current.signer), certificate, announced: false };
  writeRootRotation(dir, state);
  return { state, reusedKey };
}

/** A root rotation's succession stored with its `key` entry, before any partner is sent it; once. */
export function storeSuccession(n: OfflineNode, state: RootRotationState): void {
  if (!successionStored(n.parts, state)) storeKeyNotice(n, state.notice, decodeKeyNotice(state.notice).payload, state.to, Date.parse(state.effective));
}

/** A root rotation's succession, with the certificate the new root issued, queued to `partner` once; its id. */
export function queueSuccessionTo(n: OfflineNode, state: RootRotationState, partner: string): Promise<string> {
  return queueKeyOnce(n, partner, { action: 'root-succession', notice: state.notice, certificate: state.certificate }, 'notice');
}

export interface KeyStateQueued {
  /** Message ids queued to the partner, in order. */
  queued: string[];
  /** Node keys whose certificate was announced, root successions and revocations sent. */
  announced: string[];
  successions: number;
  /** Node keys whose revocation was sent, each once (every notice is sent: two may revoke one key). */
  revoked: string[];
}

/**
 * Tell a partner pinned now this administration's key state (SPEC 9.10), since it may have pinned from an identity
 * file older than a rotation, a revocation or a root succession queued only to the partners held then: the root
 * successions (each with the node certificate by the root it names), then the certificates of the current root that
 * still count (the one of the key that signs now first: a partner that does not know that key learns it from that
 * very envelope), then the revocations of keys whose certificate has not ended, on the partner's one outbox, in the
 * order a rotation would. The partner applies each document once, so one it holds already changes nothing. A node
 * that never had another certificate nor issued a notice has nothing to tell: every identity file it wrote carried
 * its one certificate. Queued with `queue`, inside the unit that pins the partner (SubmitService.commitQueuing), so
 * that a pin is never kept without them.
 */
export function queueKeyState(n: OfflineNode, partner: string, queue: QueueIn): KeyStateQueued {
  const { dir, identity, clock } = n.parts;
  const now = clock();
  const out: KeyStateQueued = { queued: [], announced: [], successions: 0, revoked: [] };
  const held = ownCertificates(dir).map((compact) => ({ compact, p: decodeNodeCertificate(compact) }));
  const notices = new KeyNoticeRepo(n.parts.store.db).list(undefined, [identity.country]);
  if (held.length === 1 && notices.length === 0) return out;
  const live = (p: { exp: string }): boolean => Date.parse(p.exp) > now;
  const tell = (body: Record<string, unknown>): void => void out.queued.push(queue(partner, 'key', body));
  for (const s of notices.filter((x) => x.kind === 'root-succession')) {
    // the current certificate first: it is the one the succession re-issued, unless a rotation followed
    const cert = held.find((c) => c.p.iss === s.subject && live(c.p));
    if (cert === undefined) continue;
    tell({ action: 'root-succession', notice: s.compact, certificate: cert.compact });
    out.successions++;
  }
  const { active } = n.keyring.status();
  const revokedAt = new Map<string, number>();
  for (const r of notices) if (r.kind === 'revocation') revokedAt.set(r.subject, Math.min(r.at, revokedAt.get(r.subject) ?? Number.POSITIVE_INFINITY));
  const announce = held
    .filter((c) => c.p.iss === identity.root.thumbprint && live(c.p) && !((revokedAt.get(c.p.sub) ?? Number.POSITIVE_INFINITY) <= now))
    .sort((a, b) => Number(b.p.sub === active) - Number(a.p.sub === active));
  for (const c of announce) {
    tell({ action: 'announce', certificate: c.compact });
    out.announced.push(c.p.sub);
  }
  for (const r of notices) {
    if (r.kind !== 'revocation' || !held.some((c) => c.p.sub === r.subject && live(c.p))) continue;
    tell({ action: 'revoke', notice: r.compact });
    // each notice is sent (two may revoke one key from different times), the key is named once
    if (!out.revoked.includes(r.subject)) out.revoked.push(r.subject);
  }
  return out;
}

export interface KeyStatus {
  country: string;
  active: string;
  current: string;
  pending: RotationState | undefined;
  /** When the certificate of the active key ends. */
  expiresAt: string;
  keys: { kid: string; issuer: string; notBefore: string; notAfter: string; revokedAt: string | undefined }[];
  /** A rotation `gnc keys rotate` was interrupted in, and what it still lacks (run the same command to complete it). */
  incomplete: { to: string; startedAt: string; overlapUntil: string; installed: boolean; retired: boolean; unannounced: string[]; logged: boolean; advice: string } | undefined;
  /** A root rotation `gnc keys rotate --root` was interrupted in, and what it still lacks (run the same command to complete it). */
  incompleteRoot: { from: string; to: string; effective: string; installed: boolean; stored: boolean; unannounced: string[]; advice: string } | undefined;
  /** Private key files no certificate names (UnusedKeyFile): a rotation interrupted before it recorded itself. */
  unusedKeyFiles: UnusedKeyFile[];
  /** Root successions identity/ records that the database did not hold, which this status stored again (restoreSuccessions). */
  restoredSuccessions: (RestoredSuccession & { advice: string })[];
  /** Revocations identity/ records that the database did not hold, which this status stored again (restoreRevocations). */
  restoredRevocations: (RestoredRevocation & { advice: string })[];
}

export async function keyStatus(dir: string): Promise<KeyStatus> {
  return withOffline(dir, undefined, async (n) => {
    // before the keyring says which key signs: a revoked key does not
    const restored = await restoreRecorded(n, 'gnc keys status');
    const restoredSuccessions = restored.successions.map((r) => ({ ...r, advice: restoredSuccessionAdvice(r) }));
    const restoredRevocations = restored.revocations.map((r) => ({ ...r, advice: restoredRevocationAdvice(r) }));
    const notices = new KeyNoticeRepo(n.parts.store.db);
    const s = n.keyring.status();
    const keys = ownCertificates(dir).map((c) => {
      const p = decodeNodeCertificate(c);
      const r = notices.revokedAt(p.sub, p.country);
      return { kid: p.sub, issuer: p.iss, notBefore: p.nbf, notAfter: p.exp, revokedAt: r === undefined ? undefined : new Date(r).toISOString() };
    });
    const r = rootRotationProgress(n.parts);
    const incompleteRoot = r && {
      from: r.state.from, to: r.state.to, effective: r.state.effective, installed: r.installed, stored: r.stored, unannounced: r.unannounced,
      advice: rootRotationAdvice(r, dir),
    };
    const p = rotationProgress(n.parts);
    const incomplete = p && {
      to: p.state.to, startedAt: p.state.startedAt, overlapUntil: p.state.overlapUntil,
      installed: p.installed, retired: p.retirement !== undefined, unannounced: p.unannounced, logged: p.logged,
      advice: rotationAdvice(p, dir, n.parts.clock(), { rootFirst: r !== undefined, signing: s.active }),
    };
    return { country: n.parts.identity.country, ...s, keys, incomplete, incompleteRoot, unusedKeyFiles: unusedKeyFiles(dir), restoredSuccessions, restoredRevocations };
  });
}

/** Addresses for a certificate: multiaddrs partners can dial (a wildcard such as 0.0.0.0 names no host). */
function announceAddresses(addrs: string[]): string[] {
  const list = parseWith(z.array(ListenAddress).min(1).max(16), addrs, '--announce', '', 'GNC_CONFIG_INVALID');
  const wildcard = list.find(isWildcardAddress);
  if (wildcard) throw new GncError('GNC_CONFIG_INVALID', `--announce ${wildcard} is a wildcard address, which partners cannot dial: give the address or name they should dial (like /dns4/gnc.customs.example/tcp/4001).`);
  return list;
}
