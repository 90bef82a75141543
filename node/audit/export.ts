/**
 * Builds an evidence bundle (protocol/SPEC.md section 9.5) from a node's store, for `gnc audit export`
 * and `GET /v1/messages/{id}/evidence`: the selected envelopes exactly as stored (sent or received) with their
 * receipts, the certificates of every key of the countries involved (this node's, archived after rotations,
 * and its partners'), their pinned roots, the root successions held and the revocations that apply (each by a
 * root of the revoked key's own country), and the segment of this node's evidence log from the first entry about
 * a selected envelope to the head, pinned by a checkpoint signed at export time, with a statement signed beside it
 * that binds the selection to the envelopes (SPEC 9.5.4). Messages the selection matches whose content retention
 * purged are named in `selection.purged`, and the partner certificates set aside as conflicting that envelopes were
 * signed under go in `setAside`. Only public material leaves: envelopes, certificates, notices, hashes.
 */
import { originalRootJwk, type LocalIdentity } from '../../certs/identity.js';
import { ownCertificates } from '../../certs/rotation.js';
import { decodeNodeCertificate, type NodeCertificatePayload } from '../../protocol/certificate.js';
import { parseFlattened, peekKid, peekPayload } from '../../protocol/envelope/open.js';
import type { FlattenedJws, MessageDirection } from '../../protocol/envelope/payload.js';
import { buildBundle, type BundleSelection, type BundleSetAside, type EvidenceBundle } from '../../protocol/evidence/bundle.js';
import { decodeCheckpoint } from '../../protocol/evidence/checkpoint.js';
import { envelopesDigest, setAsideDigests } from '../../protocol/evidence/statement.js';
import { GncError, isGncError } from '../../protocol/errors.js';
import { jwkThumbprint, type Ed25519PublicJwk } from '../../protocol/jwk.js';
import { PURGED_SQL } from '../retention.js';
import type { EvidenceLog } from '../store/evidence.js';
import { KeyNoticeRepo, type KeyNoticeRow } from '../store/key-notices.js';
import { MESSAGE_SELECT, type MessageRow } from '../store/messages.js';
import type { CertificateConflictRow } from '../store/partners.js';
import type { Store } from '../store/store.js';
import { rootChainFrom } from '../trust.js';

export interface ExportSource {
  dir: string;
  store: Store;
  identity: LocalIdentity;
  evidence: EvidenceLog;
  clock: () => number;
  /**
   * Who asked, so a refusal points to where they look messages up: `gnc audit export` (the default) to `gnc messages`,
   * `GET /v1/messages/{id}/evidence` to GET /v1/messages.
   */
  caller?: 'cli' | 'api';
}

/** What a refusal of the selection tells each caller to do, in the words of the interface it used. */
const ADVICE = {
  cli: {
    purged: 'only metadata and log entries remain (`gnc messages`, `gnc audit verify --dir`)',
    none: () => 'No stored envelope matches the selection (message id, partner, time range): check it with `gnc messages`, or widen it.',
    missing: (n: number) => `check the id${n === 1 ? '' : 's'} with \`gnc messages\`, or leave ${n === 1 ? 'it' : 'them'} out`,
  },
  api: {
    purged: 'only metadata and log entries remain (GET /v1/messages/{id} and GET /v1/audit/verify)',
    none: (ids: readonly string[]) => `No stored message ${ids.join(', ')} on this node: check the id with GET /v1/messages, whose filters (?partner=, ?direction=, ?since=, ?until=) narrow the list to find it.`,
    missing: (n: number) => `check the id${n === 1 ? '' : 's'} with GET /v1/messages and its filters (?partner=, ?direction=, ?since=, ?until=)`,
  },
} as const;

export interface ExportSelection {
  messageIds?: string[];
  partner?: string;
  /** Only the messages received (in) or sent (out): a partner may send a message with the id of one sent to it. */
  direction?: MessageDirection;
  /** Inclusive lower bound on the envelope's `created` (RFC 3339 with its zone, before `until`: the caller checks). */
  since?: string;
  /** Exclusive upper bound on `created`. */
  until?: string;
}

/**
 * The messages the selection matches: those whose content is stored, or those whose content retention purged
 * (only received messages are ever purged, node/retention.ts; their log entries and metadata stay).
 */
function selectRows(store: Store, sel: ExportSelection, content: 'stored' | 'purged', now: number): MessageRow[] {
  const { where, args } = selectionWhere(sel, content, now);
  return store.db.prepare(`${MESSAGE_SELECT} WHERE ${where} ORDER BY m.seq`).all(...args) as MessageRow[];
}

/**
 * The SQL condition on `messages m` of the selection, on the rows of that content (`any`: all rows; the others over
 * MESSAGE_SELECT, which reads the content as `c`).
 */
