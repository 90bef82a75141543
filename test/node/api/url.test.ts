/**
 * The API's base URL as `gnc init` and `gnc start` print it: an IPv6 API host in brackets, so that the URL can
 * be pasted into a client; `--api-port 0` named as a port chosen at each start, not as `:0`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiBaseUrl } from '../../../node/api/url.js';
import { openNode } from '../../../node/compose.js';
import { gnc } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/network.js';

const base = tempDir('gnc-url-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('the API base URL', () => {
  it('puts an IPv6 host in brackets and leaves a name or IPv4 address as it is', () => {
    expect(apiBaseUrl('::1', 8080)).toBe('http://[::1]:8080');
    expect(apiBaseUrl('127.0.0.1', 8080)).toBe('http://127.0.0.1:8080');
    expect(apiBaseUrl('gnc.customs.example', 443)).toBe('http://gnc.customs.example:443');
  });

  it('is printed by gnc init with the IPv6 host in brackets', async () => {
    const r = await gnc('init', '--dir', join(base, 'v6'), '--country', 'KZ', '--name', 'State Revenue Committee', '--api-host', '::1', '--api-port', '18443');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('API:              http://[::1]:18443/v1 ');
  });

  it('is named by gnc init as chosen at each start for --api-port 0', async () => {
    const r = await gnc('init', '--dir', join(base, 'port0'), '--country', 'KG', '--name', 'State Customs Service', '--api-port', '0');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(':0/v1');
    expect(r.stdout).toContain('API:              on 127.0.0.1, a port chosen at each start (gnc start prints the URL)');
  });

  it('of a node started on ::1 answers requests', async () => {
    const node = openNode(join(base, 'v6'), { apiPort: 0, log: () => undefined });
    await node.start();
    try {
      expect(node.apiUrl).toMatch(/^http:\/\/\[::1\]:\d+$/);
      const r = await fetch(`${node.apiUrl}/v1/health`, { signal: AbortSignal.timeout(10_000) });
      expect(r.status).toBe(200);
    } finally {
      await node.stop();
    }
  });
});
