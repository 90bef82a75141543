/**
 * The libp2p host: TCP + Noise + Yamux, nothing else (no discovery, no relay, no DHT: partners are known
 * from pinned identities). The connection gater admits only peer ids that a trusted partner's valid,
 * unrevoked certificate names, checked after the Noise handshake proves the peer id; connections open when
 * that changes are closed by ConnectionTrust (connection-trust.ts).
 */
import '../polyfill.js';
import { isIPv6 } from 'node:net';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Connection, MultiaddrConnection, PeerId, PrivateKey } from '@libp2p/interface';
import { MAX_CONNECTIONS_PER_PEER } from '../../protocol/constants.js';
import { GncError } from '../../protocol/errors.js';
import type { TrustIndex } from '../trust.js';
import { oneWritePerMessage } from './one-write.js';

/**
 * Largest Yamux receive window of one stream: libp2p's read buffer limit per stream (4 MiB, twice
 * MAX_FRAME_BYTES). A stream paused by this side (an inbound stream holding its reads while its answers do not
 * leave) then buffers at most what its partner was allowed to send, and is never reset for it; the Yamux default
 * (16 MiB) let a partner overrun the read buffer of a paused stream.
 */
export const MAX_STREAM_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * Inbound connections one remote address (an IPv4 address, or an IPv6 /64: handshakeKey) may have in their handshake
 * at once; a further one is refused before its handshake. The handshake comes before the gater can know the peer:
 * libp2p lets 10 wait at once for all addresses together, 10 s each, so ten silent TCP connections of a stranger shut
 * every partner out, and for as long as it opened them again. Now one address holds at most 4 (a partner needs one, or
 * two when both nodes dial at once), out of MAX_PENDING_HANDSHAKES: a stranger needs 64 IPv4 addresses or IPv6 /64
 * prefixes to take them all.
 */
export const MAX_HANDSHAKES_PER_ADDRESS = 4;

/** Inbound connections in their handshake at once, for all addresses together (libp2p's default: 10). */
export const MAX_PENDING_HANDSHAKES = 256;

export interface TransportOptions {
  privateKey: PrivateKey;
  listen: string[];
  trust: TrustIndex;
  /** Log a refused peer (the gater's decision is security relevant). */
  onRefused?: (peerId: string, direction: 'inbound' | 'outbound') => void;
  /**
   * Log the oldest connection of a peer closed for a newer one: `open` of that peer's connections were open already when
   * the newer one opened (MAX_CONNECTIONS_PER_PEER).
   */
  onConnectionReplaced?: (peerId: string, open: number) => void;
}

