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

/** Tokens a node keeps verified in memory (TokenRepo.verify): far more than the integrators of one node use. */
export const TOKEN_CACHE_SIZE = 256;

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export class TokenRepo {
  private readonly byIdStmt;
  private readonly versionStmt;
  /**
   * Tokens verified since the database last changed under another connection, by the SHA-256 of their secret (never
   * the secret), oldest first; at most TOKEN_CACHE_SIZE. `PRAGMA data_version` changes with every commit of another
   * connection (the CLI's `gnc token revoke` beside the running node, any other write), which empties the cache; a
   * revocation through this repository empties it too. So a revocation counts from the next request, as when every
   * request read the row, while a request of a token in the cache costs one hash and that pragma instead of the row's
   * read (the e2e bench: ~30 us of the sender's CPU per message, its read under load).
   */
  private readonly cache = new Map<string, TokenInfo>();
  private version: unknown;

  constructor(private readonly db: Db) {
    // checked on every API request: prepared once
    this.byIdStmt = db.prepare('SELECT * FROM tokens WHERE id = ? AND revoked_at IS NULL');
    this.versionStmt = db.prepare('PRAGMA data_version').pluck();
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
    const hash = hashSecret(token);
    const version = this.versionStmt.get();
    if (version !== this.version) {
      this.cache.clear();
      this.version = version;
    }
    const hit = this.cache.get(hash);
    if (hit !== undefined) return hit;
    const info = this.read(m[1]!, hash);
    if (info === undefined) return undefined;
    if (this.cache.size >= TOKEN_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, info);
    return info;
  }

  /** How many verified tokens the cache holds (what the tests observe). */
  get cached(): number {
    return this.cache.size;
  }

  /** Token `id` from its row, if unrevoked and its stored hash is `hash` (compared in constant time). */
  private read(id: string, hash: string): TokenInfo | undefined {
    const row = this.byIdStmt.get(id) as
      | { id: string; name: string; hash: string; scopes: string; created_at: string }
      | undefined;
    if (!row) return undefined;
    const a = Buffer.from(row.hash, 'hex');
    const b = Buffer.from(hash, 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    // shared by the requests of the token while it is cached: none of them may change it
    return Object.freeze({ id: row.id, name: row.name, scopes: Object.freeze(row.scopes.split(' ') as Scope[]) as Scope[], created_at: row.created_at });
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
    // this connection's own commit leaves data_version as it is: the cache goes here
    this.cache.clear();
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(new Date().toISOString(), id).changes > 0;
  }
}
