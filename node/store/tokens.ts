/**
 * API bearer tokens. The secret is shown once when created and stored only as its SHA-256, so a copy of the
 * database does not give API access. Scopes: submit (send messages), read (query), admin (partners,
 * agreements, audit).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from './db.js';

export const SCOPES = ['submit', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: string;
}

const PREFIX = 'gnc_';

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export class TokenRepo {
  private readonly byIdStmt;

  constructor(private readonly db: Db) {
    // checked on every API request: prepared once
    this.byIdStmt = db.prepare('SELECT * FROM tokens WHERE id = ? AND revoked_at IS NULL');
  }

  /** Returns the secret: the only time it exists outside the caller's hands. */
  create(name: string, scopes: Scope[]): { token: string; info: TokenInfo } {
    const id = randomBytes(6).toString('hex');
    const token = `${PREFIX}${id}_${randomBytes(24).toString('base64url')}`;
    const info: TokenInfo = { id, name, scopes, created_at: new Date().toISOString() };
    this.db.prepare('INSERT INTO tokens (id, name, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)').run(id, name, hashSecret(token), scopes.join(' '), info.created_at);
    return { token, info };
  }

  /** The token's info if the secret is valid and not revoked. */
  verify(token: string): TokenInfo | undefined {
    const m = /^gnc_([0-9a-f]{12})_[A-Za-z0-9_-]{32}$/.exec(token);
    if (!m) return undefined;
    const row = this.byIdStmt.get(m[1]) as
      | { id: string; name: string; hash: string; scopes: string; created_at: string }
      | undefined;
    if (!row) return undefined;
    const a = Buffer.from(row.hash, 'hex');
    const b = Buffer.from(hashSecret(token), 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    return { id: row.id, name: row.name, scopes: row.scopes.split(' ') as Scope[], created_at: row.created_at };
  }

  /** Whether token `id` still exists unrevoked: a request authenticated earlier (an open stream) checks it again. */
  active(id: string): boolean {
    return this.byIdStmt.get(id) !== undefined;
  }

  list(): (TokenInfo & { revoked_at: string | null })[] {
    return (this.db.prepare('SELECT id, name, scopes, created_at, revoked_at FROM tokens ORDER BY created_at').all() as { id: string; name: string; scopes: string; created_at: string; revoked_at: string | null }[]).map((r) => ({
      ...r,
      scopes: r.scopes.split(' ') as Scope[],
    }));
  }

  revoke(id: string): boolean {
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(new Date().toISOString(), id).changes > 0;
  }
}
