/**
 * In-memory index of what this node trusts, rebuilt from the store whenever a partner, certificate or
 * revocation changes: node keys by `kid` (for opening envelopes and receipts), and certified libp2p peer ids
 * (for the connection gater). Only certificates that verified under a pinned root ever enter the store. Its
 * listeners hear of every change of what it answers: a change in the store (`reload`), and the passing of time
 * that starts or ends a certificate or makes a revocation take effect (`recheck`, at `nextChange`). A partner removed
 * (`gnc partner remove`) is trusted for nothing: neither its roots nor its certificates count; only `formerRootsOf`
 * still names its root chain, so that what it signed while it was a partner (stored agreements) can be read. A root
 * replaced after it was lost (`gnc partner add --replace-root`, SPEC 9.4) is trusted for nothing either: neither it, the
 * successions it started nor the certificates its chain issued count; only `replacedRootsOf` names them, for reading.
 */
import { jwkThumbprint, publicKeyFromJwk, type Ed25519PublicJwk } from '../protocol/jwk.js';
import { decodeNodeCertificate, verifyNodeCertificate } from '../protocol/certificate.js';
import { DEFAULT_CLOCK_SKEW_MS } from '../protocol/constants.js';
import { peekKid, validityWindow, type VerificationKey } from '../protocol/envelope/open.js';
import { verifyKeyNotice } from '../protocol/notice.js';
import { KeyNoticeRepo, type KeyNoticeRow } from './store/key-notices.js';
import type { Store } from './store/store.js';

export interface PeerInfo {
  country: string;
  peerId: string;
  addrs: string[];
  kid: string;
  notAfter: number;
}

function revocationKey(country: string, kid: string): string {
  return `${country} ${kid}`;
}

/**
 * The root chain that starts at `first`: each next root named by a held root-succession notice signed by the root
 * before it (notices are verified before they are stored, so the signer is read from the header). Other chains of
 * the same country (a root replaced after it was lost) are not followed.
 */
export function rootChainFrom(first: Ed25519PublicJwk, successions: readonly Pick<KeyNoticeRow, 'compact'>[]): Ed25519PublicJwk[] {
  const parsed = successions.map((n) => {
    const [h, p] = n.compact.split('.');
    return { signer: peekKid(h!), newRoot: (JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as { newRoot: Ed25519PublicJwk }).newRoot };
  });
  const chain = [first];
  let tail = jwkThumbprint(first);
  const seen = new Set([tail]);
  for (;;) {
    const next = parsed.find((n) => n.signer === tail && !seen.has(jwkThumbprint(n.newRoot)));
    if (next === undefined) return chain;
    tail = jwkThumbprint(next.newRoot);
    seen.add(tail);
    chain.push(next.newRoot);
  }
}

