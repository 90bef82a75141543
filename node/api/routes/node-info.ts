/** /v1/health (no token: for load balancers and the demo) and /v1/partners (read scope). */
import { Hono } from 'hono';
import type { Health, PartnerView } from '../../../protocol/api/schemas.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../../../protocol/jwk.js';
import type { SigningState } from '../../keys/keyring.js';
import { KeyNoticeRepo } from '../../store/key-notices.js';
import type { PartnerRow } from '../../store/partners.js';
import type { Store } from '../../store/store.js';
import { rootChainFrom } from '../../trust.js';
import { requireScope, type AuthEnv } from '../auth.js';
import { HealthChecks } from '../health.js';
import { NO_QUERY, parseQuery } from '../query.js';

export interface NodeInfo {
  country: string;
  name: string;
  peerId: string;
  /** The node key signing now (changes when a rotation switches keys); `signing` tells it where composed. */
  kid: () => string;
  addresses: () => string[];
  startedAt: number;
  connected: (country: string) => boolean;
  /** The risk view's part of the health answer, on a node that runs it. */
  risk?: () => NonNullable<Health['risk']>;
  /** Which key signs and until when (Keyring.signing), where a keyring is composed. */
  signing?: () => SigningState;
  /** Partners found unreachable, with since when (Dispatcher.unreachableSince). */
  unreachableSince: () => ReadonlyMap<string, number>;
  /** The node's clock. */
  clock: () => number;
}

export function nodeInfoRoutes(store: Store, info: NodeInfo): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const health = new HealthChecks(store.db);
  const outboxSize = store.db.prepare('SELECT COUNT(*) FROM outbox').pluck();
  app.get('/health', (c) => {
    const risk = info.risk?.();
    const signing = info.signing?.();
    const pinned = store.partners.pinned();
    const checks = health.run({
      now: info.clock(), signing, unassessable: risk?.unassessable, unreachableSince: info.unreachableSince(), partners: pinned.map((p) => p.country),
    });
    // degraded, not an error status: the process is alive and serves, which is what a load balancer asks
    return c.json({
      status: checks.length === 0 ? 'ok' : 'degraded',
      checks,
      country: info.country,
      name: info.name,
      peerId: info.peerId,
      // from the signing state where there is one: the signer refuses (GNC_KEY_EXPIRED) once the key has ended, which
      // the health answer reports instead of failing with it
      kid: signing?.kid ?? info.kid(),
      addresses: info.addresses(),
      uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000),
      partners: pinned.length,
      outbox: outboxSize.get() as number,
      ...(risk ? { risk } : {}),
    } satisfies Health);
  });
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
