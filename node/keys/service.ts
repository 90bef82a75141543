/**
 * Key management of this administration (issue 6), behind `gnc keys rotate|revoke|status`: rotate the node
 * key (new root-signed certificate, announced to every partner over the wire, old key retired by a
 * root-signed revocation at the end of the overlap), name a successor root, and revoke a key. Every document
 * is recorded in the evidence log (`key` entries) and kept in the store so that exports carry it.
 */
import { sha256Ascii } from '../../protocol/envelope/seal.js';
import { loadIdentity, loadRootKey, newRootKey } from '../../certs/identity.js';
import { archiveCertificate, ownCertificates, rotateNodeKey, writeRotation, type RotationState } from '../../certs/rotation.js';
import { decodeNodeCertificate, issueNodeCertificate } from '../../protocol/certificate.js';
import { QueryInstant } from '../../protocol/api/instant.js';
import { GncError } from '../../protocol/errors.js';
import { signKeyNotice, type KeyNotice } from '../../protocol/notice.js';
import { openOffline, type OfflineNode } from '../compose.js';
import { KeyNoticeRepo } from '../store/key-notices.js';
import { isWildcardAddress, ListenAddress, readConfig, writeConfig } from '../config.js';
import { parseWith } from '../../protocol/validate.js';
import { z } from 'zod';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { IDENTITY_PATHS } from '../../certs/identity.js';

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

function partners(n: OfflineNode): string[] {
  return n.parts.store.partners.pinned().map((p) => p.country);
}

export interface RotateResult {
  previous: string;
  current: string;
  overlapUntil: string;
  announcements: Record<string, string>;
}

/**
 * Rotate the node key; partners get the new certificate and the old key's retirement at the end of the overlap.
 * With `announce`, the new certificate names those addresses (a node that moves to another host or port): partners
 * dial them once they have the announcement, and gnc.json's `announce` says so too.
 */
export async function rotateNodeKeys(dir: string, opts: { overlapHours?: number; clock?: () => number; announce?: string[] } = {}): Promise<RotateResult> {
  const now = (opts.clock ?? Date.now)();
  const overlapMs = (opts.overlapHours ?? DEFAULT_OVERLAP_HOURS) * 3_600_000;
  const announce = opts.announce === undefined ? undefined : announceAddresses(opts.announce);
  await withOffline(dir, opts.clock, async (n) => {
    // a second rotation now would make the node sign with the first new key, which some partner has not
    // acknowledged yet (SPEC 9.10: no partner receives a signature by a key it does not know)
    const { pending } = n.keyring.status();
    if (pending) {
      throw new GncError('GNC_CONFLICT', `The rotation to key ${pending.to} is still waiting for partners to acknowledge it (at the latest until ${pending.overlapUntil}; see \`gnc keys status\`): rotate again once it has completed.`);
    }
  });
  const r = rotateNodeKey(dir, { now, overlapMs, ...(announce ? { addrs: announce } : {}) });
  if (announce) writeConfig(dir, { ...readConfig(dir), announce });
  return withOffline(dir, opts.clock, async (n) => {
    const { country } = r.previous;
    const root = loadRootKey(dir, r.previous.certPayload.iss);
    // the old key stops being valid evidence for anything signed after the overlap (it may be on old backups)
    const retirement: KeyNotice = {
      v: 1, kind: 'revocation', country, kid: r.previous.node.thumbprint,
      reason: `superseded by node key ${r.next.thumbprint} (key rotation)`, revokedAt: r.state.overlapUntil,
    };
    const retirementJws = signKeyNotice(retirement, root.signer);
    // the retirement and its `key` entry in one transaction, before partners are sent it: a failure leaves neither
    n.parts.store.db.transaction(() => {
      new KeyNoticeRepo(n.parts.store.db).add(retirementJws, retirement, now);
      n.evidence.append('key', `key:${r.previous.node.thumbprint}`, country, sha256Ascii(retirementJws));
    }).immediate();
    const announcements: Record<string, string> = {};
    for (const p of partners(n)) {
      // queued in order on one outbox: the announcement is delivered before anything the new key signs
      const a = await n.submit.queueControl(p, 'key', { action: 'announce', certificate: r.certificate });
      await n.submit.queueControl(p, 'key', { action: 'revoke', notice: retirementJws });
      announcements[p] = a.id;
    }
    const state: RotationState = { ...r.state, announcements, announced: true };
    writeRotation(dir, state);
    // after the rotation file: this commit wakes a running node, which then re-reads it (the new certificate is a
    // file of the data dir, written above)
    n.evidence.append('key', `key:${r.next.thumbprint}`, country, sha256Ascii(r.certificate));
    return { previous: r.previous.node.thumbprint, current: r.next.thumbprint, overlapUntil: state.overlapUntil, announcements };
  });
}

