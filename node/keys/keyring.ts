/**
 * Which node key signs right now (issue 6, key rotation without rejected messages). After `gnc keys rotate`
 * the data dir holds a new certified key, but partners learn it only when the announcement envelope (signed
 * by the old key, which they know) has been delivered. Until every partner has acknowledged it, the node
 * keeps signing with the old key; then it switches, without a restart. The switch happens at the latest when
 * the overlap ends (the old key's retirement revocation takes effect then) or at once if the old key was
 * revoked. Envelopes already sealed with the old key stay valid: their `created` precedes the retirement.
 * Whatever the reason, the switch waits for the new certificate's start (`nbf`) by this node's clock: a rotation
 * run with a clock ahead certifies the key from a later instant, and partners refuse what it signs before then.
 * Nothing is signed outside its certificate's validity (GNC_KEY_EXPIRED): partners would refuse every envelope
 * and receipt, and an auditor every checkpoint, including checkpoints over entries made in time.
 */
import { dirOption, GncError } from '../../protocol/errors.js';
import { readRevocations, readRotation, ownCertificates, type RotationState } from '../../certs/rotation.js';
import { loadIdentity, loadNodeKey, originalRootJwk, rootPublicJwk, type KeyPairInfo, type LocalIdentity } from '../../certs/identity.js';
import { decodeNodeCertificate, verifyNodeCertificate } from '../../protocol/certificate.js';
import type { Signer } from '../../protocol/envelope/seal.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../../protocol/jwk.js';
import { decodeKeyNotice, successionChain, verifyKeyNotice, type KeyNotice } from '../../protocol/notice.js';
import { underAnyRoot } from './control.js';
import { KeyNoticeRepo } from '../store/key-notices.js';
import type { Store } from '../store/store.js';

/** How often a pending rotation looks at the announcements' delivery status (the seal path must stay cheap). */
export const ROTATION_CHECK_MS = 200;

/** Start and end of a node certificate (ms). */
interface Validity {
  nbf: number;
  exp: number;
}

/** Which key signs now, and until when it can: Keyring.signing. */
export interface SigningState extends Validity {
  kid: string;
  revokedAt: number | undefined;
  latestExp: number;
}

const ALWAYS: Validity = { nbf: Number.NEGATIVE_INFINITY, exp: Number.POSITIVE_INFINITY };

function validityOf(cert: { nbf: string; exp: string }): Validity {
  return { nbf: Date.parse(cert.nbf), exp: Date.parse(cert.exp) };
}

export class Keyring {
  identity: LocalIdentity;
  private rotation: RotationState | undefined;
  private previous: KeyPairInfo | undefined;
  /** When the certificates of the current and the previous key start and end (ms). */
  private currentValidity: Validity = ALWAYS;
  private previousValidity: Validity = ALWAYS;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private switched = true;
  /** When a revocation identity/revocations.json records takes the previous key out of use (ms; see recordedRevocation). */
  private previousRevokedAt: number | undefined;
  private readonly notices: KeyNoticeRepo;
  /** When each of this node's keys stops counting (the latest end of its certificates), read again on `reload`. */
  private ends: Map<string, number> | undefined;
  /** The root `init` made (keys/root.jwk): it never changes, so it is read once. */
  private originalRoot: Ed25519PublicJwk | undefined;

  constructor(private readonly dir: string, private readonly store: Store, private readonly clock: () => number = Date.now, identity?: LocalIdentity) {
    this.identity = identity ?? loadIdentity(dir);
    this.notices = new KeyNoticeRepo(store.db);
    this.loadRotation();
  }

  /** Re-read the identity and rotation state (the CLI rotated keys beside a running node). True if the certificate changed. */
  reload(): boolean {
    const next = loadIdentity(this.dir);
    const changed = next.certificate !== this.identity.certificate;
    if (changed) this.identity = next;
    this.loadRotation();
    return changed;
  }

