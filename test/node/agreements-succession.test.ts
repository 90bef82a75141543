/**
 * Agreements across a root succession (`gnc keys rotate --root`), with real nodes over the wire: an agreement
 * verifies under any root of a party's chain (pinned root and the successors it named; for this node its
 * current root and every previous one), chosen by the fingerprint the document names for that party. A new
 * agreement can be signed by a partner's successor root, old agreements survive this node's own succession
 * and a restart, and a root outside the chain is still refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../certs/identity.js';
import { readPrivateKey } from '../../certs/key-files.js';
import { draftAgreement, resolveDraftPlaceholders, signAgreement } from '../../protocol/agreement/index.js';
import { keyObjectSigner } from '../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf } from '../../protocol/jwk.js';
import { api, finalMessage, makeNetwork, openAgreementDraft, restartNode, runCli, type TestNode, waitFor } from '../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const risk = 'pre-arrival-risk-assessment';

type Net = Awaited<ReturnType<typeof makeNetwork>>;

async function send(from: TestNode, to: string): Promise<{ status: string; agreement: string; error?: { code: string } }> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: risk, body: aci });
  expect(r.status, r.text).toBe(202);
  return finalMessage(from, r.json.id as string, 20_000);
}

/** Run `gnc keys rotate --root` beside the running node and wait until the partner trusts the successor. */
async function rotateRoot(n: TestNode, partner: TestNode): Promise<string> {
  const r = await runCli(['keys', 'rotate', '--dir', n.dir, '--root', '--json']);
  expect(r.code, r.out.join('\n')).toBe(0);
  const newRoot = JSON.parse(r.out[0]!).current as string;
  await waitFor(() => (partner.node.parts.trust.rootsOf(n.country).map(jwkThumbprint).includes(newRoot) ? true : undefined), 15_000, `succession of ${n.country} at ${partner.country}`);
  // the running node picks up its own new identity (the CLI changed the data dir)
  await waitFor(() => (n.node.parts.identity.root.thumbprint === newRoot ? true : undefined), 15_000, `new root at ${n.country}`);
  return newRoot;
}

/** Version 2 of the test agreement, in force from now: supersedes version 1 (same id), so no overlap. */
function version2(): Record<string, unknown> {
  return openAgreementDraft('KZ', 'KG', { version: 2, validFrom: new Date(Date.now() - 60_000).toISOString() });
}

async function statusAt(n: TestNode, id: string, version: number): Promise<string | undefined> {
  const r = await api(n, 'GET', `/v1/agreements/${id}?version=${version}`);
  return r.status === 200 && r.json.version === version ? (r.json.status as string) : undefined;
}

function rootOf(doc: { parties: { country: string; rootFingerprint: string }[] }, country: string): string | undefined {
  return doc.parties.find((p) => p.country === country)?.rootFingerprint;
}

describe("after a partner's root succession", () => {
  let net: Net;
  let kz: TestNode;
  let kg: TestNode;
  let kgOldRoot: string;
  let kgNewRoot: string;

  beforeAll(async () => {
    net = await makeNetwork(['KZ', 'KG']);
    kz = net.nodes.KZ!;
    kg = net.nodes.KG!;
    kgOldRoot = loadIdentity(kg.dir).root.thumbprint;
    kgNewRoot = await rotateRoot(kg, kz);
  }, 90_000);
  afterAll(async () => net?.close());

  it('resolves "@root:KG" in a draft to the successor root, not the pinned one', async () => {
    const r = await api(kz, 'POST', '/v1/agreements', { draft: version2(), propose: false });
    expect(r.status, r.text).toBe(201);
    expect(kgNewRoot).not.toBe(kgOldRoot);
    expect(rootOf(r.json.document, 'KG')).toBe(kgNewRoot);
    expect(rootOf(r.json.document, 'KZ')).toBe(loadIdentity(kz.dir).root.thumbprint);
  });

  it('negotiates a new agreement countersigned by the successor root, and messages flow under it both ways', async () => {
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/propose')).status).toBe(202);
    await waitFor(async () => ((await statusAt(kg, 'KZ-KG-test', 2)) === 'awaiting-signature' ? true : undefined), 15_000, 'proposal at KG');
    const signed = await api(kg, 'POST', '/v1/agreements/KZ-KG-test/sign');
    expect(signed.status, signed.text).toBe(200);
    expect(signed.json).toMatchObject({ version: 2, status: 'active', signedBy: ['KZ', 'KG'] });
    await waitFor(async () => ((await statusAt(kz, 'KZ-KG-test', 2)) === 'active' ? true : undefined), 15_000, 'countersignature at KZ');
    const out = await send(kz, 'KG');
    expect(out).toMatchObject({ status: 'delivered', agreement: 'KZ-KG-test@2' });
    expect(await send(kg, 'KZ')).toMatchObject({ status: 'delivered', agreement: 'KZ-KG-test@2' });
  }, 60_000);

  it('keeps the agreement signed by the old root verifiable (superseded, not dropped)', async () => {
    expect(await statusAt(kz, 'KZ-KG-test', 1)).toBe('superseded');
    expect(await statusAt(kg, 'KZ-KG-test', 1)).toBe('superseded');
  });

  it('refuses a new agreement signed by the succeeded root: only the root in office commits KG now', async () => {
    const kgOld = readPrivateKey(join(kg.dir, 'keys', 'root.jwk'));
    const kzRoot = readPrivateKey(join(kz.dir, 'keys', 'root.jwk'));
    const kzFp = loadIdentity(kz.dir).root.thumbprint;
    expect(jwkThumbprint(publicJwkOf(kgOld))).toBe(kgOldRoot);
    const doc = draftAgreement(resolveDraftPlaceholders(openAgreementDraft('KZ', 'KG', { id: 'KZ-KG-OLDROOT' }), { KZ: kzFp, KG: kgOldRoot }));
    const both = signAgreement(signAgreement(doc, keyObjectSigner(kzFp, kzRoot)), keyObjectSigner(kgOldRoot, kgOld));
    const r = await api(kz, 'POST', '/v1/agreements/import', both);
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect((await api(kz, 'GET', '/v1/agreements/KZ-KG-OLDROOT')).status).toBe(404);
  });

  it('refuses an agreement signed by a root outside the partner\'s chain (GNC_AGREEMENT_SIGNATURE)', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const stranger = publicJwkOf(privateKey);
    const fp = jwkThumbprint(stranger);
    const doc = draftAgreement(resolveDraftPlaceholders(openAgreementDraft('KZ', 'KG', { id: 'KZ-KG-STRANGER' }), { KZ: loadIdentity(kz.dir).root.thumbprint, KG: fp }));
    const signedByStranger = signAgreement(doc, keyObjectSigner(fp, privateKey));
    const r = await api(kz, 'POST', '/v1/agreements/import', signedByStranger);
    expect(r.json.code).toBe('GNC_AGREEMENT_SIGNATURE');
    // the same key claiming to be KG's successor root: the signature does not verify under that root
    const forged = signAgreement(draftAgreement(resolveDraftPlaceholders(openAgreementDraft('KZ', 'KG', { id: 'KZ-KG-FORGED' }), { KZ: loadIdentity(kz.dir).root.thumbprint, KG: kgNewRoot })), keyObjectSigner(kgNewRoot, privateKey));
    const f = await api(kz, 'POST', '/v1/agreements/import', forged);
    expect(f.json.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect((await api(kz, 'GET', '/v1/agreements/KZ-KG-FORGED')).status).toBe(404);
  });
});

