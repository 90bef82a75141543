/**
 * The administration's identity in its data dir: root key (certifies node keys; in production kept offline
 * and brought in only to certify, see README), node signing key (signs every envelope), libp2p key (transport
 * identity, peer id) and the root-signed node certificate binding them. `gnc init` creates it; the node loads it.
 * The node runs without the private root key: it reads the root's public half from `identity/` and asks for the
 * private one only when the root must sign (certify a node key, sign an agreement or a key notice).
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { DEFAULT_CERT_VALIDITY_MS } from '../protocol/constants.js';
import { decodeNodeCertificate, issueNodeCertificate, verifyNodeCertificate, type NodeCertificatePayload } from '../protocol/certificate.js';
import { keyObjectSigner, type Signer } from '../protocol/envelope/seal.js';
import { dirOption, GncError } from '../protocol/errors.js';
import { jwkThumbprint, publicJwkOf, type Ed25519PublicJwk } from '../protocol/jwk.js';
import { syncDir, writeFileDurable } from './durable-file.js';
import { generateEd25519, lstatOrUndefined, readPrivateFile, readPrivateKey, writePrivateFile, writePrivateKey } from './key-files.js';

export const IDENTITY_PATHS = {
  rootKey: 'keys/root.jwk',
  nodeKey: 'keys/node.jwk',
  libp2pKey: 'keys/libp2p.key',
  certificate: 'identity/node-cert.jws',
  /** Public half of the root `init` made (what partners pinned), kept when the private one goes offline. */
  rootPublic: 'identity/root.jwk',
} as const;

export interface KeyPairInfo {
  privateKey: KeyObject;
  jwk: Ed25519PublicJwk;
  /** RFC 7638 thumbprint: `kid` for node keys, fingerprint for roots. */
  thumbprint: string;
  signer: Signer;
}

/** The current root as the node holds it: its public key, and a signer that reads the private key when it signs. */
export type RootKeyInfo = Omit<KeyPairInfo, 'privateKey'>;

export interface LocalIdentity {
  dir: string;
  country: string;
  name: string;
  root: RootKeyInfo;
  node: KeyPairInfo;
  libp2pKey: PrivateKey;
  peerId: string;
  /** Current node certificate (compact JWS) and its payload. */
  certificate: string;
  certPayload: NodeCertificatePayload;
}

export interface InitOptions {
  dir: string;
  country: string;
  name: string;
  /** Concrete multiaddrs the node listens on (port 0 resolved by the caller, since the certificate names them). */
  addrs: string[];
  validityMs?: number;
  now?: number;
  /**
   * Writes the rest of the data dir (`gnc init`: config, database) once the keys are there, before the certificate:
   * the certificate is written last, so a dir with one is a complete init, and one without is completed by the next.
   */
  beforeCertificate?: () => void;
}

function keyInfo(privateKey: KeyObject): KeyPairInfo {
  const jwk = publicJwkOf(privateKey);
  const thumbprint = jwkThumbprint(jwk);
  return { privateKey, jwk, thumbprint, signer: keyObjectSigner(thumbprint, privateKey) };
}

/** Certify a node key with the root (used by init and by key rotation). */
export function certifyNode(root: KeyPairInfo, node: KeyPairInfo, fields: { country: string; name: string; peerId: string; addrs: string[]; now: number; validityMs: number }): string {
  const iat = new Date(fields.now).toISOString();
  return issueNodeCertificate(
    {
      v: 1,
      iss: root.thumbprint,
      sub: node.thumbprint,
      country: fields.country,
      name: fields.name,
      jwk: node.jwk,
      peerId: fields.peerId,
      addrs: fields.addrs,
      iat,
      nbf: iat,
      exp: new Date(fields.now + fields.validityMs).toISOString(),
    },
    root.signer,
  );
}

/**
 * What initIdentity made: the identity, the keys it kept from an init that was interrupted (none: a new one), and the
 * temporary files that init's writes left, which it removed (leftTemps).
 */
