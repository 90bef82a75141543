/**
 * Evidence of messages accepted under a partner certificate that store migration 22 set aside as conflicting (SPEC
 * 9.10: a libp2p peer id another administration's certificate names), between real nodes: KG's certificate was
 * trusted when KZ and KG exchanged, a UZ certificate naming KG's peer id turns up in KZ's store as an older version
 * stored it, and the migration moves KG's certificate into certificate_conflicts. KZ's bundles still carry it (only
 * where an envelope needs it), and the offline verifier accepts the genuine signatures and names the conflict.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import type { EvidenceBundle } from '../../../protocol/evidence/bundle.js';
import { networkForFile, runCli } from '../../helpers/network.js';
import { certificateNaming, codes, deliveredAci, newKey, setAsideByMigration } from './helpers.js';

const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

const roots = (): string[] => ['KZ', 'KG'].flatMap((c) => ['--root', `${c}=${loadIdentity(net.dirs[c]!).root.thumbprint}`]);
const exported = (file: string): EvidenceBundle => JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;

const ids: { toKg: string; toKz: string } = { toKg: '', toKz: '' };
let kgCertificate = '';
let unused = '';
let file = '';

describe('evidence under a certificate set aside as conflicting', () => {
  it('exports no setAside member while no envelope needs one, the format older verifiers read', async () => {
    ids.toKg = await deliveredAci(kz, 'KG');
    ids.toKz = await deliveredAci(kg, 'KZ');
    const before = join(net.base, 'before.json');
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', before, '--partner', 'KG'])).code).toBe(0);
    expect(Object.keys(exported(before))).not.toContain('setAside');
  });

  it("carries KG's set-aside certificate, and only it, into a bundle whose envelopes KG's key signed", async () => {
    const db = kz.node.parts.store.db;
    const kgIdentity = loadIdentity(kg.dir);
    kgCertificate = kgIdentity.certificate;
    // a set-aside KG certificate of a key that signed nothing here: no bundle needs it
    const other = newKey();
    unused = certificateNaming('KG', kgIdentity.root.signer, other, '12D3KooWNotKgsNode');
    db.prepare(`INSERT INTO certificate_conflicts VALUES (?, 'KG', '12D3KooWNotKgsNode', ?, 0, 1, NULL, NULL, '2000-01-01T00:00:00.000Z', 'node-key', 0)`).run(other.signer.kid, unused);
    // and, as an older version stored it, a UZ certificate naming KG's peer id, which the migration sets KG's aside for
    setAsideByMigration(kz, kg.dir);
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