describe("after this node's own root succession", () => {
  let net: Net;
  let kz: TestNode;
  let kg: TestNode;
  let kzOldRoot: string;
  let kzNewRoot: string;

  beforeAll(async () => {
    net = await makeNetwork(['KZ', 'KG']);
    kz = net.nodes.KZ!;
    kg = net.nodes.KG!;
    kzOldRoot = loadIdentity(kz.dir).root.thumbprint;
    kzNewRoot = await rotateRoot(kz, kg);
  }, 90_000);
  afterAll(async () => net?.close());

  it('still verifies the agreement its old root signed after a restart, and messages flow both ways', async () => {
    await kz.node.stop();
    await restartNode(kz);
    expect(kz.node.parts.identity.root.thumbprint).toBe(kzNewRoot);
    expect(await statusAt(kz, 'KZ-KG-test', 1)).toBe('active');
    expect(await send(kz, 'KG')).toMatchObject({ status: 'delivered', agreement: 'KZ-KG-test@1' });
    expect(await send(kg, 'KZ')).toMatchObject({ status: 'delivered', agreement: 'KZ-KG-test@1' });
  }, 60_000);

  it('signs a notice about the old agreement with its new root, which the partner accepts', async () => {
    const r = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/suspend', { reason: 'succession drill' });
    expect(r.status, r.text).toBeLessThan(300);
    await waitFor(async () => ((await statusAt(kg, 'KZ-KG-test', 1)) === 'suspended' ? true : undefined), 15_000, 'suspension at KG');
    const back = await api(kz, 'POST', '/v1/agreements/KZ-KG-test/resume', { reason: 'drill over' });
    expect(back.status, back.text).toBeLessThan(300);
    await waitFor(async () => ((await statusAt(kg, 'KZ-KG-test', 1)) === 'active' ? true : undefined), 15_000, 'resumption at KG');
  }, 30_000);

  it('refuses to sign a document drafted for its previous root, and says to draft again (GNC_AGREEMENT_SIGNATURE)', async () => {
    const draft = openAgreementDraft('KZ', 'KG', { id: 'KZ-KG-OLD-ROOT', version: 1 });
    (draft.parties as { rootFingerprint: string }[])[0]!.rootFingerprint = kzOldRoot;
    const r = await api(kz, 'POST', '/v1/agreements', { draft });
    expect(r.json.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect(r.json.detail).toContain('previous root');
  });

  it('proposes a new agreement signed with its new root, which the partner countersigns', async () => {
    const created = await api(kz, 'POST', '/v1/agreements', { draft: version2(), propose: true });
    expect(created.status, created.text).toBe(201);
    expect(rootOf(created.json.document, 'KZ')).toBe(kzNewRoot);
    await waitFor(async () => ((await statusAt(kg, 'KZ-KG-test', 2)) === 'awaiting-signature' ? true : undefined), 15_000, 'proposal at KG');
    expect((await api(kg, 'POST', '/v1/agreements/KZ-KG-test/sign')).json.status).toBe('active');
    await waitFor(async () => ((await statusAt(kz, 'KZ-KG-test', 2)) === 'active' ? true : undefined), 15_000, 'countersignature at KZ');
    expect(await send(kz, 'KG')).toMatchObject({ status: 'delivered', agreement: 'KZ-KG-test@2' });
  }, 60_000);
});
