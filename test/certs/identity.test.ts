/** Identity on disk: keys made once with mode 0600, a root-signed node certificate, fingerprint pinning. */
import { readFileSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certifyNode, initIdentity, loadIdentity, loadRootKey, newNodeKey, IDENTITY_PATHS } from '../../certs/identity.js';
import { exportIdentity, verifyPartnerIdentity } from '../../certs/public-identity.js';
import { verifyNodeCertificate } from '../../protocol/certificate.js';
import { tempDir } from '../helpers/network.js';
import { rmSync } from 'node:fs';

const base = tempDir('gnc-certs-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
async function fresh(country = 'KZ') {
  return initIdentity({ dir: join(base, `id${n++}`), country, name: `Customs of ${country}`, addrs: ['/ip4/127.0.0.1/tcp/4001'] });
}

describe('identity', () => {
  it('creates every private key file with mode 0600', async () => {
    const id = await fresh();
    for (const p of [IDENTITY_PATHS.rootKey, IDENTITY_PATHS.nodeKey, IDENTITY_PATHS.libp2pKey]) {
      expect(statSync(join(id.dir, p)).mode & 0o777).toBe(0o600);
    }
  });

  it('issues a node certificate that verifies under the root and names the node key, peer id and addresses', async () => {
    const id = await fresh();
    const cert = verifyNodeCertificate(readFileSync(join(id.dir, IDENTITY_PATHS.certificate), 'utf8').trim(), id.root.jwk);
    expect(cert).toMatchObject({ country: 'KZ', sub: id.node.thumbprint, peerId: id.peerId, addrs: ['/ip4/127.0.0.1/tcp/4001'], iss: id.root.thumbprint });
  });

  it('refuses to overwrite an existing identity (GNC_IDENTITY_EXISTS)', async () => {
    const id = await fresh();
    await expect(initIdentity({ dir: id.dir, country: 'KZ', name: 'x', addrs: [] })).rejects.toMatchObject({ code: 'GNC_IDENTITY_EXISTS' });
  });

  it('refuses to load a private key readable by others', async () => {
    const id = await fresh();
    chmodSync(join(id.dir, IDENTITY_PATHS.nodeKey), 0o644);
    expect(() => loadIdentity(id.dir)).toThrow(expect.objectContaining({ code: 'GNC_CONFIG_INVALID' }));
  });

  it('exports a public identity without any private member', async () => {
    const id = await fresh();
    const text = JSON.stringify(exportIdentity(id));
    expect(text).not.toMatch(/"d":/);
    expect(JSON.parse(text).root.fingerprint).toBe(id.root.thumbprint);
  });

  it('pins a partner identity only when the fingerprint matches', async () => {
    const kg = await fresh('KG');
    const doc = exportIdentity(kg);
    expect(verifyPartnerIdentity(doc, kg.root.thumbprint).identity.country).toBe('KG');
    const other = await fresh('KG');
    expect(() => verifyPartnerIdentity(doc, other.root.thumbprint)).toThrow(expect.objectContaining({ code: 'GNC_FINGERPRINT_MISMATCH' }));
  });

  it('refuses an identity whose certificate was signed by another root (GNC_CERT_INVALID)', async () => {
    const a = await fresh('KG');
    const b = await fresh('KG');
    const forged = { ...exportIdentity(a), certificates: [b.certificate] };
    expect(() => verifyPartnerIdentity(forged, a.root.thumbprint)).toThrow(expect.objectContaining({ code: 'GNC_CERT_INVALID' }));
  });

  it('exports the other node certificates still valid under the current root after the current one, and no other', async () => {
    const id = await fresh();
    const now = Date.now();
    const root = loadRootKey(id.dir, id.root.thumbprint);
    const fields = { country: id.country, name: id.name, peerId: id.peerId, addrs: id.certPayload.addrs, now, validityMs: 3_600_000 };
    const valid = certifyNode(root, newNodeKey(id.dir), fields);
    const expired = certifyNode(root, newNodeKey(id.dir), { ...fields, now: now - 7_200_000 });
    const revokedKey = newNodeKey(id.dir);
    const revoked = certifyNode(root, revokedKey, fields);
    const other = await fresh();
    const otherRoot = certifyNode(loadRootKey(other.dir, other.root.thumbprint), newNodeKey(id.dir), fields);
    const doc = exportIdentity(id, {
      now, held: [id.certificate, expired, revoked, otherRoot, valid],
      revokedAt: (kid) => (kid === revokedKey.thumbprint ? now - 1 : undefined),
    });
    expect(doc.certificates).toEqual([id.certificate, valid]);
    expect(verifyPartnerIdentity(doc, id.root.thumbprint, now).certificates).toHaveLength(2);
  });

  it('pins from a file with the current certificate only, as older versions wrote', async () => {
    const id = await fresh('KG');
    const doc = { ...exportIdentity(id), certificates: [id.certificate] };
    expect(verifyPartnerIdentity(doc, id.root.thumbprint).certificates.map((c) => c.compact)).toEqual([id.certificate]);
  });
});