export class TrustIndex {
  private keys = new Map<string, VerificationKey>();
  /** The node keys of removed partners, by kid, for receiptKey only. */
  private formerKeys = new Map<string, VerificationKey>();
  /**
   * Every certificate naming a peer id, latest end first: which one counts is decided at the time of asking, since
   * a newer one may not have started yet (a partner's clock ahead of this one's) while the older one is in force.
   */
  private peers = new Map<string, PeerInfo[]>();
  private roots = new Map<string, Ed25519PublicJwk>();
  /** Pinned roots of removed partners, by country. */
  private former = new Map<string, Ed25519PublicJwk>();
  /** Roots named by root-succession notices (verified before they were stored), by country, in order. */
  private successors = new Map<string, Ed25519PublicJwk[]>();
  /** Roots replaced after they were lost, with the successors each named, by country (oldest replacement first). */
  private replaced = new Map<string, Ed25519PublicJwk[]>();
  /** Earliest revocation instant by country and kid (`revocationKey`), also of keys no stored certificate names. */
  private revocations = new Map<string, number>();
  private listeners: (() => void)[] = [];
  private fingerprint = '';
  /** Which certificate admits each peer id (`admission`), as the listeners last heard, and when that was seen. */
  private admitted = '';
  private admittedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
    /** The clock skew envelope opening allows (`clockSkewSeconds`): connections are held to the same bound. */
    private readonly clockSkewMs = DEFAULT_CLOCK_SKEW_MS,
  ) {
    this.reload();
  }

  reload(): void {
    const keys = new Map<string, VerificationKey>();
    const peers = new Map<string, PeerInfo[]>();
    const roots = new Map<string, Ed25519PublicJwk>();
    const former = new Map<string, Ed25519PublicJwk>();
    for (const p of this.store.partners.list()) (p.removed_at === null ? roots : former).set(p.country, JSON.parse(p.root_jwk) as Ed25519PublicJwk);
    const notices = new KeyNoticeRepo(this.store.db).list();
    const successors = new Map<string, Ed25519PublicJwk[]>();
    /** Earliest revocation instant by country and kid (`revocationKey`): a root revokes only its own country's keys. */
    const revokedAt = new Map<string, number>();
    for (const n of notices) {
      if (n.kind === 'revocation') {
        const k = revocationKey(n.country, n.subject);
        revokedAt.set(k, Math.min(n.at, revokedAt.get(k) ?? Number.POSITIVE_INFINITY));
      }
      else if (roots.has(n.country) || former.has(n.country)) {
        const payload = JSON.parse(Buffer.from(n.compact.split('.')[1]!, 'base64url').toString('utf8')) as { newRoot: Ed25519PublicJwk };
        successors.set(n.country, [...(successors.get(n.country) ?? []), payload.newRoot]);
      }
    }
    // a country whose root was replaced: only the chain of the root pinned now counts (its successions, its certificates)
    const replaced = new Map<string, Ed25519PublicJwk[]>();
    const current = new Map<string, Set<string>>();
    for (const r of this.store.partners.replacedRoots()) {
      const held = notices.filter((n) => n.kind === 'root-succession' && n.country === r.country);
      replaced.set(r.country, [...(replaced.get(r.country) ?? []), ...rootChainFrom(JSON.parse(r.root_jwk) as Ed25519PublicJwk, held)]);
      const pinned = roots.get(r.country) ?? former.get(r.country);
      if (pinned === undefined || current.has(r.country)) continue;
      const chain = rootChainFrom(pinned, held);
      current.set(r.country, new Set(chain.map((k) => jwkThumbprint(k))));
      successors.set(r.country, chain.slice(1));
    }
    const formerKeys = new Map<string, VerificationKey>();
    for (const c of this.store.partners.certificates()) {
      const pinned = roots.has(c.country);
      if (!pinned && !former.has(c.country)) continue;
      const payload = decodeNodeCertificate(c.compact);
      if (current.has(c.country) && !current.get(c.country)!.has(payload.iss)) continue; // issued under a replaced root
      // a revocation may arrive before the certificate it names: the earliest instant from either applies, but only
      // from a notice of the certificate's own country (SPEC 9.10): another root's notice, accepted while the key
      // was still unknown here, must not revoke it
      const revoked = Math.min(c.revoked_at ?? Number.POSITIVE_INFINITY, revokedAt.get(revocationKey(c.country, c.kid)) ?? Number.POSITIVE_INFINITY);
      let publicKey;
      try {
        publicKey = publicKeyFromJwk(payload.jwk);
      } catch {
        continue; // stored before weak keys were refused on pinning (SPEC 9.7): never trusted to verify
      }
      (pinned ? keys : formerKeys).set(c.kid, {
        kid: c.kid,
        publicKey,
        country: c.country,
        notBefore: c.not_before,
        notAfter: c.not_after,
        revokedAt: Number.isFinite(revoked) ? revoked : undefined,
      });
      if (!pinned) continue;
      const named = peers.get(c.peer_id) ?? [];
      named.push({ country: c.country, peerId: c.peer_id, addrs: payload.addrs, kid: c.kid, notAfter: c.not_after });
      peers.set(c.peer_id, named);
    }
    for (const named of peers.values()) named.sort((a, b) => b.notAfter - a.notAfter);
    const fingerprint = JSON.stringify([[...roots.entries()], [...former.keys()], [...successors.entries()], [...replaced.entries()], [...keys.values()].map((k) => [k.kid, k.notBefore, k.notAfter, k.revokedAt ?? null]), [...peers.entries()]]);
    this.keys = keys;
    this.formerKeys = formerKeys;
    this.peers = peers;
    this.roots = roots;
    this.former = former;
    this.successors = successors;
    this.replaced = replaced;
    this.revocations = revokedAt;
    // the time since the last look may have changed admissions too: the listeners hear of that now, as it is seen now
    const admitted = this.admission();
    if (fingerprint === this.fingerprint && admitted === this.admitted) return;
    this.fingerprint = fingerprint;
    this.admitted = admitted;
    for (const l of this.listeners) l();
  }

  /**
   * Tells the listeners when the passing of time alone changed which certificate admits a peer id since they last
   * heard (a certificate started or ended, a revocation took effect). The node calls it at `nextChange`.
   */
  recheck(): void {
    const admitted = this.admission();
    if (admitted === this.admitted) return;
    this.admitted = admitted;
    for (const l of this.listeners) l();
  }

  /**
   * The first instant after the listeners' last view (`reload`, `recheck`) at which the passing of time changes which
   * certificate may admit a peer id: the start or end of a certificate's validity window, or a revocation taking
   * effect. It may be past already (the clock moved on since): `recheck` then at once. Undefined when none is ahead.
   */
  nextChange(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const k of this.keys.values()) {
      const { from, until } = validityWindow(k, this.clockSkewMs);
      // `until` is the last instant that counts: the change is the one after it
      for (const t of [from, until + 1, k.revokedAt ?? Number.NEGATIVE_INFINITY]) {
        if (t > this.admittedAt && t < next) next = t;
      }
    }
    return Number.isFinite(next) ? next : undefined;
  }

  /**
   * The certificate (by kid) admitting each named peer id now, as one string that changes when any of them does; the
   * time it is taken at is kept, so that `nextChange` counts every change after it, also one while it is taken.
   */
  private admission(): string {
    this.admittedAt = this.clock();
    return JSON.stringify([...this.peers.keys()].map((peerId) => [peerId, this.peer(peerId)?.kid ?? null]));
  }

  /** Adds a listener of changes (`reload`, `recheck`); the function returned removes it. */
  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  resolveKey = (kid: string): VerificationKey | undefined => this.keys.get(kid);

  /**
   * The key of a receipt from `country` for a message this node sent it: a partner's key as resolveKey finds it, or,
   * for a partner removed since (`gnc partner remove`), the key of its certificate kept as evidence (with its validity
   * and revocations, which opening the receipt applies as for any envelope). The message went while the partner was
   * pinned and its keys trusted; its receipt, which names exactly that envelope (openReceipt), proves the delivery
   * whenever it arrives, so it counts. Nothing else is opened with a removed partner's key.
   */
  receiptKey(kid: string, country: string): VerificationKey | undefined {
    const key = this.keys.get(kid) ?? this.formerKeys.get(kid);
    return key?.country === country ? key : undefined;
  }

  /**
   * The key of an envelope signed by a key this node does not know yet, when that envelope announces the certificate
   * of exactly its own signing key (SPEC sections 4 and 9.10): `certificate` must verify under `country`'s root in
   * office, certify `kid` for `country`, count at `created` (and by this node's clock, within the clock skew) and
   * `kid` must not be revoked by `country` at `created`. Undefined otherwise: the envelope stays refused as an
   * envelope by an unknown key (GNC_KEY_UNKNOWN), whatever else is wrong with it.
   */
  announcedKey(kid: string, certificate: string, country: string, created: number, root = this.rootsOf(country).at(-1)): VerificationKey | undefined {
    if (root === undefined || this.keys.has(kid)) return undefined;
    let key: VerificationKey;
    try {
      const p = verifyNodeCertificate(certificate, root);
      if (p.sub !== kid || p.country !== country) return undefined;
      key = {
        kid, publicKey: publicKeyFromJwk(p.jwk), country, notBefore: Date.parse(p.nbf), notAfter: Date.parse(p.exp),
        revokedAt: this.revocations.get(revocationKey(country, kid)),
      };
    } catch {
      return undefined;
    }
    const counts = created >= key.notBefore && created <= key.notAfter && this.clock() <= validityWindow(key, this.clockSkewMs).until;
    return counts && (key.revokedAt === undefined || created < key.revokedAt) ? key : undefined;
  }

  /**
   * The key of an envelope signed by a key this node does not know yet, when that envelope names a successor root and
   * carries the certificate of exactly its own signing key by that root (SPEC sections 4 and 9.10): `notice` must be a
   * root succession of `country` signed by its root in office, and `certificate` pass announcedKey under the root it
   * names. A partner away through a root succession and the rotation after it learns both from the succession sealed
   * again by its new key: no announcement of that key could go first, as its certificate is by the root the succession
   * names. Undefined otherwise.
   */
  successionKey(kid: string, notice: string, certificate: string, country: string, created: number): VerificationKey | undefined {
    const root = this.rootsOf(country).at(-1);
    if (root === undefined) return undefined;
    let successor: Ed25519PublicJwk;
    try {
      const n = verifyKeyNotice(notice, root, country);
      if (n.kind !== 'root-succession') return undefined;
      successor = n.newRoot;
    } catch {
      return undefined;
    }
    return this.announcedKey(kid, certificate, country, created, successor);
  }

  rootOf(country: string): Ed25519PublicJwk | undefined {
    return this.roots.get(country);
  }

  /** The pinned root of a partner and every successor it named, oldest first (the last is the root in office). */
  rootsOf(country: string): Ed25519PublicJwk[] {
    const pinned = this.roots.get(country);
    return pinned === undefined ? [] : [pinned, ...(this.successors.get(country) ?? [])];
  }

  allRoots(): ReadonlyMap<string, Ed25519PublicJwk> {
    return this.roots;
  }

  /**
   * The root chain of each removed partner, oldest first: trusted for nothing new, only to read the documents stored
   * while it was a partner (its agreements, kept as evidence).
   */
  formerRoots(): Map<string, Ed25519PublicJwk[]> {
    return new Map([...this.former].map(([c, pinned]) => [c, [pinned, ...(this.successors.get(c) ?? [])]]));
  }

  /**
   * The roots of `country` replaced after they were lost, each with the successors it named, oldest first: trusted for
   * nothing new, only to read what was signed under them (agreements, kept as evidence).
   */
  replacedRootsOf(country: string): Ed25519PublicJwk[] {
    return this.replaced.get(country) ?? [];
  }

  /** Every country with a replaced root (`replacedRootsOf`). */
  replacedCountries(): string[] {
    return [...this.replaced.keys()];
  }

  /**
   * A peer id admitted by the gater: named by a partner certificate that counts now and is not revoked (of several,
   * the one valid longest). A certificate counts within its validity widened by the clock skew (validityWindow, the
   * bound envelope opening applies), so a partner's first certificate issued by a clock running ahead of this one's
   * is admitted as its envelopes are; a revocation takes effect at its instant. A newer certificate that has not
   * started yet leaves the one in force counting.
   */
  peer(peerId: string): PeerInfo | undefined {
    const now = this.clock();
    return this.peers.get(peerId)?.find((p) => {
      const k = this.keys.get(p.kid);
      if (k === undefined) return false;
      const { from, until } = validityWindow(k, this.clockSkewMs);
      return now >= from && now <= until && (k.revokedAt === undefined || now < k.revokedAt);
    });
  }

  /**
   * Why `peerId` is not admitted now (`peer` answers undefined), as a clause for the log. `was` is what admitted it
   * before, when known: it tells a certificate that names another peer id now, or a partner no longer pinned.
   */
  refusal(peerId: string, was?: PeerInfo): string {
    const now = this.clock();
    const iso = (t: number): string => new Date(t).toISOString();
    // of the certificates naming it, the one valid longest says why
    const last = this.peers.get(peerId)?.[0];
    const k = last === undefined ? undefined : this.keys.get(last.kid);
    if (k !== undefined) {
      if (k.revokedAt !== undefined && now >= k.revokedAt) {
        return `node key ${k.kid}, whose certificate names this peer id, is revoked from ${iso(k.revokedAt)}`;
      }
      const ended = now > validityWindow(k, this.clockSkewMs).until;
      const when = ended ? `ended at ${iso(k.notAfter)}` : `starts only at ${iso(k.notBefore)}`;
      return `the certificate naming this peer id (node key ${k.kid}) ${when}`;
    }
    if (was !== undefined && !this.roots.has(was.country)) return `${was.country} is no longer a pinned partner`;
    const moved = was === undefined ? undefined : [...this.peers.values()].flat().find((p) => p.kid === was.kid);
    if (moved !== undefined) return `the certificate of node key ${moved.kid} names peer id ${moved.peerId} now`;
    return 'no certificate of a pinned partner names this peer id any more';
  }

  /** The current (latest valid) certified peer of a partner country, for dialing. */
  peerOf(country: string): PeerInfo | undefined {
    let best: PeerInfo | undefined;
    for (const peerId of this.peers.keys()) {
      const p = this.peer(peerId);
      if (!p || p.country !== country) continue;
      if (!best || p.notAfter > best.notAfter) best = p;
    }
    return best;
  }

  isPartner(country: string): boolean {
    return this.roots.has(country);
  }
}
