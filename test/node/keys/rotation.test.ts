/**
 * Key rotation, revocation and root succession over the wire between real nodes (issue 6): the new
 * certificate reaches the partner before anything the new key signs, so no message in flight is rejected;
 * a revocation is enforced by the partner at once for signatures made after its time; a successor root is
 * trusted by the partner; and exports across all of it still verify offline.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifyNode, loadIdentity, loadNodeKey, loadRootKey, newNodeKey, originalRootJwk } from '../../../certs/identity.js';
import { jwkThumbprint } from '../../../protocol/jwk.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { ownCertificates } from '../../../certs/rotation.js';
import { keyStatus } from '../../../node/keys/service.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { sealEnvelope, type Signer } from '../../../protocol/envelope/seal.js';
import { newMessageId } from '../../../protocol/ids.js';
import { api, finalMessage, makeNetwork, runCli, type TestNode, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
let oldKid: string;
let newKid: string;

async function submit(): Promise<string> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  return r.json.id as string;
}

const final = (id: string): Promise<{ status: string; error?: { code: string } }> => finalMessage(kz, id, 20_000);

function kidOf(jws: Buffer | Uint8Array): string {
  const env = JSON.parse(Buffer.from(jws).toString('utf8'));
  return JSON.parse(Buffer.from(env.protected, 'base64url').toString('utf8')).kid;
}

/** Send an envelope sealed by `signer` straight over KZ's session, return the receipt body. */
async function sendSealed(signer: Signer, created: string): Promise<{ status: string; code?: string }> {
  const sealed = sealEnvelope({ v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created, purpose: 'pre-arrival-risk-assessment', body: aci } as never, signer);
  const answer = await kz.node.session('KG').request(sealed.bytes);
  const jws = JSON.parse(Buffer.from(answer).toString('utf8'));
  return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')).body;
}

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
  oldKid = loadIdentity(kz.dir).node.thumbprint;
}, 60_000);
afterAll(async () => net?.close());

