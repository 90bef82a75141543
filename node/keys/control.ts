/**
 * Key management over the wire (issue 6), receiving side: a partner announces a new node certificate
 * (rotation), publishes a root-signed revocation, or names a successor root. Every document is verified
 * against the roots this node pinned for that partner (or successors they named) before it is stored; the
 * envelope only transports it. Revocations are enforced at once: the trust index refuses envelopes by the
 * revoked key whose `created` is at or after the revocation time (GNC_KEY_REVOKED), earlier ones stay valid.
 */
import { sha256Ascii } from '../../protocol/envelope/seal.js';
import { verifyNodeCertificate, type NodeCertificatePayload } from '../../protocol/certificate.js';
import type { OpenedEnvelope } from '../../protocol/envelope/open.js';
import { GncError } from '../../protocol/errors.js';
import type { Ed25519PublicJwk } from '../../protocol/jwk.js';
import { KeyControlBody } from '../../protocol/messages/control.js';
import { verifyKeyNotice, type KeyNotice } from '../../protocol/notice.js';
import { parseWith } from '../../protocol/validate.js';
import { storeCertificate } from '../partners.js';
import type { EvidenceLog } from '../store/evidence.js';
import { KeyNoticeRepo } from '../store/key-notices.js';
import type { Store } from '../store/store.js';
import type { TrustIndex } from '../trust.js';

export interface KeyControlDeps {
  store: Store;
  trust: TrustIndex;
  evidence: EvidenceLog;
  clock: () => number;
  log: (m: string) => void;
  /** This administration's country and the kids of every node key it ever certified (Keyring.ownKeys). */
  self: { country: string; kids: () => Iterable<string> };
}

/** Try each root of the country; the first that verifies wins. Throws the last error when none does. */
export function underAnyRoot<T>(roots: Ed25519PublicJwk[], country: string, verify: (root: Ed25519PublicJwk) => T): T {
  if (roots.length === 0) throw new GncError('GNC_PARTNER_UNKNOWN', `${country} is not a pinned partner: pin it with \`gnc partner add\` first.`);
  let last: unknown;
  for (const r of roots) {
    try {
      return verify(r);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** Verify a partner's node certificate under its roots and store it (used by announce and root succession). */
export function acceptCertificate(d: KeyControlDeps, compact: string, peer: string, roots = d.trust.rootsOf(peer)): NodeCertificatePayload {
  const payload = underAnyRoot(roots, peer, (root) => verifyNodeCertificate(compact, root));
  if (payload.country !== peer) {
    throw new GncError('GNC_CERT_INVALID', `Certificate for ${payload.country} arrived from ${peer}: each administration announces its own keys.`);
  }
  if (Date.parse(payload.exp) <= d.clock()) {
    throw new GncError('GNC_KEY_EXPIRED', `Announced certificate of key ${payload.sub} expired at ${payload.exp}: the partner must certify a new key.`);
  }
  storeCertificate(d.store, compact, payload);
  return payload;
}

/** Verify a partner's revocation under its roots, keep it, and mark the key revoked from `revokedAt`. */
export function acceptRevocation(d: KeyControlDeps, compact: string, peer: string): KeyNotice & { kind: 'revocation' } {
  const notice = underAnyRoot(d.trust.rootsOf(peer), peer, (root) => verifyKeyNotice(compact, root, peer));
  if (notice.kind !== 'revocation') throw new GncError('GNC_SCHEMA_INVALID', `Expected a revocation notice, got "${notice.kind}".`);
  const cert = d.store.partners.certificates(peer).find((c) => c.kid === notice.kid);
  // SPEC 9.10: a root revokes only its own country's keys. This node's keys are not partner certificates, so
  // they are looked up on their own: a partner's root must never retire the key this node signs with.
  if ([...d.self.kids()].includes(notice.kid)) {
    throw new GncError('GNC_CERT_INVALID', `Key ${notice.kid} is a node key of ${d.self.country}, this node; ${peer}'s root cannot revoke it: only ${d.self.country}'s root revokes ${d.self.country}'s keys.`);
  }
  const other = d.store.partners.certificates().find((c) => c.kid === notice.kid && c.country !== peer);
  if (other) throw new GncError('GNC_CERT_INVALID', `Key ${notice.kid} is certified for ${other.country}; ${peer}'s root cannot revoke it.`);
  const at = Date.parse(notice.revokedAt);
  new KeyNoticeRepo(d.store.db).add(compact, notice, d.clock());
  if (cert && (cert.revoked_at === null || at < cert.revoked_at)) d.store.partners.revoke(notice.kid, at, compact);
  return notice;
}

/**
 * The partner's root in office (the newest of its chain): only it may certify new node keys or name a successor,
 * so a succeeded root, perhaps retired because it was exposed, cannot bring in keys. (Any root may revoke.)
 */
function rootInOffice(d: KeyControlDeps, peer: string): Ed25519PublicJwk[] {
  return d.trust.rootsOf(peer).slice(-1);
}

/**
 * A document is accepted once, however many envelopes carry it: a partner seals a control envelope again when the
 * first grew too old undelivered (SPEC section 6), and the first may have arrived all the same (its receipt was
 * lost). One held already was verified when it came; it is checked again under any root of the partner's chain (the
 * root in office may be the successor it named itself), changes nothing, and gets no second `key` entry.
 */
export function keyControl(d: KeyControlDeps) {
  const notices = new KeyNoticeRepo(d.store.db);
  return (opened: OpenedEnvelope, peer: string): void => {
    const body = parseWith(KeyControlBody, opened.payload.body, 'Key control body', '/body');
    const id = opened.payload.id;
    const held = body.action === 'announce'
      ? d.store.partners.certificates(peer).some((c) => c.compact === body.certificate)
      : notices.holds(body.notice);
    const roots = held ? d.trust.rootsOf(peer) : rootInOffice(d, peer);
    const again = held ? ' (held already: no change)' : '';
    // the document and its `key` entry in one transaction (a savepoint of the receiver's, which stores the envelope
    // first): a failure of either leaves neither, and the retry of the sender records both
    const line = d.store.db.transaction(() => {
      const { document, line } = apply(body, peer, roots, again);
      if (!held) d.evidence.append('key', id, peer, sha256Ascii(document));
      return line;
    })();
    d.log(line);
    d.trust.reload();
  };

  function apply(body: KeyControlBody, peer: string, roots: Ed25519PublicJwk[], again: string): { document: string; line: string } {
    if (body.action === 'announce') {
      const c = acceptCertificate(d, body.certificate, peer, roots);
      return { document: body.certificate, line: `key: ${peer} announced node key ${c.sub}, valid ${c.nbf} to ${c.exp}${again}` };
    }
    if (body.action === 'revoke') {
      const n = acceptRevocation(d, body.notice, peer);
      return { document: body.notice, line: `key: ${peer} revoked node key ${n.kid} from ${n.revokedAt} (${n.reason})${again}` };
    }
    const notice = underAnyRoot(roots, peer, (root) => verifyKeyNotice(body.notice, root, peer));
    if (notice.kind !== 'root-succession') throw new GncError('GNC_SCHEMA_INVALID', `Expected a root-succession notice, got "${notice.kind}".`);
    // the certificate re-issued by the new root proves the successor is usable; check it before trusting either
    const c = acceptCertificate(d, body.certificate, peer, [notice.newRoot]);
    notices.add(body.notice, notice, d.clock());
    return { document: body.notice, line: `key: ${peer} named a successor root from ${notice.effective}; node key ${c.sub} re-certified by it${again}` };
  }
}