export type InitResult = LocalIdentity & { kept: string[]; removed: string[] };

/**
 * Make the identity of `dir`, or complete the one an interrupted init left (a crash after a key got its name, before
 * the certificate did): the keys there are kept (a root's fingerprint may have been told already; keys are never
 * overwritten or deleted), the missing ones made, then the certificate. A dir with a certificate is refused
 * (GNC_IDENTITY_EXISTS), and so is one whose files are not what an interrupted init leaves (see interruptedInit).
 */
export async function initIdentity(opts: InitOptions): Promise<InitResult> {
  const { dir } = opts;
  const found = interruptedInit(dir);
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'identity'), { recursive: true });
  const root = found.root ?? keyInfo(generateEd25519());
  if (!found.root) writePrivateKey(join(dir, IDENTITY_PATHS.rootKey), root.privateKey);
  writeRootPublic(dir, root.jwk, true);
  const node = found.node ?? keyInfo(generateEd25519());
  if (!found.node) writePrivateKey(join(dir, IDENTITY_PATHS.nodeKey), node.privateKey);
  const libp2pKey = found.libp2pKey ?? (await generateKeyPair('Ed25519'));
  if (!found.libp2pKey) writePrivateFile(join(dir, IDENTITY_PATHS.libp2pKey), privateKeyToProtobuf(libp2pKey));
  const peerId = peerIdFromPrivateKey(libp2pKey).toString();
  opts.beforeCertificate?.();
  const certificate = certifyNode(root, node, {
    country: opts.country,
    name: opts.name,
    peerId,
    addrs: opts.addrs,
    now: opts.now ?? Date.now(),
    validityMs: opts.validityMs ?? DEFAULT_CERT_VALIDITY_MS,
  });
  writePublicFile(join(dir, IDENTITY_PATHS.certificate), certificate + '\n');
  const removed = found.kept.length > 0 ? removeLeftTemps(dir) : [];
  return { ...loadIdentity(dir), kept: found.kept, removed };
}

/**
 * Once an interrupted init is complete (under init.lock: no other write of these files runs), the temporary files the
 * interrupted one's writes left, by their paths in the data dir: a key's `.tmp` that is another name of that key (a
 * crash between the link that named the key and the unlink of its temporary name), and a public file's
 * `<name>.<pid>.tmp` in identity/ (a crash before its rename). Left as they were, they stayed in the dir for good,
 * the first a second copy of a private key. A `.tmp` of a key that is another file is left alone (no write of this
 * code leaves one: a write of the key removes the stale one before it writes); a file that cannot be removed is left.
 */
function removeLeftTemps(dir: string): string[] {
  const removed: string[] = [];
  /** Removes `path` when `left(its lstat)` says it is such a file; one that cannot be read or removed is left. */
  const removeIf = (path: string, left: (st: Stats) => boolean): void => {
    try {
      const st = lstatOrUndefined(join(dir, path));
      if (st === undefined || !st.isFile() || !left(st)) return;
      unlinkSync(join(dir, path));
      removed.push(path);
    } catch {
      /* left: init reads nothing of it */
    }
  };
  for (const key of [IDENTITY_PATHS.rootKey, IDENTITY_PATHS.nodeKey, IDENTITY_PATHS.libp2pKey]) {
    removeIf(`${key}.tmp`, (tmp) => {
      const final = lstatOrUndefined(join(dir, key));
      return final !== undefined && tmp.ino === final.ino && tmp.dev === final.dev;
    });
  }
  for (const file of entries(join(dir, 'identity'))) if (/\.\d+\.tmp$/.test(file)) removeIf(join('identity', file), () => true);
  return removed;
}

/** The keys an interrupted init left in a data dir, read back (undefined: not there, init makes it). */
interface InterruptedInit {
  root?: KeyPairInfo;
  node?: KeyPairInfo;
  libp2pKey?: PrivateKey;
  /** Their paths in the data dir (IDENTITY_PATHS), in the order init writes them. */
  kept: string[];
}

