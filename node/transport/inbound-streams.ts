/**
 * Serves `/gnc/exchange/1.0.0` streams opened by partners: every REQUEST frame is handed to the receiver and
 * answered with a RECEIPT frame carrying the same request id, on the same stream (or, when this node fails
 * itself, an ERROR frame with that request id, and the stream stays open). The gater already refused
 * unknown peers; the handler re-checks, because a certificate can be revoked while a connection is open.
 */
import type { Libp2p } from 'libp2p';
import type { Connection, Stream } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL, MAX_IN_FLIGHT_PER_PARTNER } from '../../protocol/constants.js';
import { GncError, isGncError } from '../../protocol/errors.js';
import { errorFrame, FRAME_RECEIPT, FRAME_REQUEST } from '../../protocol/wire.js';
import type { TrustIndex } from '../trust.js';
import { FramedStream } from './framed-stream.js';

export interface EnvelopeHandler {
  handle(bytes: Uint8Array, peerCountry: string): Promise<Uint8Array>;
}

export async function serveExchange(host: Libp2p, trust: TrustIndex, handler: EnvelopeHandler, log: (msg: string) => void): Promise<void> {
  await host.handle(
    EXCHANGE_PROTOCOL,
    (stream: Stream, connection: Connection) => {
      const peerId = connection.remotePeer.toString();
      const peer = trust.peer(peerId);
      if (!peer) {
        log(`refused stream from untrusted peer ${peerId}`);
        const framed = new FramedStream(stream, { onFrame: () => undefined, onClose: () => undefined });
        void framed.fail(new GncError('GNC_PEER_NOT_TRUSTED', `Peer ${peerId} is not named by a valid certificate of a trusted partner.`));
        return;
      }
      // requests read but not answered yet: a partner keeps at most MAX_IN_FLIGHT_PER_PARTNER on its stream
      // (SPEC section 6); one that sends more gets the excess back unprocessed, so it cannot pile work up here
      let unanswered = 0;
      let warned = false;
      const framed: FramedStream = new FramedStream(stream, {
        onFrame: (frame) => {
          if (frame.kind !== FRAME_REQUEST) return;
          if (unanswered >= MAX_IN_FLIGHT_PER_PARTNER) {
            if (!warned) log(`${peer.country} sent more than ${MAX_IN_FLIGHT_PER_PARTNER} requests in flight on one stream; the excess is refused with GNC_TOO_MANY_IN_FLIGHT`);
            warned = true;
            const message = `More than ${MAX_IN_FLIGHT_PER_PARTNER} requests in flight on one stream: this one was not processed; wait for receipts before sending more, then send it again.`;
            framed.write(errorFrame(frame.requestId, 'GNC_TOO_MANY_IN_FLIGHT', message)).catch(() => undefined);
            return;
          }
          unanswered++;
          const payload = frame.payload;
          handler
            .handle(payload, peer.country)
            .finally(() => unanswered--)
            .then(
              (receipt) => framed.write({ kind: FRAME_RECEIPT, requestId: frame.requestId, payload: receipt }),
              (err: unknown) => {
                // this node failed itself (GNC_STORAGE_FULL, GNC_INTERNAL): no verdict, so no receipt, but an error
                // frame for this request; the sender retries later instead of waiting for a receipt that will not come
                const code = isGncError(err) ? err.code : 'GNC_INTERNAL';
                log(`could not answer ${peer.country} request ${frame.requestId} (${code}): ${(err as Error).message}`);
                // the partner learns the class of the failure, not this node's internals (paths, its operator's to-do)
                const message = 'The receiving node cannot store or answer the envelope at the moment; it stays queued with the sender and is retried.';
                return framed.write(errorFrame(frame.requestId, code, message));
              },
            )
            .catch((err: unknown) => log(`could not answer ${peer.country} request ${frame.requestId}: ${(err as Error).message}`));
        },
        onClose: () => undefined,
      });
    },
    { maxInboundStreams: 8, maxOutboundStreams: 8, runOnLimitedConnection: false },
  );
}
