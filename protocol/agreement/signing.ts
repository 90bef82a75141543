/**
 * Signed agreements (contract "Agreement"): one JWS in general JSON serialization (RFC 7515 section 7.2.1)
 * whose payload is the RFC 8785 canonical JSON of the document and whose signatures are by the two
 * administrations' root keys. Adding a signature never touches the payload bytes, so the first signer's
 * signature stays valid; any JOSE library (jose's generalVerify) checks either signature without this code.
 * Only a document signed by both parties is complete; completeness alone does not put it in force (see
 * lifecycle.ts for dates, supersession and notices).
 */
import { z } from 'zod';
import { AGREEMENT_TYP, JWS_ALG } from '../constants.js';
import { b64u } from '../envelope/base64url.js';
import { canonicalJson } from '../envelope/canonical.js';
import { parseSignedPart } from '../envelope/signed-json.js';
import { verifyJwsSignature } from '../envelope/open.js';
import type { Signer } from '../envelope/seal.js';
import { GncError } from '../errors.js';
import { publicKeyFromJwk } from '../jwk.js';
import { MAX_AGREEMENT_PAYLOAD_CHARS } from './constants.js';
import { AgreementDocument, DraftAgreementDocument, parseAgreement } from './document.js';
import { issuesOf, summary } from './issues.js';
import { describeChain, rootByFingerprint, rootChain, type AgreementRoots } from './roots.js';

/** One signature; no unprotected `header` (it would be unsigned, and is refused). */
export const AgreementSignature = z.strictObject({
  protected: z.string().min(1).max(1024),
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'expected a 64-byte Ed25519 signature in base64url'),
});

/** JWS general JSON serialization; an unsigned draft has no signatures yet, a verifiable one at least one. */
export const SignedAgreement = z.strictObject({
  payload: z.string().min(1).max(MAX_AGREEMENT_PAYLOAD_CHARS),
  signatures: z.array(AgreementSignature).max(2),
});
export type SignedAgreement = z.infer<typeof SignedAgreement>;

/** The protected header of every agreement signature, exactly these members. */
export const AgreementHeader = z.strictObject({ alg: z.literal(JWS_ALG), kid: z.string().min(1).max(128), typ: z.literal(AGREEMENT_TYP) });
export type AgreementHeader = z.infer<typeof AgreementHeader>;

export interface VerifiedAgreement {
  document: AgreementDocument;
  /** Countries whose root signature verified, in the order of the document's parties. */
  signedBy: string[];
  /** Both parties signed. */
  complete: boolean;
}

const encoder = new TextEncoder();

function shapeOf(input: unknown): SignedAgreement {
  const parsed = SignedAgreement.safeParse(input);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error, input);
    throw new GncError(
      'GNC_AGREEMENT_SIGNATURE',
      `Signed agreement must be a JWS in general JSON serialization {"payload", "signatures": [{"protected", "signature"}]} with at most two signatures: ${summary(issues)}.`,
      { issues },
    );
  }
  return parsed.data;
}

function payloadJson(payload: string): unknown {
  const notJson = 'Agreement payload is not base64url of UTF-8 JSON (RFC 7515): re-create it with `gnc agreement draft`.';
  const { value: raw, text } = parseSignedPart(payload, { what: 'Agreement payload', code: 'GNC_AGREEMENT_INVALID', notJson });
  if (canonicalJson(raw) !== text) {
    throw new GncError('GNC_AGREEMENT_INVALID', 'Agreement payload is not in RFC 8785 canonical form: sign the canonical JSON of the document (`gnc agreement draft` writes it).');
  }
  return raw;
}

function headerOf(sig: { protected: string }, index: number): AgreementHeader {
  const wrong = `Signature ${index} must have the protected header {"alg":"EdDSA","kid":<root fingerprint>,"typ":"${AGREEMENT_TYP}"} in canonical JSON, and nothing else.`;
  const { value: raw, text } = parseSignedPart(sig.protected, { what: `Signature ${index}'s protected header`, code: 'GNC_AGREEMENT_SIGNATURE', notJson: wrong });
  const parsed = AgreementHeader.safeParse(raw);
  if (!parsed.success || canonicalJson(parsed.data) !== text) {
    throw new GncError('GNC_AGREEMENT_SIGNATURE', wrong);
  }
  return parsed.data;
}

/**
 * The UTF-8 JSON text of a signed agreement that nodes store and hash (`agreement` evidence entries, SPEC 9.2): the
 * RFC 8785 canonical form of the general JWS, the form a control envelope's canonical payload carries it in. Copies
 * of one JWS that differ only in member order or white space (a file another tool wrote) give the same text.
 */
export function signedAgreementText(input: unknown): string {
  return canonicalJson(shapeOf(input));
}

/** Reads a signed agreement without verifying any signature (to show it or to sign it); never for trust. */
export function decodeAgreement(input: unknown): { signed: SignedAgreement; document: AgreementDocument } {
  const signed = shapeOf(input);
  return { signed, document: parseAgreement(AgreementDocument, payloadJson(signed.payload), 'Agreement payload') };
}

function isSigned(input: unknown): boolean {
  return typeof input === 'object' && input !== null && 'payload' in input && 'signatures' in input;
}

