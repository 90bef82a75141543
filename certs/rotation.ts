/**
 * Key rotation on disk (issue 6): every node certificate this administration ever issued is archived under
 * `identity/certs/<kid>.jws` so that old signatures stay verifiable (exports carry them), and a rotation in
 * progress is recorded in `identity/rotation.json`: until every partner has received the announcement of the
 * new certificate (or the overlap ends), the node keeps signing with the old key, so no partner ever sees a
 * signature by a key it does not know yet. Public files only: private keys stay in `keys/` (certs/identity.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CERT_VALIDITY_MS } from '../protocol/constants.js';
import { decodeNodeCertificate } from '../protocol/certificate.js';
import { UtcTimestamp } from '../protocol/envelope/payload.js';
import { decodeKeyNotice } from '../protocol/notice.js';
import { dirOption, GncError } from '../protocol/errors.js';
import { parseWith } from '../protocol/validate.js';
import { syncDir } from './durable-file.js';
import { certifyNode, IDENTITY_PATHS, writePublicFile, loadIdentity, loadRootKey, loadRotatingKey, newRotatingKey, promoteRotatingKey, type KeyPairInfo, type LocalIdentity, type RotatedKeyRole } from './identity.js';

export const CERT_ARCHIVE_DIR = 'identity/certs';
export const ROTATION_FILE = 'identity/rotation.json';
export const ROOT_ROTATION_FILE = 'identity/root-rotation.json';
export const REVOCATIONS_FILE = 'identity/revocations.json';
export const SUCCESSIONS_FILE = 'identity/root-successions.json';

/** A key's RFC 7638 thumbprint (a node key's kid, a root's fingerprint). */
const Thumbprint = z.string().min(43).max(43);
/** A compact JWS a rotation records (a certificate, a notice). */
const RecordedJws = z.string().min(1).max(16_384);

export const RotationState = z.strictObject({
  v: z.literal(1),
  /** The key signing until the switch. */
  from: Thumbprint,
  /** The newly certified key. */
  to: Thumbprint,
  startedAt: UtcTimestamp,
  /** The switch happens at the latest here, even if a partner never acknowledged the announcement. */
  overlapUntil: UtcTimestamp,
  /** Announcement envelope id per partner, filled in once they are queued. */
  announcements: z.record(z.string(), z.string()),
  /** True once every announcement was queued (before that the set of partners is not known to be complete). */
  announced: z.boolean(),
  /**
   * The new key's certificate, recorded here before it is archived or made current, so that a rotation interrupted at
   * any later step is completed with this very certificate (`gnc keys rotate` again). Files written before 2026-11-24
   * lack it: their certificate is in the archive, written before the file.
   */
  certificate: RecordedJws.optional(),
});
export type RotationState = z.infer<typeof RotationState>;

/**
 * A root rotation (`gnc keys rotate --root`), recorded in `identity/root-rotation.json` before the node certificate
 * changes, with everything it signed: a run interrupted at any later step is completed with these very documents (the
 * same command again), which needs neither root's private key.
 */
export const RootRotationState = z.strictObject({
  v: z.literal(1),
  /** The root in office until the succession. */
  from: Thumbprint,
  /** The successor root. */
  to: Thumbprint,
  effective: UtcTimestamp,
  /** The root-succession notice, signed by `from`. */
  notice: RecordedJws,
  /** The node certificate re-issued by `to`. */
  certificate: RecordedJws,
  /** True once the succession was stored and queued to every partner. */
  announced: z.boolean(),
});
export type RootRotationState = z.infer<typeof RootRotationState>;

/**
 * Root-signed key notices of this administration recorded in identity/ before the database stores them, oldest first:
 * the database restored from a backup taken before one (README step 7) does not hold it, and the node stores it again
 * (node/keys/service.ts restoreRevocations, restoreSuccessions), which needs no root key since each verifies under this
 * administration's roots. Two files: the revocations `gnc keys revoke` made (REVOCATIONS_FILE; a rotation's retirement
 * of its old key is not there: the rotation record names it and `gnc keys rotate` signs it again), and the root
 * successions `gnc keys rotate --root` made (SUCCESSIONS_FILE; identity/root-rotation.json records only the last, and
 * the first is signed by the original root, kept offline, so nothing else could sign it again). Public documents
 * (every partner, identity export and audit bundle carries them), so the files have the mode of the certificates
 * beside them, 0644.
 */
export const NoticeRecord = z.strictObject({
  v: z.literal(1),
  notices: z.array(RecordedJws),
});
export type NoticeRecord = z.infer<typeof NoticeRecord>;