describe('gnc keys rotate', () => {
  it('accepts every message in flight across a rotation, and switches to the new key without a restart', async () => {
    const before = await Promise.all(Array.from({ length: 10 }, () => submit()));
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
    expect(r.code).toBe(0);
    newKid = JSON.parse(r.out[0]!).current;
    expect(newKid).not.toBe(oldKid);
    const during = await Promise.all(Array.from({ length: 10 }, () => submit()));
    for (const id of [...before, ...during]) expect((await final(id)).status).toBe('delivered');
    await waitFor(() => (kz.node.parts.signer().kid === newKid ? true : undefined), 15_000, 'switch to the new key');
    expect((await api(kz, 'GET', '/v1/health')).json.kid).toBe(newKid);
    const after = await submit();
    expect((await final(after)).status).toBe('delivered');
    expect(kidOf(kg.node.parts.store.messages.byKey('in', 'KZ', after)!.jws!)).toBe(newKid);
    expect(kidOf(kg.node.parts.store.messages.byKey('in', 'KZ', before[0]!)!.jws!)).toBe(oldKid);
    // the new private key stays in the data dir, readable by the node's user only
    for (const f of readdirSync(join(kz.dir, 'keys'))) expect(statSync(join(kz.dir, 'keys', f)).mode & 0o777, f).toBe(0o600);
    expect(readdirSync(join(kz.dir, 'keys')).some((f) => f.includes(newKid))).toBe(true);
  }, 60_000);

  it('keeps the old certificate at the partner so old signatures stay verifiable', () => {
    const kids = kg.node.parts.store.partners.certificates('KZ').map((c) => c.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
  });

  it('exports a bundle across the rotation that verifies offline', async () => {
    const file = join(net.base, 'rotation.json');
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--partner', 'KG'])).code).toBe(0);
    const report = await verifyBundle(JSON.parse(readFileSync(file, 'utf8')));
    expect(report.failures).toEqual([]);
    expect(report.counts.revocations).toBeGreaterThanOrEqual(1); // the old key's retirement at the end of the overlap
  });
});

describe('gnc keys revoke', () => {
  it('refuses to revoke the key the node signs with (GNC_CONFLICT)', async () => {
    const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', newKid, '--reason', 'test']);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toContain('GNC_CONFLICT');
  });

  it('refuses a key that is not one of this administration (GNC_NOT_FOUND)', async () => {
    const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', loadIdentity(kg.dir).node.thumbprint, '--reason', 'test']);
    expect(r.code).toBe(4);
  });

  it('is enforced by the partner at once: a signature after the revocation time is rejected with GNC_KEY_REVOKED', async () => {
    // after the switch: everything the old key signed in the overlap stays valid evidence
    const at = new Date().toISOString();
    const r = await runCli(['keys', 'revoke', '--dir', kz.dir, '--kid', oldKid, '--reason', 'key file found on a decommissioned server', '--at', at]);
    expect(r.code).toBe(0);
    await waitFor(() => (kg.node.parts.trust.resolveKey(oldKid)?.revokedAt === Date.parse(at) ? true : undefined), 15_000, 'revocation at KG');
    const oldSigner = loadNodeKey(kz.dir, oldKid).signer;
    expect(await sendSealed(oldSigner, new Date(Date.parse(at) + 1000).toISOString())).toMatchObject({ status: 'rejected', code: 'GNC_KEY_REVOKED' });
  });

  it('keeps signatures made before the revocation time valid', async () => {
    const oldSigner = loadNodeKey(kz.dir, oldKid).signer;
    const created = new Date(kg.node.parts.trust.resolveKey(oldKid)!.revokedAt! - 100).toISOString();
    expect(await sendSealed(oldSigner, created)).toMatchObject({ status: 'accepted' });
  });

  it("puts the revocation into the partner's bundles, which still verify", async () => {
    const file = join(net.base, 'kg-after-revocation.json');
    expect((await runCli(['audit', 'export', '--dir', kg.dir, '--out', file, '--partner', 'KZ'])).code).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    expect(bundle.revocations.length).toBeGreaterThanOrEqual(2);
    const report = await verifyBundle(bundle);
    expect(report.failures).toEqual([]);
  });
});

describe('gnc keys rotate --root', () => {
  it('names a successor root that the partner then trusts, and messages keep flowing', async () => {
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--root', '--json']);
    expect(r.code).toBe(0);
    const newRoot = JSON.parse(r.out[0]!).current as string;
    await waitFor(() => (kg.node.parts.trust.rootsOf('KZ').length === 2 ? true : undefined), 15_000, 'succession at KG');
    expect(loadIdentity(kz.dir).certPayload.iss).toBe(newRoot);
    expect((await final(await submit())).status).toBe('delivered');
  }, 30_000);

  it('refuses a node key certified by the succeeded root: only the root in office brings in keys', async () => {
    const id = loadIdentity(kz.dir);
    const oldRoot = loadRootKey(kz.dir, jwkThumbprint(originalRootJwk(kz.dir)));
    expect(oldRoot.thumbprint).not.toBe(id.root.thumbprint);
    const rogue = newNodeKey(kz.dir);
    const cert = certifyNode(oldRoot, rogue, { country: 'KZ', name: id.name, peerId: id.peerId, addrs: [], now: Date.now(), validityMs: 86_400_000 });
    const sealed = sealEnvelope({ v: 1, id: newMessageId(), type: 'key', from: 'KZ', to: 'KG', agreement: null, created: new Date().toISOString(), body: { action: 'announce', certificate: cert } } as never, kz.node.parts.signer());
    const answer = await kz.node.session('KG').request(sealed.bytes);
    const body = JSON.parse(Buffer.from(JSON.parse(Buffer.from(answer).toString('utf8')).payload, 'base64url').toString('utf8')).body;
    expect(body, body.reason).toMatchObject({ status: 'rejected', code: 'GNC_CERT_INVALID' });
    expect(kg.node.parts.trust.resolveKey(rogue.thumbprint)).toBeUndefined();
  });

  it('exports a bundle with the succession that verifies offline', async () => {
    const file = join(net.base, 'succession.json');
    expect((await runCli(['audit', 'export', '--dir', kz.dir, '--out', file, '--partner', 'KG'])).code).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    expect(bundle.successions).toHaveLength(1);
    const report = await verifyBundle(bundle);
    expect(report.failures).toEqual([]);
  });

  it('keeps both certificates of the node key the succession re-certified when that key is rotated out', async () => {
    const reissued = loadIdentity(kz.dir);
    await waitFor(async () => ((await keyStatus(kz.dir)).pending === undefined ? true : undefined), 20_000, 'the earlier rotation to complete');
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
    expect(r.code, r.out.join('\n')).toBe(0);
    const issuers = ownCertificates(kz.dir).map((c) => decodeNodeCertificate(c)).filter((p) => p.sub === reissued.node.thumbprint).map((p) => p.iss);
    // the one the first root issued, and the one its successor issued for the same key
    expect(new Set(issuers)).toEqual(new Set([jwkThumbprint(originalRootJwk(kz.dir)), reissued.certPayload.iss]));
  }, 30_000);
});
