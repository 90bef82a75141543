import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP relay to `port` on 127.0.0.1, its own connections leaving from `from`: it passes bytes both ways until freeze(),
 * then drops them and closes nothing, either way, as a firewall that drops silently does once the host behind it is gone.
 * hold() keeps them instead (a slow link), both ways, until the release it returns passes them on in order. `delayMs`: each
 * chunk passes that much later, either way (a long link).
 */
export async function relay(port: number, from: string, delayMs = 0): Promise<{ port: number; freeze(): void; hold(): () => void; destroy(): void }> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let held: (() => void)[] | undefined;
  const pass = (step: () => void): void => {
    if (frozen) return;
    if (held !== undefined) held.push(step);
    else if (delayMs > 0) setTimeout(step, delayMs);
    else step();
  };
  const server = createServer((down) => {
    const up = connect({ host: '127.0.0.1', port, localAddress: from });
    for (const [a, b] of [[down, up], [up, down]] as const) {
      sockets.add(a);
      a.on('error', () => undefined);
      a.on('data', (d) => pass(() => void b.write(d)));
      a.on('end', () => pass(() => void b.end()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => void (frozen = true),
    hold: () => {
      const steps = (held ??= []);
      return () => {
        if (held === steps) held = undefined;
        for (const step of steps.splice(0)) step();
      };
    },
    destroy: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
