/**
 * Envelope and receipt checks of the offline verifier: each envelope's bytes are exactly what was signed
 * (header allowlist, canonical payload), its key was certified for its sender (by a certificate the exporter set
 * aside as conflicting, too, which the report names) and valid and unrevoked at its `created` time, its signature verifies by strict RFC 8032 (queued to the signature pool), and each receipt
 * acknowledges, by SHA-256, exactly the bytes of the message in the bundle.
 */
import { ENVELOPE_TYP } from '../../protocol/constants.js';
import { fromB64u } from '../../protocol/envelope/base64url.js';
import { canonicalJson } from '../../protocol/envelope/canonical.js';
import { parseFlattened } from '../../protocol/envelope/open.js';
import { EnvelopeHeader, EnvelopePayload } from '../../protocol/envelope/payload.js';
import { parseSignedJson } from '../../protocol/envelope/signed-json.js';
import { isGncError } from '../../protocol/errors.js';
import { sha256Hex } from '../../protocol/envelope/seal.js';
import { envelopeBytes, type BundleEnvelope, type EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { ReceiptBody } from '../../protocol/messages/receipt.js';
import type { AuditCounts, Findings } from './report.js';
import type { SignatureVerifier } from './signature-pool.js';
import { keyStatus, type KeyDirectory } from './trust-anchors.js';

export interface ParsedEnvelope {
  index: number;
  sha256: string;
  kid: string;
  payload: EnvelopePayload;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** A payload: no strict read, as check 8 (canonical form) refuses a member twice, as a receiver does. */
function json(b64: string, what: string): { value: unknown; text: string } {
  const text = decoder.decode(fromB64u(b64, what));
  return { value: JSON.parse(text) as unknown, text };
}

/**
 * The text form, when present, must be the same JWS as `jws`: otherwise the bundle says two things. Read as a
 * receiver reads envelope bytes (parseFlattened): with a member twice, another reader would take other bytes for it.
 */
function textMatches(e: BundleEnvelope): boolean {
  if (e.text === undefined) return true;
  const t = parseFlattened(encoder.encode(e.text));
  return t.protected === e.jws.protected && t.payload === e.jws.payload && t.signature === e.jws.signature;
}

function parseOne(e: BundleEnvelope, index: number, findings: Findings): ParsedEnvelope | undefined {
  const refuse = (message: string, subject = `envelope #${index}`): undefined => {
    findings.fail('envelope signatures', 'GNC_SCHEMA_INVALID', subject, message);
    return undefined;
  };
  try {
    if (!textMatches(e)) return refuse('The envelope\'s "text" is not the same JWS as its "jws" member.');
    // the header as a receiver reads it (SPEC section 4, checks 3, 4): each member once, none named "__proto__"
    const headerJson = parseSignedJson(fromB64u(e.jws.protected, 'Protected header'), { what: 'Protected header', code: 'GNC_SCHEMA_INVALID' });
    const header = EnvelopeHeader.safeParse(headerJson);
    if (!header.success || header.data.typ !== ENVELOPE_TYP) return refuse(`Protected header must be exactly {"alg":"EdDSA","kid":<thumbprint>,"typ":"${ENVELOPE_TYP}"}.`);
    const raw = json(e.jws.payload, 'Payload');
    const payload = EnvelopePayload.safeParse(raw.value);
    if (!payload.success) {
      const first = payload.error.issues[0];
      return refuse(`Payload member /${first?.path.join('/') ?? ''} is invalid: ${first?.message ?? 'unknown problem'}.`);
    }
    if (canonicalJson(raw.value) !== raw.text) return refuse('Payload is not in RFC 8785 canonical form.', `envelope ${payload.data.id}`);
    return { index, sha256: sha256Hex(envelopeBytes(e)), kid: header.data.kid, payload: payload.data };
  } catch (err) {
    // a member twice or named "__proto__" in the text or the header says so, naming it; anything else is no JSON
    return refuse(isGncError(err) && err.issues !== undefined ? err.message : 'Protected header or payload is not base64url-encoded UTF-8 JSON.');
  }
}

/**
 * Parse every envelope, check key validity at signing time, and queue its signature. Returns the envelopes
 * that parsed, de-duplicated by SHA-256; signature results arrive in `findings` once the pool drains.
 */
export async function scanEnvelopes(bundle: EvidenceBundle, dir: KeyDirectory, findings: Findings, pool: SignatureVerifier, counts: AuditCounts): Promise<ParsedEnvelope[]> {
  const parsed: ParsedEnvelope[] = [];
  const seen = new Set<string>();
  const idsBySender = new Map<string, string>();
  let invalid = 0;
  for (let i = 0; i < bundle.envelopes.length; i++) {
    if (i % 256 === 0) await pool.capacity();
    const e = bundle.envelopes[i]!;
    const env = parseOne(e, i, findings);
    if (env === undefined || seen.has(env.sha256)) continue;
    seen.add(env.sha256);
    parsed.push(env);
    const p = env.payload;
    const subject = `envelope ${p.id}`;
    if (p.type === 'receipt') counts.receipts++;
    else counts.messages++;
    const idKey = `${p.from}\u0000${p.id}`;
    const other = idsBySender.get(idKey);
    if (other !== undefined) {
      findings.fail('receipts', 'GNC_REPLAY', subject, `${p.from} signed two different envelopes with id ${p.id} (SHA-256 ${other.slice(0, 12)}... and ${env.sha256.slice(0, 12)}...): which one was meant cannot be decided.`);
    }
    idsBySender.set(idKey, env.sha256);

    const status = keyStatus(dir, env.kid, p.from, Date.parse(p.created), { setAside: true });
    if (!status.ok) findings.fail('key validity at signing', status.code, subject, status.message);
    else status.key.setAside?.envelopes.push(p.id);
    if (status.key === undefined) continue; // no key at all: the signature cannot be checked
    let signature: Uint8Array;
    try {
      signature = fromB64u(e.jws.signature, 'JWS signature');
    } catch {
      signature = new Uint8Array(0);
    }
    counts.signatures++;
    pool.add({ publicKey: status.key.publicKey, message: encoder.encode(`${e.jws.protected}.${e.jws.payload}`), signature }, (ok) => {
      if (ok) return;
      invalid++;
      findings.fail('envelope signatures', 'GNC_SIGNATURE_INVALID', subject, `Signature does not verify under key ${env.kid} by strict RFC 8032 rules: the envelope was altered, signed with another key, or uses a non-canonical encoding.`);
    });
  }
  await pool.drain();
  counts.envelopes = parsed.length;
  findings.detail('envelope signatures', `${parsed.length - invalid} of ${parsed.length} verify (strict RFC 8032, zip215: false)`);
  findings.detail('key validity at signing', 'every key certified for its sender and valid, unrevoked when it signed');
  return parsed;
}

/** Each receipt must acknowledge, by SHA-256 and id, a message in the bundle, and come from its recipient. */
export function checkReceipts(envelopes: readonly ParsedEnvelope[], findings: Findings, counts: AuditCounts): void {
  const bySha = new Map<string, ParsedEnvelope>();
  const byId = new Map<string, ParsedEnvelope>();
  for (const e of envelopes) {
    bySha.set(e.sha256, e);
    if (e.payload.type !== 'receipt') byId.set(e.payload.id, e);
  }
  const receipted = new Set<string>();
  for (const r of envelopes) {
    if (r.payload.type !== 'receipt') continue;
    const subject = `receipt ${r.payload.id}`;
    const body = ReceiptBody.safeParse(r.payload.body);
    if (!body.success) {
      findings.fail('receipts', 'GNC_RECEIPT_MISMATCH', subject, 'Receipt body is not a receipt (messageId, sha256, status, received).');
      continue;
    }
    const b = body.data;
    if (r.payload.ref !== b.messageId) {
      findings.fail('receipts', 'GNC_RECEIPT_MISMATCH', subject, `Receipt ref ${String(r.payload.ref)} differs from the message id ${b.messageId} in its body.`);
      continue;
    }
    const m = bySha.get(b.sha256);
    if (m === undefined) {
      const same = byId.get(b.messageId);
      findings.fail(
        'receipts',
        'GNC_RECEIPT_MISMATCH',
        subject,
        same
          ? `Receipt acknowledges SHA-256 ${b.sha256.slice(0, 16)}... for message ${b.messageId}, but the bundle's message ${b.messageId} has SHA-256 ${same.sha256.slice(0, 16)}...: the partner did not receive these bytes.`
          : `Receipt acknowledges message ${b.messageId} (SHA-256 ${b.sha256.slice(0, 16)}...), which is not in the bundle.`,
      );
      continue;
    }
    if (m.payload.type === 'receipt' || m.payload.id !== b.messageId || r.payload.from !== m.payload.to || r.payload.to !== m.payload.from) {
      findings.fail('receipts', 'GNC_RECEIPT_MISMATCH', subject, `Receipt from ${r.payload.from} to ${r.payload.to} for ${b.messageId} does not answer message ${m.payload.id} from ${m.payload.from} to ${m.payload.to}.`);
      continue;
    }
    receipted.add(m.sha256);
  }
  counts.receipted = receipted.size;
  findings.detail('receipts', `${counts.receipts} receipts, each naming the SHA-256 of its message's exact bytes`);
}
