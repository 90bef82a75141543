/**
 * In-memory index of what this node trusts, rebuilt from the store whenever a partner, certificate or
 * revocation changes: node keys by `kid` (for opening envelopes and receipts), and certified libp2p peer ids
 * (for the connection gater). Only certificates that verified under a pinned root ever enter the store.
 */
import { publicKeyFromJwk, type Ed25519PublicJwk } from '../protocol/jwk.js';
import { decodeNodeCertificate } from '../protocol/certificate.js';
import { DEFAULT_CLOCK_SKEW_MS } from '../protocol/constants.js';
import { validityWindow, type VerificationKey } from '../protocol/envelope/open.js';
import { KeyNoticeRepo } from './store/key-notices.js';
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

export class TrustIndex {
  private keys = new Map<string, VerificationKey>();
  /**
   * Every certificate naming a peer id, latest end first: which one counts is decided at the time of asking, since
   * a newer one may not have started yet (a partner's clock ahead of this one's) while the older one is in force.
   */
  private peers = new Map<string, PeerInfo[]>();
  private roots = new Map<string, Ed25519PublicJwk>();
  /** Roots named by root-succession notices (verified before they were stored), by country, in order. */
  private successors = new Map<string, Ed25519PublicJwk[]>();
  private listeners: (() => void)[] = [];
  private fingerprint = '';

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
    for (const p of this.store.partners.list()) roots.set(p.country, JSON.parse(p.root_jwk) as Ed25519PublicJwk);
    const notices = new KeyNoticeRepo(this.store.db).list();
    const successors = new Map<string, Ed25519PublicJwk[]>();
    /** Earliest revocation instant by country and kid (`revocationKey`): a root revokes only its own country's keys. */
    const revokedAt = new Map<string, number>();
    for (const n of notices) {
      if (n.kind === 'revocation') {
        const k = revocationKey(n.country, n.subject);
        revokedAt.set(k, Math.min(n.at, revokedAt.get(k) ?? Number.POSITIVE_INFINITY));
      }
      else if (roots.has(n.country)) {
        const payload = JSON.parse(Buffer.from(n.compact.split('.')[1]!, 'base64url').toString('utf8')) as { newRoot: Ed25519PublicJwk };
        successors.set(n.country, [...(successors.get(n.country) ?? []), payload.newRoot]);
      }
    }
    for (const c of this.store.partners.certificates()) {
      if (!roots.has(c.country)) continue;
      const payload = decodeNodeCertificate(c.compact);
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
      keys.set(c.kid, {
        kid: c.kid,
        publicKey,
        country: c.country,
        notBefore: c.not_before,
        notAfter: c.not_after,
        revokedAt: Number.isFinite(revoked) ? revoked : undefined,
      });
      const named = peers.get(c.peer_id) ?? [];
      named.push({ country: c.country, peerId: c.peer_id, addrs: payload.addrs, kid: c.kid, notAfter: c.not_after });
      peers.set(c.peer_id, named);
    }
    for (const named of peers.values()) named.sort((a, b) => b.notAfter - a.notAfter);
    const fingerprint = JSON.stringify([[...roots.entries()], [...successors.entries()], [...keys.values()].map((k) => [k.kid, k.notAfter, k.revokedAt ?? null]), [...peers.entries()]]);
    this.keys = keys;
    this.peers = peers;
    this.roots = roots;
    this.successors = successors;
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  resolveKey = (kid: string): VerificationKey | undefined => this.keys.get(kid);

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
