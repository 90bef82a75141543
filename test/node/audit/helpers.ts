/** Assertion helpers for audit reports: the failure codes, the failure about one subject, a bundle that verifies. */
import { expect } from 'vitest';
import { exportEvidence } from '../../../node/audit/export.js';
import type { AuditFailure, AuditReport } from '../../../node/audit/report.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { EvidenceLog } from '../../../node/store/evidence.js';
import type { TestNode } from '../../helpers/network.js';
import { fromB64u, b64u } from '../../../protocol/envelope/base64url.js';
import type { EvidenceBundle } from '../../../protocol/evidence/bundle.js';

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
