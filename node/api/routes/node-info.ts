/** /v1/health (no token: for load balancers and the demo) and /v1/partners (read scope). */
import { Hono } from 'hono';
import type { Store } from '../../store/store.js';
import { requireScope, type AuthEnv } from '../auth.js';
import { NO_QUERY, parseQuery } from '../query.js';

export interface NodeInfo {
  country: string;
  name: string;
  peerId: string;
  /** The node key signing now (changes when a rotation switches keys). */
  kid: () => string;
  addresses: () => string[];
  startedAt: number;
  connected: (country: string) => boolean;
}

export function nodeInfoRoutes(store: Store, info: NodeInfo): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get('/health', (c) =>
    c.json({
      status: 'ok' as const,
      country: info.country,
      name: info.name,
      peerId: info.peerId,
      kid: info.kid(),
      addresses: info.addresses(),
      uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000),
      partners: store.partners.pinned().length,
      outbox: (store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n,
    }),
  );
  app.get('/partners', requireScope(store.tokens, 'read'), (c) => {
    parseQuery(c, NO_QUERY);
    return c.json({
      items: store.partners.list().map((p) => ({
        country: p.country,
        name: p.name,
        fingerprint: p.fingerprint,
        addresses: JSON.parse(p.addresses) as string[],
        certificates: store.partners.certificates(p.country).map((k) => ({
          kid: k.kid,
          peerId: k.peer_id,
          notBefore: new Date(k.not_before).toISOString(),
          notAfter: new Date(k.not_after).toISOString(),
          revokedAt: k.revoked_at ? new Date(k.revoked_at).toISOString() : null,
        })),
        connected: info.connected(p.country),
        added: p.added_at,
        removed: p.removed_at === null ? null : { at: p.removed_at, reason: p.removal_reason },
      })),
    });
  });
  return app;
}
