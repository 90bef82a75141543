/**
 * /v1/partners/{country}/remove (admin scope): end a partnership as `gnc partner remove` does, by the same service
 * (node/partners.ts removePartner), for an operator's tooling; then the running node applies it at once, as it applies
 * the CLI's when its watcher sees it. Pinning (`gnc partner add`, `--replace-root`) stays a CLI command: it takes the
 * partner's identity file and a fingerprint a person confirmed out of band. (GET /v1/partners is in node-info.ts.)
 */
import { Hono } from 'hono';
import { PartnerRemoveRequest } from '../../../protocol/api/schemas.js';
import { CountryCode } from '../../../protocol/codes/countries.js';
import { parseWith } from '../../../protocol/validate.js';
import type { AgreementRegistry } from '../../agreements/registry.js';
import type { NodeParts } from '../../main.js';
import { removePartner } from '../../partners.js';
import { requireScope, type AuthEnv } from '../auth.js';
import { readJsonBody } from '../body.js';
import { NO_QUERY, parseParameters, parseQuery } from '../query.js';

/** `applied`: brings the running node in step after the removal's commit (GncNode.applyStoreChanges). */
export function partnerRoutes(parts: NodeParts, agreements: AgreementRegistry, applied: () => void): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const { store } = parts;

  // a partner removed already is answered as its removal left it (`already: true`, nothing done), so that a retry after
  // a lost answer is safe; an unknown one is 404, and one an agreement binds 409 GNC_CONFLICT, as the CLI refuses it
  app.post('/:country/remove', requireScope(store.tokens, 'admin'), async (c) => {
    parseQuery(c, NO_QUERY);
    const country = parseParameters(CountryCode, c.req.param('country'), 'Partner country', '/country');
    const body = await readJsonBody(c, 'Removing a partner takes application/json: {"reason": "...", "despiteAgreement": false}.');
    const req = parseWith(PartnerRemoveRequest, body, 'Partner removal', '');
    const r = await removePartner(store, agreements, country, { ...req, via: 'api' }, parts.clock());
    if (!r.already) applied();
    return c.json(r);
  });
  return app;
}
