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
    throw new GncError('GNC_CONFIG_INVALID', `${path} is not JSON: restore it, or delete it to finish the key rotation now.`);
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
 * Make a new node key, certify it with the current root (same country, name and peer id; the same addresses
 * unless `addrs` gives the ones partners should dial from now on), archive both certificates, record the
 * rotation, then make the new certificate current. The rotation file is written before the certificate changes,
 * so a running node that reloads in between keeps the old signer.
 */
export function rotateNodeKey(dir: string, opts: { now: number; overlapMs: number; validityMs?: number; root?: KeyPairInfo; addrs?: string[] }): RotatedNode {
  const previous = loadIdentity(dir);
  const pending = readRotation(dir);
  if (pending && !pending.announced) {
    throw new GncError('GNC_CONFLICT', `A key rotation to ${pending.to} has not finished announcing: run \`gnc keys rotate\` again later, or delete ${ROTATION_FILE} if it was interrupted.`);
  }
  const root = opts.root ?? loadRootKey(dir, previous.certPayload.iss);
  const next = newNodeKey(dir);
  const certificate = certifyNode(root, next, {
    country: previous.country, name: previous.name, peerId: previous.peerId, addrs: opts.addrs ?? previous.certPayload.addrs,
    now: opts.now, validityMs: opts.validityMs ?? DEFAULT_CERT_VALIDITY_MS,
  });
  archiveCertificate(dir, previous.certificate);
  archiveCertificate(dir, certificate);
  const state: RotationState = {
    v: 1, from: previous.node.thumbprint, to: next.thumbprint, startedAt: new Date(opts.now).toISOString(),
    overlapUntil: new Date(opts.now + opts.overlapMs).toISOString(), announcements: {}, announced: false,
  };
  writeRotation(dir, state);
  writeAtomic(join(dir, IDENTITY_PATHS.certificate), certificate + '\n');
  return { previous, next, certificate, state };
}
