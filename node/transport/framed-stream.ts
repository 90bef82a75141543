/**
 * Frames over one libp2p 3 stream (event based: no sink/source). Incoming chunks go through the protocol's
 * FrameDecoder, which refuses an oversize frame from its length prefix alone, and a frame begun must complete
 * within FRAME_READ_TIMEOUT_MS (SPEC section 6); outgoing frames respect the stream's back-pressure (send()
 * false -> wait until the buffer has left, reset if the partner takes nothing; an inbound stream also stops
 * reading meanwhile, see holdReadsWhileBlocked). Frames written in the same event-loop turn (the
 * envelopes of one dispatcher pump, the receipts of one group commit) leave in one `send`: one Yamux data
 * frame, one Noise message and one window update for the lot instead of one each per frame (measured by
 * the e2e bench).
 */
import type { Stream } from '@libp2p/interface';
import { Uint8ArrayList } from 'uint8arraylist';
import { encodeFrame, errorFrame, FrameDecoder, type Frame } from '../../protocol/wire.js';
import { GncError, isGncError } from '../../protocol/errors.js';
import { FRAME_READ_TIMEOUT_MS } from '../../protocol/constants.js';

export interface FramedStreamHandlers {
  onFrame(frame: Frame): void;
  onClose(err?: Error): void;
}

/** A partner that reads nothing for this long fails the frames waiting on its stream (they are retried). */
export const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Answers (receipts, error frames) an inbound stream may hold unsent before it stops reading requests: one
 * Yamux stream window (256 KiB), more than the receipts of the 64 requests a partner may keep in flight.
 */
export const HOLD_READS_BYTES = 256 * 1024;

/** How long a closing stream waits for its last bytes to leave and for the partner to close its side. */
const CLOSE_TIMEOUT_MS = 2_000;

/** Time limits of one stream; production defaults unless a test shortens them. */
export interface StreamTimeouts {
  /** A stream that takes no bytes (no Yamux window granted) for this long is reset. */
  drainTimeoutMs?: number;
  /** A frame whose first byte arrived must be complete within this long (SPEC section 6), else reset. */
  frameReadTimeoutMs?: number;
  /**
   * Reset the stream when nothing arrived for this long while `busy()` says no request is outstanding
   * (inbound streams, SPEC section 6). Unset: no idle limit.
   */
  idleTimeoutMs?: number;
}

export interface FramedStreamOptions extends StreamTimeouts {
  /**
   * Requests outstanding on this stream (read, not answered): it is not idle, and when the partner closes its
   * side, this side closes its own only once they are answered (call closeIfDone when one is).
   */
  busy?: () => boolean;
  /**
   * Stop reading while this side's own frames do not leave (the partner takes no bytes, or HOLD_READS_BYTES
   * wait in this turn), and go on once they have: the answers a partner provokes without reading them stay
   * bounded, and it gets no Yamux window for more meanwhile. For inbound streams only: a sender that stopped
   * reading receipts while its requests wait would deadlock with a receiver doing the same.
   */
  holdReadsWhileBlocked?: boolean;
  /** One line per stream this side closes for a fault: framing error, stuck frame, idle, partner not reading. */
  log?: (msg: string) => void;
  /** The partner for log lines: a country code or a peer id, never partner-sent text. */
  peer?: string;
}

export class FramedStream {
  private readonly decoder = new FrameDecoder();
  private closed = false;
  /** An ERROR frame answered a framing error: what still arrives is out of sync and ignored. */
  private failing = false;
  /** Frames waiting for the end of this turn, the promise they all settle with, and who to tell once handed over. */
  private batch: { frames: Uint8ArrayList; handed: (() => void)[]; sent: Promise<void> } | undefined;
  private frameTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Settles when the stream's write buffer is empty again (one wait shared by every batch behind it). */
  private draining: Promise<void> | undefined;
  private readonly drainTimeoutMs: number;
  private readonly frameReadTimeoutMs: number;
  /** The partner closed its side of the stream: it sends nothing more. */
  private remoteClosed = false;
  /** Reading is held (the libp2p stream paused, whole frames left in the decoder) until this side's frames leave. */
  private holding = false;
  /** While fail() waits for the answers to the requests read before a framing error: ends that wait. */
  private answeredAll: (() => void) | undefined;

