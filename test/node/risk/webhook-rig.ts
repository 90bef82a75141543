/**
 * The bench of the webhook tests: a receiver on 127.0.0.1 answering with the test's handler, and a real store in a
 * temp dir with its feed. Registered once per file; what a test opened is closed and removed after it.
 */
import { rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { RiskFeed } from '../../../node/risk/feed.js';
import { Store } from '../../../node/store/store.js';
import { tempDir } from './fixtures.js';

export interface WebhookRig {
  /** `http://127.0.0.1:PORT` of the receiver. */
  origin: string;
  dir: string;
  store: Store;
  feed: RiskFeed;
  server: Server;
}

export function webhookRig(prefix: string): (handler: RequestListener) => Promise<WebhookRig> {
  let open: WebhookRig | undefined;
  afterEach(async () => {
    const r = open;
    open = undefined;
    if (!r) return;
    r.store.close();
    rmSync(r.dir, { recursive: true, force: true });
    r.server.closeAllConnections();
    await new Promise((resolve) => r.server.close(resolve));
  });
  return async (handler) => {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = tempDir(prefix);
    const store = Store.open(dir);
    open = { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dir, store, feed: new RiskFeed(store.db), server };
    return open;
  };
}
