/**
 * Bearer-token authentication with scopes for the local API. Tokens are made by `gnc token create` and
 * verified against their stored hash; a missing token is 401 GNC_AUTH_MISSING, a header that is no one bearer token
 * (`Bearer a b`) 400 GNC_AUTH_MALFORMED, an unknown or revoked token 401 GNC_AUTH_INVALID, a token without the route's
 * scope 403 GNC_AUTH_SCOPE. `admin` implies every scope.
 */
import type { MiddlewareHandler } from 'hono';
import { GncError } from '../../protocol/errors.js';
import type { Scope, TokenInfo, TokenRepo } from '../store/tokens.js';

/** RFC 6750 section 2.1 b64token: the one credential a Bearer header carries. */
const B64TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

export type AuthEnv = { Variables: { token: TokenInfo } };

export function requireScope(tokens: TokenRepo, scope: Scope): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw new GncError('GNC_AUTH_MISSING', 'This endpoint needs "Authorization: Bearer <token>": create a token with `gnc token create --scopes ...`.');
    const m = /^Bearer(?:\s+(.*))?$/i.exec(header.trim());
    // another scheme (Basic), or a token without its scheme: no bearer token, which a new token would not mend
    // (RFC 6750 section 3.1: a request in an unsupported scheme is answered as one without credentials)
    if (!m?.[1]) throw new GncError('GNC_AUTH_MISSING', `The Authorization header carries no bearer token (${m ? '"Bearer" without a token' : 'another scheme, or a token without "Bearer "'}): send it as "Authorization: Bearer <token>"; create a token with \`gnc token create --scopes ...\`.`);
    // RFC 6750 section 3.1: a malformed request is 400 invalid_request, not an unknown token (a new token would not mend
    // it); the header is not quoted back, as it may hold a token
    if (!B64TOKEN.test(m[1])) {
      throw new GncError('GNC_AUTH_MALFORMED', 'The Authorization header is malformed: "Bearer" takes exactly one token (letters, digits and -._~+/, no spaces, commas or quotes), as `gnc token create` printed it: send "Authorization: Bearer <token>".');
    }
    const info = tokens.verify(m[1]);
    if (!info) throw new GncError('GNC_AUTH_INVALID', 'The bearer token is unknown or revoked: create a new one with `gnc token create`.');
    if (!info.scopes.includes(scope) && !info.scopes.includes('admin')) {
      throw new GncError('GNC_AUTH_SCOPE', `Token "${info.name}" lacks the "${scope}" scope needed here: create a token with --scopes ${scope}.`);
    }
    c.set('token', info);
    await next();
  };
}
