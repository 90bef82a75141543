/**
 * Evidence of messages accepted under a partner certificate that store migration 22 set aside as conflicting (SPEC
 * 9.10: a libp2p peer id another administration's certificate names), between real nodes: KG's certificate was
 * trusted when KZ and KG exchanged, a UZ certificate naming KG's peer id turns up in KZ's store as an older version
 * stored it, and the migration moves KG's certificate into certificate_conflicts. KZ's bundles still carry it (only
 * where an envelope needs it), and the offline verifier accepts the genuine signatures and names the conflict.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { decodeNodeCertificate, issueNodeCertificate } from '../../../protocol/certificate.js';
import { keyObjectSigner } from '../../../protocol/envelope/seal.js';
import type { EvidenceBundle } from '../../../protocol/evidence/bundle.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';
import { api, finalMessage, networkForFile, runCli, type TestNode } from '../../helpers/network.js';
import { codes } from './helpers.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

async function send(from: TestNode, to: string): Promise<string> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  const id = r.json.id as string;
  expect((await finalMessage(from, id)).status).toBe('delivered');
  return id;
}

function key() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwkOf(privateKey);
  return { jwk, signer: keyObjectSigner(jwkThumbprint(jwk), privateKey) };
}

/** A certificate of `country`'s node key `node` naming `peerId`, signed by `root`. */
function certificate(country: string, root: ReturnType<typeof key>['signer'], node: ReturnType<typeof key>, peerId: string): string {
  const now = Date.now();
  return issueNodeCertificate({
    v: 1, iss: root.kid, sub: node.signer.kid, country, name: `Customs of ${country}`, jwk: node.jwk, peerId, addrs: [],
    iat: new Date(now - 86_400_000).toISOString(), nbf: new Date(now - 86_400_000).toISOString(), exp: new Date(now + 86_400_000).toISOString(),
  }, root);
}

const roots = (): string[] => ['KZ', 'KG'].flatMap((c) => ['--root', `${c}=${loadIdentity(net.dirs[c]!).root.thumbprint}`]);
const exported = (file: string): EvidenceBundle => JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;

const ids: { toKg: string; toKz: string } = { toKg: '', toKz: '' };
let kgCertificate = '';
let unused = '';
let file = '';

