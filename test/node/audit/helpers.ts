/** Assertion helpers for audit reports: the failure codes, and the failure about one subject. */
import type { AuditFailure, AuditReport } from '../../../node/audit/report.js';
import { fromB64u, b64u } from '../../../protocol/envelope/base64url.js';
import type { EvidenceBundle } from '../../../protocol/evidence/bundle.js';

export function codes(report: AuditReport): string[] {
  return [...new Set(report.failures.map((f) => f.code))].sort();
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
