/**
 * Audit bench (`npm run bench`, section "audit", issue 6): KZ sends n messages to KG and KG answers each with
 * a receipt, all sealed with real Ed25519 keys certified by real roots; KZ's evidence log records both (2n
 * entries, a checkpoint every 1,000 entries and one at the head). The bundle is serialised to JSON, then the
 * timed part is what `gnc audit verify FILE` does after reading the file: JSON.parse, schema, every signature
 * by @noble/ed25519 (strict RFC 8032) over the worker pool, receipts, chain and checkpoints.
 * `audit_verify_per_s` counts envelopes (messages and receipts: one signature each) per second of wall time.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { issueNodeCertificate } from '../../protocol/certificate.js';
import { PAYLOAD_VERSION } from '../../protocol/constants.js';
import { keyObjectSigner, sealEnvelope, type Signer } from '../../protocol/envelope/seal.js';
import { buildBundle } from '../../protocol/evidence/bundle.js';
import { headOf, nextEntry, type ChainHead, type EvidenceEntry } from '../../protocol/evidence/chain.js';
import { signCheckpoint } from '../../protocol/evidence/checkpoint.js';
import { jwkThumbprint, publicJwkOf, type Ed25519PublicJwk } from '../../protocol/jwk.js';
import { verifyBundle } from '../../node/audit/verify-bundle.js';

/** Log entries between two checkpoints in the bench (a node would checkpoint on a timer or a count). */
const CHECKPOINT_EVERY = 1000;

interface Party {
  country: string;
  rootJwk: Ed25519PublicJwk;
  node: Signer;
  certificate: string;
}

function signerOf(key: KeyObject): { signer: Signer; jwk: Ed25519PublicJwk } {
  const jwk = publicJwkOf(key);
  return { signer: keyObjectSigner(jwkThumbprint(jwk), key), jwk };
}

function party(country: string, issued: number): Party {
  const root = signerOf(generateKeyPairSync('ed25519').privateKey);
  const node = signerOf(generateKeyPairSync('ed25519').privateKey);
  const certificate = issueNodeCertificate(
    {
      v: 1, iss: root.signer.kid, sub: node.signer.kid, country, name: `Customs of ${country}`, jwk: node.jwk,
      peerId: `12D3KooWBench${country}`, addrs: [], iat: new Date(issued).toISOString(), nbf: new Date(issued).toISOString(),
      exp: new Date(issued + 365 * 86_400_000).toISOString(),
    },
    root.signer,
  );
  return { country, rootJwk: root.jwk, node: node.signer, certificate };
}

/** The bundle KZ would export for n messages to KG with their receipts, as JSON text. */
export function makeAuditBundle(n: number): string {
  const t0 = Date.parse('2026-03-01T08:00:00.000Z');
  const kz = party('KZ', t0 - 86_400_000);
  const kg = party('KG', t0 - 86_400_000);
  const envelopes: Uint8Array[] = [];
  const entries: EvidenceEntry[] = [];
  const checkpoints: string[] = [];
  let head: ChainHead | undefined;
  const append = (at: string, event: 'sent' | 'receipt-received', messageId: string, sha256: string): void => {
    const entry = nextEntry(head, { at, event, messageId, peer: 'KG', sha256 });
    entries.push(entry);
    head = headOf(entry);
    if (head.seq % CHECKPOINT_EVERY === 0) checkpoints.push(signCheckpoint({ v: 1, node: 'KZ', seq: head.seq, hash: head.hash, at }, kz.node));
  };
  for (let i = 0; i < n; i++) {
    const created = new Date(t0 + i * 10).toISOString();
    const id = `kz-bench-${i}`;
    const body = {
      kind: 'snapshot', asOf: created,
      operators: [{ aeoId: `KZAEO${String(100000 + (i % 5000))}`, name: 'Almaty Flour Mill JSC', status: 'valid', validFrom: '2024-01-01', programme: 'AEO-S' }],
    };
    const msg = sealEnvelope({ v: PAYLOAD_VERSION, id, type: 'aeo', from: 'KZ', to: 'KG', agreement: 'KZ-KG-MRA', created, purpose: 'aeo-mra-benefits', body }, kz.node);
    envelopes.push(msg.bytes);
    append(created, 'sent', id, msg.sha256);
    const received = new Date(t0 + i * 10 + 5).toISOString();
    const rid = `kg-receipt-${i}`;
    const receipt = sealEnvelope(
      { v: PAYLOAD_VERSION, id: rid, type: 'receipt', from: 'KG', to: 'KZ', agreement: 'KZ-KG-MRA', created: received, ref: id, body: { messageId: id, sha256: msg.sha256, status: 'accepted', received } },
      kg.node,
    );
    envelopes.push(receipt.bytes);
    append(received, 'receipt-received', rid, receipt.sha256);
  }
  if (head !== undefined && head.seq % CHECKPOINT_EVERY !== 0) {
    checkpoints.push(signCheckpoint({ v: 1, node: 'KZ', seq: head.seq, hash: head.hash, at: new Date(t0 + n * 10 + 10).toISOString() }, kz.node));
  }
  const bundle = buildBundle({
    created: new Date(t0 + n * 10 + 20).toISOString(),
    exportedBy: { country: 'KZ', kid: kz.node.kid },
    roots: [{ country: 'KZ', jwk: kz.rootJwk }, { country: 'KG', jwk: kg.rootJwk }],
    certificates: [kz.certificate, kg.certificate],
    envelopes,
    entries,
    checkpoints,
  });
  return JSON.stringify(bundle);
}

/** Envelopes (n messages + n receipts) verified per second by the offline verifier, all cores. */
export async function benchAuditVerify(n: number): Promise<{ audit_verify_per_s: number }> {
  const text = makeAuditBundle(n);
  const started = performance.now();
  const report = await verifyBundle(JSON.parse(text) as unknown, { threads: availableParallelism() });
  const seconds = (performance.now() - started) / 1000;
  if (!report.ok || report.counts.envelopes !== 2 * n) {
    throw new Error(`audit bench bundle did not verify: ${report.failures.slice(0, 3).map((f) => `${f.code} ${f.subject}: ${f.message}`).join('; ')}`);
  }
  return { audit_verify_per_s: Math.round(report.counts.envelopes / seconds) };
}
