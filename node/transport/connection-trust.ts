/**
 * Trust changes reach open connections. The connection gater decides once, at the handshake; a connection stays
 * open as long as its peer id is admitted (SPEC section 6): when no certificate of a pinned partner counts for it
 * any more (a revocation takes effect, the certificate ends, a certificate of the same key names another peer id,
 * the partner is no longer pinned), every connection of that peer id is closed at once, with one log line naming
 * the partner, the peer id and why. The trust index tells of changes in the store; this part also wakes at the next
 * instant the passing of time changes an admission (TrustIndex.nextChange), so a certificate that ends while the
 * node runs closes its connections then. Agreements do not govern connections: control envelopes need none.
 */
import type { Libp2p } from 'libp2p';
import type { Connection } from '@libp2p/interface';
import { GncError } from '../../protocol/errors.js';
import type { Logger } from '../log.js';
import type { PeerInfo, TrustIndex } from '../trust.js';

/**
 * The longest this part sleeps between looks at the clock: the next certificate start or end, or revocation, is
 * timed exactly, and this bounds how late one is seen after the wall clock jumps (timers run on the monotonic
 * clock); it also stays below setTimeout's limit of 2^31 - 1 ms (24.8 days), which a year's validity exceeds.
 */
export const TRUST_RECHECK_MAX_MS = 60_000;

export interface ConnectionTrustOptions {
  host: Libp2p;
  trust: TrustIndex;
  /** The trust index's clock (`nextChange` is on it). */
  clock: () => number;
  log: Logger;
}

export class ConnectionTrust {
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** What admitted each connected peer id: the partner named when its connections close. */
  private readonly admittedAs = new Map<string, PeerInfo>();

  constructor(private readonly d: ConnectionTrustOptions) {}

  private readonly onOpen = (evt: CustomEvent<Connection>): void => {
    // a trust change during the handshake, after the gater admitted the peer, finds no connection to close yet
    const peerId = evt.detail.remotePeer.toString();
    const peer = this.d.trust.peer(peerId);
    if (peer !== undefined) this.admittedAs.set(peerId, peer);
    else this.close(peerId, [evt.detail]);
  };

  private readonly onDisconnect = (evt: CustomEvent<{ toString(): string }>): void => {
    this.admittedAs.delete(evt.detail.toString());
  };

  start(): void {
    this.unsubscribe = this.d.trust.onChange(() => this.enforce());
    this.d.host.addEventListener('connection:open', this.onOpen);
    this.d.host.addEventListener('peer:disconnect', this.onDisconnect);
    this.enforce();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.d.host.removeEventListener('connection:open', this.onOpen);
    this.d.host.removeEventListener('peer:disconnect', this.onDisconnect);
  }

  /** Closes the connections of every peer id the trust index no longer admits, then waits for the next change. */
  enforce(): void {
    if (this.unsubscribe === undefined) return;
    const byPeer = new Map<string, Connection[]>();
    for (const c of this.d.host.getConnections()) {
      const peerId = c.remotePeer.toString();
      byPeer.set(peerId, [...(byPeer.get(peerId) ?? []), c]);
    }
    for (const [peerId, connections] of byPeer) {
      const peer = this.d.trust.peer(peerId);
      if (peer !== undefined) this.admittedAs.set(peerId, peer);
      else this.close(peerId, connections);
    }
    this.arm();
  }

  private close(peerId: string, connections: Connection[]): void {
    const was = this.admittedAs.get(peerId);
    this.admittedAs.delete(peerId);
    const reason = this.d.trust.refusal(peerId, was);
    const message = `Peer ${peerId} is no longer named by a valid certificate of a trusted partner: ${reason}.`;
    for (const c of connections) c.abort(new GncError('GNC_PEER_NOT_TRUSTED', message));
    const what = connections.length === 1 ? 'the connection' : `${connections.length} connections`;
    const whose = was === undefined ? '' : `${was.country}'s `;
    this.d.log(`closed ${what} to ${whose}peer ${peerId}: ${reason}`, { partner: was?.country ?? null, peerId });
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.unsubscribe === undefined) return; // stopped
    const next = this.d.trust.nextChange();
    const wait = next === undefined ? TRUST_RECHECK_MAX_MS : Math.max(next - this.d.clock(), 1);
    const delay = Math.min(wait, TRUST_RECHECK_MAX_MS);
    this.timer = setTimeout(() => {
      // the index tells its listeners (this part among them, and the partner sessions) if an admission changed
      try {
        this.d.trust.recheck();
      } catch (err) {
        this.d.log('could not re-check trust', { error: (err as Error).message });
      }
      this.arm();
    }, delay);
    this.timer.unref();
  }
}
