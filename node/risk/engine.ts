/**
 * The risk engine: projects every accepted business message whose purpose allows decisions about individual
 * consignments (INDIVIDUAL_USE) into the arrivals view, the AEO registry and the e-CoO index, and recomputes
 * the assessment of each consignment a message concerns (its own declaration, or every consignment naming the
 * certificate or AEO that changed). Progress is a cursor over messages.seq
 * stored in the same transaction as the projection, so a crash or a node that was stopped catches up on
 * start, and a message is never applied twice. Work runs in bounded batches through the store's group
 * commit, so a large AEO snapshot never holds the event loop or the database for long.
 */
import { AGGREGATE_ONLY_PURPOSES } from '../../protocol/agreement/constants.js';
import { combineTerms, type DataTerms } from '../../protocol/agreement/terms.js';
import { isSnapshotInParts, type AeoBody } from '../../protocol/messages/aeo.js';
import { certificateKey, type EcooBody } from '../../protocol/messages/ecoo.js';
import type { AciBody } from '../../protocol/messages/aci.js';
import { isGncError, type GncErrorCode } from '../../protocol/errors.js';
import type { AssessmentEvent, Indicator } from '../../protocol/risk.js';
import { backoffDelay } from '../outbound/backoff.js';
import { foldCode } from '../store/fold.js';
import { foldPlace, foldPlaceTyped } from '../store/name-keys.js';
import { storageError } from '../store/storage-error.js';
import type { Store } from '../store/store.js';
import { AeoRegistry } from './aeo-registry.js';
import { AeoSnapshots } from './aeo-snapshots.js';
import { ConsignmentRepo, type ConsignmentRow, type CurrentFields } from './consignments.js';
import { keysOf, KEY, summarize, type FullDeclaration } from './declaration.js';
import { EcooRegistry } from './ecoo-registry.js';
import { RiskFeed } from './feed.js';
import { aeoIndicators } from './indicators/aeo.js';
import { IndicatorSet, type AssessContext } from './indicators/context.js';
import { ecooIndicators } from './indicators/ecoo.js';
import { localIndicators } from './indicators/local.js';
import { defaultRules, type LoadedRules } from './rules.js';
import { scoreOf } from './scoring.js';
import { arrivalView, assessmentView, buildView, parseStored, purgedNote, purgedVersionView, shownPurged, type StoredAssessment } from './views.js';

/**
 * A related message (e-CoO, AEO change, new rules) recomputes consignments expected at most this long ago:
 * older ones have arrived and keep the assessment they had when they crossed. Thirty days. (Not against the
 * retention purge: an assessment quoting a purged message is recomputed whatever its date, node/risk/purge.ts.)
 */
export const RECOMPUTE_HORIZON_MS = 30 * 24 * 3_600_000;
/** Messages projected and consignments recomputed per transaction. */
export const BATCH = 250;
/**
 * A consignment whose assessment failed is tried again after about the engine's `retryMs` (the risk loop's
 * STEP_RETRY_MS), then twice as long at each failure in a row (backoffDelay, with its jitter), at most this long: ten minutes.
 */
export const ASSESS_RETRY_MAX_MS = 600_000;

/**
 * How a failure is logged: its stable code (a GncError's, GNC_STORAGE_FULL, else GNC_INTERNAL) and the error's kind
 * with SQLite's code if any, never its message, which may quote a message's content (a JSON.parse error quotes the
 * text it read, a refused write the values it was given).
 */
export function failureFields(err: unknown): { code: GncErrorCode; error: string } {
  const known = storageError(err);
  const code = isGncError(known) ? known.code : 'GNC_INTERNAL';
  const sqlite = (err as { code?: unknown } | undefined)?.code;
  const error = [err instanceof Error ? err.name : typeof err, typeof sqlite === 'string' && !isGncError(err) ? sqlite : ''].filter(Boolean).join(' ');
  return { code, error };
}

/**
 * A failure of the database itself (full, I/O error, damaged, busy, out of memory), not of one consignment: SQLite
 * may have rolled the whole transaction back, and every other consignment would fail alike.
 */
function databaseFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|CORRUPT|NOTADB|NOMEM|BUSY|LOCKED|READONLY|CANTOPEN)/.test(code);
}

/** What assessIsolated says of a consignment whose assessment threw: how to log it, and when it is tried again. */
export interface AssessFailure {
  code: GncErrorCode;
  error: string;
  /** Failures in a row, this one included. */
  attempts: number;
  retryInMs: number;
}

/**
 * SQL condition on a received message: its purpose allows decisions about individual consignments and traders.
 * One sent for an aggregate-only purpose (statistics) is stored and listed, never projected into the risk view.
 */
export const INDIVIDUAL_USE = `IFNULL(purpose, '') NOT IN (${AGGREGATE_ONLY_PURPOSES.map((p) => `'${p}'`).join(', ')})`;
/** The purposes INDIVIDUAL_USE leaves out, for a message read outside SQL (RiskEngine.offer). */
const AGGREGATE_ONLY: ReadonlySet<string> = new Set(AGGREGATE_ONLY_PURPOSES);

/** What a consignment the retention purge rebuilds keeps (RiskEngine.reproject): its cid and its API id. */
export type Rebuilt = Pick<ConsignmentRow, 'cid' | 'root_id'>;

/** A StoredMessage without its body: what the projection reads of a message before its body. */
export type MessageMeta = Omit<StoredMessage, 'body'>;

export interface StoredMessage {
  seq: number;
  id: string;
  partner: string;
  type: string;
  kind: string | null;
  ref: string | null;
  created: string;
  body: string | null;
  stored_at: number;
  /** What its terms come from (TermsRepo): the agreement version it was accepted under, its purpose, its retention end. */
  agreement: string | null;
  purpose: string | null;
  retain_until: number | null;
}

/**
 * The select of StoredMessage rows: `messages` (aliased m) with the body of `message_content` (null once purged).
 * Filter by `m.` columns (`seq` is in both tables).
 */
export const STORED_SELECT = storedSelect('c.body');

/** The select of a StoredMessage's columns with `content` (an expression over `message_content c`) in place of its body. */
function storedSelect(content: string): string {
  return `SELECT m.seq, m.id, m.partner, m.type, m.kind, m.ref, m.created, ${content}, m.stored_at, m.agreement, m.purpose, m.retain_until
  FROM messages m LEFT JOIN message_content c ON c.seq = m.seq`;
}

/**
 * The bodies offered (RiskEngine.offer) held at most: as many as a step projects, and at most this many envelope bytes
 * (16 MiB), so a backlog of large messages is read back from the store instead of held in memory.
 */
const OFFERED_MAX_BYTES = 16 * 1024 * 1024;

/** Key in risk_state asking for the terms of the arrivals stored before views carried them (migration 27); its value is the cid reached. */
const TERMS_BACKFILL = 'terms-backfill';

export interface EngineDeps {
  store: Store;
  feed: RiskFeed;
  rules: () => LoadedRules;
  clock: () => number;
  log: (msg: string, fields?: Record<string, string | number>) => void;
  /** The first wait before a consignment whose assessment failed is tried again (doubling up to ASSESS_RETRY_MAX_MS); default 5 s. */
  retryMs?: number;
}

/**
 * The engine over the store of a node that is not running, for the CLI (`gnc arrivals` reads through it, `gnc backup`
 * purges and reassesses its copy with it), without a log; by default with the built-in rules, which reading does not apply.
 */
export function offlineEngine(store: Store, feed = new RiskFeed(store.db), clock: () => number = Date.now, rules: () => LoadedRules = defaultRules): RiskEngine {
  return new RiskEngine({ store, feed, rules, clock, log: () => undefined });
}