  private loadRotation(): void {
    this.ends = undefined;
    this.currentValidity = validityOf(this.identity.certPayload);
    const r = readRotation(this.dir);
    if (r === undefined || r.to !== this.identity.node.thumbprint || r.from === r.to) {
      this.rotation = undefined;
      this.previous = undefined;
      this.switched = true;
      return;
    }
    this.rotation = r;
    this.previous = loadNodeKey(this.dir, r.from);
    const cert = ownCertificates(this.dir).map(decodeNodeCertificate).find((p) => p.sub === r.from);
    this.previousValidity = cert ? validityOf(cert) : ALWAYS;
    this.switched = false;
    this.checkedAt = Number.NEGATIVE_INFINITY;
    this.previousRevokedAt = this.recordedRevocation(r.from);
  }

  /**
   * The earliest `revokedAt` (ms) of the revocations of `kid` that identity/revocations.json records, each verified under
   * this administration's roots: `gnc keys revoke` records one before the database stores it, and a database restored
   * from a backup taken before it holds none until restoreRevocations stores it again (at start, or `gnc keys status`),
   * while any other command that opens the data dir (`gnc keys rotate`) would meanwhile sign with the revoked key. Read
   * when a rotation is loaded, never on the seal path. A notice that does not verify counts for nothing here:
   * restoreRevocations refuses the file, naming it.
   */
  private recordedRevocation(kid: string): number | undefined {
    let at: number | undefined;
    try {
      for (const compact of readRevocations(this.dir)) {
        const claimed = decodeKeyNotice(compact).payload;
        if (claimed.kind !== 'revocation' || claimed.kid !== kid) continue;
        const notice = this.verifyOwnNotice(compact);
        if (notice.kind === 'revocation' && notice.kid === kid) at = Math.min(at ?? Number.POSITIVE_INFINITY, Date.parse(notice.revokedAt));
      }
    } catch {
      /* a damaged record or a notice no root of this administration signed: restoreRevocations refuses it, naming the file */
    }
    return at;
  }

  /** A key notice of this administration, verified under one of its roots (ownRoots); else the last root's error. */
  verifyOwnNotice(compact: string): KeyNotice {
    const { country } = this.identity;
    return underAnyRoot(this.ownRoots(), country, (root) => verifyKeyNotice(compact, root, country));
  }

  /**
   * The signer to seal with now (called for every envelope, receipt and checkpoint); GNC_KEY_EXPIRED outside its
   * certificate's validity.
   */
  signer = (): Signer => {
    const { signer, nbf, exp } = this.pick();
    const now = this.clock();
    if (now >= exp) {
      throw new GncError('GNC_KEY_EXPIRED', `This node's signing key ${signer.kid} expired at ${new Date(exp).toISOString()}: nothing it signs would verify. Certify a new key with \`gnc keys rotate ${dirOption(this.dir)}\` (it needs the root key) and give partners the new identity (\`gnc identity export\`; they run \`gnc partner add\` again), since partners no longer connect to a node whose certificate has ended.`);
    }
    // a rotation keeps the old key until the new one starts; this is a key with none before it to sign meanwhile
    // (the rotation file was removed, or the clock was set back)
    if (now < nbf) {
      throw new GncError('GNC_KEY_EXPIRED', `This node's signing key ${signer.kid} is certified from ${new Date(nbf).toISOString()}, but this node's clock says ${new Date(now).toISOString()}: nothing it signs before then would verify. Check this machine's clock; the node signs again, without a restart, once the certificate has started.`);
    }
    return signer;
  };

  private pick(): { signer: Signer } & Validity {
    if (!this.switched) {
      const now = this.clock();
      // the end of the overlap is when the old key's retirement takes effect: from that instant partners refuse what
      // it signs (GNC_KEY_REVOKED), so it is checked on every call, not only at the next look at the announcements
      if (this.overlapOver(now)) this.switched = true;
      else if (now - this.checkedAt >= ROTATION_CHECK_MS) {
        this.checkedAt = now;
        if (this.readyToSwitch(now)) this.switched = true;
      }
    }
    return this.switched ? { signer: this.identity.node.signer, ...this.currentValidity } : { signer: this.previous!.signer, ...this.previousValidity };
  }