  constructor(readonly stream: Stream, private readonly handlers: FramedStreamHandlers, private readonly opts: FramedStreamOptions = {}) {
    this.drainTimeoutMs = opts.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
    this.frameReadTimeoutMs = opts.frameReadTimeoutMs ?? FRAME_READ_TIMEOUT_MS;
    stream.addEventListener('message', (evt) => {
      if (this.closed || this.failing) return;
      this.decoder.append(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray());
      this.readFrames();
      this.armIdle();
    });
    stream.addEventListener('close', (evt) => this.finish(evt.error));
    stream.addEventListener('remoteCloseWrite', () => {
      this.remoteClosed = true;
      // after the data of the same Yamux frame (FIN may ride on the last data frame, and is processed first)
      queueMicrotask(() => this.closeIfDone());
    });
    this.armIdle();
  }

  /** Hands the whole frames received to onFrame, until reading has to be held (see holdReadsWhileBlocked). */
  private readFrames(): void {
    if (this.holding) return;
    let completed = false;
    try {
      for (const frame of this.decoder.frames()) {
        completed = true;
        this.handlers.onFrame(frame);
        if (this.closed || this.failing || this.mustHold()) break;
      }
    } catch (err) {
      void this.fail(err);
      return;
    }
    this.watchFrame(completed);
  }

  /** Whether reading must stop now: this side's frames wait for the partner to take them, or too many wait in this turn. */
  private mustHold(): boolean {
    if (!this.opts.holdReadsWhileBlocked) return false;
    if (this.draining === undefined && (this.batch?.frames.byteLength ?? 0) < HOLD_READS_BYTES) return false;
    this.holding = true;
    // a frame cut off by the hold waits for this side, not for the partner: its deadline starts again on resuming
    clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
    try {
      this.stream.pause(); // no window update goes back: the partner can send at most what its window still allows
    } catch {
      /* the read side is closing: nothing more arrives anyway */
    }
    return true;
  }

  /** This side's frames have left: read on, starting with the frames held in the decoder. */
  private resumeReads(): void {
    if (!this.holding || this.closed || this.draining !== undefined || this.batch !== undefined) return;
    this.holding = false;
    try {
      this.stream.resume();
    } catch {
      /* the read side is closing: the frames held are still read below */
    }
    this.readFrames();
  }

  get isOpen(): boolean {
    return !this.closed && this.stream.status === 'open';
  }

