/**
 * The README's "Verify one envelope without this software" is real: its Python block (with `cryptography`) and its
 * shell blocks (OpenSSL 3, jq, xxd, sha256sum) are run exactly as written on an evidence bundle, as an auditor runs
 * them without this node's code. A genuine bundle passes and names its root's fingerprint; a forged one, whose
 * exporter made its own root and labelled it with the genuine fingerprint, never shows that fingerprint as vouching
 * for anything, because the blocks compute each fingerprint from the key instead of reading the bundle's label.
 * A bundle whose node certificate a successor root signed (SPEC 9.4, `gnc keys rotate --root`) passes too: the
 * blocks follow the root-succession notices from the bundle's root and print the chain; a succession labelled as the
 * genuine root's but signed by another key, or a certificate a root signed after it was succeeded, fails.
 * Without python3 + cryptography, or jq, openssl, xxd, the tests that need them are skipped.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../../node/audit/verify-bundle.js';
import { keyObjectSigner } from '../../protocol/envelope/seal.js';
import { signKeyNotice } from '../../protocol/notice.js';
import { tempDir } from '../helpers/network.js';
import { asFile, certify, Exchange, iso, newKey, T0, type Key } from '../node/audit/fixture.js';

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

const HOUR = 3_600_000;

/**
 * KZ's root handed over twice (to `second` at T0 - 12 h, which handed over to `third` at T0 - 3 h), the notices listed
 * newest first; KZ's node key is certified by `third`, so each envelope KZ signs rests on the chain of successions.
 */
function succeeded(): { x: Exchange; second: Key; third: Key } {
  const x = new Exchange(0);
  const [second, third] = [newKey(), newKey()];
  x.successions.push(signKeyNotice({ v: 1, kind: 'root-succession', country: 'KZ', newRoot: third.jwk, effective: iso(T0 - 3 * HOUR) }, second.signer));
  x.successions.push(signKeyNotice({ v: 1, kind: 'root-succession', country: 'KZ', newRoot: second.jwk, effective: iso(T0 - 12 * HOUR) }, x.kz.root.signer));
  x.kz.node = newKey();
  x.certificates[0] = certify('KZ', x.kz.node, third, { iat: T0 - 2 * HOUR, nbf: T0 - 2 * HOUR });
  x.send();
  return { x, second, third };
}

/**
 * A successor `forger` of KZ's root named by a notice that a key other than KZ's root signed: labelled with the genuine
 * root's fingerprint as its `kid`, or with the signing key's own.
 */
function forgedSuccession(label: 'genuine kid' | 'own kid'): { x: Exchange; forger: Key } {
  const x = new Exchange(0);
  const [forger, other] = [newKey(), newKey()];
  const signer = label === 'own kid' ? other.signer : keyObjectSigner(x.kz.root.signer.kid, other.privateKey);
  x.successions.push(signKeyNotice({ v: 1, kind: 'root-succession', country: 'KZ', newRoot: forger.jwk, effective: iso(T0 - 12 * HOUR) }, signer));
  x.kz.node = newKey();
  x.certificates[0] = certify('KZ', x.kz.node, forger, { iat: T0 - 6 * HOUR, nbf: T0 - 6 * HOUR });
  x.send();
  return { x, forger };
}

