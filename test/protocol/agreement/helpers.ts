/**
 * Shared helpers for the agreement tests: administrations with real Ed25519 root keys (node:crypto), the
 * example drafts of examples/agreements resolved for those roots, and signing by one or both sides.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  draftAgreement,
  resolveDraftPlaceholders,
  signAgreement,
  signNotice,
  type AgreementDocument,
  type AgreementNotice,
  type SignedAgreement,
} from '../../../protocol/agreement/index.js';
import { keyObjectSigner, type Signer } from '../../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf, type Ed25519PublicJwk } from '../../../protocol/jwk.js';

export { gncError, paths } from '../messages/fixtures.js';

export const AGREEMENTS_DIR = fileURLToPath(new URL('../../../examples/agreements/', import.meta.url));
export const MESSAGES_DIR = fileURLToPath(new URL('../../../examples/messages/', import.meta.url));

export interface Admin {
  country: string;
  jwk: Ed25519PublicJwk;
  fingerprint: string;
  signer: Signer;
}

/** An administration with a fresh root key pair. */
export function admin(country: string): Admin {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwkOf(publicKey);
  const fingerprint = jwkThumbprint(jwk);
  return { country, jwk, fingerprint, signer: keyObjectSigner(fingerprint, privateKey) };
}

export const KZ = admin('KZ');
export const KG = admin('KG');
export const CN = admin('CN');

/** Pinned roots as a node holds them: country -> root JWK. */
export function rootsOf(...admins: Admin[]): Map<string, Ed25519PublicJwk> {
  return new Map(admins.map((a) => [a.country, a.jwk]));
}

export const ROOTS = rootsOf(KZ, KG, CN);

export function fingerprints(...admins: Admin[]): Record<string, string> {
  return Object.fromEntries(admins.map((a) => [a.country, a.fingerprint]));
}

/** A fresh, mutable copy of an example draft (placeholders unresolved). */
export function rawDraft(name: 'kz-kg-mra' | 'cn-kz-aci'): Record<string, any> {
  return JSON.parse(readFileSync(`${AGREEMENTS_DIR}${name}.json`, 'utf8')) as Record<string, any>;
}

/** An example draft with the roots of KZ, KG and CN filled in, optionally changed, as a document. */
export function draft(name: 'kz-kg-mra' | 'cn-kz-aci', change: (d: Record<string, any>) => void = () => {}): AgreementDocument {
  const d = resolveDraftPlaceholders(rawDraft(name), fingerprints(KZ, KG, CN)) as Record<string, any>;
  change(d);
  return draftAgreement(d);
}

/** A document signed by the given administrations, in that order. */
export function signedBy(doc: AgreementDocument, ...admins: Admin[]): SignedAgreement {
  let signed = signAgreement(doc, null);
  for (const a of admins) signed = signAgreement(signed, a.signer);
  return signed;
}

/** A notice about `doc` by `by`, signed by `signer` (its root unless a test says otherwise). */
export function notice(doc: AgreementDocument, by: Admin, action: AgreementNotice['action'], effective: string, signer: Signer = by.signer): string {
  return signNotice({ v: 1, agreementId: doc.id, version: doc.version, action, effective, reason: `${action} for the test`, by: by.country }, signer);
}

/** An example message body (examples/messages), fresh for each call. */
export function messageBody(name: string): Record<string, any> {
  return JSON.parse(readFileSync(`${MESSAGES_DIR}${name}.json`, 'utf8')) as Record<string, any>;
}

export const T = (iso: string): number => Date.parse(iso);
