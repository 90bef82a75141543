/**
 * Audit endpoints of the local API (issue 6): `GET /v1/audit/verify` (admin) reports the status of this node's
 * evidence log; `GET /v1/messages/{id}/evidence` (read) returns the evidence bundle of one message, the same
 * document `gnc audit export --message ID` writes, to be checked offline with `gnc audit verify FILE`.
 */
import { Hono } from 'hono';
import type { NodeParts } from '../main.js';
import { requireScope, type AuthEnv } from '../api/auth.js';
import { messagesWithId } from '../api/ambiguous-id.js';
import { NO_QUERY, parseQuery } from '../api/query.js';
import type { Keyring } from '../keys/keyring.js';
import { EvidenceQuery } from '../../protocol/api/schemas.js';
import type { EvidenceLog } from '../store/evidence.js';
import { exportEvidence } from './export.js';
import { verifyOwnLog } from './self-check.js';

export function auditRoutes(parts: NodeParts, evidence: EvidenceLog, keyring: Keyring): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get('/verify', requireScope(parts.store.tokens, 'admin'), (c) => {
    parseQuery(c, NO_QUERY);
    return c.json(verifyOwnLog(evidence, parts.identity.country, keyring));
  });
  return app;
}

export function evidenceRoutes(parts: NodeParts, evidence: EvidenceLog): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get('/:id/evidence', requireScope(parts.store.tokens, 'read'), (c) => {
    // message ids are unique per direction and partner only: ?partner= and ?direction= keep the messages with the id
    // of one partner, one direction (a partner may send a message with the id of one sent to it), or both
    const id = c.req.param('id');
    const { partner, direction } = parseQuery(c, EvidenceQuery);
    // the same refusal as GET /v1/messages/{id} of an id no message (of that partner and direction) has
    messagesWithId(id, parts.store.messages.byId(id), { partner, direction });
    const selection = { messageIds: [id], ...(partner === undefined ? {} : { partner }), ...(direction === undefined ? {} : { direction }) };
    const bundle = exportEvidence({ dir: parts.dir, store: parts.store, identity: parts.identity, evidence, clock: parts.clock, caller: 'api' }, selection);
    return c.json(bundle);
  });
  return app;
}
