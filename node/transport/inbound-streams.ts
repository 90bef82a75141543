/**
 * Serves `/gnc/exchange/1.0.0` streams opened by partners: every REQUEST frame is handed to the receiver and
 * answered with a RECEIPT frame carrying the same request id, on the same stream (or, when this node fails
 * itself, an ERROR frame with that request id, and the stream stays open). The gater already refused
 * unknown peers, and ConnectionTrust closes the connections of peers that lose trust; the handler re-checks, for a
 * stream that arrives between a trust change and the closing of its connection.
 * Stuck streams are reset (SPEC section 6): a frame that does not complete within FRAME_READ_TIMEOUT_MS, a
 * stream idle for INBOUND_IDLE_TIMEOUT_MS with nothing outstanding, and a stream beyond
 * MAX_INBOUND_STREAMS_PER_PEER from one peer, over all its connections; each closure is logged with the
 * partner and the reason, within a LogBudget per partner (and one for all untrusted peers together). A partner
 * that does not read its answers gets no more of its requests read until it does (holdReadsWhileBlocked): a
 * 205-byte request draws a receipt of about 800 bytes, and this node kept every unsent one (tens of megabytes
 * within seconds) until the drain limit reset the stream. A partner that closes its side after sending still
 * gets an answer to every request read (SPEC section 5); this side closes its own after the last one. Likewise a
 * partner whose stream goes out of sync (an unreadable frame, or a RECEIPT or ERROR frame, which never go this way) gets
 * the answers to the requests read before it, then the ERROR frame.
 */
import type { Libp2p } from 'libp2p';
import type { Connection, Stream } from '@libp2p/interface';
import { EXCHANGE_PROTOCOL, INBOUND_IDLE_TIMEOUT_MS, MAX_IN_FLIGHT_PER_PARTNER, MAX_INBOUND_STREAMS_PER_PEER } from '../../protocol/constants.js';
import { GncError, isGncError } from '../../protocol/errors.js';
import { LogBudget } from '../log.js';
import { errorFrame, FRAME_RECEIPT, FRAME_REQUEST } from '../../protocol/wire.js';
import type { TrustIndex } from '../trust.js';
import { FramedStream, type StreamTimeouts } from './framed-stream.js';

export interface EnvelopeHandler {
  handle(bytes: Uint8Array, peerCountry: string): Promise<Uint8Array>;
}

/**
 * libp2p's own per-protocol limit resets further streams without telling the handler: it stays well above ours
 * only as a backstop, so that ours (MAX_INBOUND_STREAMS_PER_PEER) is the one that applies, and is logged.
 */
const LIBP2P_MAX_INBOUND_STREAMS = 4 * MAX_INBOUND_STREAMS_PER_PEER;

/** The refusal of a frame of `kind` (RECEIPT or ERROR) on a stream the partner opened, which carries only its REQUESTs. */
function misdirected(kind: number): GncError {
  const name = kind === FRAME_RECEIPT ? 'RECEIPT' : 'ERROR';
  return new GncError('GNC_ENVELOPE_MALFORMED', `A ${name} frame (kind ${kind}) came on an exchange stream the partner opened, which carries only its REQUEST frames (receipts and error frames answer on the stream of the request): the stream is out of sync and closed; the partner sends the requests without an answer again on a new stream.`);
}