/** Add a certificate to the archive (idempotent). */
export function archiveCertificate(dir: string, compact: string): void {
  const kid = decodeNodeCertificate(compact).sub;
  // a new folder's name reaches the disk with its parent's sync (the file's sync covers only its own name)
  if (mkdirSync(join(dir, CERT_ARCHIVE_DIR), { recursive: true }) !== undefined) syncDir(join(dir, 'identity'));
  const path = join(dir, CERT_ARCHIVE_DIR, `${kid}.jws`);
  const held = existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
  if (held === compact) return;
  // one key may have several certificates (a root succession re-certifies the node key): each is kept, since each
  // covers signatures of its own period, and an auditor needs the one in force when a message was signed
  const target = held === undefined ? path : join(dir, CERT_ARCHIVE_DIR, `${kid}.${createHash('sha256').update(compact).digest('hex').slice(0, 16)}.jws`);
  if (!existsSync(target)) writePublicFile(target, compact + '\n');
}

/** Every node certificate of this administration: the archive plus the current one (first). */
export function ownCertificates(dir: string): string[] {
  const current = readFileSync(join(dir, IDENTITY_PATHS.certificate), 'utf8').trim();
  const out = [current];
  const archive = join(dir, CERT_ARCHIVE_DIR);
  if (existsSync(archive)) {
    for (const f of readdirSync(archive).sort()) {
      if (!f.endsWith('.jws')) continue;
      const c = readFileSync(join(archive, f), 'utf8').trim();
      if (!out.includes(c)) out.push(c);
    }
  }
  return out;
}

/** A rotation record of the data dir (`file`), if there is one; `deleting` says what deleting a damaged one would do. */
function readRecord<S extends z.ZodTypeAny>(dir: string, file: string, schema: S, deleting: string): z.infer<S> | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new GncError('GNC_CONFIG_INVALID', `${path} is not JSON: restore it from the data dir's backup (README, step 7). ${deleting}`);
  }
  return parseWith(schema, raw, path, '', 'GNC_CONFIG_INVALID');
}

export function readRotation(dir: string): RotationState | undefined {
  return readRecord(dir, ROTATION_FILE, RotationState, `Deleting it instead ends the rotation as it stands, and the node signs at once with the key its certificate names: do that only when every partner has delivered the new key's announcement (\`gnc messages ${dirOption(dir)} --type key\`), or they refuse what it signs.`);
}

export function writeRotation(dir: string, state: RotationState): void {
  writePublicFile(join(dir, ROTATION_FILE), JSON.stringify(state, null, 2) + '\n');
}

export function readRootRotation(dir: string): RootRotationState | undefined {
  return readRecord(dir, ROOT_ROTATION_FILE, RootRotationState, 'Deleting it instead leaves a root succession this node may have begun unannounced: partners would refuse the certificate the new root issued.');
}

export function writeRootRotation(dir: string, state: RootRotationState): void {
  writePublicFile(join(dir, ROOT_ROTATION_FILE), JSON.stringify(state, null, 2) + '\n');
}

/** What deleting a damaged notice record of the data dir instead of restoring it does, by file. */
const DELETING_NOTICES = {
  [REVOCATIONS_FILE]: 'Deleting it instead loses nothing the database holds, but a database restored from an older backup then no longer learns the revocations it recorded.',
  [SUCCESSIONS_FILE]: 'Deleting it instead loses nothing the database holds, but a database restored from an older backup then no longer learns the root successions it recorded, and the audit exports of this node no longer show its roots\' chain.',
} as const;
type NoticeFile = keyof typeof DELETING_NOTICES;

function readNotices(dir: string, file: NoticeFile): string[] {
  return readRecord(dir, file, NoticeRecord, DELETING_NOTICES[file])?.notices ?? [];
}

/** Add the notices `add` to the record `file` (idempotent), less those in `remove`; written only when it changes. */
function recordNotices(dir: string, file: NoticeFile, add: readonly string[], remove: readonly string[] = []): void {
  const held = readNotices(dir, file);
  const notices = [...held, ...add.filter((c, i) => !held.includes(c) && add.indexOf(c) === i)].filter((c) => !remove.includes(c));
  if (notices.length !== held.length || notices.some((c, i) => c !== held[i])) writeNotices(dir, file, notices);
}

function writeNotices(dir: string, file: NoticeFile, notices: string[]): void {
  writePublicFile(join(dir, file), JSON.stringify({ v: 1, notices } satisfies NoticeRecord, null, 2) + '\n');
}

/** The revocation notices `gnc keys revoke` recorded in the data dir, oldest first. */
export function readRevocations(dir: string): string[] {
  return readNotices(dir, REVOCATIONS_FILE);
}

/** Add revocation `compact` to the record (idempotent), or with `remove` take it out again (its revocation was not stored). */
export function recordRevocation(dir: string, compact: string, remove = false): void {
  recordNotices(dir, REVOCATIONS_FILE, remove ? [] : [compact], remove ? [compact] : []);
}

