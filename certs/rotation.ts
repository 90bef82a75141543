/**
 * Key rotation on disk (issue 6): every node certificate this administration ever issued is archived under
 * `identity/certs/<kid>.jws` so that old signatures stay verifiable (exports carry them), and a rotation in
 * progress is recorded in `identity/rotation.json`: until every partner has received the announcement of the
 * new certificate (or the overlap ends), the node keeps signing with the old key, so no partner ever sees a
 * signature by a key it does not know yet. Public files only: private keys stay in `keys/` (certs/identity.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CERT_VALIDITY_MS } from '../protocol/constants.js';
import { decodeNodeCertificate } from '../protocol/certificate.js';
import { UtcTimestamp } from '../protocol/envelope/payload.js';
import { GncError } from '../protocol/errors.js';
import { parseWith } from '../protocol/validate.js';
import { certifyNode, IDENTITY_PATHS, loadIdentity, loadRootKey, newNodeKey, type KeyPairInfo, type LocalIdentity } from './identity.js';

export const CERT_ARCHIVE_DIR = 'identity/certs';
export const ROTATION_FILE = 'identity/rotation.json';

export const RotationState = z.strictObject({
  v: z.literal(1),
  /** The key signing until the switch. */
  from: z.string().min(43).max(43),
  /** The newly certified key. */
  to: z.string().min(43).max(43),
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
  certificate: z.string().min(1).max(16_384).optional(),
});
export type RotationState = z.infer<typeof RotationState>;

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Add a certificate to the archive (idempotent). */
export function archiveCertificate(dir: string, compact: string): void {
  const kid = decodeNodeCertificate(compact).sub;
  mkdirSync(join(dir, CERT_ARCHIVE_DIR), { recursive: true });
  const path = join(dir, CERT_ARCHIVE_DIR, `${kid}.jws`);
  const held = existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
  if (held === compact) return;
  // one key may have several certificates (a root succession re-certifies the node key): each is kept, since each
  // covers signatures of its own period, and an auditor needs the one in force when a message was signed
  const target = held === undefined ? path : join(dir, CERT_ARCHIVE_DIR, `${kid}.${createHash('sha256').update(compact).digest('hex').slice(0, 16)}.jws`);
  if (!existsSync(target)) writeAtomic(target, compact + '\n');
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

export function readRotation(dir: string): RotationState | undefined {
  const path = join(dir, ROTATION_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new GncError('GNC_CONFIG_INVALID', `${path} is not JSON: restore it from the data dir's backup (README, step 7). Deleting it instead ends the rotation as it stands, and the node signs at once with the key its certificate names: do that only when every partner has delivered the new key's announcement (\`gnc messages --dir ${dir} --type key\`), or they refuse what it signs.`);
  }
  return parseWith(RotationState, raw, path, '', 'GNC_CONFIG_INVALID');
}

export function writeRotation(dir: string, state: RotationState): void {
  writeAtomic(join(dir, ROTATION_FILE), JSON.stringify(state, null, 2) + '\n');
}

export interface RotatedNode {
  previous: LocalIdentity;
  next: KeyPairInfo;
  certificate: string;
  state: RotationState;
}

/**
 * Begin a rotation: make a new node key and certify it with the current root (same country, name and peer id; the
 * same addresses unless `addrs` gives the ones partners should dial from now on), and record the rotation with that
 * certificate, announced to nobody yet. Nothing else changes here: installRotation makes the certificate current.
 * Interrupted before the record is written, it leaves only an unused private key file, which nothing names.
 */
export function rotateNodeKey(dir: string, opts: { now: number; overlapMs: number; validityMs?: number; root?: KeyPairInfo; addrs?: string[] }): RotatedNode {
  const previous = loadIdentity(dir);
  const pending = readRotation(dir);
  if (pending && !pending.announced) {
    throw new GncError('GNC_CONFLICT', `A key rotation to ${pending.to} was interrupted before every partner was told: complete it with \`gnc keys rotate --dir ${dir}\` (the same command again), then rotate again if you still want another key.`);
  }
  const root = opts.root ?? loadRootKey(dir, previous.certPayload.iss);
  const next = newNodeKey(dir);
  const certificate = certifyNode(root, next, {
    country: previous.country, name: previous.name, peerId: previous.peerId, addrs: opts.addrs ?? previous.certPayload.addrs,
    now: opts.now, validityMs: opts.validityMs ?? DEFAULT_CERT_VALIDITY_MS,
  });
  const state: RotationState = {
    v: 1, from: previous.node.thumbprint, to: next.thumbprint, startedAt: new Date(opts.now).toISOString(),
    overlapUntil: new Date(opts.now + opts.overlapMs).toISOString(), announcements: {}, announced: false, certificate,
  };
  writeRotation(dir, state);
  return { previous, next, certificate, state };
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
 * Make a rotation's certificate current (idempotent): both certificates archived, then the new one current. The
 * rotation file is written before the certificate changes, so a running node that reloads in between keeps the old
 * signer. Done already when the current certificate is the new key's.
 */
export function installRotation(dir: string, state: RotationState): void {
  const path = join(dir, IDENTITY_PATHS.certificate);
  const current = readFileSync(path, 'utf8').trim();
  const kid = decodeNodeCertificate(current).sub;
  const certificate = rotationCertificate(dir, state);
  if (kid === state.to) {
    archiveCertificate(dir, certificate);
    return;
  }
  if (kid !== state.from) {
    throw new GncError('GNC_CONFLICT', `${ROTATION_FILE} rotates from node key ${state.from}, but the node certificate names ${kid}: the data dir was changed by hand; restore it from its backup.`);
  }
  archiveCertificate(dir, current);
  archiveCertificate(dir, certificate);
  writeAtomic(path, certificate + '\n');
}
