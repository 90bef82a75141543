/**
 * Suspend, terminate and resume notices: how one administration changes the state of an agreement both
 * signed, without the other's consent (as MRAs and cooperation agreements allow), in a form the other
 * node can verify on arrival. A notice is a compact JWS signed by the notifying administration's root,
 * `typ` gnc-agreement-notice+jws so it can never pass for an agreement, certificate or message.
 */
import { z } from 'zod';
import { CountryCode } from '../codes/countries.js';
import { JWS_ALG } from '../constants.js';
import { b64u } from '../envelope/base64url.js';
import { canonicalJson } from '../envelope/canonical.js';
import { parseSignedPart } from '../envelope/signed-json.js';
import { verifyJwsSignature } from '../envelope/open.js';
import type { Signer } from '../envelope/seal.js';
import { GncError } from '../errors.js';
import { publicKeyFromJwk } from '../jwk.js';
import { AGREEMENT_NOTICE_TYP, AGREEMENT_VERSION, MAX_NOTICE_CHARS } from './constants.js';
import { AgreementId, AgreementTime, parseAgreement, type AgreementDocument } from './document.js';
import { describeChain, rootByFingerprint, rootChain, type AgreementRoots } from './roots.js';

export const NOTICE_ACTIONS = ['suspend', 'terminate', 'resume'] as const;

export const AgreementNotice = z.strictObject({
  v: z.literal(AGREEMENT_VERSION),
  agreementId: AgreementId,
  /** The version the notice is about; a later version both sign is a new agreement and is not affected. */
  version: z.number().int().min(1),
  action: z.enum(NOTICE_ACTIONS),
  /** From when the notice applies (a date is the start of that day, UTC). */
  effective: AgreementTime,
  reason: z.string().min(1).max(2000),
  /** The notifying administration: its root signs the notice. */
  by: CountryCode,
});
export type AgreementNotice = z.infer<typeof AgreementNotice>;

const NoticeHeader = z.strictObject({ alg: z.literal(JWS_ALG), kid: z.string().min(1).max(128), typ: z.literal(AGREEMENT_NOTICE_TYP) });

const encoder = new TextEncoder();

/** Signs a notice with the notifying administration's root; returns the compact JWS. */
export function signNotice(notice: AgreementNotice, root: Signer): string {
  const valid = parseAgreement(AgreementNotice, notice, 'Agreement notice');
  const header = b64u(canonicalJson({ alg: JWS_ALG, kid: root.kid, typ: AGREEMENT_NOTICE_TYP }));
  const payload = b64u(canonicalJson(valid));
  return `${header}.${payload}.${b64u(root.sign(encoder.encode(`${header}.${payload}`)))}`;
}

function part(text: string, what: string): { raw: unknown; text: string } {
  const read = parseSignedPart(text, { what: `Agreement notice ${what.toLowerCase()}`, code: 'GNC_AGREEMENT_INVALID' });
  return { raw: read.value, text: read.text };
}

/**
 * Verifies a notice: header allowlist, canonical payload, signed by a root of the administration it names as
 * `by`: any root of that country's chain (pinned root and successors; for this node its current and previous
 * roots), the one whose thumbprint is the header's `kid`, so a notice about an agreement signed before a root
 * succession can be signed by the successor. With the agreement, also that the notice is about it and `by` is
 * one of its parties whose named root belongs to the same chain. Throws GNC_AGREEMENT_SIGNATURE (wrong or
 * unknown key, not a party, bad signature) or GNC_AGREEMENT_INVALID (malformed).
 */
export function verifyNotice(compact: string, roots: AgreementRoots, agreement?: AgreementDocument): AgreementNotice {
  const parts = typeof compact === 'string' && compact.length <= MAX_NOTICE_CHARS ? compact.split('.') : [];
  if (parts.length !== 3) {
    throw new GncError('GNC_AGREEMENT_INVALID', `Agreement notice must be a compact JWS (three base64url parts separated by dots) of at most ${MAX_NOTICE_CHARS} characters.`);
  }
  const [h, p, s] = parts as [string, string, string];
  const header = part(h, 'Header');
  const hdr = NoticeHeader.safeParse(header.raw);
  if (!hdr.success || canonicalJson(hdr.data) !== header.text) {
    throw new GncError('GNC_AGREEMENT_SIGNATURE', `Agreement notice header must be exactly {"alg":"EdDSA","kid":<root fingerprint>,"typ":"${AGREEMENT_NOTICE_TYP}"} in canonical JSON.`);
  }
  const payload = part(p, 'Payload');
  const notice = parseAgreement(AgreementNotice, payload.raw, 'Agreement notice');
  if (canonicalJson(payload.raw) !== payload.text) {
    throw new GncError('GNC_AGREEMENT_INVALID', 'Agreement notice payload is not in RFC 8785 canonical form.');
  }
  const chain = rootChain(roots, notice.by);
  if (chain.length === 0) throw new GncError('GNC_AGREEMENT_SIGNATURE', `Agreement notice is by ${notice.by}, whose root is not pinned here.`);
  const root = rootByFingerprint(roots, notice.by, hdr.data.kid);
  if (!root) {
    throw new GncError('GNC_AGREEMENT_SIGNATURE', `Agreement notice says it is by ${notice.by} but is signed by key ${hdr.data.kid}, which is not a root of ${notice.by} known here (pinned root first, then successors: ${describeChain(chain)}).`);
  }
  if (!verifyJwsSignature({ protected: h, payload: p, signature: s }, publicKeyFromJwk(root))) {
    throw new GncError('GNC_AGREEMENT_SIGNATURE', `Agreement notice by ${notice.by} does not verify under ${notice.by}'s root ${hdr.data.kid}: it was altered or signed by another key.`);
  }
  if (agreement) {
    if (notice.agreementId !== agreement.id || notice.version !== agreement.version) {
      throw new GncError('GNC_AGREEMENT_INVALID', `Agreement notice is about ${notice.agreementId}@${notice.version}, not ${agreement.id}@${agreement.version}.`);
    }
    const party = agreement.parties.find((x) => x.country === notice.by);
    if (!party || !rootByFingerprint(roots, notice.by, party.rootFingerprint)) {
      throw new GncError('GNC_AGREEMENT_SIGNATURE', `Agreement notice is signed by ${notice.by}, which is not a party to ${agreement.id} (${agreement.parties.map((x) => x.country).join(', ')}) under a root known here.`);
    }
  }
  return notice;
}
