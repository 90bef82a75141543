/**
 * The README's "Verify one envelope without this software" is real: its Python block (with `cryptography`) and its
 * shell blocks (OpenSSL 3, jq, xxd, sha256sum) are run exactly as written on an evidence bundle, as an auditor runs
 * them without this node's code. A genuine bundle passes and names its root's fingerprint; a forged one, whose
 * exporter made its own root and labelled it with the genuine fingerprint, never shows that fingerprint as vouching
 * for anything, because the blocks compute each fingerprint from the key instead of reading the bundle's label.
 * Without python3 + cryptography, or jq, openssl, xxd, the tests that need them are skipped.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyObjectSigner } from '../../protocol/envelope/seal.js';
import { tempDir } from '../helpers/network.js';
import { asFile, certify, Exchange } from '../node/audit/fixture.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('**3. Verify one envelope without this software.**'), readme.indexOf('**4. Keys.**'));
const python = /```python\n([\s\S]*?)```/.exec(section)![1]!;
const [shell, digest] = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const withPython = has('python3', ['-c', 'import cryptography']);
const withShellTools = has('jq', ['--version']) && has('openssl', ['version']) && has('xxd', ['-v']);

function run(cmd: string, args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** A directory holding the bundle as `b.json` (the name the shell blocks use) and the Python block as `verify.py`. */
function auditorDir(bundle: unknown): string {
  const dir = tempDir('gnc-readme-verify-');
  writeFileSync(join(dir, 'b.json'), JSON.stringify(bundle, null, 2));
  writeFileSync(join(dir, 'verify.py'), python);
  return dir;
}

function genuine() {
  const x = new Exchange(2);
  return { x, dir: auditorDir(asFile(x.bundle({ signed: true }))) };
}

/** KZ's bundle as someone without KZ's root makes it: an own root, labelled with KZ's genuine fingerprint. */
function forged(genuineFp: string): string {
  const x = new Exchange(0);
  x.certificates[0] = certify('KZ', x.kz.node, { ...x.kz.root, signer: keyObjectSigner(genuineFp, x.kz.root.privateKey) });
  x.send();
  const bundle = asFile(x.bundle({ signed: true }));
  bundle.roots = bundle.roots.map((r) => (r.country === 'KZ' ? { ...r, fingerprint: genuineFp } : r));
  return auditorDir(bundle);
}

describe('README offline verification with standard tools', () => {
  it('has the Python block and the two shell blocks', () => {
    expect(python).toMatch(/Ed25519PublicKey/);
    expect(shell).toMatch(/openssl pkeyutl -verify/);
    expect(digest).toMatch(/sha256sum/);
  });

  it.skipIf(!withPython)('Python: verifies each envelope of a genuine bundle and names its root by the fingerprint of its key', () => {
    const { x, dir } = genuine();
    const message = run('python3', ['verify.py', 'b.json', '0'], dir);
    expect(message.code, message.out).toBe(0);
    expect(message.out).toContain(`root KZ ${x.kz.root.signer.kid} <- compare`);
    expect(message.out).toMatch(new RegExp(`^OK aeo kz-msg-0 KZ -> KG \\S+ sha256 ${x.sent[0]!.message.sha256}$`, 'm'));
    const receipt = run('python3', ['verify.py', 'b.json', '1'], dir);
    expect(receipt.code, receipt.out).toBe(0);
    expect(receipt.out).toContain(`root KG ${x.kg.root.signer.kid} <- compare`);
  });

  it.skipIf(!withPython)('Python: never shows the genuine fingerprint for a root the bundle only labels with it', () => {
    const { x } = genuine();
    const r = run('python3', ['verify.py', 'b.json', '0'], forged(x.kz.root.signer.kid));
    expect(r.out).not.toContain(x.kz.root.signer.kid);
    expect(r.code).not.toBe(0);
  });

  it.skipIf(!withShellTools)('shell: checks the certificate under the root and the envelope under the certified key, and recomputes the statement digest', () => {
    const { x, dir } = genuine();
    const r = run('bash', ['-c', `${shell}\n${digest}`], dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`root ${x.kz.root.signer.kid} <- compare`);
    // the certificate and the envelope, then the exporter's certificate and its statement, each verify
    expect(r.out.match(/^Signature Verified Successfully$/gm)).toHaveLength(4);
    expect(r.out).toMatch(/^true$/m);
    const [computed, stated] = r.out.trim().split('\n').slice(-2);
    expect(computed).toMatch(/^[0-9a-f]{64} {2}-$/);
    expect(computed!.slice(0, 64)).toBe(stated);
  });

  it.skipIf(!withShellTools)('shell: never shows the genuine fingerprint for a root the bundle only labels with it', () => {
    const { x } = genuine();
    const r = run('bash', ['-c', shell!], forged(x.kz.root.signer.kid));
    expect(r.out).not.toMatch(new RegExp(`root ${x.kz.root.signer.kid}`));
    expect(r.out.match(/^Signature Verified Successfully$/gm) ?? []).toHaveLength(0);
  });
});
