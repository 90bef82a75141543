/**
 * `gnc` as a real process when the operator's input or the machine says no: a coded sentence and the exit
 * class, never a stack trace, and nothing half-made left behind (no keys from a refused init, no database in a
 * dir that is no node's, no half-started node holding its ports).
 */
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { MAX_BODY_BYTES } from '../../../protocol/constants.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';
import { BIN, expectError, gnc } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/network.js';

const base = tempDir('gnc-cli-fail-');
const node = join(base, 'kz');

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

beforeAll(async () => {
  const r = await gnc('init', '--dir', node, '--country', 'KZ', '--name', 'KZ test administration');
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('gnc init refuses bad options before it writes a key', () => {
  for (const [what, args, option] of [
    ['a listen address that is no multiaddr', ['--listen', 'foo'], '--listen'],
    ['a port beyond 65535 in a listen address', ['--listen', '/ip4/127.0.0.1/tcp/99999'], '--listen'],
    ['an API port that is no number', ['--api-port', 'abc'], '--api-port'],
    ['a certificate validity of a million years', ['--validity-days', '365000000'], '--validity-days'],
  ] as const) {
    it(`refuses ${what} (exit 2, GNC_CONFIG_INVALID)`, async () => {
      const dir = join(base, `init-${option.slice(2)}-${args[1].length}`);
      const r = await gnc('init', '--dir', dir, '--country', 'KZ', '--name', 'A', ...args);
      expectError(r, 2, 'GNC_CONFIG_INVALID');
      expect(r.stderr).toContain(option);
      expect(existsSync(join(dir, 'keys'))).toBe(false);
    });
  }

  // Node 20's recursive mkdir never returned here: the command hung until the helper's 30 s timeout killed it
  it.skipIf(process.platform !== 'linux')('says that a --dir under /proc cannot be made, instead of hanging (exit 2, GNC_FILE_ACCESS)', async () => {
    const r = await gnc('init', '--dir', '/proc/gnc-test/kz', '--country', 'KZ', '--name', 'A');
    expectError(r, 2, 'GNC_FILE_ACCESS');
    expect(r.stderr).toContain('/proc/gnc-test');
  });

  it('makes every missing folder of a nested --dir, and says when a file stands in the path (exit 2, GNC_FILE_ACCESS)', async () => {
    const dir = join(base, 'nested', 'a', 'b');
    expect((await gnc('init', '--dir', dir, '--country', 'KZ', '--name', 'A')).code).toBe(0);
    expect(existsSync(join(dir, 'keys'))).toBe(true);
    writeFileSync(join(base, 'a-file'), '');
    const r = await gnc('init', '--dir', join(base, 'a-file', 'kz'), '--country', 'KZ', '--name', 'A');
    expectError(r, 2, 'GNC_FILE_ACCESS');
    expect(r.stderr).toContain('a-file');
  });
});

describe('gnc partner add refuses keys that strict RFC 8032 refuses', () => {
  it('refuses an identity whose root is the small-order identity point, under which anyone forges its certificates (exit 3, GNC_CERT_INVALID)', async () => {
    // R = identity, S = 0 verifies any message under the identity point in node:crypto (OpenSSL 3.0): the
    // "administration" could later disown everything signed under this root, and so could anyone forge it
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from('01'.padEnd(64, '0'), 'hex').toString('base64url') } as const;
    const fp = jwkThumbprint(jwk);
    const nodeKey = publicJwkOf(generateKeyPairSync('ed25519').privateKey);
    const now = Date.now();
    const claims = {
      v: 1, iss: fp, sub: jwkThumbprint(nodeKey), country: 'KG', name: 'Weak root customs', jwk: nodeKey, peerId: '12D3KooWWeakRootNodeOfTheKgTest', addrs: ['/ip4/127.0.0.1/tcp/4001'],
      iat: new Date(now).toISOString(), nbf: new Date(now).toISOString(), exp: new Date(now + 86_400_000).toISOString(),
    };
    const b64 = (t: string): string => Buffer.from(t).toString('base64url');
    const trivial = Buffer.from(Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0))).toString('base64url');
    const certificate = `${b64(canonicalJson({ alg: 'EdDSA', kid: fp, typ: 'gnc-cert+jws' }))}.${b64(canonicalJson(claims))}.${trivial}`;
    const file = join(base, 'weak-root.identity.json');
    writeFileSync(file, JSON.stringify({ v: 1, format: 'gnc-identity', country: 'KG', name: 'Weak root customs', root: { jwk, fingerprint: fp }, certificates: [certificate], addresses: claims.addrs, exported: new Date(now).toISOString() }));
    const r = await gnc('partner', 'add', '--dir', node, file, '--fingerprint', fp);
    expectError(r, 3, 'GNC_CERT_INVALID');
    expect((await gnc('partner', 'list', '--dir', node)).stdout).not.toContain('KG');
  });
});

