/**
 * `gnc audit verify FILE` (the real CLI, from dist/) on hand-made bundles whose envelopes carry a member twice: JSON.parse
 * keeps the last copy, an auditor's JOSE library may keep the first, so the two would read different evidence from one
 * file. Each such bundle verifies when read last-copy-wins (the signed copy is the last one); the verifier must fail
 * it with GNC_SCHEMA_INVALID naming the envelope and the member (SPEC 9.6 items 1 and 6), and exit 7.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PAYLOAD_VERSION } from '../../../protocol/constants.js';
import { b64u } from '../../../protocol/envelope/base64url.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import type { EvidenceBundle } from '../../../protocol/evidence/bundle.js';
import { gnc } from '../../helpers/cli.js';
import { asFile, Exchange, iso, sha256, T0 } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'gnc-strict-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report { ok: boolean; failures: { check: string; code: string; subject: string; message: string }[] }

/** `gnc audit verify --json` on `text` written to a file: exit code and report. */
async function verify(name: string, text: string): Promise<{ code: number; report: Report; stderr: string }> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, text);
  const r = await gnc('audit', 'verify', file, '--json');
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

const text = (b: EvidenceBundle): string => JSON.stringify(b);

describe('gnc audit verify refuses envelopes with a member twice', () => {
  it('verifies the untouched bundle (the cases below differ from it only by the copy)', async () => {
    const r = await verify('plain', text(new Exchange(1).bundle()));
    expect(r.report.failures).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('a protected header with "alg" twice, the envelope signed over it: envelope #2, GNC_SCHEMA_INVALID', async () => {
    const x = new Exchange(1);
    const h = b64u(`{"alg":"none","alg":"EdDSA","kid":"${x.kz.node.signer.kid}","typ":"gnc+jws"}`);
    const created = T0 + 5 * 60_000;
    const p = b64u(canonicalJson({ v: PAYLOAD_VERSION, id: 'kz-alg-twice', type: 'aeo', from: 'KZ', to: 'KG', agreement: 'KZ-KG-MRA', created: iso(created), body: { kind: 'snapshot', asOf: iso(created), operators: [] } }));
    const s = b64u(x.kz.node.signer.sign(Buffer.from(`${h}.${p}`, 'ascii')));
    const bytes = Buffer.from(JSON.stringify({ protected: h, payload: p, signature: s }));
    x.envelopes.push(bytes);
    x.log('sent', 'kz-alg-twice', sha256(bytes), created);
    const r = await verify('header', text(x.bundle()));
    // and, as the envelope is not evidence, its log entry names no envelope of the bundle
    expect(r.report.failures.map((f) => [f.code, f.subject])).toEqual([['GNC_SCHEMA_INVALID', 'envelope #2'], ['GNC_AUDIT_BROKEN', 'message kz-alg-twice']]);
    expect(r.report.failures[0]!.message).toMatch(/^Protected header has the member \/alg twice: /);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toMatch(/^error GNC_AUDIT_BROKEN: /);
  });

  it('an envelope "text" with "protected" twice, the signed copy last: envelope #0, GNC_SCHEMA_INVALID', async () => {
    const bundle = asFile(new Exchange(1).bundle());
    const e = bundle.envelopes[0]!;
    e.text = `{"protected":"${b64u('{"alg":"none"}')}","protected":"${e.jws.protected}","payload":"${e.jws.payload}","signature":"${e.jws.signature}"}`;
    const r = await verify('text', text(bundle));
    const about = r.report.failures.filter((f) => f.subject === 'envelope #0');
    expect(about.map((f) => f.code)).toEqual(['GNC_SCHEMA_INVALID']);
    expect(about[0]!.message).toMatch(/^Envelope has the member \/protected twice: /);
    expect(r.code).toBe(7);
  });

  it('a "jws" object of the bundle file with "protected" twice: the bundle format check, naming the member', async () => {
    const good = text(new Exchange(1).bundle());
    const twice = good.replace('{"jws":{"protected":"', `{"jws":{"protected":"${b64u('{"alg":"none"}')}","protected":"`);
    expect(twice).not.toBe(good);
    const r = await verify('file', twice);
    expect(r.report.failures.map((f) => [f.check, f.code, f.subject])).toEqual([['bundle format', 'GNC_SCHEMA_INVALID', 'bundle']]);
    expect(r.report.failures[0]!.message).toMatch(/^Bundle has the member \/envelopes\/0\/jws\/protected twice: /);
    expect(r.code).toBe(7);
  });

  it('a member named "__proto__" anywhere in the file: the bundle format check', async () => {
    const r = await verify('proto', text(new Exchange(1).bundle()).replace('{"jws":{', '{"jws":{"__proto__":{},'));
    expect(r.report.failures[0]!.message).toMatch(/^Bundle has a member named "__proto__" at \/envelopes\/0\/jws\/__proto__/);
    expect(r.code).toBe(7);
  });

  it('still says GNC_INVALID_JSON for a file that is no JSON', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"v":');
    const r = await gnc('audit', 'verify', file);
    expect(r.stderr).toMatch(/^error GNC_INVALID_JSON: Cannot read .*broken\.json as JSON/);
    expect(r.code).not.toBe(0);
  });
});
