/**
 * The README's "Verify one envelope without this software" is real: its Python block (with `cryptography`) and its
 * shell blocks (OpenSSL 3, jq, xxd, sha256sum) are run exactly as written on an evidence bundle, as an auditor runs
 * them without this node's code. A genuine bundle passes and names its root's fingerprint; a forged one, whose
 * exporter made its own root and labelled it with the genuine fingerprint, never shows that fingerprint as vouching
 * for anything, because the blocks compute each fingerprint from the key instead of reading the bundle's label.
 * A bundle whose node certificate a successor root signed (SPEC 9.4, `gnc keys rotate --root`) passes too: the
 * blocks follow the root-succession notices from the bundle's root and print the chain; a succession labelled as the
 * genuine root's but signed by another key, or a certificate a root signed after it was succeeded, fails.
 * A node key certified twice (a first certificate ended, a second covers the envelope's `created`) passes on the
 * second; one that no certificate covers at `created` fails. Envelopes resting on a certificate the exporter set aside
 * as conflicting (store migration 22, SPEC 9.6), in a bundle real nodes exchanged and `gnc audit export` wrote, pass
 * and are named as such, while such a certificate never vouches for the exporter's statement.
 * The shell block checks every envelope of the bundle, each ending with its own `OK envelope i` / `FAIL envelope i`
 * line, and exits non-zero when any fails. Both blocks apply the bundle's revocations (SPEC 9.4) as `gnc audit verify`
 * does, on a bundle real nodes wrote after `gnc keys revoke --at`: an envelope its key signed at or after the
 * revocation's `revokedAt` is `FAIL REVOKED` (gnc: GNC_KEY_REVOKED), one signed before passes, and a revocation that
 * does not verify under a root of the key's country is `IGNORED`, saying so, as gnc ignores it (failing the bundle).
 * Without python3 + cryptography, or jq, openssl, xxd, the tests that need them are skipped.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../certs/identity.js';
import { verifyBundle } from '../../node/audit/verify-bundle.js';
import { decodeNodeCertificate } from '../../protocol/certificate.js';
import { keyObjectSigner } from '../../protocol/envelope/seal.js';
import type { EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { signKeyNotice } from '../../protocol/notice.js';
import { networkForFile, runCli, tempDir, waitFor } from '../helpers/network.js';
import { deliveredAci, flipPayloadByte, setAsideByMigration } from '../node/audit/helpers.js';
import { asFile, certify, DAY, Exchange, iso, newKey, T0, type Key } from '../node/audit/fixture.js';

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

/**
 * The shell block (then the statement block, with `digest`) run in `dir`, its output cut per envelope: `envelopes[i]`
 * is what it printed for envelope i, ending with that envelope's own `OK envelope i` or `FAIL envelope i` line,
 * `verdicts` those lines, `rest` what followed the last envelope (the statement block's output).
 */
function runShell(dir: string, opts: { digest?: boolean } = {}): { code: number; out: string; envelopes: string[]; verdicts: string[]; rest: string } {
  // (what it prints to stderr, in order with the rest)
  const r = run('bash', ['-c', `exec 2>&1\n${shell}${opts.digest ? `\n${digest}` : ''}`], dir);
  const envelopes: string[] = [];
  let chunk: string[] = [];
  for (const line of r.out.split('\n')) {
    chunk.push(line);
    if (/^(OK|FAIL) envelope \d+ /.test(line)) {
      envelopes.push(chunk.join('\n'));
      chunk = [];
    }
  }
  return { ...r, envelopes, verdicts: envelopes.map((e) => e.split('\n').at(-1)!), rest: chunk.join('\n') };
}

const payloadOf = (b64: string): { id: string; type: string; created: string } => JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
const verified = (out: string): number => (out.match(/^Signature Verified Successfully$/gm) ?? []).length;

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

/**
 * KZ's node key certified twice by its root: a first certificate that ended at `firstEnds`, then a second from
 * `secondStarts`, listed in that order; the envelope KZ signs is created at T0.
 */