export async function serveExchange(host: Libp2p, trust: TrustIndex, handler: EnvelopeHandler, log: (msg: string) => void, timeouts: StreamTimeouts = {}): Promise<void> {
  /**
   * Open exchange streams per peer id, over all of its connections: a peer that opens more connections gets no
   * more streams, so the memory one peer can hold here (frames being reassembled) stays bounded.
   */
  const open = new Map<string, number>();
  /**
   * Requests read and not answered yet per partner, over all of its streams: the bound of MAX_IN_FLIGHT_PER_PARTNER is
   * the partner's, not each stream's, or a partner with MAX_INBOUND_STREAMS_PER_PEER streams would keep eight times
   * as many waiting here, each ahead of the requests of the other partners.
   */
  const inFlight = new Map<string, number>();
  const budget = new LogBudget();
  await host.handle(
    EXCHANGE_PROTOCOL,
    (stream: Stream, connection: Connection) => {
      const peerId = connection.remotePeer.toString();
      const peer = trust.peer(peerId);
      // lines a peer can provoke at will are budgeted per partner, and for untrusted peers (new ids cost nothing) together
      const budgetKey = peer?.country ?? 'untrusted peers';
      const peerLog = (line: string): void => {
        const admitted = budget.admit(budgetKey, line);
        if (admitted !== undefined) log(admitted);
      };
      const count = open.get(peerId) ?? 0;
      if (count >= MAX_INBOUND_STREAMS_PER_PEER) {
        peerLog(`refused an exchange stream from ${peer?.country ?? peerId}: ${count} of its streams are open already (limit ${MAX_INBOUND_STREAMS_PER_PEER} per peer)`);
        stream.abort(new GncError('GNC_PARTNER_UNREACHABLE', `More than ${MAX_INBOUND_STREAMS_PER_PEER} exchange streams open from one peer.`));
        return;
      }
      open.set(peerId, count + 1);
      stream.addEventListener(
        'close',
        () => {
          const left = (open.get(peerId) ?? 1) - 1;
          if (left > 0) open.set(peerId, left);
          else open.delete(peerId);
        },
        { once: true },
      );
      if (!peer) {
        peerLog(`refused stream from untrusted peer ${peerId}`);
        const framed = new FramedStream(stream, { onFrame: () => undefined, onClose: () => undefined }, { ...timeouts, log: peerLog, peer: peerId });
        void framed.fail(new GncError('GNC_PEER_NOT_TRUSTED', `Peer ${peerId} is not named by a valid certificate of a trusted partner.`));
        return;
      }
      // requests read on this stream whose answer has not left yet; a partner keeps at most MAX_IN_FLIGHT_PER_PARTNER
      // over all of its streams (SPEC section 6, inFlight); one that sends more gets the excess back unprocessed, so it
      // cannot pile work up here
      let unanswered = 0;
      let warned = false;
      const framed: FramedStream = new FramedStream(stream, {
        onFrame: (frame) => {
          if (frame.kind !== FRAME_REQUEST) {
            // receipts and error frames answer on the stream of the request: one here means the partner mixed its streams
            // up, so this one is out of sync (SPEC section 6). Dropped silently, a receipt sent the wrong way would leave
            // the partner waiting for the receipt timeout and its operator without a word; the requests read before it
            // are answered, then the ERROR frame, and fail() logs one line with the code and the kind, not the content
            void framed.fail(misdirected(frame.kind));
            return;
          }
          const partnerInFlight = inFlight.get(peer.country) ?? 0;
          if (partnerInFlight >= MAX_IN_FLIGHT_PER_PARTNER) {
            if (!warned) peerLog(`${peer.country} sent more than ${MAX_IN_FLIGHT_PER_PARTNER} requests in flight; the excess is refused with GNC_TOO_MANY_IN_FLIGHT`);
            warned = true;
            const message = `More than ${MAX_IN_FLIGHT_PER_PARTNER} requests in flight from one partner: this one was not processed; wait for receipts before sending more, then send it again.`;
            framed.write(errorFrame(frame.requestId, 'GNC_TOO_MANY_IN_FLIGHT', message)).catch(() => undefined);
            return;
          }
          unanswered++;
          inFlight.set(peer.country, partnerInFlight + 1);
          const payload = frame.payload;
          // an answer that cannot leave (the stream closed or was reset): the framed stream's error says so in this
          // side's words, and what the partner does next
          const notSent = (what: string) => (err: unknown): void =>
            peerLog(`could not send the ${what} for ${peer.country} request ${frame.requestId}: ${(err as Error).message}`);
          handler
            .handle(payload, peer.country)
            .then(
              (receipt) =>
                framed.write({ kind: FRAME_RECEIPT, requestId: frame.requestId, payload: receipt }).catch(notSent('receipt')),
              (err: unknown) => {
                // this node failed itself (GNC_STORAGE_FULL, GNC_INTERNAL): no verdict, so no receipt, but an error
                // frame for this request; the sender retries later instead of waiting for a receipt that will not come
                const code = isGncError(err) ? err.code : 'GNC_INTERNAL';
                peerLog(`could not answer ${peer.country} request ${frame.requestId} (${code}): ${(err as Error).message}`);
                // the partner learns the class of the failure, not this node's internals (paths, its operator's to-do)
                const message = 'The receiving node cannot store or answer the envelope at the moment; it stays queued with the sender and is retried.';
                return framed.write(errorFrame(frame.requestId, code, message)).catch(notSent('error frame'));
              },
            )
            .catch((err: unknown) => peerLog(`could not answer ${peer.country} request ${frame.requestId}: ${(err as Error).message}`))
            .finally(() => {
              // answered once the answer has left (or can no longer leave): a partner that closed its side after
              // sending gets its stream closed only now, after its last answer, and one whose stream fails on a bad
              // frame gets the ERROR frame only now (FramedStream.fail)
              unanswered--;
              const left = (inFlight.get(peer.country) ?? 1) - 1;
              if (left > 0) inFlight.set(peer.country, left);
              else inFlight.delete(peer.country);
              framed.closeIfDone();
            });
        },
        onClose: () => undefined,
      }, {
        drainTimeoutMs: timeouts.drainTimeoutMs,
        frameReadTimeoutMs: timeouts.frameReadTimeoutMs,
        idleTimeoutMs: timeouts.idleTimeoutMs ?? INBOUND_IDLE_TIMEOUT_MS,
        busy: () => unanswered > 0,
        // a partner that does not read its receipts (or error frames) gets no more requests read until it does
        holdReadsWhileBlocked: true,
        log: peerLog,
        peer: peer.country,
      });
    },
    { maxInboundStreams: LIBP2P_MAX_INBOUND_STREAMS, maxOutboundStreams: 8, runOnLimitedConnection: false },
  );
}