  /** The key signing now (expired or not: the status says so), and whether a rotation is waiting for partners. */
  status(): { active: string; current: string; pending: RotationState | undefined; expiresAt: string } {
    const { signer, exp } = this.pick();
    return { active: signer.kid, current: this.identity.node.thumbprint, pending: this.switched ? undefined : this.rotation, expiresAt: new Date(exp).toISOString() };
  }

  /**
   * What GET /v1/health tells of this node's signing: the key that signs now, its certificate's start and end (ms), when
   * a revocation of its administration that names it takes effect (ms), and when the certificate of the key it signs with
   * once a rotation in progress completes ends (ms; the same key's when none is in progress).
   */
  signing(): SigningState {
    const { signer, nbf, exp } = this.pick();
    return { kid: signer.kid, nbf, exp, revokedAt: this.notices.revokedAt(signer.kid, this.identity.country), latestExp: this.currentValidity.exp };
  }

  /**
   * The old key must stop signing: the overlap has ended (its retirement takes effect) or its certificate has (it signs
   * nothing partners accept), and the new key's certificate has started. The new key signs nothing partners accept
   * before that start, whatever else says switch; the overlap ends at or after it (the rotation sets both from its
   * clock), so until then the old key is not retired.
   */
  private overlapOver(now: number): boolean {
    if (now < this.currentValidity.nbf) return false;
    return now >= Date.parse(this.rotation!.overlapUntil) || now >= this.previousValidity.exp;
  }

  private readyToSwitch(now: number): boolean {
    const r = this.rotation!;
    if (now < this.currentValidity.nbf) return false;
    if (this.overlapOver(now)) return true;
    // the store's revocations, and those identity/ records that a database restored from an older backup lacks
    const revoked = Math.min(this.notices.revokedAt(r.from, this.identity.country) ?? Number.POSITIVE_INFINITY, this.previousRevokedAt ?? Number.POSITIVE_INFINITY);
    if (revoked <= now) return true;
    if (!r.announced) {
      // the CLI writes the announcement ids after queueing them: look again (only while a rotation is pending)
      const again = readRotation(this.dir);
      if (again?.to !== r.to || !again.announced) return false;
      this.rotation = again;
      return this.readyToSwitch(now);
    }
    // an announcement that grew too old while a partner was away went on sealed again, under another id; one withdrawn
    // because its partner was removed (`gnc partner remove`) holds nothing back: that partner is told nothing more
    return Object.entries(r.announcements).every(([partner, id]) => ['delivered', 'withdrawn'].includes(this.store.messages.currentOut(partner, id)?.status ?? ''));
  }

  /**
   * This node's keys whose certificates have all ended by `now`, with when the last one ended (ms): partners refuse
   * what those keys sealed and is still queued (SPEC section 4, check 11), so the dispatcher seals a control envelope
   * again with the key that signs now, and ends a message instead of sending it to a certain refusal (one an earlier
   * attempt may have handed over goes again: a partner that holds it answers with its stored receipt, check 10).
   */
  endedKeys(now: number): Map<string, number> {
    if (this.ends === undefined) {
      this.ends = new Map();
      for (const c of ownCertificates(this.dir)) {
        const p = decodeNodeCertificate(c);
        this.ends.set(p.sub, Math.max(Date.parse(p.exp), this.ends.get(p.sub) ?? Number.NEGATIVE_INFINITY));
      }
    }
    return new Map([...this.ends].filter(([, exp]) => exp <= now));
  }