function selectionWhere(sel: ExportSelection, content: 'stored' | 'purged' | 'any', now: number): { where: string; args: (string | number)[] } {
  // purged means past its retention end by the exporter's clock, whether or not the sweep ran: `gnc audit export`
  // with the node stopped (no sweep at all) or within the hour after the end exports such a message as purged
  const where: string[] = content === 'any' ? [] : [content === 'stored' ? `c.jws IS NOT NULL AND NOT ${PURGED_SQL}` : PURGED_SQL];
  const args: (string | number)[] = content === 'any' ? [] : [now];
  if (sel.messageIds !== undefined && sel.messageIds.length > 0) {
    where.push(`m.id IN (${sel.messageIds.map(() => '?').join(',')})`);
    args.push(...sel.messageIds);
  }
  if (sel.partner !== undefined) {
    where.push('m.partner = ?');
    args.push(sel.partner);
  }
  if (sel.direction !== undefined) {
    where.push('m.direction = ?');
    args.push(sel.direction);
  }
  if (sel.since !== undefined) {
    where.push('m.created >= ?');
    args.push(new Date(Date.parse(sel.since)).toISOString());
  }
  if (sel.until !== undefined) {
    where.push('m.created < ?');
    args.push(new Date(Date.parse(sel.until)).toISOString());
  }
  return { where: where.length > 0 ? where.join(' AND ') : '1', args };
}

/**
 * Whether the bundle's selection must name `sel.direction` (SPEC 9.5.1): only when a message of the other direction
 * matches the rest of it (an id sent and received, a partner's traffic both ways). Otherwise the member changes nothing
 * the selection matches, and is left out, so that verifiers of versions before it, whose strict schema refuses it
 * (GNC_SCHEMA_INVALID at /selection/direction), read the bundle as well.
 */
function directionNeeded(store: Store, sel: ExportSelection): boolean {
  if (sel.direction === undefined) return false;
  const { where, args } = selectionWhere({ ...sel, direction: sel.direction === 'in' ? 'out' : 'in' }, 'any', 0);
  return store.db.prepare(`SELECT 1 FROM messages m WHERE ${where} LIMIT 1`).get(...args) !== undefined;
}

/**
 * The certificates set aside as conflicting (store migration 22, SPEC 9.10) that the exported envelopes need: a
 * partner's envelope (message or receipt) accepted under such a certificate before that check existed has no other
 * certificate of its key, and without it the bundle would fail offline with GNC_KEY_UNKNOWN although its signature is
 * genuine. Only those of a key that signed an envelope for that key's country, where no exported certificate already
 * certifies the key for that country at the envelope's `created`.
 */
function setAsideNeeded(store: Store, self: string, envelopes: readonly (Uint8Array | FlattenedJws)[], certificates: readonly string[]): BundleSetAside[] {
  const conflicts = store.partners.conflicts();
  if (conflicts.length === 0) return [];
  const decoded = (compact: string): NodeCertificatePayload | undefined => {
    try {
      return decodeNodeCertificate(compact);
    } catch {
      return undefined;
    }
  };
  const covers = (c: NodeCertificatePayload | undefined, kid: string, country: string, at: number): boolean =>
    c !== undefined && c.sub === kid && c.country === country && Date.parse(c.nbf) <= at && at <= Date.parse(c.exp);
  const exported = certificates.map(decoded);
  const candidates = conflicts.map((row) => ({ row, cert: decoded(row.compact) }));
  const needed = new Set<CertificateConflictRow>();
  for (const e of envelopes) {
    if (!(e instanceof Uint8Array)) continue;
    const jws = parseFlattened(e);
    const p = peekPayload(jws);
    const kid = peekKid(jws.protected);
    if (p?.from === undefined || p.from === self || typeof kid !== 'string' || typeof p.created !== 'string') continue;
    const at = Date.parse(p.created);
    if (exported.some((c) => covers(c, kid, p.from!, at))) continue;
    for (const { row, cert } of candidates) if (cert?.sub === kid && cert.country === p.from) needed.add(row);
  }
  const current = store.partners.certificates();
  return [...needed].map((row) => {
    const cert = decoded(row.compact)!;
    // node-key: the row kept the country of the certificate this one overwrote; peer-id: the country whose
    // certificate named the peer id first, which kept it
    const claimedBy = row.conflict === 'node-key' ? row.country : current.find((c) => c.peer_id === cert.peerId && c.country !== cert.country)?.country;
    return { certificate: row.compact, conflict: row.conflict, ...(claimedBy === undefined || claimedBy === cert.country ? {} : { claimedBy }) };
  });
}

