/** /v1/health (no token: for load balancers and the demo) and /v1/partners (read scope). */
import { Hono } from 'hono';
import type { Health, PartnerView } from '../../../protocol/api/schemas.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../../../protocol/jwk.js';
import { KeyNoticeRepo } from '../../store/key-notices.js';
import type { PartnerRow } from '../../store/partners.js';
import type { Store } from '../../store/store.js';
import { rootChainFrom } from '../../trust.js';
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
  /** The risk view's part of the health answer, on a node that runs it. */
  risk?: () => NonNullable<Health['risk']>;
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
      ...(info.risk ? { risk: info.risk() } : {}),
    } satisfies Health),
  );
  app.get('/partners', requireScope(store.tokens, 'read'), (c) => {
    parseQuery(c, NO_QUERY);
    return c.json({
      items: store.partners.list().map((p) => ({
        country: p.country,
        name: p.name,
        fingerprint: p.fingerprint,
        addresses: JSON.parse(p.addresses) as string[],
        ...partnerRoots(store, p),
        connected: info.connected(p.country),
        added: p.added_at,
        removed: p.removed_at === null ? null : { at: p.removed_at, reason: p.removal_reason },
      })),
    });
  });
  return app;
}

/**
 * A partner's certificates and the roots it replaced as lost (SPEC section 2): a certificate issued under a replaced
 * root's chain is kept as evidence and trusted for nothing (`replacedRoot`), which its dates alone do not tell.
 */
function partnerRoots(store: Store, p: PartnerRow): Pick<PartnerView, 'certificates' | 'replacedRoots'> {
  const replaced = store.partners.replacedRoots(p.country);
  const current = replaced.length === 0
    ? undefined
    : new Set(rootChainFrom(JSON.parse(p.root_jwk) as Ed25519PublicJwk, new KeyNoticeRepo(store.db).list('root-succession', [p.country])).map((r) => jwkThumbprint(r)));
  return {
    certificates: store.partners.certificates(p.country).map((k) => ({
      kid: k.kid,
      peerId: k.peer_id,
      notBefore: new Date(k.not_before).toISOString(),
      notAfter: new Date(k.not_after).toISOString(),
      revokedAt: k.revoked_at ? new Date(k.revoked_at).toISOString() : null,
      replacedRoot: current !== undefined && !current.has(decodeNodeCertificate(k.compact).iss),
    })),
    replacedRoots: replaced.map((r) => ({ fingerprint: r.fingerprint, replacedAt: r.replaced_at, replacedBy: r.replaced_by })),
  };
}
