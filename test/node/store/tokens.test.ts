/**
 * API tokens as the node checks them on every request: verified tokens are kept in memory (by the hash of their
 * secret, bounded), and a revocation counts from the next request however it is made, by this process or by the CLI
 * beside the running node (another connection to the same file).
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../node/store/store.js';
import { TOKEN_CACHE_SIZE } from '../../../node/store/tokens.js';
import { tempDir } from '../../helpers/network.js';

const open: Store[] = [];
let dir: string | undefined;

afterEach(() => {
  for (const s of open.splice(0)) s.db.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function store(at: string): Store {
  const s = Store.open(at);
  open.push(s);
  return s;
}

describe('API token checks', () => {
  it('keeps a verified token in memory and refuses it at the next check once the CLI revoked it in its own process', () => {
    dir = tempDir();
    const node = store(dir);
    const { token, info } = node.tokens.create('integrator', ['submit']);
    expect(node.tokens.verify(token)).toMatchObject({ id: info.id, scopes: ['submit'] });
    expect(node.tokens.cached).toBe(1);
    expect(node.tokens.verify(token)?.id).toBe(info.id);
    // `gnc token revoke` beside the running node: another connection to the same file
    const cli = store(dir);
    expect(cli.tokens.revoke(info.id)).toBe(true);
    expect(node.tokens.verify(token)).toBeUndefined();
    expect(node.tokens.cached).toBe(0);
  });

  it('refuses a token revoked through the node itself at the next check', () => {
    dir = tempDir();
    const node = store(dir);
    const { token, info } = node.tokens.create('integrator', ['read']);
    expect(node.tokens.verify(token)?.id).toBe(info.id);
    expect(node.tokens.revoke(info.id)).toBe(true);
    expect(node.tokens.verify(token)).toBeUndefined();
  });

  it('refuses another secret with the id of a cached token, and keeps what it answers unchangeable', () => {
    dir = tempDir();
    const node = store(dir);
    const { token } = node.tokens.create('integrator', ['submit']);
    const info = node.tokens.verify(token)!;
    const forged = `${token.slice(0, 17)}${token[17] === 'A' ? 'B' : 'A'}${token.slice(18)}`;
    expect(node.tokens.verify(forged)).toBeUndefined();
    expect(() => (info.scopes as string[]).push('admin')).toThrow(TypeError);
    expect(node.tokens.verify(token)?.scopes).toEqual(['submit']);
  });

  it('holds at most TOKEN_CACHE_SIZE tokens, the oldest going first, each still verified from its row', () => {
    dir = tempDir();
    const node = store(dir);
    const tokens = Array.from({ length: TOKEN_CACHE_SIZE + 10 }, (_, i) => node.tokens.create(`t${i}`, ['read']));
    for (const t of tokens) expect(node.tokens.verify(t.token)?.id).toBe(t.info.id);
    expect(node.tokens.cached).toBe(TOKEN_CACHE_SIZE);
    expect(node.tokens.verify(tokens[0]!.token)?.id).toBe(tokens[0]!.info.id);
    expect(node.tokens.cached).toBe(TOKEN_CACHE_SIZE);
  });
});
