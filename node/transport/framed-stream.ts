/**
 * Frames over one libp2p 3 stream (event based: no sink/source). Incoming chunks go through the protocol's
 * FrameDecoder, which refuses an oversize frame from its length prefix alone; outgoing frames respect the
 * stream's back-pressure (send() false -> wait for drain). Frames written in the same event-loop turn (the
 * envelopes of one dispatcher pump, the receipts of one group commit) leave in one `send`: one Yamux data
 * frame, one Noise message and one window update for the lot instead of one each per frame (measured by
 * the e2e bench).
 */
import type { Stream } from '@libp2p/interface';
import { Uint8ArrayList } from 'uint8arraylist';
import { encodeFrame, errorFrame, FrameDecoder, type Frame } from '../../protocol/wire.js';
import { GncError, isGncError } from '../../protocol/errors.js';

export interface FramedStreamHandlers {
  onFrame(frame: Frame): void;
  onClose(err?: Error): void;
}

/** A partner that reads nothing for this long fails the frames waiting on its stream (they are retried). */
export const DRAIN_TIMEOUT_MS = 30_000;

export class FramedStream {
  private readonly decoder = new FrameDecoder();
  private closed = false;
  /** Frames waiting for the end of this turn, and the promise they all settle with. */
  private batch: { frames: Uint8ArrayList; sent: Promise<void> } | undefined;

  constructor(readonly stream: Stream, private readonly handlers: FramedStreamHandlers) {
    stream.addEventListener('message', (evt) => {
      if (this.closed) return;
      const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
      try {
        for (const frame of this.decoder.push(data)) handlers.onFrame(frame);
      } catch (err) {
        void this.fail(err);
      }
    });
    stream.addEventListener('close', (evt) => this.finish(evt.error));
    stream.addEventListener('remoteCloseWrite', () => {
      void stream.close().catch(() => undefined);
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.stream.status === 'open';
  }

  /**
   * Resolves once the frame is handed to the stream (after a drain if the stream pushed back); rejects when
   * the stream is closed or stays full for DRAIN_TIMEOUT_MS.
   */
  write(frame: Frame): Promise<void> {
    if (!this.isOpen) return Promise.reject(new GncError('GNC_PARTNER_UNREACHABLE', 'The stream to the partner is closed; the message will be retried.'));
    if (!this.batch) {
      const frames = new Uint8ArrayList();
      const sent = new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => this.flush(frames));
      this.batch = { frames, sent };
    }
    this.batch.frames.append(encodeFrame(frame));
    return this.batch.sent;
  }

  private async flush(frames: Uint8ArrayList): Promise<void> {
    this.batch = undefined;
    if (!this.isOpen) throw new GncError('GNC_PARTNER_UNREACHABLE', 'The stream to the partner is closed; the message will be retried.');
    if (!this.stream.send(frames)) await this.stream.onDrain({ signal: AbortSignal.timeout(DRAIN_TIMEOUT_MS) });
  }

  /** Answer an unreadable or oversize frame with an ERROR frame, then close: the stream is out of sync. */
  async fail(err: unknown): Promise<void> {
    if (this.closed) return;
    const code = isGncError(err) ? err.code : 'GNC_ENVELOPE_MALFORMED';
    const message = err instanceof Error ? err.message : String(err);
    try {
      this.stream.send(encodeFrame(errorFrame(0, code, message)));
      await this.stream.close({ signal: AbortSignal.timeout(2000) });
    } catch {
      this.stream.abort(err instanceof Error ? err : new Error(message));
    }
    this.finish(err instanceof Error ? err : undefined);
  }

  close(): void {
    if (this.closed) return;
    void this.stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => this.stream.abort(new Error('close timed out')));
    this.finish();
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(err);
  }
}