export class RiskEngine {
  readonly consignments: ConsignmentRepo;
  readonly aeo: AeoRegistry;
  readonly snapshots: AeoSnapshots;
  readonly ecoo: EcooRegistry;
  private readonly s;
  private cursor: number;
  /**
   * Queued consignments whose assessment failed (a bug, an indicator failing on what it reads, a write refused): failures
   * in a row, and when (performance.now()) the next step takes it again. The failures are also kept with the queue entry
   * (risk_pending.failures, in the transaction that counts them), so a restart counts these consignments at once
   * (unassessable) and goes on with their backoff; it tries each once at once.
   */
  private readonly failing = new Map<number, { attempts: number; due: number }>();
  /**
   * Bodies of messages the receiver has just stored, by seq, as it validated them (offer): the step projects these
   * instead of reading them back and parsing them again. Bounded (OFFERED_MAX_BYTES); a message not here is read from the store.
   */
  private readonly offered = new Map<number, { body: unknown; bytes: number }>();
  private offeredBytes = 0;
  /**
   * The bodies the running step projected, by seq, with their message rows: its assessments of the consignments they are
   * in force in read them, and the message's terms, here instead of from the store (the same transaction: nothing else
   * changes them meanwhile). Empty outside a step.
   */
  private readonly projected = new Map<number, { id: string; body: unknown; meta: MessageMeta }>();
  /** The cursor may be ahead of the one stored (rolledBack): the next step reads it from the store first. */
  private unsure = false;
  /** assessQueued in a savepoint of the caller's transaction (assessIsolated): wrapped once, not per consignment (GroupCommit says why). */
  private readonly assessInSavepoint: (cid: number) => AssessmentEvent | undefined;