describe('evidence under a certificate set aside as conflicting', () => {
  it('exports no setAside member while no envelope needs one, the format older verifiers read', async () => {
    ids.toKg = await send(kz, 'KG');
    ids.toKz = await send(kg, 'KZ');
    const before = join(net.base, 'before.json');
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', before, '--partner', 'KG'])).code).toBe(0);
    expect(Object.keys(exported(before))).not.toContain('setAside');
  });

  it("carries KG's set-aside certificate, and only it, into a bundle whose envelopes KG's key signed", async () => {
    const db = kz.node.parts.store.db;
    const kgIdentity = loadIdentity(kg.dir);
    kgCertificate = kgIdentity.certificate;
    // as an older version stored it: a UZ certificate naming KG's peer id, held before KG's (UZ's root is real)
    const uz = { root: key(), node: key() };
    const uzCertificate = certificate('UZ', uz.root.signer, uz.node, kgIdentity.peerId);
    db.prepare('INSERT INTO certificates (kid, country, peer_id, compact, not_before, not_after, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(uz.node.signer.kid, 'UZ', kgIdentity.peerId, uzCertificate, Date.now() - 86_400_000, Date.now() + 86_400_000, '2000-01-01T00:00:00.000Z');
    // and a set-aside KG certificate of a key that signed nothing here: no bundle needs it
    const other = key();
    unused = certificate('KG', kgIdentity.root.signer, other, '12D3KooWNotKgsNode');
    db.prepare(`INSERT INTO certificate_conflicts VALUES (?, 'KG', '12D3KooWNotKgsNode', ?, 0, 1, NULL, NULL, '2000-01-01T00:00:00.000Z', 'node-key', 0)`).run(other.signer.kid, unused);
    db.exec(MIGRATIONS.find((m) => m.includes('CREATE TABLE IF NOT EXISTS certificate_conflicts'))!);
    kz.node.parts.trust.reload();
    expect(db.prepare('SELECT compact, conflict FROM certificate_conflicts WHERE country = ? AND peer_id = ?').all('KG', kgIdentity.peerId)).toEqual([{ compact: kgCertificate, conflict: 'peer-id' }]);

    file = join(net.base, 'set-aside.json');
    const e = await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--partner', 'KG']);
    expect(e.code, e.out.join('\n')).toBe(0);
    const bundle = exported(file);
    expect(bundle.setAside).toEqual([{ certificate: kgCertificate, conflict: 'peer-id', claimedBy: 'UZ' }]);
    expect(bundle.certificates.map((c) => decodeNodeCertificate(c).country)).not.toContain('KG');
  });

  it('verifies the genuine signatures under it, and the report says the certificate was set aside and why', async () => {
    const v = await runCli(['audit', 'verify', file, ...roots()]);
    const text = v.out.join('\n');
    expect(v.code, text).toBe(0);
    expect(text).toContain('GNC evidence bundle: VERIFIED');
    const kgKid = decodeNodeCertificate(kgCertificate).sub;
    expect(text).toContain('the exporter SET ASIDE AS CONFLICTING (SPEC 9.10)');
    expect(text).toContain('envelopes and the certificate set aside as conflicting are as the KZ node key signed them at export');
    expect(text).toMatch(new RegExp(`KG node key ${kgKid}: its libp2p peer id is also named by a certificate of UZ \\(peer-id\\); 2 envelopes rest on it`));
    const report = await verifyBundle(exported(file));
    expect(report.failures).toEqual([]);
    const receipt = kz.node.parts.store.messages.receipt(kz.node.parts.store.messages.byKey('out', 'KG', ids.toKg)!.seq)!.receipt_id;
    expect(report.bundle?.setAside).toEqual([{ kid: kgKid, country: 'KG', conflict: 'peer-id', claimedBy: 'UZ', envelopes: expect.arrayContaining([ids.toKz, receipt]) }]);
  });

  it('fails with GNC_KEY_UNKNOWN when the set-aside certificate is taken out, as bundles without it did, and the statement no longer matches', async () => {
    const bundle = exported(file);
    delete bundle.setAside;
    writeFileSync(join(net.base, 'stripped.json'), JSON.stringify(bundle));
    const report = await verifyBundle(bundle);
    expect(report.ok).toBe(false);
    // the envelopes lose their key, and the statement the set-aside mark it signed
    expect(codes(report)).toEqual(['GNC_AUDIT_BROKEN', 'GNC_KEY_UNKNOWN']);
  });

  it('fails when the set-aside certificate is moved among the trusted ones, which would drop the warning: the statement signs the mark', async () => {
    const bundle = exported(file);
    expect(bundle.statement).toBeDefined();
    bundle.certificates = [...bundle.certificates, ...bundle.setAside!.map((s) => s.certificate)];
    delete bundle.setAside;
    const report = await verifyBundle(bundle);
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => [f.check, f.code])).toEqual([['export statement', 'GNC_AUDIT_BROKEN']]);
    expect(report.failures[0]!.message).toContain('signed 1 certificates set aside as conflicting, but the bundle\'s differ (0 held)');
    // and a conflict changed after export the same
    const changed = exported(file);
    changed.setAside = changed.setAside!.map((s) => ({ ...s, conflict: 'node-key' as const }));
    expect((await verifyBundle(changed)).failures.map((f) => [f.check, f.code])).toEqual([['export statement', 'GNC_AUDIT_BROKEN']]);
  });

  it('trusts a set-aside certificate for envelopes only: a KZ key certified that way signs no checkpoint', async () => {
    const bundle = exported(file);
    const kzIdentity = loadIdentity(kz.dir);
    bundle.setAside = [...bundle.setAside!, { certificate: kzIdentity.certificate, conflict: 'node-key' }];
    bundle.certificates = bundle.certificates.filter((c) => c !== kzIdentity.certificate);
    const report = await verifyBundle(bundle);
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => f.check)).toEqual(expect.arrayContaining(['checkpoints', 'export statement']));
    expect(report.failures.every((f) => f.check !== 'key validity at signing')).toBe(true);
  });
});
