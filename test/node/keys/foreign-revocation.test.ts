/**
 * A root revokes only its own country's keys (SPEC 9.4, 9.10), between real nodes: a partner's root that signs a
 * revocation of this node's key, or of a third country's key, must neither retire that key here nor land in this
 * node's bundles. A revocation may arrive before the certificate it names; when the certificate comes, only the
 * revocations by its own country count. Notices of another country held from before this rule was enforced (put
 * into the store directly here) are not applied either.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifyNode, loadIdentity, loadRootKey, newNodeKey } from '../../../certs/identity.js';
import { sealEnvelope, type Signer } from '../../../protocol/envelope/seal.js';
import { newMessageId } from '../../../protocol/ids.js';
import { signKeyNotice, type KeyNotice } from '../../../protocol/notice.js';
import { KeyNoticeRepo } from '../../../node/store/key-notices.js';
import { makeNetwork, runCli, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const HOUR = 3_600_000;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
let uz: TestNode;
let kzKid: string;

/** A revocation of `kid` signed by the root of `by` (a real administration root, from its data dir). */
function revocation(by: TestNode, kid: string, revokedAt: number): { compact: string; notice: KeyNotice } {
  const notice: KeyNotice = { v: 1, kind: 'revocation', country: by.country, kid, reason: 'test: revoked by a partner root', revokedAt: new Date(revokedAt).toISOString() };
  return { compact: signKeyNotice(notice, loadIdentity(by.dir).root.signer), notice };
}

/** Send an envelope sealed by `signer` from `from` straight to KZ over its session; return KZ's receipt body. */
async function sendToKz(from: TestNode, payload: Record<string, unknown>, signer: Signer = from.node.parts.signer()): Promise<{ status: string; code?: string; reason?: string }> {
  const sealed = sealEnvelope({ v: 1, id: newMessageId(), from: from.country, to: 'KZ', created: new Date().toISOString(), ...payload } as never, signer);
  const answer = await from.node.session('KZ').request(sealed.bytes);
  const jws = JSON.parse(Buffer.from(answer).toString('utf8'));
  return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')).body;
}

const keyControl = (body: Record<string, unknown>) => ({ type: 'key', agreement: null, body });

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG', 'UZ']);
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
  uz = net.nodes.UZ!;
  kzKid = loadIdentity(kz.dir).node.thumbprint;
}, 90_000);
afterAll(async () => net?.close());

describe("a partner root's revocation of this node's own key", () => {
  it('is refused with GNC_CERT_INVALID and not stored', async () => {
    const { compact } = revocation(kg, kzKid, Date.now() - HOUR);
    const receipt = await sendToKz(kg, keyControl({ action: 'revoke', notice: compact }));
    expect(receipt, receipt.reason).toMatchObject({ status: 'rejected', code: 'GNC_CERT_INVALID' });
    expect(new KeyNoticeRepo(kz.node.parts.store.db).list('revocation').filter((n) => n.subject === kzKid)).toEqual([]);
  });

  it('does not show the key as revoked in gnc keys status when such a notice is held from before', async () => {
    const { compact, notice } = revocation(kg, kzKid, Date.now() - HOUR);
    new KeyNoticeRepo(kz.node.parts.store.db).add(compact, notice);
    const r = await runCli(['keys', 'status', '--dir', kz.dir, '--json']);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.out[0]!) as { keys: { kid: string; revokedAt: string | undefined }[] };
    expect(status.keys.find((k) => k.kid === kzKid)?.revokedAt).toBeUndefined();
  });

  it('does not make the next rotation seal its announcement with the new key, which partners do not know yet', async () => {
    // the notice held from the test before names the old key with a revokedAt in the past
    const r = await runCli(['keys', 'rotate', '--dir', kz.dir, '--json']);
    expect(r.code, r.out.join('\n')).toBe(0);
    const { announcements } = JSON.parse(r.out[0]!) as { announcements: Record<string, string> };
    const row = await waitFor(() => {
      const m = kz.node.parts.store.messages.byKey('out', 'KG', announcements.KG!);
      return m && ['delivered', 'rejected', 'expired'].includes(m.status) ? m : undefined;
    }, 20_000, 'announcement to KG');
    expect(row.error_code).toBeNull();
    expect(row.status).toBe('delivered');
  }, 30_000);
});

describe("a partner root's revocation of a third country's key that arrives before its certificate", () => {
  let uzKid: string;
  let uzSigner: Signer;
  let uzRevokedAt: number;

  beforeAll(async () => {
    // UZ certifies a new node key that KZ does not know yet; KG, which learnt it, sends KZ a KG-signed revocation
    const id = loadIdentity(uz.dir);
    const key = newNodeKey(uz.dir);
    uzKid = key.thumbprint;
    uzSigner = key.signer;
    const certificate = certifyNode(loadRootKey(uz.dir, id.root.thumbprint), key, { country: 'UZ', name: id.name, peerId: id.peerId, addrs: [], now: Date.now() - 60_000, validityMs: 30 * 24 * HOUR });
    const byKg = await sendToKz(kg, keyControl({ action: 'revoke', notice: revocation(kg, uzKid, Date.now() - HOUR).compact }));
    expect(byKg, byKg.reason).toMatchObject({ status: 'accepted' }); // the key is unknown here: it cannot be judged yet
    // UZ's own revocation, later than KG's, also before the certificate
    uzRevokedAt = Date.now() + HOUR;
    const byUz = await sendToKz(uz, keyControl({ action: 'revoke', notice: revocation(uz, uzKid, uzRevokedAt).compact }));
    expect(byUz, byUz.reason).toMatchObject({ status: 'accepted' });
    const announced = await sendToKz(uz, keyControl({ action: 'announce', certificate }));
    expect(announced, announced.reason).toMatchObject({ status: 'accepted' });
  }, 30_000);

  it("applies only the revocation by the key's own country once the certificate arrives", () => {
    expect(kz.node.parts.trust.resolveKey(uzKid)?.revokedAt).toBe(uzRevokedAt);
  });

  it("accepts the third country's envelopes signed by that key after the other root's revocation time", async () => {
    const receipt = await sendToKz(uz, { type: 'aci', agreement: 'KZ-UZ-test@1', purpose: 'pre-arrival-risk-assessment', body: aci }, uzSigner);
    expect(receipt, receipt.reason).toMatchObject({ status: 'accepted' });
  });
});
