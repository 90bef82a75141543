/**
 * One long-lived outbound stream per partner, multiplexing requests by id: each envelope goes out as a
 * REQUEST frame and the partner's signed receipt comes back as a RECEIPT frame with the same id. A new stream
 * per message tops out near 1-2k round trips/s; one stream with request ids reached ~8.8k/s
 * (ARCHITECTURE.md). A broken stream fails its pending requests, which the dispatcher retries.
 */
import type { Libp2p } from 'libp2p';
import { multiaddr } from '@multiformats/multiaddr';
import { EXCHANGE_PROTOCOL, MAX_REASON_CHARS } from '../../protocol/constants.js';
import { GncError, isErrorCode } from '../../protocol/errors.js';
import { FRAME_ERROR, FRAME_RECEIPT, FRAME_REQUEST, type Frame } from '../../protocol/wire.js';
import type { PeerInfo } from '../trust.js';
import { FramedStream, type StreamTimeouts } from './framed-stream.js';

interface Pending {
  resolve: (receipt: Uint8Array) => void;
  reject: (err: Error) => void;
  /** Armed once the frame has left (a partner that does not read is the drain timeout's, not this one's). */
  timer: NodeJS.Timeout | undefined;
  onWire: ((mayHold: boolean) => void) | undefined;
  /** The stream the request went on: one that closes fails its own requests, not those of a newer stream. */
  on: FramedStream;
}

export const DIAL_TIMEOUT_MS = 10_000;
/** How long the partner has to answer a REQUEST once its frame has left this node. */
export const RECEIPT_TIMEOUT_MS = 30_000;

export interface PartnerSessionOptions extends StreamTimeouts {
  /** Settles before the first dial (the node's start-up greeting of this partner). */
  before?: Promise<void>;
  receiptTimeoutMs?: number;
  /** Where the stream's own closures (partner not reading, stuck frame, framing error) are logged. */
  log?: (msg: string) => void;
}

export class PartnerSession {
  private framed: FramedStream | undefined;
  private opening: Promise<FramedStream> | undefined;
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
   * and `onWire(false)` if the partner then answers this request with an ERROR frame (it did not process it).
   * The returned promise settles only after the write has (so after any `onWire(true)`), and the receipt
   * timeout runs from when the frame has left: a partner that does not read fails the write (DRAIN_TIMEOUT_MS).
   * `onStream()` is called once a stream to the partner is open for the request: a failure after it is no failed dial.
   */
  async request(envelope: Uint8Array, onWire?: (mayHold: boolean) => void, onStream?: () => void): Promise<Uint8Array> {
    const framed = await this.open();
    onStream?.();
    const requestId = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const receipt = new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject, timer: undefined, onWire, on: framed });
    });
    // the stream can close, or the partner answer with an error frame, while the write below still waits for
    // the partner to take the bytes: that rejection is returned (and handled) after the write, not lost meanwhile
    receipt.catch(() => undefined);
    try {
      await framed.write({ kind: FRAME_REQUEST, requestId, payload: envelope }, () => onWire?.(true));
      this.armReceiptTimer(requestId);
    } catch (err) {
      this.settle(requestId, err instanceof Error ? err : new Error(String(err)));
    }
    return receipt;
  }

  private armReceiptTimer(requestId: number): void {
    const p = this.pending.get(requestId);
    if (!p) return; // answered (or failed) while the write was waiting
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

  close(): void {
    this.framed?.close();
    this.failAll(new GncError('GNC_PARTNER_UNREACHABLE', 'Node is shutting down; the message stays queued.'));
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
    const peer = this.peer();
    if (!peer) throw new GncError('GNC_PEER_NOT_TRUSTED', `No valid certificate for ${this.country}: add or renew the partner with \`gnc partner add\`.`);
    const addrs = peer.addrs.map((a) => multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${peer.peerId}`));
    if (addrs.length === 0) throw new GncError('GNC_PARTNER_UNREACHABLE', `${this.country}'s certificate names no address to dial.`);
    let stream;
    try {
      stream = await this.host.dialProtocol(addrs, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
    } catch (err) {
      throw new GncError('GNC_PARTNER_UNREACHABLE', `Cannot reach ${this.country} at ${peer.addrs.join(', ')}: ${(err as Error).message}. The message will be retried.`, { cause: err });
    }
    this.dialed = peer;
    const framed = new FramedStream(stream, {
      onFrame: (f) => this.onFrame(f, framed),
      onClose: (err) => {
        if (this.framed === framed) this.framed = undefined;
        this.failAll(new GncError('GNC_PARTNER_UNREACHABLE', `Stream to ${this.country} closed${err ? `: ${err.message}` : ''}; the message will be retried.`), framed);
      },
    }, { drainTimeoutMs: this.opts.drainTimeoutMs, frameReadTimeoutMs: this.opts.frameReadTimeoutMs, log: this.opts.log, peer: this.country });
    this.framed = framed;
    return framed;
  }

  private onFrame(frame: Frame, framed: FramedStream): void {
    if (frame.kind === FRAME_REQUEST) {
      // requests go the other way on a stream this node opened: the partner mixed its streams up, so this one is out
      // of sync (SPEC section 6), as the receiving side treats a RECEIPT or ERROR frame on the partner's stream. Ignored,
      // it would leave the messages in flight here waiting for the receipt timeout and the partner without an answer:
      // they are failed now and retried on a new stream, and fail() sends the ERROR frame and logs one line (no content)
      const err = new GncError('GNC_ENVELOPE_MALFORMED', `${this.country} sent a REQUEST frame on an exchange stream this node opened, which carries only its receipts and error frames back (requests come on streams the partner opens): the stream is out of sync and closed; the messages in flight on it are sent again on a new stream.`);
      // no request goes on it meanwhile: the next one opens a new stream while this one sends its ERROR frame and closes
      if (this.framed === framed) this.framed = undefined;
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
        this.pending.get(frame.requestId)?.onWire?.(false);
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
  }

  /** Fails the requests in flight on `on` (a stream that closed: those on a newer stream of this session go on), or all. */
  private failAll(err: Error, on?: FramedStream): void {
    for (const [id, p] of [...this.pending]) if (on === undefined || p.on === on) this.settle(id, err);
  }
}
