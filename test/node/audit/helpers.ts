/**
 * Assertion helpers for audit reports: the failure codes, the failure about one subject, a bundle that verifies; and
 * a partner certificate set aside as conflicting by store migration 22, as a node upgraded from an older version has it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { exportEvidence } from '../../../node/audit/export.js';
import type { AuditFailure, AuditReport } from '../../../node/audit/report.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { EvidenceLog } from '../../../node/store/evidence.js';
import { MIGRATIONS } from '../../../node/store/migrations.js';
import { api, finalMessage, type TestNode } from '../../helpers/network.js';
import { issueNodeCertificate } from '../../../protocol/certificate.js';
import { fromB64u, b64u } from '../../../protocol/envelope/base64url.js';
import { keyObjectSigner, type Signer } from '../../../protocol/envelope/seal.js';
import type { EvidenceBundle } from '../../../protocol/evidence/bundle.js';
import { jwkThumbprint, publicJwkOf, type Ed25519PublicJwk } from '../../../protocol/jwk.js';

export function codes(report: AuditReport): string[] {
  return [...new Set(report.failures.map((f) => f.code))].sort();
}

/** A bundle of everything `n` exchanged with `partner`, checked by the offline verifier. */
export async function verifiedExport(n: TestNode, partner: string): Promise<void> {
  const { parts } = n.node;
  const evidence = new EvidenceLog(parts.store.db, parts.identity.country, parts.signer, parts.clock);
  const bundle = exportEvidence({ dir: parts.dir, store: parts.store, identity: parts.identity, evidence, clock: parts.clock }, { partner });
  const report = await verifyBundle(bundle);
  expect(report.failures).toEqual([]);
  expect(report.ok).toBe(true);
}

export function failureAbout(report: AuditReport, subject: string): AuditFailure[] {
  return report.failures.filter((f) => f.subject === subject);
}

/** Flip one bit of the first occurrence of `text` inside envelope `index`'s decoded payload (stays valid JSON). */
export function flipPayloadByte(bundle: EvidenceBundle, index: number, text: string): void {
  const env = bundle.envelopes[index]!;
  const bytes = fromB64u(env.jws.payload, 'payload');
  const at = Buffer.from(bytes).indexOf(text);
  if (at < 0) throw new Error(`"${text}" not in envelope ${index}`);
  bytes[at] = bytes[at]! ^ 0x01;
  env.jws.payload = b64u(bytes);
}

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** `from` submits the example ACI declaration to `to` and waits until it is delivered; its message id. */
export async function deliveredAci(from: TestNode, to: string): Promise<string> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  const id = r.json.id as string;
  expect((await finalMessage(from, id)).status).toBe('delivered');
  return id;
}

export function newKey(): { jwk: Ed25519PublicJwk; signer: Signer } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwkOf(privateKey);
  return { jwk, signer: keyObjectSigner(jwkThumbprint(jwk), privateKey) };
}

/** A certificate of `country`'s node key `node` naming `peerId`, signed by `root`, valid from a day ago to a day ahead. */
export function certificateNaming(country: string, root: Signer, node: ReturnType<typeof newKey>, peerId: string): string {
  const now = Date.now();
  return issueNodeCertificate({
    v: 1, iss: root.kid, sub: node.signer.kid, country, name: `Customs of ${country}`, jwk: node.jwk, peerId, addrs: [],
    iat: new Date(now - 86_400_000).toISOString(), nbf: new Date(now - 86_400_000).toISOString(), exp: new Date(now + 86_400_000).toISOString(),
  }, root);
}

/**
 * `at`'s store as an older version left it, then upgraded: a UZ certificate (UZ's root is real) naming the libp2p
 * peer id of the partner whose data dir is `partnerDir`, held before the partner's; store migration 22 then sets the
 * partner's certificate aside as conflicting (SPEC 9.10), and the node reloads its trust.
 */
export function setAsideByMigration(at: TestNode, partnerDir: string): void {
  const db = at.node.parts.store.db;
  const peerId = loadIdentity(partnerDir).peerId;
  const uz = { root: newKey(), node: newKey() };
  db.prepare('INSERT INTO certificates (kid, country, peer_id, compact, not_before, not_after, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(uz.node.signer.kid, 'UZ', peerId, certificateNaming('UZ', uz.root.signer, uz.node, peerId), Date.now() - 86_400_000, Date.now() + 86_400_000, '2000-01-01T00:00:00.000Z');
  db.exec(MIGRATIONS.find((m) => m.includes('CREATE TABLE IF NOT EXISTS certificate_conflicts'))!);
  at.node.parts.trust.reload();
}