function certifiedTwice(firstEnds: number, secondStarts: number): Exchange {
  const x = new Exchange(0);
  x.certificates[0] = certify('KZ', x.kz.node, x.kz.root, { nbf: T0 - 30 * DAY, exp: firstEnds });
  x.certificates.push(certify('KZ', x.kz.node, x.kz.root, { nbf: secondStarts }));
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

  it.skipIf(!withShellTools)('shell: checks each envelope\'s certificate under the root and the envelope under the certified key, and recomputes the statement digest', () => {
    const { x, dir } = genuine();
    const r = runShell(dir, { digest: true });
    expect(r.code, r.out).toBe(0);
    // every envelope, each with its own line: KZ's two messages and KG's two receipts
    expect(r.verdicts).toEqual([
      `OK envelope 0 aeo kz-msg-0 KZ -> KG ${iso(T0)}`,
      `OK envelope 1 receipt kg-receipt-kz-msg-0 KG -> KZ ${iso(T0 + 1000)}`,
      `OK envelope 2 aeo kz-msg-1 KZ -> KG ${iso(T0 + 60_000)}`,
      `OK envelope 3 receipt kg-receipt-kz-msg-1 KG -> KZ ${iso(T0 + 61_000)}`,
    ]);
    expect(r.envelopes[0]).toContain(`root ${x.kz.root.signer.kid} <- compare`);
    expect(r.envelopes[1]).toContain(`root ${x.kg.root.signer.kid} <- compare`);
    // for each envelope the certificate and the envelope, then the exporter's certificate and its statement, verify
    expect(r.envelopes.map(verified)).toEqual([2, 2, 2, 2]);
    expect(verified(r.rest)).toBe(2);
    expect(r.envelopes[0]).toMatch(new RegExp(`^certificate ${x.kz.node.signer.kid} KZ valid `, 'm'));
    expect(r.out).toContain('setAside: as the statement signs it');
    const [computed, stated] = r.out.trim().split('\n').slice(-2);
    expect(computed).toMatch(/^[0-9a-f]{64} {2}-$/);
    expect(computed!.slice(0, 64)).toBe(stated);
  });

  it.skipIf(!withShellTools)('shell: never shows the genuine fingerprint for a root the bundle only labels with it', () => {
    const { x } = genuine();
    const r = runShell(forged(x.kz.root.signer.kid));
    expect(r.code).not.toBe(0);
    expect(r.out).not.toMatch(new RegExp(`root ${x.kz.root.signer.kid}`));
    // KZ's message fails, nothing verified for it; KG's receipt rests on KG's genuine root
    expect(r.verdicts.map((v) => v.split(' ').slice(0, 3).join(' '))).toEqual(['FAIL envelope 0', 'OK envelope 1']);
    expect(verified(r.envelopes[0]!)).toBe(0);
  });

  it.skipIf(!withShellTools)('shell: checks every envelope, each with its own line, and fails when any one does', () => {
    const x = new Exchange(2);
    const bundle = asFile(x.bundle({ signed: true }));
    flipPayloadByte(bundle, 2, 'Almaty');
    const r = runShell(auditorDir(bundle));
    expect(r.code, r.out).not.toBe(0);
    expect(r.verdicts.map((v) => v.split(' ').slice(0, 3).join(' '))).toEqual(['OK envelope 0', 'OK envelope 1', 'FAIL envelope 2', 'OK envelope 3']);
    expect(r.envelopes[2]).toMatch(/^Signature Verification Failure$/m);
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
      expect(r.out).toMatch(label === 'own kid' ? /no certificate of key \S+ for KZ verifies under a root that a root of KZ in the bundle leads to/ : /InvalidSignature/);
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
      const r = runShell(auditorDir(asFile(x.bundle({ signed: true }))), { digest: true });
      expect(r.code, r.out).toBe(0);
      expect(r.verdicts.map((v) => v.split(' ').slice(0, 3).join(' '))).toEqual(['OK envelope 0', 'OK envelope 1']);
      const chain = [
        `root ${x.kz.root.signer.kid} <- compare with the fingerprint you were given`,
        `root ${second.signer.kid} in office from ${iso(T0 - 12 * HOUR)}, named by the root above`,
        `root ${third.signer.kid} in office from ${iso(T0 - 3 * HOUR)}, named by the root above`,
      ];
      const roots = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('root '));
      // the chain for the envelope's certificate, and for the exporter's (the same key); KG's receipt on KG's root
      expect(roots(r.envelopes[0]!)).toEqual(chain);
      expect(roots(r.envelopes[1]!)).toEqual([`root ${x.kg.root.signer.kid} <- compare with the fingerprint you were given`]);
      expect(roots(r.rest)).toEqual(chain);
      // each time: two notices and the certificate, then the envelope or the statement
      expect([verified(r.envelopes[0]!), verified(r.rest)]).toEqual([4, 4]);
      expect(r.out).toMatch(new RegExp(`^certificate ${x.kz.node.signer.kid} KZ valid `, 'm'));
      const [computed, stated] = r.out.trim().split('\n').slice(-2);
      expect(computed!.slice(0, 64)).toBe(stated);
    });

    it.skipIf(!withShellTools).each(['genuine kid', 'own kid'] as const)('shell: refuses a succession signed by a key that is not the root before it (%s)', (label) => {
      const { x, forger } = forgedSuccession(label);
      const r = runShell(auditorDir(asFile(x.bundle({ signed: true }))));
      expect(r.code).not.toBe(0);
      expect(r.out).not.toContain(forger.signer.kid);
      expect(r.verdicts[0]).toMatch(/^FAIL envelope 0 aeo kz-msg-0 KZ -> KG /);
      expect(r.envelopes[0]).not.toMatch(/^root /m);
      expect(verified(r.envelopes[0]!)).toBe(0);
    });

    it.skipIf(!withShellTools)('shell: refuses a certificate a root signed after it handed over', () => {
      const r = runShell(auditorDir(asFile(retiredRootCertifies().bundle({ signed: true }))));
      expect(r.code).not.toBe(0);
      expect(r.verdicts[0]).toMatch(/^FAIL envelope 0 /);
      expect(r.envelopes[0]).not.toMatch(/^root /m);
    });
  });

  describe('a node key certified twice', () => {
    const renewed = (): Exchange => certifiedTwice(T0 - HOUR, T0 - HOUR);
    const uncovered = (): Exchange => certifiedTwice(T0 - HOUR, T0 + HOUR);

    it('is a bundle the reference verifier accepts when the second certificate covers the envelope, refuses when none does', async () => {
      expect((await verifyBundle(asFile(renewed().bundle({ signed: true })))).failures).toEqual([]);
      const report = await verifyBundle(asFile(uncovered().bundle({ signed: true })));
      expect(report.failures.map((f) => f.code)).toContain('GNC_KEY_EXPIRED');
    });

    it.skipIf(!withPython)('Python: verifies the envelope under the certificate valid at its created time, not the first listed', () => {
      const x = renewed();
      const r = run('python3', ['verify.py', 'b.json', '0'], auditorDir(asFile(x.bundle({ signed: true }))));
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`certificate ${x.kz.node.signer.kid} KZ valid ${iso(T0 - HOUR)} to `);
      expect(r.out).toMatch(new RegExp(`^OK aeo kz-msg-0 KZ -> KG \\S+ sha256 ${x.sent[0]!.message.sha256}$`, 'm'));
    });

    it.skipIf(!withShellTools)('shell: verifies the envelope and the statement under the certificate valid at each one\'s time', () => {
      const x = renewed();
      const r = runShell(auditorDir(asFile(x.bundle({ signed: true }))), { digest: true });
      expect(r.code, r.out).toBe(0);
      expect(r.out.match(new RegExp(`^certificate ${x.kz.node.signer.kid} KZ valid ${iso(T0 - HOUR)} to `, 'gm'))).toHaveLength(2);
      expect([r.envelopes[0]!, r.rest].map((out) => out.match(/^root /gm)?.length)).toEqual([1, 1]);
      // each time: the first certificate and the second (both the root's), then the envelope or the statement
      expect([verified(r.envelopes[0]!), verified(r.rest)]).toEqual([3, 3]);
      const [computed, stated] = r.out.trim().split('\n').slice(-2);
      expect(computed!.slice(0, 64)).toBe(stated);
    });

    it.skipIf(!withPython)('Python: refuses an envelope created when no certificate of its key was valid', () => {
      const r = run('python3', ['verify.py', 'b.json', '0'], auditorDir(asFile(uncovered().bundle({ signed: true }))));
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/no certificate of key \S+ is valid at the envelope's created time/);
      expect(r.out).not.toMatch(/^(root|OK) /m);
    });

    it.skipIf(!withShellTools)('shell: refuses an envelope created when no certificate of its key was valid', () => {
      const r = runShell(auditorDir(asFile(uncovered().bundle({ signed: true }))));
      expect(r.code).not.toBe(0);
      expect(r.verdicts[0]).toMatch(/^FAIL envelope 0 /);
      expect(r.envelopes[0]).toMatch(/no certificate of key \S+ for KZ valid at \S+ verifies/);
      expect(r.envelopes[0]).not.toMatch(/^root /m);
      // the two certificates verify under the root; the envelope is never checked
      expect(verified(r.envelopes[0]!)).toBe(2);
    });
  });

  describe('with real nodes: an envelope under a certificate the exporter set aside as conflicting (store migration 22)', () => {
    const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);
    let bundle: EvidenceBundle;
    let kgKid = '';

    beforeAll(async () => {
      // KG's message to KZ, accepted under KG's certificate, which KZ's store then sets aside on upgrade
      const id = await deliveredAci(kg, 'KZ');
      setAsideByMigration(kz, kg.dir);
      const file = join(net.base, 'set-aside.json');
      const e = await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--message', id]);
      expect(e.code, e.out.join('\n')).toBe(0);
      bundle = JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;
      kgKid = loadIdentity(kg.dir).node.thumbprint;
    }, 60_000);

    it('is a bundle gnc audit verify accepts, with KG\'s message (envelope 0) resting on the set-aside certificate', async () => {
      const roots = ['KZ', 'KG'].flatMap((c) => ['--root', `${c}=${loadIdentity(net.dirs[c]!).root.thumbprint}`]);
      const v = await runCli(['audit', 'verify', join(net.base, 'set-aside.json'), ...roots]);
      expect(v.code, v.out.join('\n')).toBe(0);
      expect(bundle.setAside?.map((s) => decodeNodeCertificate(s.certificate).sub)).toEqual([kgKid]);
      expect(JSON.parse(Buffer.from(bundle.envelopes[0]!.jws.protected, 'base64url').toString('utf8'))).toMatchObject({ kid: kgKid });
    });

    it.skipIf(!withPython)('Python: verifies the envelope under the set-aside certificate and says it was set aside', () => {
      const r = run('python3', ['verify.py', 'b.json', '0'], auditorDir(bundle));
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`root KG ${loadIdentity(kg.dir).root.thumbprint} <- compare`);
      expect(r.out).toContain('SET ASIDE AS CONFLICTING by the exporter: peer-id, also claimed by UZ');
      expect(r.out).toMatch(/^OK aci \S+ KG -> KZ /m);
    });

    it.skipIf(!withShellTools)('shell: verifies the envelope under the set-aside certificate, the statement under the exporter\'s, and the set-aside mark it signs', () => {
      const r = runShell(auditorDir(bundle), { digest: true });
      expect(r.code, r.out).toBe(0);
      expect(r.verdicts.map((v) => v.split(' ').slice(0, 4).join(' '))).toEqual(['OK envelope 0 aci', 'OK envelope 1 receipt']);
      expect(r.envelopes[0]).toContain('SET ASIDE AS CONFLICTING by the exporter: peer-id, also claimed by UZ');
      expect(r.envelopes[0]).toMatch(new RegExp(`^certificate ${kgKid} KG valid `, 'm'));
      expect(r.envelopes[0]).toMatch(new RegExp(`^root ${loadIdentity(kg.dir).root.thumbprint} <- compare`, 'm'));
      expect(r.rest).toMatch(new RegExp(`^root ${loadIdentity(kz.dir).root.thumbprint} <- compare`, 'm'));
      // KG's certificate and the envelope, then KZ's certificate and its receipt, then KZ's certificate and the statement
      expect([...r.envelopes, r.rest].map(verified)).toEqual([2, 2, 2]);
      expect(r.envelopes[1]).not.toContain('SET ASIDE');
      expect(r.out).toContain('setAside: as the statement signs it');
      const [computed, stated] = r.out.trim().split('\n').slice(-2);
      expect(computed!.slice(0, 64)).toBe(stated);
    });

    it.skipIf(!withShellTools)('shell: shows a set-aside certificate moved among the trusted ones, which drops the warning, as not what the statement signs', () => {
      const moved = asFile(bundle);
      moved.certificates = [...moved.certificates, ...moved.setAside!.map((s) => s.certificate)];
      delete moved.setAside;
      const r = run('bash', ['-c', `${shell}\n${digest}`], auditorDir(moved));
      expect(r.out).not.toContain('SET ASIDE AS CONFLICTING');
      expect(r.out).toContain('setAside: NOT as the statement signs it');
    });

    it.skipIf(!withShellTools)('shell: never takes a set-aside certificate for the exporter\'s statement', () => {
      const forged = asFile(bundle);
      const kzCertificates = forged.certificates.filter((c) => decodeNodeCertificate(c).country === 'KZ');
      forged.certificates = forged.certificates.filter((c) => !kzCertificates.includes(c));
      forged.setAside = [...forged.setAside!, ...kzCertificates.map((certificate) => ({ certificate, conflict: 'node-key' as const }))];
      const r = runShell(auditorDir(forged), { digest: true });
      expect(r.rest).toMatch(/no certificate of key \S+ for KZ valid at \S+ verifies/);
      // the statement is never checked under KZ's set-aside certificate (KZ's receipt, an envelope, is)
      expect(verified(r.rest)).toBe(0);
      expect(r.rest).not.toMatch(new RegExp(`^root ${loadIdentity(kz.dir).root.thumbprint} `, 'm'));
      expect(r.envelopes[1]).toContain('SET ASIDE AS CONFLICTING by the exporter: node-key');
    });
  });

  describe('with real nodes: a node key revoked from an instant in the past (gnc keys revoke --at)', () => {
    const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);
    let bundle: EvidenceBundle;
    let oldKid = '';
    let revokedAt = '';
    const ids = { before: '', at: '' };
    const index = (id: string): number => bundle.envelopes.findIndex((e) => payloadOf(e.jws.payload).id === id);
    const created = (id: string): string => payloadOf(bundle.envelopes[index(id)]!.jws.payload).created;
    const roots = (): string[] => ['KZ', 'KG'].flatMap((c) => ['--root', `${c}=${loadIdentity(net.dirs[c]!).root.thumbprint}`]);
    /** The bundle as a file, and what `gnc audit verify` says about it. */
    async function gncVerify(b: EvidenceBundle, name: string): Promise<{ code: number; out: string }> {
      const file = join(net.base, name);
      writeFileSync(file, JSON.stringify(b));
      const v = await runCli(['audit', 'verify', file, ...roots()]);
      return { code: v.code, out: v.out.join('\n') };
    }
    /** The bundle with a revocation of the old key from a day before anything it signed, not signed by KZ's root. */
    function forgedRevocation(): EvidenceBundle {
      const forged = asFile(bundle);
      const signer = keyObjectSigner(loadIdentity(kz.dir).root.thumbprint, newKey().privateKey);
      forged.revocations.push(signKeyNotice({ v: 1, kind: 'revocation', country: 'KZ', kid: oldKid, reason: 'forged', revokedAt: iso(Date.parse(created(ids.before)) - DAY) }, signer));
      return forged;
    }

    beforeAll(async () => {
      // two messages KZ's first key signed, then a rotation, then that key revoked from the second one's created time
      oldKid = loadIdentity(kz.dir).node.thumbprint;
      ids.before = await deliveredAci(kz, 'KG');
      await new Promise((resolve) => setTimeout(resolve, 5));
      ids.at = await deliveredAci(kz, 'KG');
      const rotated = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
      expect(rotated.code, rotated.out.join('\n')).toBe(0);
      const current = (JSON.parse(rotated.out[0]!) as { current: string }).current;
      await waitFor(() => (kz.node.parts.signer().kid === current ? true : undefined), 20_000, 'the switch to the new key');
      revokedAt = payloadOf(JSON.parse(Buffer.from(kz.node.parts.store.messages.byKey('out', 'KG', ids.at)!.jws!).toString('utf8')).payload).created;
      const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', oldKid, '--reason', 'key file found on a decommissioned server', '--at', revokedAt]);
      expect(r.code, r.out.join('\n')).toBe(0);
      const file = join(net.base, 'revoked.json');
      const e = await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--message', ids.before, '--message', ids.at]);
      expect(e.code, e.out.join('\n')).toBe(0);
      bundle = JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;
    }, 60_000);

    it('is a bundle gnc audit verify refuses for the message signed at the revocation time (GNC_KEY_REVOKED), not the one before', async () => {
      // the revocation and the old key's retirement at the end of the rotation's overlap, later, which it does not change
      expect(bundle.revocations.length).toBeGreaterThanOrEqual(2);
      expect(created(ids.before) < revokedAt).toBe(true);
      const v = await gncVerify(bundle, 'revoked-copy.json');
      expect(v.code, v.out).toBe(7);
      const revoked = v.out.split('\n').filter((l) => l.trim().startsWith('GNC_KEY_REVOKED'));
      expect(revoked).toHaveLength(1);
      expect(revoked[0]).toContain(ids.at);
    });

    it.skipIf(!withPython)('Python: FAIL REVOKED for the message signed at the revocation time, exit non-zero', () => {
      const r = run('python3', ['verify.py', 'b.json', String(index(ids.at))], auditorDir(bundle));
      expect(r.code).not.toBe(0);
      expect(r.out).toContain(`FAIL REVOKED: key ${oldKid} was revoked from ${revokedAt}, at or before the envelope's created ${revokedAt}`);
      expect(r.out).not.toMatch(/^OK /m);
    });

    it.skipIf(!withPython)('Python: OK for the message signed before the revocation time, and for the receipts', () => {
      const dir = auditorDir(bundle);
      const r = run('python3', ['verify.py', 'b.json', String(index(ids.before))], dir);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(new RegExp(`^OK aci ${ids.before} KZ -> KG `, 'm'));
      expect(r.out).not.toMatch(/REVOKED|IGNORED/);
      const receipts = bundle.envelopes.map((e, i) => [payloadOf(e.jws.payload).type, i] as const).filter(([type]) => type === 'receipt');
      expect(receipts).toHaveLength(2);
      for (const [, i] of receipts) expect(run('python3', ['verify.py', 'b.json', String(i)], dir).code).toBe(0);
    });

    it.skipIf(!withShellTools)('shell: FAIL for the message signed at the revocation time only, saying REVOKED and when, exit non-zero', () => {
      const r = runShell(auditorDir(bundle));
      expect(r.code).not.toBe(0);
      expect(r.verdicts).toHaveLength(4);
      for (const [i, verdict] of r.verdicts.entries()) expect(verdict.startsWith(i === index(ids.at) ? 'FAIL' : 'OK'), verdict).toBe(true);
      const at = r.envelopes[index(ids.at)]!;
      expect(at).toContain(`FAIL REVOKED: key ${oldKid} was revoked from ${revokedAt}, at or before the envelope's created ${revokedAt}`);
      // the certificate, the envelope, and each revocation of the key under KZ's root
      expect(verified(at)).toBe(2 + bundle.revocations.length);
      expect(r.envelopes[index(ids.before)]).not.toMatch(/REVOKED|IGNORED/);
    });

    it('with a forged revocation added, gnc audit verify fails the bundle for it but voids nothing with it', async () => {
      const v = await gncVerify(forgedRevocation(), 'forged-revocation.json');
      expect(v.code, v.out).toBe(7);
      expect(v.out).toMatch(/^ *GNC_SIGNATURE_INVALID +revocation /m);
      expect(v.out.split('\n').filter((l) => l.trim().startsWith('GNC_KEY_REVOKED')).join('\n')).not.toContain(ids.before);
    });

    it.skipIf(!withPython)('Python: ignores a forged revocation, saying so, and passes the message signed before the genuine one', () => {
      const r = run('python3', ['verify.py', 'b.json', String(index(ids.before))], auditorDir(forgedRevocation()));
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`IGNORED a revocation of key ${oldKid} that does not verify under a root of KZ`);
      expect(r.out).toMatch(new RegExp(`^OK aci ${ids.before} KZ -> KG `, 'm'));
    });

    it.skipIf(!withShellTools)('shell: ignores a forged revocation, saying so, and passes the message signed before the genuine one', () => {
      const r = runShell(auditorDir(forgedRevocation()));
      const before = r.envelopes[index(ids.before)]!;
      expect(before).toContain(`IGNORED a revocation of key ${oldKid} that does not verify under a root of KZ`);
      expect(before).toMatch(/^Signature Verification Failure$/m);
      expect(r.verdicts[index(ids.before)]).toMatch(new RegExp(`^OK envelope ${index(ids.before)} aci ${ids.before} KZ -> KG `));
      expect(r.envelopes[index(ids.at)]).toContain(`FAIL REVOKED: key ${oldKid} was revoked from ${revokedAt}`);
    });
  });
});
