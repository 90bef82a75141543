/**
 * One long-lived outbound stream per partner, multiplexing requests by id: each envelope goes out as a
 * REQUEST frame and the partner's signed receipt comes back as a RECEIPT frame with the same id. A new stream
 * per message tops out near 1-2k round trips/s; one stream with request ids reached ~8.8k/s
 * (ARCHITECTURE.md). A broken stream fails its pending requests, which the dispatcher retries.
 */
import type { Libp2p } from 'libp2p';
import { multiaddr } from '@multiformats/multiaddr';
import { EXCHANGE_PROTOCOL } from '../../protocol/constants.js';
import { GncError, isErrorCode } from '../../protocol/errors.js';
import { FRAME_ERROR, FRAME_RECEIPT, FRAME_REQUEST, type Frame } from '../../protocol/wire.js';
import type { PeerInfo } from '../trust.js';
import { FramedStream } from './framed-stream.js';

interface Pending {
  resolve: (receipt: Uint8Array) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  onWire: ((mayHold: boolean) => void) | undefined;
}

export const DIAL_TIMEOUT_MS = 10_000;
export const RECEIPT_TIMEOUT_MS = 30_000;

export class PartnerSession {
  private framed: FramedStream | undefined;
  private opening: Promise<FramedStream> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly host: Libp2p,
    private readonly peer: () => PeerInfo | undefined,
    readonly country: string,
    /** Settles before the first dial (the node's start-up greeting of this partner). */
    private readonly before?: Promise<void>,
  ) {}

  /**
   * Sends one envelope and resolves with the partner's receipt. `onWire(true)` is called once the REQUEST frame
   * is written (from then on the partner may hold the message, whatever happens to the receipt), and
   * `onWire(false)` if the partner then answers this request with an ERROR frame (it did not process it).
   */
  async request(envelope: Uint8Array, onWire?: (mayHold: boolean) => void): Promise<Uint8Array> {
    const framed = await this.open();
    const requestId = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const result = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new GncError('GNC_PARTNER_UNREACHABLE', `No receipt from ${this.country} within ${RECEIPT_TIMEOUT_MS / 1000} s; the message will be retried.`));
      }, RECEIPT_TIMEOUT_MS);
      this.pending.set(requestId, { resolve, reject, timer, onWire });
    });
    try {
      await framed.write({ kind: FRAME_REQUEST, requestId, payload: envelope });
      onWire?.(true);
    } catch (err) {
      this.settle(requestId, err instanceof Error ? err : new Error(String(err)));
    }
    return result;
  }

  get inFlight(): number {
    return this.pending.size;
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
    await this.before;
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
    const framed = new FramedStream(stream, {
      onFrame: (f) => this.onFrame(f),
      onClose: (err) => {
        if (this.framed === framed) this.framed = undefined;
        this.failAll(new GncError('GNC_PARTNER_UNREACHABLE', `Stream to ${this.country} closed${err ? `: ${err.message}` : ''}; the message will be retried.`));
      },
    });
    this.framed = framed;
    return framed;
  }

  private onFrame(frame: Frame): void {
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
        const e = JSON.parse(new TextDecoder().decode(frame.payload)) as { code?: string; message?: string };
        code = e.code ?? code;
        message = e.message ?? message;
      } catch {
        /* keep defaults */
      }
      const err = new GncError(isErrorCode(code) ? code : 'GNC_ENVELOPE_MALFORMED', `${this.country} answered with an error frame: ${message}`);
      if (frame.requestId === 0) this.failAll(err);
      else {
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

  private failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }
}