export async function createHost(opts: TransportOptions): Promise<Libp2p> {
  const refuse = (direction: 'inbound' | 'outbound') => (peerId: { toString(): string }): boolean => {
    const ok = opts.trust.peer(peerId.toString()) !== undefined;
    if (!ok) opts.onRefused?.(peerId.toString(), direction);
    return !ok;
  };
  /** Inbound connections in their handshake (before the gater has the peer id), per remote address. */
  const handshaking = new Map<string, Set<MultiaddrConnection>>();
  const handshakeOver = (maConn: MultiaddrConnection): void => {
    const address = addressOf(maConn);
    const pending = handshaking.get(address);
    if (pending?.delete(maConn) === true && pending.size === 0) handshaking.delete(address);
  };
  const host = await createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen },
    transports: [tcp()],
    // each Noise message leaves in one socket write, not one per chunk (one-write.ts)
    connectionEncrypters: [oneWritePerMessage(noise())],
    // maxEarlyStreams default 10 resets connections opened with more streams; we use one stream per partner
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW_BYTES } })],
    connectionGater: {
      denyDialPeer: refuse('outbound'),
      denyInboundConnection: (maConn) => {
        const address = addressOf(maConn);
        const pending = handshaking.get(address) ?? new Set<MultiaddrConnection>();
        if (pending.size >= MAX_HANDSHAKES_PER_ADDRESS) return true;
        pending.add(maConn);
        handshaking.set(address, pending);
        // a handshake that fails or times out closes the connection
        maConn.addEventListener('close', () => handshakeOver(maConn), { once: true });
        return false;
      },
      denyInboundEncryptedConnection: (peerId, maConn) => {
        handshakeOver(maConn);
        return refuse('inbound')(peerId);
      },
      denyOutboundEncryptedConnection: refuse('outbound'),
      // partners may sit on private networks (the demo is on loopback): do not filter addresses by range
      denyDialMultiaddr: () => false,
    },
    connectionManager: { maxConnections: 64, maxIncomingPendingConnections: MAX_PENDING_HANDSHAKES },
  });
  // libp2p's limit is for all peers together, and refuses a new connection whoever opens it: one partner that opened
  // 64 shut every other partner out. Each peer id keeps at most MAX_CONNECTIONS_PER_PEER. The newest one stays and that
  // peer's oldest one goes: a partner that rebooted behind a firewall that drops silently left its old connections
  // open here, dead (no FIN or RST came), and closing its new ones instead shut it out until libp2p's ping noticed
  // (10-20 s). libp2p does not tell when a connection last carried anything, so the oldest is the one opened first. Only
  // the peer's own connections go (after Noise proved its peer id and the gater admitted it), so it takes no other
  // partner's room; one that opens connections in a loop only closes its own, at the rate libp2p admits new connections
  // from one address (5 a second) and with its handshakes within MAX_HANDSHAKES_PER_ADDRESS. Streams on a connection
  // closed here end as any reset stream does: the requests in flight on them are sent again (session.ts), on another one
  host.addEventListener('connection:open', (evt) => {
    const opened = evt.detail;
    const peerId = opened.remotePeer;
    const others = openConnections(host, peerId).filter((c) => c.id !== opened.id);
    if (others.length < MAX_CONNECTIONS_PER_PEER) return;
    opts.onConnectionReplaced?.(peerId.toString(), others.length);
    const replaced = new GncError('GNC_PARTNER_UNREACHABLE', `Closed for a newer connection of the same peer: at most ${MAX_CONNECTIONS_PER_PEER} stay open per peer.`);
    for (const c of others.slice(0, others.length - MAX_CONNECTIONS_PER_PEER + 1)) c.abort(replaced);
  });
  return host;
}

/**
 * `peerId`'s open connections, oldest first (by when each opened: libp2p does not tell when one last carried anything).
 * What the per-peer bound closes first, and the newest of them what a partner's session sends on (session.ts).
 */
export function openConnections(host: Libp2p, peerId: PeerId): Connection[] {
  return host.getConnections(peerId).filter((c) => c.status === 'open').sort((a, b) => a.timeline.open - b.timeline.open);
}

/** The key a connection's handshake counts under at its remote address: handshakeKey of its IP address (and zone). */
function addressOf(maConn: MultiaddrConnection): string {
  const components = maConn.remoteAddr.getComponents();
  const ip = components.find((c) => c.name === 'ip4' || c.name === 'ip6')?.value;
  const zone = components.find((c) => c.name === 'ip6zone')?.value;
  if (ip === undefined) return maConn.remoteAddr.toString();
  return handshakeKey(zone === undefined ? ip : `${ip}%${zone}`);
}

/**
 * What MAX_HANDSHAKES_PER_ADDRESS counts as one remote address. An IPv4 address as it is. An IPv6 address by its /64
 * prefix: a single host (or an ISP's single customer) is routinely given a whole /64, 2^64 addresses, which counted one
 * by one would let a stranger take every handshake slot alone; its zone id stays in the key (fe80::/64 is on every
 * link: two interfaces are two links). An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket gives an
 * IPv4 peer) as the IPv4 address. Anything that is not an IP address, as it is.
 */
export function handshakeKey(ip: string): string {
  const at = ip.indexOf('%');
  const bare = at < 0 ? ip : ip.slice(0, at);
  if (!isIPv6(bare)) return ip;
  const g = ipv6Groups(bare);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.');
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64${at < 0 ? '' : ip.slice(at)}`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and a trailing dotted IPv4 part expanded). */
function ipv6Groups(ip: string): number[] {
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  const hex = v4 === null ? ip : `${ip.slice(0, v4.index)}${((Number(v4[1]) << 8) | Number(v4[2])).toString(16)}:${((Number(v4[3]) << 8) | Number(v4[4])).toString(16)}`;
  const [head = '', tail] = hex.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  if (tail === undefined) return groups(head);
  const [h, t] = [groups(head), groups(tail)];
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}