export interface RevokeResult {
  kid: string;
  revokedAt: string;
  notice: string;
  sentTo: string[];
}

/** Revoke one of this administration's node keys from `at` (default now), and tell every partner. */
export async function revokeNodeKey(dir: string, kid: string, reason: string, opts: { at?: string; clock?: () => number } = {}): Promise<RevokeResult> {
  return withOffline(dir, opts.clock, async (n) => {
    const { identity, clock } = n.parts;
    if (!n.keyring.ownKeys().has(kid)) {
      throw new GncError('GNC_NOT_FOUND', `Key ${kid} is not a node key of ${identity.country}: see \`gnc keys status\`. A partner's keys are revoked by the partner's root.`);
    }
    const revokedAt = opts.at ?? new Date(clock()).toISOString();
    // strict: the earliest revocation of a key always applies, so a misread time (`--at 1` read as 2001) would
    // irrevocably void everything the key signed since
    if (!QueryInstant.safeParse(revokedAt).success) {
      throw new GncError('GNC_CONFIG_INVALID', `--at must be an RFC 3339 time with its zone, such as 2026-03-01T08:00:00Z, got "${revokedAt}".`);
    }
    const { active, pending } = n.keyring.status();
    if (kid === active) {
      throw new GncError('GNC_CONFLICT', `Key ${kid} is the key this node signs with: rotate first (\`gnc keys rotate --dir ${dir}\`), wait until partners received the new certificate (\`gnc keys status\`), then revoke it.`);
    }
    if (kid === pending?.to) {
      throw new GncError('GNC_CONFLICT', `Key ${kid} is the key this node is rotating to: it signs as soon as partners acknowledge it. Wait until the rotation has completed (\`gnc keys status\`), rotate again, then revoke it.`);
    }
    const notice: KeyNotice = { v: 1, kind: 'revocation', country: identity.country, kid, reason, revokedAt: new Date(Date.parse(revokedAt)).toISOString() };
    const compact = signKeyNotice(notice, loadRootKey(dir, identity.certPayload.iss).signer);
    // the notice and its `key` entry in one transaction, before partners are sent it: a failure leaves neither
    n.parts.store.db.transaction(() => {
      new KeyNoticeRepo(n.parts.store.db).add(compact, notice, clock());
      n.evidence.append('key', `key:${kid}`, identity.country, sha256Ascii(compact));
    }).immediate();
    const sentTo = partners(n);
    for (const p of sentTo) await n.submit.queueControl(p, 'key', { action: 'revoke', notice: compact });
    return { kid, revokedAt: notice.revokedAt, notice: compact, sentTo };
  });
}

export interface RootRotateResult {
  previous: string;
  current: string;
  effective: string;
  sentTo: string[];
}

/**
 * Name a successor root, signed by the current root, and re-certify the node key under it (same validity
 * period, so signatures made before stay verifiable). Partners verify the notice under the root they know.
 */
export async function rotateRootKey(dir: string, opts: { clock?: () => number } = {}): Promise<RootRotateResult> {
  const now = (opts.clock ?? Date.now)();
  const id = loadIdentity(dir);
  // the current root's private key first: kept offline, it is asked for (GNC_IDENTITY_MISSING) before a new
  // root key is written, so a refused attempt leaves no stray key behind
  const current = loadRootKey(dir, id.root.thumbprint);
  const next = newRootKey(dir);
  const effective = new Date(now).toISOString();
  const notice: KeyNotice = { v: 1, kind: 'root-succession', country: id.country, newRoot: next.jwk, effective };
  const noticeJws = signKeyNotice(notice, current.signer);
  const old = decodeNodeCertificate(id.certificate);
  const certificate = issueNodeCertificate({ ...old, iss: next.thumbprint, iat: effective }, next.signer);
  archiveCertificate(dir, id.certificate);
  const path = join(dir, IDENTITY_PATHS.certificate);
  writeFileSync(`${path}.tmp`, certificate + '\n');
  renameSync(`${path}.tmp`, path);
  return withOffline(dir, opts.clock, async (n) => {
    // the notice and its `key` entry in one transaction, before partners are sent it
    n.parts.store.db.transaction(() => {
      new KeyNoticeRepo(n.parts.store.db).add(noticeJws, notice, now);
      n.evidence.append('key', `key:${next.thumbprint}`, id.country, sha256Ascii(noticeJws));
    }).immediate();
    const sentTo = partners(n);
    for (const p of sentTo) await n.submit.queueControl(p, 'key', { action: 'root-succession', notice: noticeJws, certificate });
    return { previous: id.root.thumbprint, current: next.thumbprint, effective, sentTo };
  });
}