describe('gnc partner add refuses a file that is no identity export as bad input', () => {
  it('names the field that is wrong (exit 2, GNC_SCHEMA_INVALID), pinning nothing', async () => {
    const file = join(base, 'not-an-identity.json');
    writeFileSync(file, JSON.stringify({ v: 1, format: 'gnc-identity', country: 'KG', name: 'State Customs Service', root: { fingerprint: 'x' } }));
    const r = await gnc('partner', 'add', '--dir', node, file, '--fingerprint', 'x');
    expectError(r, 2, 'GNC_SCHEMA_INVALID');
    expect(r.stderr).toContain('gnc identity export');
    expect(r.stderr).toContain('/root/jwk');
    expect((await gnc('partner', 'list', '--dir', node)).stdout).not.toContain('KG');
  });
});

describe('gnc start', () => {
  it('refuses an API port that is no number (exit 2)', async () => {
    expectError(await gnc('start', '--dir', node, '--api-port', 'abc'), 2, 'GNC_CONFIG_INVALID');
  });

  it('exits when its API port is taken, and leaves its libp2p port free', async () => {
    const config = JSON.parse(readFileSync(join(node, 'gnc.json'), 'utf8')) as { listen: string[]; api: { port: number } };
    const blocker = await listen(config.api.port);
    try {
      const r = await gnc('start', '--dir', node);
      expectError(r, 2, 'GNC_CONFIG_INVALID');
      expect(r.stderr).toMatch(/API cannot listen .*in use/);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    const p2p = Number(/\/tcp\/(\d+)/.exec(config.listen[0]!)![1]);
    (await listen(p2p)).close();
  });
});

describe('gnc start with a retry backoff whose first delay is above its cap', () => {
  it('names retry.initialMs (exit 2, GNC_CONFIG_INVALID) instead of retrying a down partner many times a second', async () => {
    const dir = join(base, 'retry-inverted');
    cpSync(node, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'gnc.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'gnc.json'), JSON.stringify({ ...config, retry: { initialMs: 5000, maxMs: 100 } }));
    const r = await gnc('start', '--dir', dir, '--api-port', '0');
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('/retry/initialMs: expected initialMs at most maxMs');
    // a file is fixed and the command run again, not "submitted"
    expect(r.stderr).toContain('Fix the field, then run the command again.');
  });
});

describe('gnc start on an address that is not this host\'s', () => {
  it('names the libp2p address and the reason, without libp2p\'s stack trace or its option names (exit 2)', async () => {
    const dir = join(base, 'foreign-listen');
    cpSync(node, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'gnc.json'), 'utf8')) as { listen: string[]; api: { port: number } };
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this host
    config.listen = ['/ip4/192.0.2.1/tcp/4001'];
    writeFileSync(join(dir, 'gnc.json'), JSON.stringify(config));
    const r = await gnc('start', '--dir', dir, '--api-port', '0');
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('libp2p cannot listen on /ip4/192.0.2.1/tcp/4001: /ip4/192.0.2.1/tcp/4001: listen EADDRNOTAVAIL');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain('faultTolerance');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('files and data dirs that cannot be used', () => {
  it('says that an --out folder does not exist (exit 2, GNC_FILE_ACCESS)', async () => {
    const r = await gnc('identity', 'export', '--dir', node, '--out', join(base, 'no-such-folder', 'kz.json'));
    expectError(r, 2, 'GNC_FILE_ACCESS');
    expect(r.stderr).toContain('no-such-folder');
  });

  it('says that a backup --out folder does not exist (exit 2, GNC_FILE_ACCESS, not GNC_INTERNAL)', async () => {
    const r = await gnc('backup', '--dir', node, '--out', join(base, 'no-backup-folder', 'kz.sqlite'));
    expectError(r, 2, 'GNC_FILE_ACCESS');
    expect(r.stderr).toContain(join(base, 'no-backup-folder', 'kz.sqlite'));
    expect(r.stderr).not.toContain('.tmp');
  });

  it('says that an input FILE is a folder (exit 2, GNC_FILE_ACCESS, not GNC_INTERNAL or "check the path")', async () => {
    const folder = join(base, 'a-folder.json');
    mkdirSync(folder);
    for (const args of [
      ['send', '--dir', node, '--to', 'KG', '--type', 'aci', folder],
      ['partner', 'add', '--dir', node, folder, '--fingerprint', 'x'],
      ['agreement', 'draft', '--dir', node, folder],
      ['convert', '--to', 'xml', folder],
      ['audit', 'verify', folder],
    ]) {
      const r = await gnc(...args);
      expectError(r, 2, 'GNC_FILE_ACCESS');
      expect(r.stderr, args.join(' ')).toContain(`${folder} is a directory`);
    }
    const missing = await gnc('convert', '--to', 'xml', join(base, 'no-such-body.json'));
    expectError(missing, 4, 'GNC_NOT_FOUND');
  });

  it('says that --dir holds no node and creates nothing in it (exit 4, GNC_IDENTITY_MISSING)', async () => {
    const empty = join(base, 'empty');
    mkdirSync(empty);
    for (const args of [['token', 'create', '--name', 'x', '--scopes', 'read'], ['token', 'list'], ['partner', 'list'], ['messages']]) {
      expectError(await gnc(...args, '--dir', empty), 4, 'GNC_IDENTITY_MISSING');
    }
    expect(readdirSync(empty)).toEqual([]);
  });

  it('says that a --dir naming a file is no folder, instead of suggesting gnc init there (exit 2, GNC_FILE_ACCESS)', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'not a data dir');
    for (const args of [['messages'], ['start'], ['backup', '--out', join(base, 'b.sqlite')]]) {
      const r = await gnc(...args, '--dir', file);
      expectError(r, 2, 'GNC_FILE_ACCESS');
      expect(r.stderr, args.join(' ')).toContain('has a file where a folder should be');
    }
    // init names the file given, not the temporary lock file it would have written in it, and leaves it as it was
    const init = await gnc('init', '--dir', file, '--country', 'KZ', '--name', 'A');
    expectError(init, 2, 'GNC_FILE_ACCESS');
    expect(init.stderr).toBe(`error GNC_FILE_ACCESS: ${file} is a file, not a folder: give --dir a folder (gnc init makes a missing one).\n`);
    expect(readFileSync(file, 'utf8')).toBe('not a data dir');
  });

  it('says that a node key file is missing and to restore it, not to run gnc init, which refuses the dir (exit 4)', async () => {
    const dir = join(base, 'no-node-key');
    cpSync(node, dir, { recursive: true });
    rmSync(join(dir, 'keys', 'node.jwk'));
    for (const args of [['start', '--dir', dir], ['keys', 'status', '--dir', dir]]) {
      const r = await gnc(...args);
      expectError(r, 4, 'GNC_IDENTITY_MISSING');
      expect(r.stderr).toContain(`${join(dir, 'keys', 'node.jwk')} does not exist: restore it from your key backup`);
      expect(r.stderr).not.toContain('gnc init');
    }
    expect((await gnc('init', '--dir', dir, '--country', 'KZ', '--name', 'KZ test administration')).code).not.toBe(0);
  });

  it('says that the keys may not be read by this user, not that they are missing (exit 2, GNC_FILE_ACCESS)', async () => {
    // keys/ is 0700: a user who may use the rest of the data dir but not its keys. As root, which reads
    // everything, the command runs as "nobody" on a data dir that is nobody's but for its keys
    const dir = join(base, 'keys-of-another-user');
    cpSync(node, dir, { recursive: true });
    const root = process.getuid?.() === 0;
    if (root) {
      chmodSync(base, 0o755);
      for (const f of ['', 'gnc.json', 'gnc.sqlite', 'identity', ...readdirSync(join(dir, 'identity')).map((f) => join('identity', f))]) {
        if (existsSync(join(dir, f))) chownSync(join(dir, f), 65534, 65534);
      }
    } else {
      chmodSync(join(dir, 'keys'), 0o000);
    }
    try {
      const r = await promisify(execFile)(process.execPath, [BIN, 'keys', 'status', '--dir', dir], { timeout: 30_000, ...(root ? { uid: 65534, gid: 65534 } : {}) }).then(
        (ok) => ({ code: 0, stderr: ok.stderr }),
        (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
      );
      expectError(r, 2, 'GNC_FILE_ACCESS');
      expect(r.stderr).toContain(`${join(dir, 'keys', 'node.jwk')} may not be accessed by this user`);
    } finally {
      if (root) chmodSync(base, 0o700);
      else chmodSync(join(dir, 'keys'), 0o700);
    }
  });

  it('says that the data dir may not be written, instead of an unexpected failure to report (exit 2, GNC_FILE_ACCESS)', async () => {
    // SQLite writes gnc.sqlite-wal and -shm beside the database: a data dir this user may read but not write (a
    // volume mounted read-only says the same with EROFS). As root, which writes everything, the command runs as
    // "nobody" on a data dir root owns and whose files are nobody's
    const dir = join(base, 'read-only-dir');
    cpSync(node, dir, { recursive: true });
    const root = process.getuid?.() === 0;
    if (root) {
      chmodSync(base, 0o755);
      chmodSync(dir, 0o755);
      for (const f of readdirSync(dir, { recursive: true }) as string[]) chownSync(join(dir, f), 65534, 65534);
    } else {
      chmodSync(dir, 0o555);
    }
    try {
      for (const args of [['messages'], ['start']]) {
        const r = await promisify(execFile)(process.execPath, [BIN, ...args, '--dir', dir], { timeout: 30_000, ...(root ? { uid: 65534, gid: 65534 } : {}) }).then(
          (ok) => ({ code: 0, stderr: ok.stderr }),
          (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
        );
        expectError(r, 2, 'GNC_FILE_ACCESS');
        expect(r.stderr, args.join(' ')).toContain(`${dir} may not be written by this user`);
      }
    } finally {
      if (root) chmodSync(base, 0o700);
      else chmodSync(dir, 0o755);
    }
  });

  it('says that the database is damaged (exit 1, GNC_STORAGE_CORRUPT)', async () => {
    const broken = join(base, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'gnc.json'), readFileSync(join(node, 'gnc.json')));
    writeFileSync(join(broken, 'gnc.sqlite'), 'this is no database, but long enough to be read as a header page');
    const r = await gnc('token', 'list', '--dir', broken);
    expectError(r, 1, 'GNC_STORAGE_CORRUPT');
    expect(r.stderr).toMatch(/backup/);
  });

  it('refuses a database a newer gnc wrote instead of running on it (exit 1, GNC_STORAGE_VERSION)', async () => {
    const newer = join(base, 'newer');
    cpSync(node, newer, { recursive: true });
    const db = new Database(join(newer, 'gnc.sqlite'));
    const version = db.pragma('user_version', { simple: true }) as number;
    db.pragma(`user_version = ${version + 1}`);
    db.close();
    for (const args of [['messages'], ['start']]) {
      const r = await gnc(...args, '--dir', newer);
      expectError(r, 1, 'GNC_STORAGE_VERSION');
      expect(r.stderr).toContain(`schema version ${version + 1}`);
    }
  });
});

describe('gnc send', () => {
  it('refuses a body over the API limit before queueing anything (exit 2, GNC_BODY_TOO_LARGE)', async () => {
    const file = join(base, 'big.json');
    writeFileSync(file, JSON.stringify({ kind: 'snapshot', padding: 'x'.repeat(MAX_BODY_BYTES) }));
    const r = await gnc('send', '--dir', node, '--to', 'KG', '--type', 'aeo', file);
    expectError(r, 2, 'GNC_BODY_TOO_LARGE');
    // what to do, for an AEO register too (not "split the consignment"): the README's recipe writes its parts compact
    expect(r.stderr).toContain('send JSON without indentation (every byte counts), or split it into several messages (an AEO register as a snapshot in parts, SPEC section 7.5)');
    expect((await gnc('messages', '--dir', node)).stdout).toContain('No messages');
  });
});

describe('smaller slips', () => {
  it('keeps the exit code of a failure whose error lines go to a reader that went away (2>&1 | head -1)', async () => {
    const file = join(base, 'bad-body.json');
    writeFileSync(file, '{"kind":"declaration"}');
    const child = spawn(process.execPath, [BIN, 'convert', '--to', 'xml', '--type', 'aci', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
  });

  it('lists the commands of a group with --help', async () => {
    const r = await gnc('keys', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('gnc keys rotate');
    expect(r.stdout).not.toContain('gnc init');
  });

  it('refuses a notice --effective that is no date, or an empty --reason, as usage errors (exit 2), not refused notices (exit 6)', async () => {
    for (const action of ['suspend', 'terminate', 'resume']) {
      const bad = await gnc('agreement', action, '--dir', node, '--id', 'KZ-KG-TEST', '--reason', 'audit', '--effective', 'next week');
      expectError(bad, 2, 'GNC_CONFIG_INVALID');
      expect(bad.stderr).toContain('--effective must be a date');
      expectError(await gnc('agreement', action, '--dir', node, '--id', 'KZ-KG-TEST', '--reason', ' '), 2, 'GNC_CONFIG_INVALID');
    }
  });

  it('refuses an agreement version that is no number instead of reporting the agreement missing (exit 2)', async () => {
    const r = await gnc('agreement', 'show', '--dir', node, '--id', 'KZ-KG-TEST', '--version', 'abc');
    expectError(r, 2, 'GNC_CONFIG_INVALID');
    expect(r.stderr).toContain('--version');
  });

  it('refuses a token without a name and lists each scope once', async () => {
    expectError(await gnc('token', 'create', '--dir', node, '--name', ' ', '--scopes', 'read'), 2, 'GNC_CONFIG_INVALID');
    const r = await gnc('token', 'create', '--dir', node, '--name', 'sw', '--scopes', 'read,read,submit', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).scopes).toEqual(['read', 'submit']);
  });
});