/** The `kid` (node key) that signed an envelope, from its protected header. */
function envelopeSigner(e: Uint8Array | FlattenedJws): string {
  return peekKid((e instanceof Uint8Array ? parseFlattened(e) : e).protected) ?? '';
}

/** Export the evidence of the selected messages; GNC_NOT_FOUND when nothing matches. */
export function exportEvidence(src: ExportSource, sel: ExportSelection = {}): EvidenceBundle {
  const { store, identity, evidence } = src;
  const advice = ADVICE[src.caller ?? 'cli'];
  const now = src.clock();
  const rows = selectRows(store, sel, 'stored', now);
  const purgedRows = selectRows(store, sel, 'purged', now);
  if (rows.length === 0 && purgedRows.length > 0) {
    throw new GncError('GNC_NOT_FOUND', `The content of ${purgedRows.length === 1 ? `message ${purgedRows[0]!.id}` : `the ${purgedRows.length} messages selected`} was purged when its retention period under the agreement ended; ${advice.purged}. Nothing is left to export.`);
  }
  if (rows.length === 0) {
    throw new GncError('GNC_NOT_FOUND', advice.none(sel.messageIds ?? []));
  }
  // the verifier holds the bundle to every id in selection.messageIds (SPEC 9.6 item 10): an id asked for that is
  // neither exported nor declared purged would make the bundle fail, so say which now instead of writing one
  if (sel.messageIds !== undefined && sel.messageIds.length > 0) {
    const found = new Set([...rows, ...purgedRows].map((r) => r.id));
    const missing = [...new Set(sel.messageIds)].filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw new GncError('GNC_NOT_FOUND', `No stored message ${missing.join(', ')} matches the selection (partner, time range): ${advice.missing(missing.length)}.`);
    }
  }
  const envelopes: (Uint8Array | FlattenedJws)[] = [];
  /** SHA-256 of each envelope's stored bytes, as stored with it: the statement's digest is over these. */
  const hashes: string[] = [];
  const ids = new Set<string>();
  const countries = new Set<string>([identity.country]);
  for (const row of rows) {
    envelopes.push(new Uint8Array(row.jws!));
    hashes.push(row.sha256);
    ids.add(row.id);
    countries.add(row.partner);
    const receipt = store.messages.receipt(row.seq);
    if (receipt) {
      envelopes.push(new Uint8Array(receipt.jws));
      hashes.push(receipt.sha256);
      ids.add(receipt.receipt_id);
    }
  }

  // pin the head first, then read the segment up to that checkpoint (a running node keeps appending)
  try {
    evidence.checkpoint();
  } catch (err) {
    // an expired node key signs no checkpoint; a selection that an earlier checkpoint already pins needs none
    const pinned = evidence.lastCheckpoint();
    if (!isGncError(err) || err.code !== 'GNC_KEY_EXPIRED' || pinned === undefined) throw err;
    if (evidence.seqsOf([...ids]).some((s) => s > decodeCheckpoint(pinned).payload.seq)) throw err;
  }
  const lastCheckpoint = evidence.lastCheckpoint();
  const head = lastCheckpoint === undefined ? evidence.headSeq() : decodeCheckpoint(lastCheckpoint).payload.seq;
  // a purged message named by id is selected too: the segment starts early enough to show that it was received
  const purgedIds = new Set(purgedRows.map((r) => r.id));
  const selectedPurged = sel.messageIds?.length ? [...purgedIds] : [];
  const seqs = evidence.seqsOf([...ids, ...selectedPurged]);
  const from = seqs.length > 0 ? seqs[0]! : Math.max(1, head);
  const entries = head > 0 ? evidence.entries(from, head) : [];
  const checkpoints = head > 0 ? evidence.checkpoints(from, head) : [];
  // the segment records these as received but the bundle cannot hold their envelopes (nor, so, their receipts):
  // declared, so that the verifier tells them from removed ones (SPEC 9.5.3)
  const purged = [...new Set(entries.filter((e) => e.event === 'received' && purgedIds.has(e.messageId)).map((e) => e.messageId))];

  const roots: { country: string; jwk: Ed25519PublicJwk }[] = [{ country: identity.country, jwk: originalRootJwk(src.dir) }];
  const certificates = [...ownCertificates(src.dir)];
  const notices = new KeyNoticeRepo(store.db);
  /** For a partner whose root was replaced: the fingerprints of the root chains the bundle carries for it. */
  const chainsOf = new Map<string, Set<string>>();
  for (const c of countries) {
    if (c === identity.country) continue;
    const p = store.partners.get(c);
    if (p === undefined) continue;
    const replaced = store.partners.replacedRoots(c);
    if (replaced.length === 0) {
      roots.push({ country: c, jwk: JSON.parse(p.root_jwk) as Ed25519PublicJwk });
      for (const cert of store.partners.certificates(c)) certificates.push(cert.compact);
      continue;
    }
    // a root replaced after it was lost (SPEC 9.5.1): the bundle carries the root chain(s) the selected envelopes
    // were signed under, each with only its own certificates and notices, so a bundle of one side of the replacement
    // reads as any bundle with one root for the country
    const held = notices.list('root-succession', [c]);
    const chains = [p.root_jwk, ...replaced.map((r) => r.root_jwk)].map((jwk) => {
      const root = JSON.parse(jwk) as Ed25519PublicJwk;
      return { root, fps: new Set(rootChainFrom(root, held).map((k) => jwkThumbprint(k))) };
    });
    const certs = store.partners.certificates(c).map((cert) => ({ compact: cert.compact, kid: cert.kid, iss: decodeNodeCertificate(cert.compact).iss }));
    const signers = new Set(envelopes.map(envelopeSigner));
    const needed = chains.filter((ch) => certs.some((cert) => signers.has(cert.kid) && ch.fps.has(cert.iss)));
    const carried = new Set<string>();
    for (const ch of needed.length > 0 ? needed : chains.slice(0, 1)) {
      roots.push({ country: c, jwk: ch.root });
      for (const cert of certs) if (ch.fps.has(cert.iss)) certificates.push(cert.compact);
      for (const fp of ch.fps) carried.add(fp);
    }
    chainsOf.set(c, carried);
  }
  const setAside = setAsideNeeded(store, identity.country, envelopes, certificates);
  /** A notice of a country whose root was replaced goes in only when signed by a root the bundle carries. */
  const carriedSigner = (n: KeyNoticeRow): boolean => chainsOf.get(n.country)?.has(peekKid(n.compact.split('.')[0]!) ?? '') ?? true;
  const involved = [...countries];
  // only the revocations that apply (SPEC 9.4, 9.10): a root revokes its own country's keys. A notice naming a key
  // certified for another country (this node's, or a third country's learnt after the notice) is not evidence
  // about that key, and the offline verifier would fail the bundle for it (GNC_CERT_INVALID)
  const certifiedFor = new Map<string, Set<string>>();
  const certify = (kid: string, country: string): void => void certifiedFor.set(kid, (certifiedFor.get(kid) ?? new Set()).add(country));
  for (const c of ownCertificates(src.dir)) {
    const p = decodeNodeCertificate(c);
    certify(p.sub, p.country);
  }
  for (const c of store.partners.certificates()) certify(c.kid, c.country);
  // a set-aside certificate exported certifies its key for its country to the verifier (SPEC 9.6 item 5) too
  for (const c of setAside) {
    const p = decodeNodeCertificate(c.certificate);
    certify(p.sub, p.country);
  }
  const applies = (n: KeyNoticeRow): boolean => [...(certifiedFor.get(n.subject) ?? [])].every((country) => country === n.country);
  const selection: BundleSelection = {
    ...(sel.messageIds?.length ? { messageIds: sel.messageIds } : {}),
    ...(sel.partner ? { partner: sel.partner } : {}),
    ...(directionNeeded(store, sel) ? { direction: sel.direction } : {}),
    ...(sel.since ? { since: new Date(Date.parse(sel.since)).toISOString() } : {}),
    ...(sel.until ? { until: new Date(Date.parse(sel.until)).toISOString() } : {}),
    ...(purged.length ? { purged } : {}),
  };
  const bundle = buildBundle({
    created: new Date(src.clock()).toISOString(),
    exportedBy: { country: identity.country, kid: lastCheckpoint === undefined ? identity.node.thumbprint : decodeCheckpoint(lastCheckpoint).header.kid },
    selection,
    roots,
    successions: notices.list('root-succession', involved).filter(carriedSigner).map((n) => n.compact),
    certificates,
    revocations: notices.list('revocation', involved).filter(applies).filter(carriedSigner).map((n) => n.compact),
    setAside,
    envelopes,
    entries,
    checkpoints,
  });
  if (entries.length === 0) return bundle;
  try {
    const statement = evidence.signStatement({
      at: bundle.created,
      seq: entries[entries.length - 1]!.seq,
      ...(bundle.selection === undefined ? {} : { selection: bundle.selection }),
      envelopes: envelopesDigest(hashes),
      ...(bundle.setAside === undefined ? {} : { setAside: setAsideDigests(bundle.setAside) }),
    });
    return { ...bundle, statement };
  } catch (err) {
    // an expired node key signs nothing: the bundle goes without a statement, and its report says so
    if (isGncError(err) && err.code === 'GNC_KEY_EXPIRED') return bundle;
    throw err;
  }
}