/** The root-succession notices `gnc keys rotate --root` recorded in the data dir, oldest first. */
export function readSuccessions(dir: string): string[] {
  return readNotices(dir, SUCCESSIONS_FILE);
}

/**
 * Add the root successions the database holds (`held`, oldest first, each with its effective instant) that the record
 * lacks, each in its place by that instant (before the first recorded one effective after it); the ones recorded keep
 * their order. The number added; the file is written (whole, renamed over the old) only when it is not 0. A damaged
 * record is refused as readSuccessions refuses it, never written over.
 */
export function recordHeldSuccessions(dir: string, held: readonly { compact: string; at: number }[]): number {
  const recorded = readSuccessions(dir);
  const missing = held.filter((h) => !recorded.includes(h.compact));
  if (missing.length === 0) return 0;
  const at = (compact: string): number => held.find((h) => h.compact === compact)?.at ?? effectiveOf(compact);
  const notices = [...recorded];
  for (const m of missing) {
    const later = notices.findIndex((c) => at(c) > m.at);
    notices.splice(later < 0 ? notices.length : later, 0, m.compact);
  }
  writeNotices(dir, SUCCESSIONS_FILE, notices);
  return missing.length;
}

/** When recorded succession `compact` took effect (one that is not a readable succession never has one put before it). */
function effectiveOf(compact: string): number {
  try {
    const p = decodeKeyNotice(compact).payload;
    return p.kind === 'root-succession' ? Date.parse(p.effective) : Number.NEGATIVE_INFINITY;
  } catch {
    return Number.NEGATIVE_INFINITY;
  }
}

export interface RotatedNode {
  previous: LocalIdentity;
  next: KeyPairInfo;
  certificate: string;
  state: RotationState;
  /** The key is the one an interrupted run made (see rotatingKey). */
  reused: boolean;
}

/**
 * A private key file in keys/ of a key a rotation makes (`role`: a node key, or with `gnc keys rotate --root` a successor
 * root) that no certificate of this node and no rotation record names: `unfinished`, the new key of a rotation
 * interrupted before it recorded itself (keys/rotating-<role>-<thumbprint>.jwk, written whole: the same command uses
 * it); `partial`, one interrupted while it was written (its `.tmp` file: the same command deletes it); `uncertified`, a
 * keys/node-<kid>.jwk or keys/root-<fingerprint>.jwk no certificate names (left by such a rotation before rotating
 * names were used, or put there by hand: it signs nothing, and nothing here uses or deletes it).
 */
export interface UnusedKeyFile {
  /** Relative to the data dir. */
  file: string;
  role: RotatedKeyRole;
  /** The key's thumbprint (a node key's kid, a root's fingerprint). */
  kid: string;
  state: 'unfinished' | 'partial' | 'uncertified';
}

const KEY_FILE = /^(rotating-)?(node|root)-([A-Za-z0-9_-]{43})\.jwk(\.tmp)?$/;

export function unusedKeyFiles(dir: string): UnusedKeyFile[] {
  const keys = join(dir, 'keys');
  if (!existsSync(keys)) return [];
  const certified = ownCertificates(dir).map((c) => decodeNodeCertificate(c));
  const named = { node: new Set(certified.map((p) => p.sub)), root: new Set(certified.map((p) => p.iss)) };
  const recorded = { node: readRotation(dir)?.to, root: readRootRotation(dir)?.to };
  if (recorded.node !== undefined) named.node.add(recorded.node);
  if (recorded.root !== undefined) named.root.add(recorded.root);
  const out: UnusedKeyFile[] = [];
  for (const f of readdirSync(keys).sort()) {
    const m = KEY_FILE.exec(f);
    if (m === null) continue;
    const role = m[2] as RotatedKeyRole;
    const kid = m[3]!;
    const state = m[4] !== undefined ? 'partial' : m[1] === undefined ? 'uncertified' : 'unfinished';
    // a partial file is never named; a rotating key the record names takes its name when the rotation completes (a
    // node key's) or when it is loaded (a root's)
    if (state === 'partial' || !named[role].has(kid)) out.push({ file: `keys/${f}`, role, kid, state });
  }
  return out;
}

/**
 * The new key of a `role` rotation interrupted before it recorded itself, to use instead of making another (`reused`),
 * else a new one under its rotating name: the one complete rotating key file is used (one more, from two runs at once,
 * is deleted, and so is a partial one: no certificate names them, and only one key may become the candidate to sign).
 */
export function rotatingKey(dir: string, role: RotatedKeyRole): { key: KeyPairInfo; reused: boolean } {
  const files = unusedKeyFiles(dir).filter((f) => f.role === role && f.state !== 'uncertified');
  const unfinished = files.find((f) => f.state === 'unfinished');
  const kept = unfinished && loadRotatingKey(dir, role, unfinished.kid);
  for (const f of files) if (f !== unfinished) rmSync(join(dir, f.file), { force: true });
  return kept ? { key: kept, reused: true } : { key: newRotatingKey(dir, role), reused: false };
}

