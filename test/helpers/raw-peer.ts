/**
 * A raw libp2p host (TCP, Noise, Yamux) holding a test node's libp2p key: it passes the partners' connection
 * gaters as that node, but speaks the exchange protocol however a test wants (a partner that stops reading,
 * answers garbage, trickles frames). The node itself must be stopped first, as it holds the same identity.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp, type TCPSocketOptions } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import '../../node/polyfill.js';
import { sealReceipt, type ReceiptInput } from '../../node/receipts.js';
import { decodeNodeCertificate } from '../../protocol/certificate.js';
import type { Signer } from '../../protocol/envelope/seal.js';
import type { Stream } from '@libp2p/interface';
import { encodeFrame, FRAME_RECEIPT, FrameDecoder, type Frame } from '../../protocol/wire.js';
import type { TestNode } from './network.js';

/**
 * A host with `node`'s libp2p key, listening on `listen` (default: the address `node`'s certificate names). `from`: the
 * loopback address its dials leave from (127.0.0.2 and so on: another host, as libp2p's limits per address see it).
 */
export function rawPeer(node: TestNode, listen: string = decodeNodeCertificate(node.node.parts.identity.certificate).addrs[0]!, from?: string): Promise<Libp2p> {
  return createLibp2p({
    privateKey: privateKeyFromProtobuf(new Uint8Array(readFileSync(join(node.dir, 'keys/libp2p.key')))),
    addresses: { listen: [listen] },
    // dialOpts go to net.connect as they are: localAddress too, which @libp2p/tcp's type does not name
    transports: [tcp(from === undefined ? {} : { dialOpts: sourceAddress(from) })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
}

function sourceAddress(localAddress: string): TCPSocketOptions {
  const opts: TCPSocketOptions & { localAddress: string } = { localAddress };
  return opts;
}

/**
 * The RECEIPT frame answering `request` (a REQUEST frame) as `self`'s node would, signed with its real node key
 * (`signer`): the outcome the test wants, for the message id and agreement the request's envelope names.
 */
export function receiptFrame(signer: Signer, self: string, to: string, request: Frame, outcome: ReceiptInput['outcome']): Uint8Array {
  const jws = JSON.parse(Buffer.from(request.payload).toString('utf8')) as { payload: string };
  const payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as { id: string; agreement: string | null };
  const { sealed } = sealReceipt(signer, {
    self, to, messageId: payload.id, sha256: createHash('sha256').update(request.payload).digest('hex'), agreement: payload.agreement, outcome, now: Date.now(),
  });
  return encodeFrame({ kind: FRAME_RECEIPT, requestId: request.requestId, payload: sealed.bytes });
}

/** Calls `each` with every frame the partner sends on `stream`, in order, as the frames complete (a raw peer's handler). */
export function onFrames(stream: Stream, each: (frame: Frame) => void): void {
  const decoder = new FrameDecoder();
  stream.addEventListener('message', (evt) => {
    for (const frame of decoder.push(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray())) each(frame);
  });
}