export interface KeyStateQueued {
  /** Message ids queued to the partner, in order. */
  queued: string[];
  /** Node keys whose certificate was announced, root successions and revocations sent. */
  announced: string[];
  successions: number;
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
 * its one certificate.
 */
export async function queueKeyState(n: OfflineNode, partner: string): Promise<KeyStateQueued> {
  const { dir, identity, clock } = n.parts;
  const now = clock();
  const out: KeyStateQueued = { queued: [], announced: [], successions: 0, revoked: [] };
  const held = ownCertificates(dir).map((compact) => ({ compact, p: decodeNodeCertificate(compact) }));
  const notices = new KeyNoticeRepo(n.parts.store.db).list(undefined, [identity.country]);
  if (held.length === 1 && notices.length === 0) return out;
  const live = (p: { exp: string }): boolean => Date.parse(p.exp) > now;
  const queue = async (body: Record<string, unknown>): Promise<void> => void out.queued.push((await n.submit.queueControl(partner, 'key', body)).id);
  for (const s of notices.filter((x) => x.kind === 'root-succession')) {
    // the current certificate first: it is the one the succession re-issued, unless a rotation followed
    const cert = held.find((c) => c.p.iss === s.subject && live(c.p));
    if (cert === undefined) continue;
    await queue({ action: 'root-succession', notice: s.compact, certificate: cert.compact });
    out.successions++;
  }
  const { active } = n.keyring.status();
  const revokedAt = new Map<string, number>();
  for (const r of notices) if (r.kind === 'revocation') revokedAt.set(r.subject, Math.min(r.at, revokedAt.get(r.subject) ?? Number.POSITIVE_INFINITY));
  const announce = held
    .filter((c) => c.p.iss === identity.root.thumbprint && live(c.p) && !((revokedAt.get(c.p.sub) ?? Number.POSITIVE_INFINITY) <= now))
    .sort((a, b) => Number(b.p.sub === active) - Number(a.p.sub === active));
  for (const c of announce) {
    await queue({ action: 'announce', certificate: c.compact });
    out.announced.push(c.p.sub);
  }
  for (const r of notices) {
    if (r.kind !== 'revocation' || !held.some((c) => c.p.sub === r.subject && live(c.p))) continue;
    await queue({ action: 'revoke', notice: r.compact });
    out.revoked.push(r.subject);
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
}

export async function keyStatus(dir: string): Promise<KeyStatus> {
  return withOffline(dir, undefined, async (n) => {
    const notices = new KeyNoticeRepo(n.parts.store.db);
    const s = n.keyring.status();
    const keys = ownCertificates(dir).map((c) => {
      const p = decodeNodeCertificate(c);
      const r = notices.revokedAt(p.sub, p.country);
      return { kid: p.sub, issuer: p.iss, notBefore: p.nbf, notAfter: p.exp, revokedAt: r === undefined ? undefined : new Date(r).toISOString() };
    });
    return { country: n.parts.identity.country, ...s, keys };
  });
}

/** Addresses for a certificate: multiaddrs partners can dial (a wildcard such as 0.0.0.0 names no host). */
function announceAddresses(addrs: string[]): string[] {
  const list = parseWith(z.array(ListenAddress).min(1).max(16), addrs, '--announce', '', 'GNC_CONFIG_INVALID');
  const wildcard = list.find(isWildcardAddress);
  if (wildcard) throw new GncError('GNC_CONFIG_INVALID', `--announce ${wildcard} is a wildcard address, which partners cannot dial: give the address or name they should dial (like /dns4/gnc.customs.example/tcp/4001).`);
  return list;
}