  /**
   * This node's keys that a revocation of its administration names, with the earliest `revokedAt` (ms): partners refuse
   * what such a key sealed with `created` at or after it (SPEC section 4, check 9), also an envelope they hold, so the
   * dispatcher seals a control envelope again with the key that signs now and ends a message instead of sending it.
   * Read from the store each time: `gnc keys revoke` stores the notice beside a running node.
   */
  revokedKeys(): Map<string, number> {
    return this.notices.revocationsOf(this.identity.country);
  }

  /**
   * The certificate of this node's key `kid` to announce to a partner: the one its root in office issued, whose
   * announcement a partner accepts (SPEC 9.10), else the newest. With `issuer`: the one that root issued, if any.
   */
  certificateOf(kid: string, issuer?: string): string | undefined {
    const held = ownCertificates(this.dir).map((compact) => ({ compact, p: decodeNodeCertificate(compact) })).filter((c) => c.p.sub === kid);
    if (issuer !== undefined) return held.find((c) => c.p.iss === issuer)?.compact;
    const inOffice = held.filter((c) => c.p.iss === this.identity.certPayload.iss);
    const newest = (a: typeof held[number], b: typeof held[number]): number => Date.parse(b.p.iat) - Date.parse(a.p.iat);
    return ((inOffice.length > 0 ? inOffice : held).sort(newest)[0])?.compact;
  }

  /** Public keys of every certificate this node ever had, by kid (checkpoints and envelopes before a rotation). */
  ownKeys(): Map<string, Ed25519PublicJwk> {
    const keys = new Map<string, Ed25519PublicJwk>();
    for (const c of ownCertificates(this.dir)) {
      const p = decodeNodeCertificate(c);
      keys.set(p.sub, p.jwk);
    }
    return keys;
  }

  /**
   * Every root this administration has had, oldest first: the one `init` made (what partners pinned), each
   * successor named by this administration's own root-succession notices in the store (followed as a chain,
   * each verified under the root before it), then any other root that issued a certificate of this node, and the
   * current root (the issuer of the node certificate), which ends the chain. Agreements signed by any of them, and
   * revocations (identity/revocations.json), stay verifiable here after a root succession and a restart.
   */
  ownRoots(): Ed25519PublicJwk[] {
    this.originalRoot ??= originalRootJwk(this.dir);
    const { country, root } = this.identity;
    const chain = successionChain(this.originalRoot, this.notices.list('root-succession', [country]).map((n) => n.compact), country);
    // a database restored from a backup taken before a root succession (README step 7) holds no notice of it until
    // restoreSuccessions stores it again from identity/root-successions.json (at start, gnc keys status, gnc keys rotate
    // --root, gnc audit export), and a command run before that names none: a root that succeeded was named by none. The certificates
    // of this node each root issued name it all the same (the succession notice is stored after the new certificate).
    const known = new Set(chain.map(jwkThumbprint));
    for (const r of this.issuingRoots()) if (!known.has(jwkThumbprint(r)) && jwkThumbprint(r) !== root.thumbprint) chain.push(r);
    if (!known.has(root.thumbprint)) chain.push(root.jwk);
    return chain;
  }

  /**
   * The roots that issued a certificate of this node (identity/ and its archive), each under which that certificate
   * verifies (a root's public copy in identity/), in the order they issued their first one: the order they took office.
   */
  private issuingRoots(): Ed25519PublicJwk[] {
    const first = new Map<string, { jwk: Ed25519PublicJwk; iat: number }>();
    for (const compact of ownCertificates(this.dir)) {
      const p = decodeNodeCertificate(compact);
      const iat = Date.parse(p.iat);
      const held = first.get(p.iss);
      if (held !== undefined && held.iat <= iat) continue;
      try {
        const jwk = held?.jwk ?? rootPublicJwk(this.dir, p.iss);
        verifyNodeCertificate(compact, jwk);
        first.set(p.iss, { jwk, iat });
      } catch {
        /* no public copy of that root, or a certificate it did not sign: it names no root of this administration */
      }
    }
    return [...first.values()].sort((a, b) => a.iat - b.iat).map((r) => r.jwk);
  }
}
