/**
 * oneWritePerMessage over real libp2p hosts (TCP + Noise + Yamux on 127.0.0.1): a Yamux data frame sent on a stream
 * leaves in one socket write (Noise's length, ciphertext and tag joined), not one write per chunk, and arrives intact.
 * The writes are counted by observing net.Socket's write while the send runs (it reaches the socket synchronously).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Socket } from 'node:net';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Stream } from '@libp2p/interface';
import '../../../node/polyfill.js';
import { oneWritePerMessage } from '../../../node/transport/one-write.js';

const PROTOCOL = '/gnc/test-one-write/1.0.0';

let server: Libp2p;
let client: Libp2p;
const received: Uint8Array[] = [];

const host = () =>
  createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [oneWritePerMessage(noise())], streamMuxers: [yamux()] });

beforeAll(async () => {
  [server, client] = await Promise.all([host(), host()]);
  await server.handle(PROTOCOL, (stream: Stream) => {
    stream.addEventListener('message', (evt) => received.push(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()));
  });
});
afterAll(async () => {
  await Promise.all([client?.stop(), server?.stop()]);
});

/** Socket writes made while `fn` runs. */
function writesDuring(fn: () => void): number {
  const write = Socket.prototype.write;
  let writes = 0;
  Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    writes++;
    return write.apply(this, args);
  } as Socket['write'];
  try {
    fn();
  } finally {
    Socket.prototype.write = write;
  }
  return writes;
}

describe('oneWritePerMessage', () => {
  it('sends a 4 KB frame of a stream in one socket write, which arrives whole', async () => {
    const stream = await client.dialProtocol(server.getMultiaddrs()[0]!, PROTOCOL);
    const payload = new Uint8Array(4096).map((_, i) => i % 251);
    // the stream is open (its first frame went with the dial): this send is one Yamux data frame, one Noise message
    expect(writesDuring(() => stream.send(payload))).toBe(1);
    for (let i = 0; i < 500 && received.reduce((n, c) => n + c.byteLength, 0) < payload.byteLength; i++) await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(received)).toEqual(Buffer.from(payload));
    await stream.close();
  });
});
