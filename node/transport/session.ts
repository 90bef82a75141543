/**
 * One long-lived outbound stream per partner, multiplexing requests by id: each envelope goes out as a
 * REQUEST frame and the partner's signed receipt comes back as a RECEIPT frame with the same id. A new stream
 * per message tops out near 1-2k round trips/s; one stream with request ids reached ~8.8k/s
 * (ARCHITECTURE.md). A broken stream fails its pending requests, which the dispatcher retries. The stream is on the
 * partner's newest connection, and moves when a newer one opens (connectionOpened); the requests in flight on a stream
 * so retired move to the newer one if its connection turns out dead, at the probe or later (retire, moveOff).
 */
import type { Libp2p } from 'libp2p';
import type { Connection, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { EXCHANGE_PROTOCOL, MAX_REASON_CHARS } from '../../protocol/constants.js';
import { GncError, isErrorCode, reasonOf } from '../../protocol/errors.js';
import { FRAME_ERROR, FRAME_RECEIPT, FRAME_REQUEST, type Frame } from '../../protocol/wire.js';
import type { PeerInfo } from '../trust.js';
import { FramedStream, type StreamTimeouts } from './framed-stream.js';
import { openConnections } from './libp2p.js';

interface Pending {
  resolve: (receipt: Uint8Array) => void;
  reject: (err: Error) => void;
  /** Armed once the frame has left (a partner that does not read is the drain timeout's, not this one's). */
  timer: NodeJS.Timeout | undefined;
  onWire: ((mayHold: boolean) => void) | undefined;
  /** The stream the request went on: one that closes fails its own requests, not those of a newer stream. */
  on: FramedStream;
  /** The envelope, held (not copied) while in flight: sent again on a newer connection if its stream's turns out dead. */
  envelope: Uint8Array;
  /**
   * Handed to an earlier stream, whose connection did not answer the probe, before it was sent again on this one: the
   * partner may hold it from there, so an error frame here does not say it holds it not (no `onWire(false)`).
   */
  moved: boolean;
}

interface Negotiation {
  peerId: string;
  conn: Connection | undefined;
  /** When the negotiation on `conn` began (Date.now). */
  since: number;
  newer: AbortController;
  /** Ends it for a newer connection once it is NEGOTIATION_GRACE_MS old (connectionOpened). */
  restart: NodeJS.Timeout | undefined;
}

export const DIAL_TIMEOUT_MS = 10_000;
/** How long the partner has to answer a REQUEST once its frame has left this node. */
export const RECEIPT_TIMEOUT_MS = 30_000;
/**
 * How long a connection that a newer one of the partner replaced (connectionOpened) has to answer a protocol
 * negotiation while requests are in flight on it: one that does not is taken for dead (the partner restarted behind a
 * firewall that drops silently) and its requests are sent again on the newer connection, well before libp2p's ping
 * (10-20 s) or the receipt timeout would fail them.
 */
export const RETIRED_PROBE_MS = 2_000;
/**
 * How long a stream negotiation on a connection has before a newer connection of the partner may end it (connectionOpened):
 * a partner that opens connections faster than a negotiation takes (a storm, or a flapping link) would otherwise have it
 * begin again on each, until the dial timeout. A newer connection that opens sooner ends it at that age, if it still
 * waits: at most one new beginning per this time, and a connection that answers within it keeps the negotiation.
 */
export const NEGOTIATION_GRACE_MS = 1_000;
/** What the probe negotiates: libp2p's own ping; a partner that does not serve it answers `na`, which is an answer. */
const PROBE_PROTOCOL = '/ipfs/ping/1.0.0';

export interface PartnerSessionOptions extends StreamTimeouts {
  /** Settles before the first dial (the node's start-up greeting of this partner). */
  before?: Promise<void>;
  receiptTimeoutMs?: number;
  /** Where the stream's own closures (partner not reading, stuck frame, framing error) are logged. */
  log?: (msg: string) => void;
}

/**
 * What a request fails with when its session was closed on purpose (close(): the node stops, or the partner's trust
 * changed and a new session takes over): nothing says the partner cannot be reached, so the dispatcher does not mark it so.
 */
export class SessionClosedError extends GncError {
  constructor(message: string) {
    super('GNC_PARTNER_UNREACHABLE', message);
  }
}

export class PartnerSession {
  private framed: FramedStream | undefined;
  /** The connection `framed` is on. */
  private framedOn: Connection | undefined;
  /** Streams a newer connection replaced that still carry requests in flight: closed once these are answered. */
  private readonly retired = new Set<FramedStream>();
  /** Retired streams that closed while their requests wait for the stream they move to (moveOff): their failed writes fail nothing. */
  private readonly moving = new Set<FramedStream>();
  private opening: Promise<FramedStream> | undefined;
  /**
   * The partner's peer id and the connection dial() negotiates the stream on (none while it dials one), and what ends
   * that for a newer connection (negotiate).
   */
  private negotiating: Negotiation | undefined;
  /** Aborted by close(): ends a stream negotiation under way, whose stream would otherwise outlive the session. */
  private readonly closed = new AbortController();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The peer id and addresses the current stream was dialed with. */
  private dialed: PeerInfo | undefined;

  constructor(
    private readonly host: Libp2p,
    private readonly peer: () => PeerInfo | undefined,
    readonly country: string,
    private readonly opts: PartnerSessionOptions = {},
  ) {}

  /**
   * Sends one envelope and resolves with the partner's receipt. `onWire(true)` is called once the REQUEST frame
   * is handed to the stream (from then on the partner may hold the message, whatever happens to the receipt),
   * and `onWire(false)` if the partner then answers this request with an ERROR frame (it did not process it), unless
   * it was sent again on a newer connection (retire): the copy on the old one may have reached the partner.
   * The returned promise settles only after the write has (so after any `onWire(true)`), and the receipt
   * timeout runs from when the frame has left: a partner that does not read fails the write (DRAIN_TIMEOUT_MS).
   * `onStream()` is called once a stream to the partner is open for the request: a failure after it is no failed dial.
   */
  async request(envelope: Uint8Array, onWire?: (mayHold: boolean) => void, onStream?: () => void): Promise<Uint8Array> {
    let framed = await this.open();
    // retired (closed, nothing in flight on it) by a newer connection between open() and here: the newer one's
    if (!framed.isOpen) framed = await this.open();
    onStream?.();
    const requestId = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const receipt = new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject, timer: undefined, onWire, on: framed, envelope, moved: false });
    });
    // the stream can close, or the partner answer with an error frame, while the write below still waits for
    // the partner to take the bytes: that rejection is returned (and handled) after the write, not lost meanwhile
    receipt.catch(() => undefined);
    await this.send(requestId, framed, envelope, onWire);
    return receipt;
  }

  /** Writes request `requestId` on `framed`, then arms its receipt timer; a failed write fails it, if it is still on `framed`. */
  private async send(requestId: number, framed: FramedStream, envelope: Uint8Array, onWire: ((mayHold: boolean) => void) | undefined): Promise<void> {
    try {
      await framed.write({ kind: FRAME_REQUEST, requestId, payload: envelope }, () => onWire?.(true));
      this.armReceiptTimer(requestId, framed);
    } catch (err) {
      // one moved to a newer stream meanwhile (connectionOpened), or about to be (moveOff), is that stream's now
      if (this.pending.get(requestId)?.on === framed && !this.moving.has(framed)) this.settle(requestId, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private armReceiptTimer(requestId: number, framed: FramedStream): void {
    const p = this.pending.get(requestId);
    if (p?.on !== framed) return; // answered (or failed, or moved to a newer stream) while the write was waiting
    const ms = this.opts.receiptTimeoutMs ?? RECEIPT_TIMEOUT_MS;
    p.timer = setTimeout(() => {
      this.settle(requestId, new GncError('GNC_PARTNER_UNREACHABLE', `No receipt from ${this.country} within ${ms / 1000} s; the message will be retried.`));
    }, ms);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Whether the partner's trusted peer id or addresses changed since this session dialed, or the partner lost
   * trust (no valid certificate): then its stream must go. Other trust changes (a key announced, a revocation,
   * another partner) leave the stream and its requests in flight alone.
   */
  isStale(): boolean {
    if (this.dialed === undefined) return false;
    const now = this.peer();
    return now === undefined || now.peerId !== this.dialed.peerId || now.addrs.join(' ') !== this.dialed.addrs.join(' ');
  }

  /**
   * A connection with the partner's peer id opened (either way: its greeting after a restart, its own dial, or a
   * dial of both nodes at once). New requests go on a stream over the newest connection from now on: the one the
   * current stream is on may be dead, the partner having restarted behind a firewall that drops silently (no FIN or
   * RST came), which only libp2p's ping would find out, 10-20 s later. The current stream is retired: closed at once
   * when nothing is in flight on it; otherwise its connection is probed (RETIRED_PROBE_MS). One that answers keeps
   * its requests until they are answered (both connections alive: nothing is failed or sent twice), then the stream
   * closes; one that does not has its requests sent again, under the same ids, on the newest connection (the partner
   * answers one it holds already with its stored receipt), and the stream is closed. A stream still being negotiated
   * on an older connection is negotiated on the newer one instead (once NEGOTIATION_GRACE_MS old), and so is one waiting
   * for a dial when the partner dials in (negotiate). A retired stream that answered the probe but ends later with
   * requests still in flight has them moved as well (moveOff), instead of failed into the dispatcher's backoff. Called
   * once per connection opened, never per message.
   */
  connectionOpened(conn: Connection): void {
    const n = this.negotiating;
    if (n !== undefined && conn.remotePeer.toString() === n.peerId) {
      // while it dials, only the partner's own dial ends it: a connection this node opened is that dial's (libp2p joins the
      // dials to one peer), and aborting it then would close the connection it just opened
      if (n.conn === undefined) {
        if (conn.direction === 'inbound') n.newer.abort();
      } else if (n.conn.id !== conn.id) {
        n.restart ??= setTimeout(() => n.newer.abort(), n.since + NEGOTIATION_GRACE_MS - Date.now());
      }
    }
    const [framed, on] = [this.framed, this.framedOn];
    if (framed === undefined || on === undefined || on.id === conn.id || conn.remotePeer.toString() !== this.dialed?.peerId) return;
    this.framed = this.framedOn = undefined;
    void this.retire(framed, on);
  }

  private holds(framed: FramedStream): boolean {
    for (const p of this.pending.values()) if (p.on === framed) return true;
    return false;
  }

  private async retire(framed: FramedStream, on: Connection): Promise<void> {
    if (!this.holds(framed)) return framed.close();
    this.retired.add(framed);
    if (await answers(on)) {
      if (!this.holds(framed)) framed.close(); // else the last answer closes it (closeIfRetired)
      return;
    }
    const dead = new GncError('GNC_PARTNER_UNREACHABLE', `The connection with ${this.country} did not answer within ${RETIRED_PROBE_MS} ms, and a newer one is open; the messages in flight on it are sent again on the newer one.`);
    if (!framed.isOpen || !this.holds(framed)) return framed.close(dead);
    let to: FramedStream;
    try {
      to = await this.open();
    } catch (err) {
      // its requests fail, and the dispatcher retries them (not retired any more: its closing does not try to open one again)
      this.retired.delete(framed);
      return framed.close(err instanceof Error ? err : dead);
    }
    this.move(framed, to, dead.message);
    framed.close(dead);
  }

  /**
   * Sends the requests in flight on `from` again on `to`, under the same ids (the partner answers one it holds already
   * with its stored receipt). They count as `moved`: the partner may hold them from `from`, so an error frame on `to`
   * does not say it holds them not.
   */
  private move(from: FramedStream, to: FramedStream, why: string): void {
    let moved = 0;
    for (const [id, p] of this.pending) {
      if (p.on !== from) continue;
      clearTimeout(p.timer);
      p.timer = undefined;
      p.on = to;
      p.moved = true;
      moved++;
      void this.send(id, to, p.envelope, p.onWire);
    }
    // those answered (or failed) while the newer stream opened have nothing to move: no line then
    if (moved > 0) this.opts.log?.(`moved the ${moved} message(s) in flight to ${this.country} to its newer connection: ${why}`);
  }

  /**
   * A retired stream (one whose connection answered the probe) closed with requests in flight: its connection died
   * after the probe, or the partner reset the stream. A newer connection is open, so they move to the stream on it (the
   * current one, or one opened now on the partner's newest connection) rather than failing into the dispatcher's
   * backoff; only without an open connection with the partner (nothing to move to without a dial) are they failed.
   */
  private async moveOff(framed: FramedStream, err: Error | undefined): Promise<void> {
    const why = this.streamClosedError(err);
    const peerId = this.dialed?.peerId;
    if (!this.framed?.isOpen && (peerId === undefined || newestConnection(this.host, peerId) === undefined)) return this.failAll(why, framed);
    this.moving.add(framed);
    let to: FramedStream;
    try {
      to = await this.open();
    } catch {
      return this.failAll(why, framed); // the dispatcher retries them
    } finally {
      this.moving.delete(framed);
    }
    this.move(framed, to, `their stream closed after its connection had answered the probe${err ? ` (${err.message})` : ''}, and a newer connection is open.`);
  }

  /** After a request on `framed` is answered: a retired stream closes with its last one. */
  private closeIfRetired(framed: FramedStream): void {
    if (this.retired.size > 0 && this.retired.has(framed) && !this.holds(framed)) framed.close();
  }

  close(): void {
    this.closed.abort(this.closedError());
    // before the streams close: their closing would fail the requests as a stream's failure, not the session's
    this.failAll(this.closedError());
    this.framed?.close();
    for (const r of this.retired) r.close();
  }

  private closedError(): SessionClosedError {
    return new SessionClosedError(`The session with ${this.country} closed (the node is shutting down, or the partner's trust changed); the message stays queued and is sent again on a new one.`);
  }

  private streamClosedError(err: Error | undefined): GncError {
    return new GncError('GNC_PARTNER_UNREACHABLE', `Stream to ${this.country} closed${err ? `: ${err.message}` : ''}; the message will be retried.`);
  }

  private async open(): Promise<FramedStream> {
    if (this.framed?.isOpen) return this.framed;
    this.opening ??= this.dial().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async dial(): Promise<FramedStream> {
    await this.opts.before;
    if (this.closed.signal.aborted) throw this.closedError();
    const peer = this.peer();
    if (!peer) throw new GncError('GNC_PEER_NOT_TRUSTED', `No valid certificate for ${this.country}: add or renew the partner with \`gnc partner add\`.`);
    const addrs = peer.addrs.map((a) => multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${peer.peerId}`));
    if (addrs.length === 0) throw new GncError('GNC_PARTNER_UNREACHABLE', `${this.country}'s certificate names no address to dial.`);
    let conn: Connection;
    let stream: Stream;
    try {
      [conn, stream] = await this.negotiate(peer.peerId, addrs, AbortSignal.any([AbortSignal.timeout(DIAL_TIMEOUT_MS), this.closed.signal]));
    } catch (err) {
      if (this.closed.signal.aborted) throw this.closedError();
      // its node answered, but not this protocol: not a network fault for the operator to look for
      if ((err as Error).name === 'UnsupportedProtocolError') {
        throw new GncError('GNC_PARTNER_UNREACHABLE', `${this.country}'s node at ${peer.addrs.join(', ')} answered but does not speak ${EXCHANGE_PROTOCOL}: it runs another version of the exchange protocol (or is no GNC node). Ask ${this.country} which version it runs; the message will be retried.`, { cause: err });
      }
      throw new GncError('GNC_PARTNER_UNREACHABLE', `Cannot reach ${this.country} at ${peer.addrs.join(', ')}: ${reasonOf(err)}. The message will be retried.`, { cause: err });
    }
    // negotiated after all, once close() came: libp2p's last steps after the partner's answer do not look at the signal
    if (this.closed.signal.aborted) {
      stream.abort(this.closedError());
      throw this.closedError();
    }
    this.dialed = peer;
    const framed = new FramedStream(stream, {
      onFrame: (f) => this.onFrame(f, framed),
      onClose: (err) => {
        if (this.framed === framed) this.framed = this.framedOn = undefined;
        // a closed session moves nothing (close() fails what is in flight)
        if (this.retired.delete(framed) && this.holds(framed) && !this.closed.signal.aborted) void this.moveOff(framed, err);
        else this.failAll(this.streamClosedError(err), framed);
      },
    }, { drainTimeoutMs: this.opts.drainTimeoutMs, frameReadTimeoutMs: this.opts.frameReadTimeoutMs, log: this.opts.log, peer: this.country });
    this.framed = framed;
    this.framedOn = conn;
    return framed;
  }

  /**
   * A stream of the exchange protocol on the partner's newest open connection (libp2p's dial, and dialProtocol, would
   * reuse its oldest, which may be dead), or on a new one. A newer connection that opens while the negotiation waits
   * (connectionOpened) ends it, and the stream is opened on that one: the connection that does not answer may be dead,
   * and would hold the partner's messages until `signal` (DIAL_TIMEOUT_MS). So does one that opens while the dial
   * waits (the partner dialed this node meanwhile): the dial may go to an address that drops silently, and libp2p's
   * dial does not look at the connections that open while it waits. Once per connection opened meanwhile, within that
   * one `signal`, and on a connection at most once per NEGOTIATION_GRACE_MS.
   */
  private async negotiate(peerId: string, addrs: Multiaddr[], signal: AbortSignal): Promise<[Connection, Stream]> {
    for (;;) {
      const n: Negotiation = { peerId, conn: newestConnection(this.host, peerId), since: Date.now(), newer: new AbortController(), restart: undefined };
      this.negotiating = n;
      try {
        const either = AbortSignal.any([signal, n.newer.signal]);
        if (n.conn === undefined) {
          n.conn = await this.host.dial(addrs, { signal: either });
          n.since = Date.now();
        }
        return [n.conn, await n.conn.newStream(EXCHANGE_PROTOCOL, { signal: either })];
      } catch (err) {
        if (!n.newer.signal.aborted || signal.aborted) throw err;
      } finally {
        clearTimeout(n.restart);
        this.negotiating = undefined;
      }
    }
  }

  private onFrame(frame: Frame, framed: FramedStream): void {
    if (frame.kind === FRAME_REQUEST) {
      // requests go the other way on a stream this node opened: the partner mixed its streams up, so this one is out
      // of sync (SPEC section 6), as the receiving side treats a RECEIPT or ERROR frame on the partner's stream. Ignored,
      // it would leave the messages in flight here waiting for the receipt timeout and the partner without an answer:
      // they are failed now and retried on a new stream, and fail() sends the ERROR frame and logs one line (no content)
      const err = new GncError('GNC_ENVELOPE_MALFORMED', `${this.country} sent a REQUEST frame on an exchange stream this node opened, which carries only its receipts and error frames back (requests come on streams the partner opens): the stream is out of sync and closed; the messages in flight on it are sent again on a new stream.`);
      // no request goes on it meanwhile: the next one opens a new stream while this one sends its ERROR frame and closes
      if (this.framed === framed) this.framed = this.framedOn = undefined;
      this.failAll(err, framed);
      void framed.fail(err);
      return;
    }
    if (frame.kind === FRAME_RECEIPT) {
      const p = this.pending.get(frame.requestId);
      if (!p) return; // late receipt after a timeout: the retry will get the same receipt again
      this.pending.delete(frame.requestId);
      clearTimeout(p.timer);
      p.resolve(new Uint8Array(frame.payload));
      this.closeIfRetired(p.on);
    } else if (frame.kind === FRAME_ERROR) {
      let code: string = 'GNC_ENVELOPE_MALFORMED';
      let message = 'partner refused the frame';
      try {
        const e = JSON.parse(new TextDecoder().decode(frame.payload)) as { code?: unknown; message?: unknown };
        if (typeof e.code === 'string') code = e.code;
        // partner text goes into the message's error and the log: a string, and bounded like a receipt's reason
        if (typeof e.message === 'string') message = e.message.slice(0, MAX_REASON_CHARS);
      } catch {
        /* keep defaults */
      }
      const err = new GncError(isErrorCode(code) ? code : 'GNC_ENVELOPE_MALFORMED', `${this.country} answered with an error frame: ${message}`);
      // request id 0: the partner could not read this stream, which is out of sync. The sender closes it (SPEC
      // section 6), so the retries go on a new stream; kept open, they would go to a stream the partner no longer
      // reads and wait for the receipt timeout
      if (frame.requestId === 0) {
        this.failAll(err, framed);
        framed.close(err);
      } else {
        const p = this.pending.get(frame.requestId);
        if (p?.moved === false) p.onWire?.(false);
        this.settle(frame.requestId, err);
      }
    }
  }

  private settle(id: number, err: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.reject(err);
    this.closeIfRetired(p.on);
  }

  /** Fails the requests in flight on `on` (a stream that closed: those on a newer stream of this session go on), or all. */
  private failAll(err: Error, on?: FramedStream): void {
    for (const [id, p] of [...this.pending]) if (on === undefined || p.on === on) this.settle(id, err);
  }
}

/** The partner's open connection opened last, if any: one look at its few connections, per stream opened (not per message). */
function newestConnection(host: Libp2p, peerId: string): Connection | undefined {
  return openConnections(host, peerIdFromString(peerId)).at(-1);
}

/** Whether `conn` answers a protocol negotiation within RETIRED_PROBE_MS (a refusal of the protocol is an answer). */
async function answers(conn: Connection): Promise<boolean> {
  try {
    const probe = await conn.newStream(PROBE_PROTOCOL, { signal: AbortSignal.timeout(RETIRED_PROBE_MS) });
    probe.abort(new Error('probe answered'));
    return true;
  } catch (err) {
    return (err as Error).name === 'UnsupportedProtocolError';
  }
}