/** The files of keys/ and identity/ an init writes before the certificate, besides their temporary files. */
const INIT_KEY_FILES = new Set(['root.jwk', 'node.jwk', 'libp2p.key']);

/**
 * What an init interrupted before it wrote the certificate left in `dir`: nothing (a new dir), or some of the root, node
 * and libp2p keys, and the root's public copies in identity/. Refused: a certificate (a complete identity,
 * GNC_IDENTITY_EXISTS); a key that is not one (GNC_CONFIG_INVALID, naming it); identity/ files of another root than
 * keys/root.jwk, or of a root whose private key is gone, and any file only a node that had a certificate holds (a
 * rotated key, a rotation record): not an interrupted init but a data dir that lost its certificate.
 */
function interruptedInit(dir: string): InterruptedInit {
  if (existsSync(join(dir, IDENTITY_PATHS.certificate))) {
    throw new GncError('GNC_IDENTITY_EXISTS', `${dir} already holds an identity: keys are never overwritten. Use another --dir.`);
  }
  const lostCertificate = (file: string): GncError =>
    new GncError('GNC_IDENTITY_MISSING', `${join(dir, file)} is a file of a node that had a certificate, and ${join(dir, IDENTITY_PATHS.certificate)} is missing: restore the data dir from its backup (init makes no identity over one that was in use), or use another --dir.`);
  for (const file of entries(join(dir, 'keys'))) {
    if (!INIT_KEY_FILES.has(file) && !INIT_KEY_FILES.has(file.replace(/\.tmp$/, ''))) throw lostCertificate(join('keys', file));
  }
  const found: InterruptedInit = { kept: [] };
  if (existsSync(join(dir, IDENTITY_PATHS.rootKey))) found.root = keyInfo(readInitKey(dir, IDENTITY_PATHS.rootKey, (p) => readPrivateKey(p)));
  if (existsSync(join(dir, IDENTITY_PATHS.nodeKey))) found.node = keyInfo(readInitKey(dir, IDENTITY_PATHS.nodeKey, (p) => readPrivateKey(p)));
  if (existsSync(join(dir, IDENTITY_PATHS.libp2pKey))) {
    found.libp2pKey = readInitKey(dir, IDENTITY_PATHS.libp2pKey, (p) => privateKeyFromProtobuf(new Uint8Array(readPrivateFile(p))));
  }
  for (const [path, key] of [[IDENTITY_PATHS.rootKey, found.root], [IDENTITY_PATHS.nodeKey, found.node], [IDENTITY_PATHS.libp2pKey, found.libp2pKey]] as const) {
    if (key !== undefined) found.kept.push(path);
  }
  const root = found.root?.thumbprint;
  for (const file of entries(join(dir, 'identity'))) {
    const path = join('identity', file);
    const kept = file === 'root.jwk' ? readPublicJwk(join(dir, path), undefined) : undefined;
    const of = kept !== undefined ? jwkThumbprint(kept) : /^root-(.+)\.jwk$/.exec(file)?.[1];
    if (of === undefined) {
      if (/\.tmp$/.test(file)) continue; // a public write's temporary file, left by a crash: never read
      throw lostCertificate(path);
    }
    if (root === undefined) {
      throw new GncError('GNC_IDENTITY_MISSING', `${join(dir, path)} is the public key of root ${of}, whose private key is not in ${dir}/keys (no certificate names it yet): bring ${IDENTITY_PATHS.rootKey} back (mode 0600) and run \`gnc init\` again to complete the identity, or use another --dir.`);
    }
    if (of !== root) {
      throw new GncError('GNC_CONFIG_INVALID', `${join(dir, path)} is the public key of root ${of}, not of ${join(dir, IDENTITY_PATHS.rootKey)} (root ${root}): the dir holds files of two identities. Use another --dir, or restore this one from its backup.`);
    }
  }
  return found;
}