/**
 * Begin a rotation: make a new node key and certify it with the current root (same country, name and peer id; the
 * same addresses unless `addrs` gives the ones partners should dial from now on), and record the rotation with that
 * certificate, announced to nobody yet. Nothing else changes here: installRotation makes the certificate current.
 * The key is written under its rotating name (keys/rotating-node-<kid>.jwk) and takes its node key name only after the
 * record: interrupted before, this leaves that file alone, which the next run uses instead of making a second key
 * (`reused`).
 */
export function rotateNodeKey(dir: string, opts: { now: number; overlapMs: number; validityMs?: number; root?: KeyPairInfo; addrs?: string[] }): RotatedNode {
  const previous = loadIdentity(dir);
  const pending = readRotation(dir);
  if (pending && !pending.announced) {
    throw new GncError('GNC_CONFLICT', `A key rotation to ${pending.to} was interrupted before every partner was told: complete it with \`gnc keys rotate ${dirOption(dir)}\` (the same command again), then rotate again if you still want another key.`);
  }
  const root = opts.root ?? loadRootKey(dir, previous.certPayload.iss);
  const { key: next, reused } = rotatingKey(dir, 'node');
  const certificate = certifyNode(root, next, {
    country: previous.country, name: previous.name, peerId: previous.peerId, addrs: opts.addrs ?? previous.certPayload.addrs,
    now: opts.now, validityMs: opts.validityMs ?? DEFAULT_CERT_VALIDITY_MS,
  });
  const state: RotationState = {
    v: 1, from: previous.node.thumbprint, to: next.thumbprint, startedAt: new Date(opts.now).toISOString(),
    overlapUntil: new Date(opts.now + opts.overlapMs).toISOString(), announcements: {}, announced: false, certificate,
  };
  writeRotation(dir, state);
  promoteRotatingKey(dir, 'node', next.thumbprint);
  return { previous, next, certificate, state, reused };
}

/** The new key's certificate of a rotation: the one it recorded, else (a file from an older version) the archived one. */
export function rotationCertificate(dir: string, state: RotationState): string {
  if (state.certificate !== undefined) return state.certificate;
  const held = ownCertificates(dir).map((compact) => ({ compact, p: decodeNodeCertificate(compact) })).filter((c) => c.p.sub === state.to);
  const first = held.sort((a, b) => Date.parse(a.p.iat) - Date.parse(b.p.iat))[0];
  if (first === undefined) {
    throw new GncError('GNC_IDENTITY_MISSING', `The certificate of node key ${state.to}, which ${ROTATION_FILE} rotates to, is not in ${CERT_ARCHIVE_DIR}: restore the data dir from its backup.`);
  }
  return first.compact;
}

/**
 * Make a rotation's certificate current (idempotent): the new key under its node key name, both certificates archived,
 * then the new one current. The
 * rotation file is written before the certificate changes, so a running node that reloads in between keeps the old
 * signer. Done already when the current certificate is the new key's.
 */
export function installRotation(dir: string, state: RotationState): void {
  promoteRotatingKey(dir, 'node', state.to);
  installCertificate(dir, rotationCertificate(dir, state), 'sub', state.from, ROTATION_FILE);
}

/** installRotation of a root rotation: the node certificate re-issued by the new root, which then takes its root name. */
export function installRootRotation(dir: string, state: RootRotationState): void {
  installCertificate(dir, state.certificate, 'iss', state.from, ROOT_ROTATION_FILE);
  promoteRotatingKey(dir, 'root', state.to);
}

/**
 * Make `certificate` the current node certificate (idempotent), both archived: done already when the current one has
 * its `by` (the node key for a node rotation, the issuing root for a root rotation); else the current one must have
 * `from`, which the rotation record `file` rotates from.
 */
function installCertificate(dir: string, certificate: string, by: 'sub' | 'iss', from: string, file: string): void {
  const path = join(dir, IDENTITY_PATHS.certificate);
  const current = readFileSync(path, 'utf8').trim();
  const held = decodeNodeCertificate(current)[by];
  if (held === decodeNodeCertificate(certificate)[by]) {
    archiveCertificate(dir, certificate);
    return;
  }
  if (held !== from) {
    throw new GncError('GNC_CONFLICT', `${file} rotates from ${by === 'sub' ? 'node key' : 'root'} ${from}, but the node certificate names ${held}: the data dir was changed by hand; restore it from its backup.`);
  }
  archiveCertificate(dir, current);
  archiveCertificate(dir, certificate);
  writePublicFile(path, certificate + '\n');
}
