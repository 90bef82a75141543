/**
 * Test fixture for the offline verifier: two administrations (KZ exports, KG is the partner) with real
 * Ed25519 roots and node keys from node:crypto, real certificates and notices, messages sealed with the real
 * seal, receipts as the receiving node makes them, and KZ's evidence log with a checkpoint at its head.
 * Each attack test starts from `new Exchange()`, changes one thing, and builds a bundle.
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { issueNodeCertificate } from '../../../protocol/certificate.js';
import { PAYLOAD_VERSION } from '../../../protocol/constants.js';
import { keyObjectSigner, sealEnvelope, type SealedEnvelope, type Signer } from '../../../protocol/envelope/seal.js';
import { buildBundle, envelopeBytes, type BundleSelection, type EvidenceBundle } from '../../../protocol/evidence/bundle.js';
import { headOf, nextEntry, type ChainHead, type EvidenceEntry, type EvidenceEvent } from '../../../protocol/evidence/chain.js';
import { signCheckpoint } from '../../../protocol/evidence/checkpoint.js';
import { envelopesDigest, signExportStatement, type ExportStatementPayload } from '../../../protocol/evidence/statement.js';
import { jwkThumbprint, publicJwkOf, type Ed25519PublicJwk } from '../../../protocol/jwk.js';

export const T0 = Date.parse('2026-03-01T08:00:00.000Z');
export const DAY = 86_400_000;
export const iso = (ms: number): string => new Date(ms).toISOString();

export interface Key {
  privateKey: KeyObject;
  jwk: Ed25519PublicJwk;
  signer: Signer;
}

export function newKey(): Key {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwkOf(privateKey);
  return { privateKey, jwk, signer: keyObjectSigner(jwkThumbprint(jwk), privateKey) };
}

export interface Party {
  country: string;
  root: Key;
  node: Key;
  certificate: string;
}

export function certify(country: string, node: Key, root: Key, validity: { iat?: number; nbf?: number; exp?: number } = {}): string {
  const nbf = validity.nbf ?? T0 - DAY;
  return issueNodeCertificate(
    {
      v: 1, iss: root.signer.kid, sub: node.signer.kid, country, name: `Customs of ${country}`, jwk: node.jwk,
      peerId: `12D3KooWTest${country}`, addrs: ['/ip4/127.0.0.1/tcp/4001'], iat: iso(validity.iat ?? nbf), nbf: iso(nbf), exp: iso(validity.exp ?? T0 + 365 * DAY),
    },
    root.signer,
  );
}

export function newParty(country: string): Party {
  const root = newKey();
  const node = newKey();
  return { country, root, node, certificate: certify(country, node, root) };
}

export interface Sent {
  message: SealedEnvelope;
  receipt: SealedEnvelope;
  id: string;
}

/** KZ's view of an exchange with KG: what it sent, what it got back, and its evidence log. */
export class Exchange {
  readonly kz = newParty('KZ');
  readonly kg = newParty('KG');
  readonly sent: Sent[] = [];
  envelopes: Uint8Array[] = [];
  entries: EvidenceEntry[] = [];
  certificates: string[] = [this.kz.certificate, this.kg.certificate];
  revocations: string[] = [];
  successions: string[] = [];
  roots: { country: string; jwk: Ed25519PublicJwk }[] = [
    { country: 'KZ', jwk: this.kz.root.jwk },
    { country: 'KG', jwk: this.kg.root.jwk },
  ];
  private head: ChainHead | undefined;
  private n = 0;

  constructor(messages = 3) {
    for (let i = 0; i < messages; i++) this.send();
  }

  log(event: EvidenceEvent, messageId: string, sha256: string, at: number): void {
    const entry = nextEntry(this.head, { at: iso(at), event, messageId, peer: 'KG', sha256 });
    this.entries.push(entry);
    this.head = headOf(entry);
  }

  /** KZ seals a message to KG (created at T0 + i minutes unless given), KG answers with a receipt. */
  send(opts: { created?: number; signer?: Signer; body?: Record<string, unknown>; receiptSigner?: Signer } = {}): Sent {
    const i = this.n++;
    const created = opts.created ?? T0 + i * 60_000;
    const id = `kz-msg-${i}`;
    const body = opts.body ?? { kind: 'snapshot', asOf: iso(created), operators: [{ aeoId: `KZAEO00${i}`, name: 'Almaty Flour Mill JSC', status: 'valid' }] };
    const message = sealEnvelope({ v: PAYLOAD_VERSION, id, type: 'aeo', from: 'KZ', to: 'KG', agreement: 'KZ-KG-MRA', created: iso(created), body }, opts.signer ?? this.kz.node.signer);
    const receipt = this.receiptFor(id, message.sha256, created + 1000, opts.receiptSigner);
    this.envelopes.push(message.bytes, receipt.bytes);
    this.log('sent', id, message.sha256, created);
    this.log('receipt-received', `kg-receipt-${id}`, receipt.sha256, created + 1000);
    const sent = { message, receipt, id };
    this.sent.push(sent);
    return sent;
  }

