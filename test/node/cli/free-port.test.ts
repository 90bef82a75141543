/**
 * The port `gnc init` picks for `tcp/0` (and an unset --api-port) goes into the signed certificate and the
 * config, so it must not be one the kernel hands out as the source port of outgoing connections: on Linux it
 * lies below the ephemeral range, and it is free when picked.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, STABLE_PORT_MIN } from '../../../node/cli/commands/init.js';

const range = (() => {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    return undefined;
  }
})();

describe('freePort', () => {
  it.runIf(range !== undefined)('picks a port below the kernel ephemeral range, from STABLE_PORT_MIN on', async () => {
    for (let i = 0; i < 20; i++) {
      const port = await freePort('127.0.0.1');
      expect(port).toBeGreaterThanOrEqual(STABLE_PORT_MIN);
      expect(port).toBeLessThan(range![0]!);
    }
  });

  it('picks a port that can be listened on', async () => {
    const port = await freePort('127.0.0.1');
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => srv.close(r));
  });
});