/**
 * Adds `signer`'s signature to a document (drafted here) or to a signed agreement (the payload bytes are
 * kept exactly). The document must pass the draft rules (field paths against the message schemas): an
 * administration never signs what it could not have drafted. Refuses, with GNC_AGREEMENT_SIGNATURE, a signer
 * whose kid is neither party's root fingerprint and a party that already signed. With `signer` null,
 * returns the unsigned form (`signatures: []`) that the CLI writes as a draft.
 */
export function signAgreement(input: unknown, signer: Signer | null): SignedAgreement {
  let signed: SignedAgreement;
  let doc: AgreementDocument;
  if (isSigned(input)) {
    signed = shapeOf(input);
    doc = parseAgreement(DraftAgreementDocument, payloadJson(signed.payload), 'Agreement payload');
  } else {
    doc = parseAgreement(DraftAgreementDocument, input, 'Agreement');
    signed = { payload: b64u(canonicalJson(doc)), signatures: [] };
  }
  if (signer === null) return { payload: signed.payload, signatures: [...signed.signatures] };
  const party = doc.parties.find((p) => p.rootFingerprint === signer.kid);
  if (!party) {
    throw new GncError(
      'GNC_AGREEMENT_SIGNATURE',
      `Key ${signer.kid} is not the root of either party to ${doc.id} (${doc.parties.map((p) => `${p.country} ${p.rootFingerprint}`).join(', ')}): sign with the administration's root key.`,
    );
  }
  if (signed.signatures.some((s, i) => headerOf(s, i).kid === signer.kid)) {
    throw new GncError(
      'GNC_AGREEMENT_SIGNATURE',
      `Agreement ${doc.id} version ${doc.version} is already signed by ${party.country}: there is nothing to sign again. If it awaits the other party's signature, propose it (gnc agreement propose, POST /v1/agreements/${doc.id}/propose).`,
    );
  }
  const protectedB64 = b64u(canonicalJson({ alg: JWS_ALG, kid: signer.kid, typ: AGREEMENT_TYP }));
  const signature = b64u(signer.sign(encoder.encode(`${protectedB64}.${signed.payload}`)));
  return { payload: signed.payload, signatures: [...signed.signatures, { protected: protectedB64, signature }] };
}

/**
 * Verifies every signature of a signed agreement against the roots known per country (AgreementRoots: the
 * pinned root and its successors for a partner, the current and previous roots for this node). For each party
 * the root is the one of its country's chain whose thumbprint equals the party's rootFingerprint, so an
 * agreement signed before a root succession stays valid and a new one can be signed by the successor. Throws
 * GNC_AGREEMENT_SIGNATURE for no signature, a header outside the allowlist, a key that is not a party's root,
 * a party signing twice, a document naming a root outside that country's known chain, or a signature that
 * does not verify (the content changed after signing, or another key signed); GNC_AGREEMENT_INVALID when the
 * payload is not a canonical, structurally valid document. Field paths are not re-checked against the current
 * message schemas, so a document both sides signed stays valid across schema versions.
 */
export function verifyAgreement(input: unknown, roots: AgreementRoots): VerifiedAgreement {
  const signed = shapeOf(input);
  if (signed.signatures.length === 0) {
    throw new GncError('GNC_AGREEMENT_SIGNATURE', 'Agreement carries no signature: an unsigned draft is not an agreement (gnc agreement sign).');
  }
  const document = parseAgreement(AgreementDocument, payloadJson(signed.payload), 'Agreement payload');
  for (const party of document.parties) {
    const chain = rootChain(roots, party.country);
    if (chain.length > 0 && !rootByFingerprint(roots, party.country, party.rootFingerprint)) {
      throw new GncError(
        'GNC_AGREEMENT_SIGNATURE',
        `Agreement ${document.id} names root ${party.rootFingerprint} for ${party.country}, which is not a root of ${party.country} known here (pinned root first, then successors: ${describeChain(chain)}): the document was drafted for another key.`,
      );
    }
  }
  const signers = new Set<string>();
  signed.signatures.forEach((sig, i) => {
    const header = headerOf(sig, i);
    const party = document.parties.find((p) => p.rootFingerprint === header.kid);
    if (!party) {
      throw new GncError('GNC_AGREEMENT_SIGNATURE', `Signature ${i} is by key ${header.kid}, which is not the root of ${document.parties.map((p) => p.country).join(' or ')} named in agreement ${document.id}.`);
    }
    if (signers.has(party.country)) {
      throw new GncError('GNC_AGREEMENT_SIGNATURE', `Agreement ${document.id} carries two signatures by ${party.country}; each administration signs once.`);
    }
    const root = rootByFingerprint(roots, party.country, party.rootFingerprint);
    if (!root) {
      throw new GncError('GNC_AGREEMENT_SIGNATURE', `Agreement ${document.id} is signed by ${party.country}, whose root is not pinned here: add the partner (gnc partner add) first.`);
    }
    if (!verifyJwsSignature({ protected: sig.protected, payload: signed.payload, signature: sig.signature }, publicKeyFromJwk(root))) {
      throw new GncError(
        'GNC_AGREEMENT_SIGNATURE',
        `Signature by ${party.country} on agreement ${document.id} does not verify under ${party.country}'s root ${party.rootFingerprint}: the content was changed after signing, or another key signed it.`,
      );
    }
    signers.add(party.country);
  });
  const signedBy = document.parties.map((p) => p.country).filter((c) => signers.has(c));
  return { document, signedBy, complete: signedBy.length === 2 };
}