  constructor(private readonly d: EngineDeps) {
    const db = d.store.db;
    this.consignments = new ConsignmentRepo(db);
    this.aeo = new AeoRegistry(db);
    this.snapshots = new AeoSnapshots(db, INDIVIDUAL_USE);
    this.ecoo = new EcooRegistry(db);
    this.s = {
      // `+direction`: look rows up by (type, seq > cursor), never by direction, which would read every
      // message ever received on each step (test/node/store/query-plans.test.ts)
      // whether the content is held (`held`: its row is there, the retention purge deletes it), not the body: a body
      // offered by the receiver is not read back (offer), and the row's key is read without the envelope and body,
      // which overflow into pages of their own (2.3 us a row instead of 4.8 with 8 KB envelopes)
      next: db.prepare(`${storedSelect('c.seq IS NOT NULL AS held')}
        WHERE m.seq > ? AND +m.direction = 'in' AND m.type IN ('aci', 'ecoo', 'aeo') AND ${INDIVIDUAL_USE} ORDER BY m.seq LIMIT ?`),
      body: db.prepare('SELECT body FROM message_content WHERE seq = ?').pluck(),
      current: db.prepare('SELECT m.id, c.body FROM messages m LEFT JOIN message_content c ON c.seq = m.seq WHERE m.seq = ?'),
      cursor: db.prepare(`SELECT value FROM risk_state WHERE key = 'cursor'`).pluck(),
      saveCursor: db.prepare(`INSERT INTO risk_state (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
      backfillAt: db.prepare(`SELECT value FROM risk_state WHERE key = '${TERMS_BACKFILL}'`).pluck(),
      backfillCids: db.prepare('SELECT cid FROM risk_consignments WHERE cid > ? ORDER BY cid LIMIT ?').pluck(),
      backfillReached: db.prepare(`UPDATE risk_state SET value = ? WHERE key = '${TERMS_BACKFILL}'`),
      backfillDone: db.prepare(`DELETE FROM risk_state WHERE key = '${TERMS_BACKFILL}'`),
      lag: db.prepare(`SELECT COUNT(*) FROM messages WHERE seq > ? AND +direction = 'in' AND type IN ('aci', 'ecoo', 'aeo') AND ${INDIVIDUAL_USE}`).pluck(),
    };
    this.cursor = (this.s.cursor.get() as number | undefined) ?? 0;
    const now = performance.now();
    for (const f of this.consignments.failing()) this.failing.set(f.cid, { attempts: f.failures, due: now });
    this.assessInSavepoint = db.transaction((cid: number) => this.assessQueued(cid));
  }

  /** Received business messages not projected yet (the CLI says so when the node is not running). */
  lag(): number {
    return this.s.lag.get((this.s.cursor.get() as number | undefined) ?? 0) as number;
  }

  /**
   * One bounded unit of work; call inside a transaction. `more` says another step has work. If the step
   * throws, its transaction rolls back, and so does the cursor it advanced: the next step projects the same
   * messages again instead of skipping them until a restart reads the cursor back from the store.
   */
  step(limit = BATCH): { events: AssessmentEvent[]; more: boolean } {
    if (this.unsure) {
      this.cursor = (this.s.cursor.get() as number | undefined) ?? 0;
      this.unsure = false;
    }
    const start = this.cursor;
    try {
      return this.advance(limit);
    } catch (err) {
      this.cursor = start;
      throw err;
    } finally {
      this.projected.clear();
    }
  }

  /**
   * The transaction of a step has rolled back: the next step takes the cursor stored again. A step that throws resets it itself
   * (step), but one that went through is rolled back with its group commit's batch when SQLite drops the whole
   * transaction (a full disk, an I/O error in a later unit or at the commit): kept, its messages would not be projected
   * before a restart read the cursor back from the store.
   */
  rolledBack(): void {
    // read by the next step, in its transaction: a store that cannot be read now fails that step, not the caller
    this.unsure = true;
  }

  /**
   * The body of business message `seq` as the receiver stored it (the value whose JSON.stringify is the stored body), once
   * its row has committed: the step that projects it takes it from here instead of reading and parsing it back. Dropped
   * once the cursor has passed `seq`, and not kept beyond OFFERED_MAX_BYTES (`bytes`: the envelope's size): the step
   * reads those from the store, as it reads everything after a restart. A message sent for statistics (`purpose`
   * aggregate-only) is not held: no step projects it (INDIVIDUAL_USE), so the cursor passes it only when a message after
   * it is projected, and until then its body would be held and take the place of the bodies a step projects.
   */
  offer(seq: number, body: unknown, bytes: number, purpose: string | undefined): void {
    if (AGGREGATE_ONLY.has(purpose ?? '')) return;
    if (seq <= this.cursor || this.offered.size >= BATCH || this.offeredBytes + bytes > OFFERED_MAX_BYTES) return;
    this.offered.set(seq, { body, bytes });
    this.offeredBytes += bytes;
  }

  private advance(limit: number): { events: AssessmentEvent[]; more: boolean } {
    const msgs = this.s.next.all(this.cursor, limit) as (MessageMeta & { held: 0 | 1 })[];
    for (const { held, ...m } of msgs) {
      try {
        if (held) {
          const offered = this.offered.get(m.seq);
          const body: unknown = offered ? offered.body : JSON.parse(this.s.body.get(m.seq) as string);
          this.projected.set(m.seq, { id: m.id, body, meta: m });
          this.projectBody(m, body);
        }
      } catch (err) {
        // a message the projection cannot read must not block the ones after it
        this.d.log('risk projection skipped a message', { id: m.id, partner: m.partner, ...failureFields(err) });
      }
      this.cursor = m.seq;
    }
    if (msgs.length) {
      this.s.saveCursor.run(this.cursor);
      for (const [seq, o] of this.offered) {
        if (seq > this.cursor) continue;
        this.offered.delete(seq);
        this.offeredBytes -= o.bytes;
      }
    }
    const cids = this.takePending(limit);
    const events: AssessmentEvent[] = [];
    for (const cid of cids) {
      const r = this.assessIsolated(cid);
      if (r.event) events.push(r.event);
      if (!r.failed) continue;
      // the database itself failed: the step fails as a whole, and the risk loop tries it again
      if (databaseFailure(r.cause)) throw r.cause;
      this.d.log('risk: a consignment could not be assessed; it stays queued and is tried again later, the others went on', { cid, ...r.failed });
    }
    const backfilled = this.backfillTerms(limit);
    return { events, more: msgs.length === limit || cids.length === limit || backfilled === limit };
  }

  /**
   * Up to `limit` queued consignments, leaving out those whose assessment failed until their backoff ends (so a step
   * never takes again what just failed, and `more` is not kept true by them). Those no longer queued (assessed by the
   * retention purge's savepoint, or deleted with their content) are forgotten here, one query per step.
   */
  private takePending(limit: number): number[] {
    if (this.failing.size === 0) return this.consignments.takePending(limit);
    const queued = new Set(this.consignments.pendingAmong([...this.failing.keys()]));
    for (const cid of this.failing.keys()) if (!queued.has(cid)) this.failing.delete(cid);
    const now = performance.now();
    return this.consignments.takePending(limit, [...this.failing].filter(([, f]) => f.due > now).map(([cid]) => cid));
  }

  /**
   * Assesses queued consignment `cid` (assessQueued) in a savepoint of the caller's transaction, so that one whose
   * assessment throws fails alone: what it wrote goes with its savepoint, it stays queued (risk_pending), and steps leave
   * it out until its backoff ends. Used by the step and by the retention purge (node/risk/purge.ts), whose caller logs
   * `failed`. A failure of the database itself (`cause`) is not counted against the consignment; one that rolled the
   * caller's whole transaction back is thrown.
   */
  assessIsolated(cid: number): { event?: AssessmentEvent; failed?: undefined } | { event?: undefined; failed: AssessFailure; cause: unknown } {
    const db = this.d.store.db;
    const enclosed = db.inTransaction;
    try {
      const event = this.assessInSavepoint(cid);
      this.failing.delete(cid);
      return { event };
    } catch (err) {
      // SQLite rolled the caller's whole transaction back (a full disk, an I/O error, a RAISE(ROLLBACK)), not just the
      // savepoint: nothing the caller did holds, and what it went on with would run outside any transaction. Its
      // caller's failure (the step's, the retention purge's), tried again as such
      if (enclosed && !db.inTransaction) throw err;
      const was = this.failing.get(cid);
      const attempts = (was?.attempts ?? 0) + 1;
      const retryInMs = backoffDelay(attempts - 1, { initialMs: this.d.retryMs ?? 5_000, maxMs: ASSESS_RETRY_MAX_MS });
      if (!databaseFailure(err)) {
        this.failing.set(cid, { attempts, due: performance.now() + retryInMs });
        // in the caller's transaction, after the savepoint's rollback: no commit of its own (the step's group commit)
        this.consignments.setFailures(cid, attempts);
      }
      return { failed: { ...failureFields(err), attempts, retryInMs }, cause: err };
    }
  }

  /**
   * How many queued consignments' assessments failed and wait to be tried again (GET /v1/health, `gnc backup`), also
   * those that failed before this process started (risk_pending.failures).
   */
  unassessable(): number {
    return this.failing.size;
  }

  /** Whether consignment `cid`'s assessment failed and waits to be tried again. */
  failed(cid: number): boolean {
    return this.failing.has(cid);
  }

  /** Milliseconds until the first consignment whose assessment failed is due again; undefined with none. */
  retryDueIn(): number | undefined {
    if (this.failing.size === 0) return undefined;
    const now = performance.now();
    let first = Infinity;
    for (const f of this.failing.values()) first = Math.min(first, f.due);
    return Math.max(0, first - now);
  }

  /**
   * Adds the terms to up to `limit` list views stored before views carried them (migration 27 asks, once): the view
   * alone is rewritten, with the terms of the messages it comes from; the assessment stays and no event is recorded.
   * Returns how many views it read.
   */
  private backfillTerms(limit: number): number {
    const at = this.s.backfillAt.get() as number | undefined;
    if (at === undefined) return 0;
    const cids = this.s.backfillCids.all(at, limit) as number[];
    for (const cid of cids) {
      const row = this.consignments.get(cid)!;
      const view = arrivalView(row);
      this.consignments.setView(cid, JSON.stringify({ ...view, terms: this.termsOf(row, view.currentMessageId, parseStored(this.consignments.stored(cid)).indicators) }));
    }
    if (cids.length < limit) this.s.backfillDone.run();
    else this.s.backfillReached.run(cids[cids.length - 1]!);
    return cids.length;
  }

  /**
   * The terms of a consignment's view: those of the version in force (`currentId`) combined with its other versions'
   * and those of the messages its indicators quote as evidence (combineTerms). Read in the background projection;
   * `current`: the row of the version in force when the step projected it (its terms then need no query).
   */
  private termsOf(row: Pick<ConsignmentRow, 'cid' | 'partner'>, currentId: string, indicators: readonly Indicator[], current?: MessageMeta): DataTerms | null {
    const terms = this.d.store.terms;
    const versions = new Set(this.consignments.versions(row.cid).map((v) => v.message_id));
    versions.delete(currentId);
    const quoted = new Map<string, Set<string>>();
    for (const e of indicators.flatMap((i) => i.evidence)) {
      if (e.partner === row.partner && (e.messageId === currentId || versions.has(e.messageId))) continue;
      quoted.set(e.partner, (quoted.get(e.partner) ?? new Set()).add(e.messageId));
    }
    // the version in force's own terms from its row when the step holds it (projected), else read by its id
    const main = terms.combinedWith(current ? this.messageTerms(current) : terms.ofReceived(row.partner, currentId), row.partner, [...versions]);
    return [...quoted].reduce((acc, [partner, ids]) => terms.combinedWith(acc, partner, [...ids]), main);
  }

  project(m: StoredMessage): void {
    if (m.body !== null) this.projectBody(m, JSON.parse(m.body));
  }

  /** Projects message `m` whose body, as stored, parses to `parsed`. */
  private projectBody(m: MessageMeta, parsed: unknown): void {
    const now = this.d.clock();
    const since = now - RECOMPUTE_HORIZON_MS;
    if (m.type === 'aci') this.projectAci(m, parsed as AciBody, now);
    else if (m.type === 'ecoo') {
      const body = parsed as EcooBody;
      if (body.kind === 'certificate') this.ecoo.addCertificate(m.partner, m.seq, m.id, body, now);
      else if (!this.ecoo.setStatus(m.partner, m.id, body, now)) return;
      this.consignments.pendByKey(KEY.ecoo, certificateKey(body.certificateNumber), since);
    } else if (m.type === 'aeo') {
      const first = !this.aeo.hasData(m.partner);
      const changed = this.applyAeo(m, parsed as AeoBody, now);
      if (!changed) return;
      // the first AEO data of a partner turns its "cannot be checked" claims into checkable ones
      if (first) this.consignments.pendByPrefix(KEY.aeo, m.partner, since);
      else for (const id of changed) this.consignments.pendByKey(KEY.aeo, id, since);
    }
  }

  /** An AEO message into the registry: the AEO ids whose statuses changed, or undefined when nothing took effect. */
  private applyAeo(m: MessageMeta, body: AeoBody, now: number): string[] | undefined {
    const src = { partner: m.partner, seq: m.seq, messageId: m.id, now };
    if (body.kind === 'change') return this.aeo.applyChange(src, body);
    // a part of a snapshot sent in parts: nothing of it takes effect before its last part is in
    const snapshot = isSnapshotInParts(body)
      ? this.snapshots.completedBy(m, body)
      : { asOf: body.asOf, parts: [{ messageId: m.id, operators: body.operators }] };
    return snapshot && this.aeo.applySnapshot(src, snapshot);
  }

  /**
   * Builds consignment `was` again from `held`, the versions still held of it whose other versions no longer count (the
   * retention purge took their content, or they were sent for statistics; the caller deleted what it had), as the
   * projection builds it had only they arrived: its declaration and amendments in the order they arrived (the one
   * created latest in force), then its cancellations, which keep it cancelled. It keeps its cid and root id, so its
   * API id and its place among the consignments expected at the same time stay, whatever its held versions' refs
   * name. A consignment of which only a cancellation is held has nothing to show, and stays deleted. Returns the
   * rebuilt consignment, queued for assessment.
   */
  reproject(was: Rebuilt, held: readonly StoredMessage[]): number | undefined {
    const now = this.d.clock();
    const versions = held.flatMap((m) => (m.body === null ? [] : [{ m, body: JSON.parse(m.body) as AciBody }]));
    const content = versions.filter((v) => v.body.kind !== 'cancellation');
    if (content.length === 0) return undefined;
    let cid: number | undefined;
    for (const { m, body } of [...content, ...versions.filter((v) => v.body.kind === 'cancellation')]) {
      try {
        // the first one that projects opens it as it was; the others are its versions whatever their ref names
        cid = this.projectAci(m, body, now, cid ?? was) ?? cid;
      } catch (err) {
        this.d.log('risk projection skipped a message', { id: m.id, partner: m.partner, ...failureFields(err) });
      }
    }
    return cid;
  }

  /**
   * An ACI message into the arrivals view: into consignment `into` (a cid, or the cid and root id to open it with), else
   * the one its ref names. Returns the consignment it went into (undefined: an ignored cancellation).
   */
  private projectAci(m: MessageMeta, body: AciBody, now: number, into?: number | Rebuilt): number | undefined {
    const repo = this.consignments;
    const version = { seq: m.seq, partner: m.partner, message_id: m.id, kind: body.kind, created: m.created, received_at: m.stored_at };
    const opening = typeof into === 'object' ? into : undefined;
    // only amendments and cancellations refer to a consignment (a stray ref stored before it was refused counts for nothing)
    const refers = opening === undefined && m.ref !== null && body.kind !== 'declaration';
    const known = typeof into === 'number' ? into : refers ? repo.cidOfRef(m.partner, m.ref!) : undefined;
    if (body.kind === 'cancellation') {
      if (known === undefined) {
        this.d.log('risk: cancellation of an unknown consignment ignored', { id: m.id, ref: m.ref ?? '' });
        return undefined;
      }
      repo.addVersion({ ...version, cid: known }, true);
      repo.cancel(known, m.seq, now);
      this.pend(known);
      return known;
    }
    if (known === undefined) {
      // a declaration, or an amendment whose original never reached the projection: it starts the consignment
      const root = opening?.root_id ?? (body.kind === 'declaration' || m.ref === null ? m.id : repo.rootOfRef(m.partner, m.ref));
      const cid = repo.create(opening?.cid ?? m.seq, m.partner, root, currentFields(m, body, { root_id: root, partner: m.partner, status: 'active', versions: 1, updated_at: now }, this.messageTerms(m)), now);
      repo.addVersion({ ...version, cid }, false);
      repo.replaceKeys(cid, keysOf(body));
      this.pend(cid);
      return cid;
    }
    repo.addVersion({ ...version, cid: known }, true);
    // amendments are full replacements: the latest created one is in force, whatever order they arrived in
    const row = repo.get(known)!;
    if (m.created >= row.current_created) {
      repo.setCurrent(known, currentFields(m, body, { ...row, versions: row.versions, updated_at: now }, this.messageTerms(m)), now);
      repo.replaceKeys(known, keysOf(body));
    }
    this.pend(known);
    return known;
  }

  /** Queues a consignment a new version changed: one whose assessment failed is tried again at once, not after its backoff. */
  private pend(cid: number): void {
    this.consignments.pend(cid);
    if (this.failing.delete(cid)) this.consignments.setFailures(cid, 0);
  }

  private messageTerms(m: MessageMeta): DataTerms | null {
    return this.d.store.terms.of({ ...m, direction: 'in' });
  }

  /** Recomputes a consignment queued for it and takes it off the queue; an event as `recompute` says. */
  assessQueued(cid: number): AssessmentEvent | undefined {
    const e = this.recompute(cid);
    this.consignments.unpend(cid);
    return e;
  }

  /** Recomputes one consignment; an event when the assessment or the consignment changed (or `force`). */
  recompute(cid: number, force = false): AssessmentEvent | undefined {
    const row = this.consignments.get(cid);
    if (!row) return undefined;
    const projected = this.projected.get(row.current_seq);
    const msg = projected ?? this.readCurrent(row.current_seq);
    if (!msg) return undefined;
    const rules = this.d.rules();
    const body = msg.body as FullDeclaration;
    const ctx: AssessContext = {
      partner: row.partner, messageId: msg.id, body, rules,
      aeoHasData: (p) => this.aeo.hasData(p),
      aeoValidity: (p, id, date) => this.aeo.validityAt(p, id, date),
      aeoHolder: (p, id) => this.aeo.holder(p, id),
      ecoo: (p, n) => this.ecoo.find(p, n),
    };
    const set = new IndicatorSet();
    aeoIndicators(ctx, set);
    ecooIndicators(ctx, set);
    localIndicators(ctx, set);
    const scored = scoreOf(set.list(), rules.rules.levels);
    const basis = { seq: row.current_seq, status: row.status, versions: row.versions };
    // versions newer than the one in force, and cancellations, whose retention ended first: the view and the explanation say so
    const purged = this.consignments.purgedAfter(row, row.current_created).map(purgedVersionView);
    const stored: StoredAssessment = { thresholds: rules.rules.levels, explanation: scored.explanation + purgedNote(purged), indicators: scored.indicators, basis };
    const json = JSON.stringify(stored);
    // unchanged indicators on an unchanged consignment: nothing new for the feed
    if (!force && json === this.consignments.stored(cid)) return undefined;
    const now = this.d.clock();
    const revision = row.revision + 1;
    const arrival = buildView(row, { currentMessageId: msg.id, ...summarize(body) }, scored, this.termsOf(row, msg.id, scored.indicators, projected?.meta), purged);
    const view = JSON.stringify(arrival);
    this.consignments.saveAssessment(cid, { level: scored.level, score: scored.score, view, stored: json, at: now, revision });
    const saved = { ...row, level: scored.level, score: scored.score, view, assessed_at: now, revision };
    const event = { type: 'assessment' as const, change: revision === 1 ? ('new' as const) : ('changed' as const), arrival, assessment: assessmentView(saved, stored) };
    return this.d.feed.record(cid, event, now, this.d.rules().webhook?.maxAgeMs);
  }

  /** The message id and parsed body of message `seq`; undefined once its content is purged. */
  private readCurrent(seq: number): { id: string; body: unknown } | undefined {
    const msg = this.s.current.get(seq) as { id: string; body: string | null } | undefined;
    return msg?.body ? { id: msg.id, body: JSON.parse(msg.body) } : undefined;
  }

  /** New rules: every consignment within the horizon is recomputed in the background. */
  rulesChanged(): void {
    this.consignments.pendSince(this.d.clock() - RECOMPUTE_HORIZON_MS);
  }
}

/**
 * Filter columns and provisional view of the version in force (the assessment that follows rewrites the view), with
 * its terms (`terms`, the message's) combined with those the view had.
 */
function currentFields(m: MessageMeta, d: FullDeclaration, row: Parameters<typeof buildView>[0] & { view?: string }, terms: DataTerms | null): CurrentFields {
  const prev = row.view !== undefined ? arrivalView({ view: row.view }) : undefined;
  // until the assessment that follows reads them again: the purged versions this one does not supersede
  const purged = prev?.purgedVersions?.filter((p) => shownPurged(p, m.created));
  const view = buildView(row, { currentMessageId: m.id, ...summarize(d) }, prev && { level: prev.level, score: prev.score, indicators: [] }, prev ? combineTerms(terms, [prev.terms]) : terms, purged);
  return {
    current_seq: m.seq,
    current_created: m.created,
    expected_arrival: Date.parse(d.expectedArrival),
    // filter columns, folded as the filters are (the view keeps the names as sent)
    office_of_entry: foldCode(d.officeOfEntry.id),
    bcp: d.officeOfEntry.borderCrossingPoint !== undefined ? foldPlace(d.officeOfEntry.borderCrossingPoint) : null,
    // the second reading of a name with a schwa (null without: one regex pass), which the filter matches too (query.ts)
    bcp_e: d.officeOfEntry.borderCrossingPoint !== undefined ? foldPlaceTyped(d.officeOfEntry.borderCrossingPoint) : null,
    view: JSON.stringify(prev ? { ...view, indicators: prev.indicators } : view),
  };
}