  /**
   * The exporter rewrites message i with other content under the same id and re-chains its own log (it holds
   * the node key, so its checkpoints still verify); the partner's receipt of the original stays.
   */
  replaceMessage(i: number, body: Record<string, unknown>): SealedEnvelope {
    const old = this.sent[i]!;
    const created = Date.parse((JSON.parse(Buffer.from(old.message.jws.payload, 'base64url').toString('utf8')) as { created: string }).created);
    const forged = sealEnvelope({ v: PAYLOAD_VERSION, id: old.id, type: 'aeo', from: 'KZ', to: 'KG', agreement: 'KZ-KG-MRA', created: iso(created), body }, this.kz.node.signer);
    this.envelopes = this.envelopes.map((b) => (b === old.message.bytes ? forged.bytes : b));
    const fields = this.entries.map((e) => ({ at: e.at, event: e.event, messageId: e.messageId, peer: e.peer, sha256: e.sha256 === old.message.sha256 ? forged.sha256 : e.sha256 }));
    this.entries = [];
    this.head = undefined;
    for (const f of fields) this.log(f.event, f.messageId, f.sha256, Date.parse(f.at));
    return forged;
  }

  receiptFor(messageId: string, sha256: string, at: number, signer?: Signer): SealedEnvelope {
    return sealEnvelope(
      {
        v: PAYLOAD_VERSION, id: `kg-receipt-${messageId}`, type: 'receipt', from: 'KG', to: 'KZ', agreement: 'KZ-KG-MRA', created: iso(at), ref: messageId,
        body: { messageId, sha256, status: 'accepted', received: iso(at) },
      },
      signer ?? this.kg.node.signer,
    );
  }

  /** KZ makes a new node key with a certificate (the old one stays listed); returns the old key. */
  rotateKz(validity: { iat?: number; nbf?: number; exp?: number } = {}): Key {
    const old = this.kz.node;
    this.kz.node = newKey();
    this.certificates.push(certify('KZ', this.kz.node, this.kz.root, validity));
    return old;
  }

  /** A checkpoint by KZ's node key over the entry at `seq` (default: the head). */
  checkpoint(seq = this.entries.length, signer: Signer = this.kz.node.signer): string {
    const entry = this.entries[seq - 1]!;
    return signCheckpoint({ v: 1, node: 'KZ', seq, hash: headOf(entry).hash, at: iso(Date.parse(entry.at) + 1) }, signer);
  }

  /** `signed`: with KZ's export statement over the result (SPEC 9.5.4), as `gnc audit export` writes it. */
  bundle(change: { checkpoints?: string[]; entries?: EvidenceEntry[]; selection?: BundleSelection; signed?: boolean } = {}): EvidenceBundle {
    const bundle = buildBundle({
      created: iso(T0 + 10 * DAY),
      exportedBy: { country: 'KZ', kid: this.kz.node.signer.kid },
      ...(change.selection === undefined ? {} : { selection: change.selection }),
      roots: this.roots,
      successions: this.successions,
      certificates: this.certificates,
      revocations: this.revocations,
      envelopes: this.envelopes,
      entries: change.entries ?? this.entries,
      checkpoints: change.checkpoints ?? [this.checkpoint()],
    });
    return change.signed ? { ...bundle, statement: this.statement(bundle) } : bundle;
  }

  /** An export statement over `bundle` as it stands, signed by KZ's node key unless another signer is given. */
  statement(bundle: EvidenceBundle, signer: Signer = this.kz.node.signer, payload: Partial<ExportStatementPayload> = {}): string {
    return signExportStatement(
      {
        v: 1, node: 'KZ', at: bundle.created, seq: bundle.chain.entries.reduce((m, e) => Math.max(m, e.seq), 0),
        ...(bundle.selection === undefined ? {} : { selection: bundle.selection }),
        envelopes: envelopesDigest(bundle.envelopes.map((e) => sha256(envelopeBytes(e)))),
        ...payload,
      },
      signer,
    );
  }
}

/** A JSON round trip, as the CLI reads a bundle from a file (tests then mutate freely). */
export function asFile(bundle: EvidenceBundle): EvidenceBundle {
  return JSON.parse(JSON.stringify(bundle)) as EvidenceBundle;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
