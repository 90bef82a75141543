/**
 * One socket write per Noise message. Noise hands each encrypted message to the TCP connection as a list of chunks
 * (its 2-byte length, the ciphertext of the Yamux header, of the data, then the 16-byte tag), and @libp2p/tcp writes
 * every chunk with its own `socket.write`: with TCP_NODELAY (its default, rightly: no Nagle delay on a receipt) each
 * leaves as its own segment. An exchange frame took four write syscalls on the sender and up to four reads on the
 * partner, each a wake-up of the other process, and a Yamux window update two more: on loopback a write syscall
 * carries the delivery to the reader with it, so these were the largest share of either node's CPU outside SQLite
 * (traced at 1 in flight: a request's writes spread over up to 0.35 ms when the partner woke on the first 2 bytes).
 * Joined into one buffer (a copy of the few KB of one message, cheaper than a syscall), each message is one write.
 */
import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface';
import { isUint8ArrayList } from 'uint8arraylist';

/** `connection`, whose `send` now joins a list of chunks into one buffer before it reaches the socket. */
function joiningSends(connection: MessageStream): MessageStream {
  const send = connection.send.bind(connection);
  // by its marker, not instanceof: Noise has its own copy of the uint8arraylist package. subarray() of a list of one
  // chunk is that chunk, not a copy
  connection.send = (data) => send(isUint8ArrayList(data) ? data.subarray() : data);
  return connection;
}

/** The connection encrypter made by `factory`, over connections whose writes are joined as above. */
export function oneWritePerMessage<C, E>(factory: (components: C) => ConnectionEncrypter<E>): (components: C) => ConnectionEncrypter<E> {
  return (components) => {
    const inner = factory(components);
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === 'secureInbound') return ((connection, options) => target.secureInbound(joiningSends(connection), options)) satisfies ConnectionEncrypter<E>['secureInbound'];
        if (prop === 'secureOutbound') return ((connection, options) => target.secureOutbound(joiningSends(connection), options)) satisfies ConnectionEncrypter<E>['secureOutbound'];
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}