/** The genuine succession, but KZ's node key certified by the first root after it handed over. */
function retiredRootCertifies(): Exchange {
  const x = new Exchange(0);
  x.successions.push(signKeyNotice({ v: 1, kind: 'root-succession', country: 'KZ', newRoot: newKey().jwk, effective: iso(T0 - 12 * HOUR) }, x.kz.root.signer));
  x.kz.node = newKey();
  x.certificates[0] = certify('KZ', x.kz.node, x.kz.root, { iat: T0 - 6 * HOUR, nbf: T0 - 6 * HOUR });
  x.send();
  return x;
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

  it.skipIf(!withShellTools)("lists the bundle's revocations, which the blocks do not apply, with the jq line the README gives", async () => {
    const x = new Exchange(2);
    // a revocation after everything the key signed here: the reference verifier accepts the bundle, and the listing
    // shows the auditor the revocation and its time, to hold against each envelope's `created`
    const revokedAt = iso(T0 + 30 * 24 * HOUR);
    x.revocations.push(signKeyNotice({ v: 1, kind: 'revocation', country: 'KZ', kid: x.kz.node.signer.kid, reason: 'key compromised', revokedAt }, x.kz.root.signer));
    const bundle = asFile(x.bundle({ signed: true }));
    expect((await verifyBundle(bundle)).failures).toEqual([]);
    const line = /`(jq -r '\.revocations\[\][^`]*)`/.exec(section)?.[1];
    expect(line, 'the README names a jq line for the revocations').toBeDefined();
    const r = run('bash', ['-c', line!], auditorDir(bundle));
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ kind: 'revocation', country: 'KZ', kid: x.kz.node.signer.kid, revokedAt });
  });

  describe('a node certificate signed by a successor root', () => {
    it('is a bundle the reference verifier accepts, and the forgeries are ones it refuses', async () => {
      expect((await verifyBundle(asFile(succeeded().x.bundle({ signed: true })))).failures).toEqual([]);
      const forged = await verifyBundle(asFile(forgedSuccession('genuine kid').x.bundle({ signed: true })));
      expect(forged.failures.map((f) => [f.code, f.check])).toContainEqual(['GNC_SIGNATURE_INVALID', 'root successions']);
      const own = await verifyBundle(asFile(forgedSuccession('own kid').x.bundle({ signed: true })));
      expect(own.failures.map((f) => [f.code, f.check])).toContainEqual(['GNC_CERT_INVALID', 'root successions']);
      const retired = await verifyBundle(asFile(retiredRootCertifies().bundle({ signed: true })));
      expect(retired.failures.map((f) => [f.code, f.check])).toContainEqual(['GNC_CERT_INVALID', 'certificates']);
    });

    it.skipIf(!withPython)('Python: follows the successions from the root to compare to the root that signed the certificate', () => {
      const { x, second, third } = succeeded();
      const dir = auditorDir(asFile(x.bundle({ signed: true })));
      const r = run('python3', ['verify.py', 'b.json', '0'], dir);
      expect(r.code, r.out).toBe(0);
      expect(r.out.split('\n').filter((l) => l.startsWith('root '))).toEqual([
        `root KZ ${x.kz.root.signer.kid} <- compare with the fingerprint you were given`,
        `root KZ ${second.signer.kid} in office from ${iso(T0 - 12 * HOUR)}, named by the root above`,
        `root KZ ${third.signer.kid} in office from ${iso(T0 - 3 * HOUR)}, named by the root above`,
      ]);
      expect(r.out).toMatch(new RegExp(`^OK aeo kz-msg-0 KZ -> KG \\S+ sha256 ${x.sent[0]!.message.sha256}$`, 'm'));
      // KG's receipt rests on KG's root alone, as before
      const receipt = run('python3', ['verify.py', 'b.json', '1'], dir);
      expect(receipt.code, receipt.out).toBe(0);
      expect(receipt.out.split('\n').filter((l) => l.startsWith('root '))).toEqual([`root KG ${x.kg.root.signer.kid} <- compare with the fingerprint you were given`]);
    });

    it.skipIf(!withPython).each(['genuine kid', 'own kid'] as const)('Python: refuses a succession signed by a key that is not the root before it (%s)', (label) => {
      const { x, forger } = forgedSuccession(label);
      const r = run('python3', ['verify.py', 'b.json', '0'], auditorDir(asFile(x.bundle({ signed: true }))));
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(label === 'own kid' ? /no root of KZ in the bundle leads to the root that signed the certificate/ : /InvalidSignature/);
      expect(r.out).not.toContain(forger.signer.kid);
      expect(r.out).not.toMatch(/^OK /m);
    });

    it.skipIf(!withPython)('Python: refuses a certificate a root signed after it handed over', () => {
      const r = run('python3', ['verify.py', 'b.json', '0'], auditorDir(asFile(retiredRootCertifies().bundle({ signed: true }))));
      expect(r.code).not.toBe(0);
      expect(r.out).not.toMatch(/^(root|OK) /m);
    });

    it.skipIf(!withShellTools)('shell: follows the successions, prints the chain, and checks the certificate, the envelope and the statement', () => {
      const { x, second, third } = succeeded();
      const r = run('bash', ['-c', `${shell}\n${digest}`], auditorDir(asFile(x.bundle({ signed: true }))));
      expect(r.code, r.out).toBe(0);
      const chain = [
        `root ${x.kz.root.signer.kid} <- compare with the fingerprint you were given`,
        `root ${second.signer.kid} in office from ${iso(T0 - 12 * HOUR)}, named by the root above`,
        `root ${third.signer.kid} in office from ${iso(T0 - 3 * HOUR)}, named by the root above`,
      ];
      // the chain once for the envelope's certificate, once for the exporter's (the same key)
      expect(r.out.split('\n').filter((l) => l.startsWith('root '))).toEqual([...chain, ...chain]);
      // each time: two notices and the certificate, then the envelope, then the statement
      expect(r.out.match(/^Signature Verified Successfully$/gm)).toHaveLength(8);
      expect(r.out).toMatch(/^true$/m);
      const [computed, stated] = r.out.trim().split('\n').slice(-2);
      expect(computed!.slice(0, 64)).toBe(stated);
    });

    it.skipIf(!withShellTools).each(['genuine kid', 'own kid'] as const)('shell: refuses a succession signed by a key that is not the root before it (%s)', (label) => {
      const { x, forger } = forgedSuccession(label);
      const r = run('bash', ['-c', shell!], auditorDir(asFile(x.bundle({ signed: true }))));
      expect(r.code).not.toBe(0);
      expect(r.out).not.toContain(forger.signer.kid);
      expect(r.out).not.toMatch(/^root /m);
      expect(r.out.match(/^Signature Verified Successfully$/gm) ?? []).toHaveLength(0);
    });

    it.skipIf(!withShellTools)('shell: refuses a certificate a root signed after it handed over', () => {
      const r = run('bash', ['-c', shell!], auditorDir(asFile(retiredRootCertifies().bundle({ signed: true }))));
      expect(r.code).not.toBe(0);
      expect(r.out).not.toMatch(/^root /m);
    });
  });
});