/** The names in a folder (none when it does not exist). */
function entries(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * A key an interrupted init left, read by `read`: one readable by others is refused as on every load (chmod), one that
 * is no key names the file and what to do (no certificate names it, so it can be set aside if it was never told).
 */
function readInitKey<T>(dir: string, file: string, read: (path: string) => T): T {
  const path = join(dir, file);
  readPrivateFile(path);
  try {
    return read(path);
  } catch (err) {
    throw new GncError('GNC_CONFIG_INVALID', `${path}, a key of a \`gnc init\` that was interrupted, is not a private key: restore it from your key backup, or, if no one was told its fingerprint, move it out of ${join(dir, 'keys')} (keep it until you are sure) and run \`gnc init\` again, which makes a new one.`, { cause: err });
  }
}

/**
 * Key files after rotations (issue 6): `keys/node.jwk` and `keys/root.jwk` are the keys `init` made; a rotated
 * node key is `keys/node-<kid>.jwk`, a successor root `keys/root-<fingerprint>.jwk`. The current node
 * certificate names which ones are in use (its `sub` and `iss`). Keys are never overwritten or deleted here.
 */
export function nodeKeyPath(dir: string, kid: string): string {
  return join(dir, 'keys', `node-${kid}.jwk`);
}

export function rootKeyPath(dir: string, fingerprint: string): string {
  return join(dir, 'keys', `root-${fingerprint}.jwk`);
}

/** What a rotation makes a new key for: a node key (keys/node-<kid>.jwk) or a successor root (keys/root-<fingerprint>.jwk). */
export type RotatedKeyRole = 'node' | 'root';

function rotatedKeyPath(dir: string, role: RotatedKeyRole, thumbprint: string): string {
  return role === 'node' ? nodeKeyPath(dir, thumbprint) : rootKeyPath(dir, thumbprint);
}

/**
 * A rotation's new key until the rotation is recorded (certs/rotation.ts; a root's: once the node certificate names it):
 * nothing loads a key under this name as a node key or a root, so one a crash leaves before the record names it is no
 * second candidate signing key.
 */
export function rotatingKeyPath(dir: string, role: RotatedKeyRole, thumbprint: string): string {
  return join(dir, 'keys', `rotating-${role}-${thumbprint}.jwk`);
}

/** The rotating key file of `thumbprint` takes its node key or root name, once the record names it (idempotent). */
export function promoteRotatingKey(dir: string, role: RotatedKeyRole, thumbprint: string): void {
  const from = rotatingKeyPath(dir, role, thumbprint);
  if (!existsSync(from)) return;
  try {
    linkSync(from, rotatedKeyPath(dir, role, thumbprint));
  } catch (err) {
    // linked already, by a run interrupted before it removed the rotating name
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // the new name on disk before the old one goes: a power loss in between leaves the key under one name or both
  syncDir(join(dir, 'keys'));
  unlinkSync(from);
}

/** identity/ holds public documents only: readable by all, written by the node's user. */
export const PUBLIC_FILE_MODE = 0o644;

/** A public document of identity/ (a certificate, a root's public key, a rotation or revocation record), replaced whole and durably. */
export function writePublicFile(path: string, text: string): void {
  writeFileDurable(path, text, { mode: PUBLIC_FILE_MODE });
}

function rootPublicPath(dir: string, fingerprint: string): string {
  return join(dir, 'identity', `root-${fingerprint}.jwk`);
}

/**
 * Keep a root's public key beside the certificate (`original`: also as the root `init` made); a successor root's before
 * a certificate names it, since loadIdentity reads it there.
 */
export function writeRootPublic(dir: string, jwk: Ed25519PublicJwk, original: boolean): void {
  const text = JSON.stringify(jwk) + '\n';
  writePublicFile(rootPublicPath(dir, jwkThumbprint(jwk)), text);
  if (original) writePublicFile(join(dir, IDENTITY_PATHS.rootPublic), text);
}

/** writeRootPublic for a data dir made before public copies were kept: best effort (the key was read anyway). */
function keepRootPublic(dir: string, jwk: Ed25519PublicJwk, original: boolean): void {
  try {
    writeRootPublic(dir, jwk, original);
  } catch {
    /* a read-only data dir: derived again next time */
  }
}

function readPublicJwk(path: string, fingerprint: string | undefined): Ed25519PublicJwk | undefined {
  if (!existsSync(path)) return undefined;
  let jwk: Ed25519PublicJwk;
  try {
    jwk = JSON.parse(readFileSync(path, 'utf8')) as Ed25519PublicJwk;
    jwkThumbprint(jwk);
  } catch (err) {
    throw new GncError('GNC_CONFIG_INVALID', `${path} is not a public JWK: restore the data dir's identity/ folder from its backup.`, { cause: err });
  }
  if (fingerprint !== undefined && jwkThumbprint(jwk) !== fingerprint) {
    throw new GncError('GNC_CONFIG_INVALID', `${path} is not the public key of root ${fingerprint}: restore the data dir's identity/ folder from its backup.`);
  }
  return jwk;
}

/**
 * The public key of this administration's root `fingerprint`: from identity/, else (a data dir made before
 * public copies were kept) from the private key file, once, leaving the public copy for when it goes offline.
 */
export function rootPublicJwk(dir: string, fingerprint: string): Ed25519PublicJwk {
  const kept = readPublicJwk(rootPublicPath(dir, fingerprint), fingerprint);
  if (kept) return kept;
  const jwk = loadRootKey(dir, fingerprint).jwk;
  keepRootPublic(dir, jwk, false);
  return jwk;
}

/** The current root with a signer that loads the private key for each signature (root signatures are rare). */
function rootOf(dir: string, fingerprint: string): RootKeyInfo {
  const jwk = rootPublicJwk(dir, fingerprint);
  return { jwk, thumbprint: fingerprint, signer: { kid: fingerprint, sign: (data) => loadRootKey(dir, fingerprint).signer.sign(data) } };
}

/** The private node key with thumbprint `kid` (a rotated one, or the one `init` made). */
export function loadNodeKey(dir: string, kid: string): KeyPairInfo {
  const rotated = nodeKeyPath(dir, kid);
  const info = keyInfo(readPrivateKey(existsSync(rotated) ? rotated : join(dir, IDENTITY_PATHS.nodeKey)));
  if (info.thumbprint !== kid) throw new GncError('GNC_IDENTITY_MISSING', `No private key file for node key ${kid} in ${dir}/keys: restore the data dir from its backup.`);
  return info;
}

/**
 * The private root key with this fingerprint (a successor root, or the one `init` made). The fingerprint is one a
 * certificate names: a successor root still under its rotating name (`gnc keys rotate --root` interrupted after it wrote
 * the certificate naming it) takes its root name first.
 */
export function loadRootKey(dir: string, fingerprint: string): KeyPairInfo {
  promoteRotatingKey(dir, 'root', fingerprint);
  const successor = rootKeyPath(dir, fingerprint);
  const path = existsSync(successor) ? successor : join(dir, IDENTITY_PATHS.rootKey);
  if (!existsSync(path)) {
    throw new GncError('GNC_IDENTITY_MISSING', `The private root key ${fingerprint} is not in ${dir}/keys (kept offline): this needs the root's signature. Bring the key file back from offline storage for it (mode 0600), then move it away again.`);
  }
  const info = keyInfo(readPrivateKey(path));
  if (info.thumbprint !== fingerprint) throw new GncError('GNC_IDENTITY_MISSING', `No private key file for root ${fingerprint} in ${dir}/keys: bring the root key back from offline storage.`);
  return info;
}

/** Make a key pair for rotation and write it (0600, exclusive create) under its own name. */
export function newNodeKey(dir: string): KeyPairInfo {
  const info = keyInfo(generateEd25519());
  writePrivateKey(nodeKeyPath(dir, info.thumbprint), info.privateKey);
  return info;
}

/** Make a key pair for a rotation and write it, complete or not at all (0600), under its rotating name. */
export function newRotatingKey(dir: string, role: RotatedKeyRole): KeyPairInfo {
  const info = keyInfo(generateEd25519());
  writePrivateKey(rotatingKeyPath(dir, role, info.thumbprint), info.privateKey);
  return info;
}

/** The key of a rotating key file, which must be the one its name says. */
export function loadRotatingKey(dir: string, role: RotatedKeyRole, thumbprint: string): KeyPairInfo {
  const path = rotatingKeyPath(dir, role, thumbprint);
  readPrivateFile(path); // a missing file, or one readable by others, is told as such
  let info: KeyPairInfo | undefined;
  try {
    info = keyInfo(readPrivateKey(path));
  } catch {
    /* not an Ed25519 private JWK: said below */
  }
  if (info?.thumbprint !== thumbprint) {
    throw new GncError('GNC_CONFIG_INVALID', `${path}, the new key of a key rotation interrupted before it was recorded, is not an Ed25519 private JWK of the key its name says: no certificate names it, so delete it, then run \`${rotateCommand(dir, role)}\` again.`);
  }
  return info;
}

/** The command that makes (and completes) a rotation of `role`. */
export function rotateCommand(dir: string, role: RotatedKeyRole): string {
  return `gnc keys rotate ${dirOption(dir)}${role === 'root' ? ' --root' : ''}`;
}

/** The root key `init` made: the start of this administration's succession chain (what partners pinned). */
export function originalRootJwk(dir: string): Ed25519PublicJwk {
  const kept = readPublicJwk(join(dir, IDENTITY_PATHS.rootPublic), undefined);
  if (kept) return kept;
  if (!existsSync(join(dir, IDENTITY_PATHS.rootKey))) {
    throw new GncError('GNC_IDENTITY_MISSING', `Neither ${IDENTITY_PATHS.rootPublic} nor ${IDENTITY_PATHS.rootKey} is in ${dir}: bring the root key back from offline storage once, so that the node records its public half.`);
  }
  const jwk = keyInfo(readPrivateKey(join(dir, IDENTITY_PATHS.rootKey))).jwk;
  keepRootPublic(dir, jwk, true);
  return jwk;
}

function readCertificate(dir: string): string {
  try {
    return readFileSync(join(dir, IDENTITY_PATHS.certificate), 'utf8').trim();
  } catch {
    throw new GncError('GNC_IDENTITY_MISSING', `${join(dir, IDENTITY_PATHS.certificate)} is missing: run \`gnc init\` or restore the data dir.`);
  }
}

export function loadIdentity(dir: string): LocalIdentity {
  const certificate = readCertificate(dir);
  const claimed = decodeNodeCertificate(certificate);
  const root = rootOf(dir, claimed.iss);
  const node = loadNodeKey(dir, claimed.sub);
  const libp2pKey = privateKeyFromProtobuf(new Uint8Array(readPrivateFile(join(dir, IDENTITY_PATHS.libp2pKey))));
  const certPayload = verifyNodeCertificate(certificate, root.jwk);
  const peerId = peerIdFromPrivateKey(libp2pKey as Parameters<typeof peerIdFromPrivateKey>[0]).toString();
  if (certPayload.sub !== node.thumbprint || certPayload.peerId !== peerId) {
    throw new GncError('GNC_CERT_INVALID', `The node certificate in ${dir} does not name this node's keys: re-run \`gnc keys rotate\` to certify the current keys.`);
  }
  return { dir, country: certPayload.country, name: certPayload.name, root, node, libp2pKey, peerId, certificate, certPayload };
}

export { decodeNodeCertificate };
