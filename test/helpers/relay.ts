import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP relay to `port` on 127.0.0.1, its own connections leaving from `from`: it passes bytes both ways until freeze(),
 * then drops them and closes nothing, either way, as a firewall that drops silently does once the host behind it is gone.
 */
export async function relay(port: number, from: string): Promise<{ port: number; freeze(): void; destroy(): void }> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const server = createServer((down) => {
    const up = connect({ host: '127.0.0.1', port, localAddress: from });
    for (const [a, b] of [[down, up], [up, down]] as const) {
      sockets.add(a);
      a.on('error', () => undefined);
      a.on('data', (d) => void (frozen || b.write(d)));
      a.on('end', () => void (frozen || b.end()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => void (frozen = true),
    destroy: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