  /**
   * Resolves once the frame has left the stream's write buffer (into the muxer); rejects when the stream is
   * closed, or when the partner takes no bytes for DRAIN_TIMEOUT_MS (the stream is then reset, so frames still
   * buffered never reach the partner later). `onHanded` is called when the frame is handed to the stream: from
   * then on the partner may receive it, whether or not this promise resolves.
   */
  write(frame: Frame, onHanded?: () => void): Promise<void> {
    if (!this.isOpen) return Promise.reject(this.unsent(`The exchange stream ${this.describe()} is closed`));
    if (!this.batch) {
      const batch = { frames: new Uint8ArrayList(), handed: [] as (() => void)[], sent: Promise.resolve() };
      batch.sent = new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => this.flush(batch));
      this.batch = batch;
    }
    this.batch.frames.append(encodeFrame(frame));
    if (onHanded) this.batch.handed.push(onHanded);
    return this.batch.sent;
  }

  private async flush(batch: { frames: Uint8ArrayList; handed: (() => void)[] }): Promise<void> {
    if (this.batch === batch) this.batch = undefined;
    if (!this.isOpen) throw this.unsent(`The exchange stream ${this.describe()} is closed`);
    for (const handed of batch.handed) handed();
    if (!this.stream.send(batch.frames) || this.stream.writeBufferLength > 0) {
      const drained = this.drained();
      this.mustHold(); // the partner takes no more bytes now: read no more requests from it until it does
      await drained;
    }
    this.resumeReads();
    this.closeIfDone();
  }

  /**
   * Once the partner has closed its side: close this side when nothing is left to answer. A partner may send its
   * requests and then close its side; closing ours at once would drop the receipts of the requests read before
   * (their messages stored, their receipts never sent). On a stream without `busy` (the sender's) there is nothing
   * to answer, and no receipt comes any more: it closes at once, so the requests waiting fail for a retry on a new
   * stream, instead of new requests going to a stream whose partner reads no more.
   */
  closeIfDone(): void {
    if (this.failing) {
      // fail() waits for the answers to the requests read before the framing error, then sends its ERROR frame
      if (this.opts.busy?.() !== true) this.answeredAll?.();
      return;
    }
    if (!this.remoteClosed || this.closed) return;
    if (this.opts.busy === undefined) {
      this.close(new GncError('GNC_PARTNER_UNREACHABLE', `${this.opts.peer ?? 'the partner'} closed its side of the stream`));
      return;
    }
    if (this.opts.busy() || this.holding || this.batch !== undefined || this.draining !== undefined || this.stream.readBufferLength > 0) return;
    this.close();
  }

  /**
   * Waits until the write buffer is empty. Each window the partner grants (a `drain`) is progress and restarts
   * the clock; a partner that grants none for DRAIN_TIMEOUT_MS is not reading: the stream is reset. (Our own
   * wait on 'drain'/'idle' rather than stream.onDrain(): that promise stays resolved after the first drain.)
   */
  private drained(): Promise<void> {
    if (this.stream.writeBufferLength === 0) return Promise.resolve();
    this.draining ??= new Promise<void>((resolve, reject) => {
      const stream = this.stream;
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: Error): void => {
        clearTimeout(timer);
        stream.removeEventListener('drain', arm);
        stream.removeEventListener('idle', idle);
        stream.removeEventListener('close', closed);
        this.draining = undefined;
        if (err) reject(err);
        else resolve();
      };
      const closedError = (): GncError => this.unsent(`The exchange stream ${this.describe()} closed before the frame was sent`);
      // 'idle' also fires when an abort or the partner's closing its read side discards the buffer
      const idle = (): void => done(this.isOpen ? undefined : closedError());
      const closed = (): void => done(closedError());
      function arm(): void {
        clearTimeout(timer);
        timer = setTimeout(expire, drainTimeoutMs);
      }
      const drainTimeoutMs = this.drainTimeoutMs;
      const expire = (): void => {
        const reason = `the partner read nothing for ${drainTimeoutMs / 1000} s`;
        done(this.unsent(`The exchange stream ${this.describe()} was reset: ${reason}`));
        this.reset(reason);
      };
      stream.addEventListener('drain', arm);
      stream.addEventListener('idle', idle);
      stream.addEventListener('close', closed);
      arm();
    });
    return this.draining;
  }

  /** A frame has started when bytes are held that are not a whole frame: it must complete within the deadline. */
  private watchFrame(completed: boolean): void {
    if (this.decoder.pendingBytes === 0 || this.holding) {
      // nothing begun, or whole frames held back by this side (not the partner's delay): no frame deadline
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    } else if (completed || this.frameTimer === undefined) {
      // a new frame started (after the one just completed, or the first): its own deadline
      clearTimeout(this.frameTimer);
      this.frameTimer = setTimeout(() => this.reset(`a frame was not complete ${this.frameReadTimeoutMs / 1000} s after it began (${this.decoder.pendingBytes} bytes received)`), this.frameReadTimeoutMs);
      this.frameTimer.unref();
    }
  }

  /** Nothing arrived for idleTimeoutMs and nothing is outstanding: free the stream (the sender re-dials when it needs one). */
  private armIdle(): void {
    const ms = this.opts.idleTimeoutMs;
    if (ms === undefined || this.closed) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      // a started frame has its own deadline; answers are due, or wait to leave (then the drain limit applies), or
      // requests wait to be read until they have
      if (this.decoder.pendingBytes > 0 || this.opts.busy?.() || this.holding || this.draining !== undefined) this.armIdle();
      else this.reset(`idle for ${ms / 1000} s with no request outstanding`);
    }, ms);
    this.idleTimer.unref();
  }

  /**
   * Reset (not close): a close would wait for the partner that is stuck (for the bytes it does not take, or
   * for it to close its side), and the stream would stay open and counted meanwhile.
   */
  private reset(reason: string): void {
    if (this.closed) return;
    this.opts.log?.(`reset exchange stream ${this.describe()}: ${reason}`);
    const err = new GncError('GNC_PARTNER_UNREACHABLE', `Stream reset: ${reason}; the message will be retried.`);
    this.stream.abort(err);
    this.finish(err);
  }

  /**
   * Why a frame of this side did not reach the partner, and what follows, in this side's words: a sender's message
   * is retried; a receiver's answer is lost, and the partner sends its envelope again and is answered then (from
   * the message stored, SPEC section 5).
   */
  private unsent(what: string): GncError {
    const peer = this.opts.peer ?? 'the partner';
    const then = this.stream.direction === 'inbound'
      ? `${peer} sends the envelope again and is answered then`
      : 'the message will be retried';
    return new GncError('GNC_PARTNER_UNREACHABLE', `${what}; ${then}.`);
  }

  private describe(): string {
    return `${this.stream.direction === 'inbound' ? 'from' : 'to'} ${this.opts.peer ?? 'partner'}`;
  }

  /**
   * Answer an unreadable or oversize frame with an ERROR frame, then close: the stream is out of sync. Nothing more
   * is read from it, but the requests read before that frame (on an inbound stream, `busy`) are answered first: the
   * receiver may have stored their messages already, and their receipts would otherwise be lost until the partner
   * sends them again (SPEC section 6). That wait holds only what the partner had sent before the bad frame (at most
   * MAX_IN_FLIGHT_PER_PARTNER requests) and ends after the drain limit at the latest, as long as a stream whose
   * answers do not leave is held anyway. The partner gets CLOSE_TIMEOUT_MS to take the frame and close its side;
   * then the stream is reset, so a partner that never closes does not keep it open (and counted against the stream
   * limit).
   */
  async fail(err: unknown): Promise<void> {
    if (this.closed || this.failing) return;
    this.failing = true;
    const code = isGncError(err) ? err.code : 'GNC_ENVELOPE_MALFORMED';
    const message = err instanceof Error ? err.message : String(err);
    // our own decoder's message (bounded, no partner text), never the bytes that caused it
    this.opts.log?.(`closing exchange stream ${this.describe()} after a framing error (${code}): ${message}`);
    this.stopTimers();
    await this.outstandingAnswered();
    if (this.closed) return; // reset or closed by the partner meanwhile: no ERROR frame can leave
    try {
      this.stream.send(encodeFrame(errorFrame(0, code, message)));
      await this.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) });
      if (this.stream.status === 'open') {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the partner did not close its side')), CLOSE_TIMEOUT_MS);
          this.stream.addEventListener('close', () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
      }
    } catch {
      this.stream.abort(err instanceof Error ? err : new Error(message));
    }
    this.finish(err instanceof Error ? err : undefined);
  }

  /**
   * Resolves once the requests read are answered (`busy` says none is outstanding; closeIfDone tells), once the stream
   * has closed, or after drainTimeoutMs, whichever comes first.
   */
  private outstandingAnswered(): Promise<void> {
    if (this.opts.busy?.() !== true) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.stream.removeEventListener('close', done);
        this.answeredAll = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.drainTimeoutMs);
      this.stream.addEventListener('close', done);
      this.answeredAll = done;
    });
  }

  /** Close this side (the partner gets CLOSE_TIMEOUT_MS to take the last bytes, then the stream is reset); `why` goes to onClose. */
  close(why?: Error): void {
    if (this.closed) return;
    void this.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch(() => this.stream.abort(new Error('close timed out')));
    this.finish(why);
  }

  private stopTimers(): void {
    clearTimeout(this.frameTimer);
    clearTimeout(this.idleTimer);
    this.frameTimer = this.idleTimer = undefined;
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.handlers.onClose(err);
  }
}
