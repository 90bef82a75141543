/**
 * Retention of the risk views: when the retention job purges the content of received messages (their
 * agreement's retention period ended), whatever the risk projection derived from them goes in the same
 * transaction, so no view keeps what the agreement says must no longer be held.
 *
 * - ACI: the consignment a purged declaration, amendment or cancellation belongs to is deleted with its
 *   versions, search keys, assessment and feed events (each may quote the purged version), and built again from
 *   its versions still held, as the projection builds it had only they arrived (RiskEngine.reproject): the latest
 *   created declaration or amendment held is in force, a held cancellation keeps it cancelled, its id (the
 *   original's message id) and cid (its place in the list, which a client's cursor may point at) stay. It is
 *   assessed in the same transaction, once the registries are as the purge leaves them, which records a `new`
 *   event, as for a consignment that just arrived. An assessment that throws does not hold the purge back: the
 *   consignment is left queued, unassessed, for the risk loop (RiskPurge.assess). With no declaration or amendment
 *   held (all purged, or only a cancellation left) it stays deleted. The feed keeps only the number of its newest
 *   event, so no event id is handed out twice, and a stream that resumes before the deleted events starts with a
 *   `gap`. Of each purged version it keeps no content, only its message id, the consignment's id (root), its kind,
 *   created time and retention end (risk_purged_versions): an amendment or cancellation whose ref names it still goes
 *   into that consignment (or opens it again under its id when none of it is held), GET /v1/arrivals/{id} by its id
 *   answers GNC_ARRIVAL_PURGED (410) naming the consignment, and a consignment whose versions created after the one in
 *   force were purged (their retention ended first) lists them in its view's `purgedVersions` and says so in its
 *   assessment's explanation. The retention job prunes those records once no declaration or amendment of their
 *   consignment is held and the latest retention end among them is PURGED_VERSION_RECORD_MS (30 days, the largest
 *   maximum message age) past (node/retention.ts says why); the id is then answered 404, and an amendment whose ref
 *   names it opens a consignment under that id.
 * - e-CoO: a certificate whose certificate or status message was purged leaves the index (a goods item
 *   naming it then reads as "not received", which errs on the side of risk, never of facilitation).
 * - AEO: the purged messages' history entries go (for a part of a snapshot sent in parts, those of all its
 *   parts: the snapshot is no longer held whole), and the partner's current records are rebuilt from the AEO
 *   messages it still holds, as the registry orders them (by date, not by arrival): the complete snapshot held
 *   with the latest asOf, then the held changes dated after it (on its date, those received after it completed).
 *   So daily snapshots keep an operator listed after the first snapshot that named it is purged, and a snapshot
 *   that arrived late with an older date does not undo a newer one.
 *
 * Consignments that named a changed certificate or AEO and are expected within the recompute horizon are
 * queued for reassessment, as when a related message arrives. So is, whatever its date, a consignment naming it
 * whose assessment quotes one of the purged messages as evidence (an older consignment otherwise keeps the
 * assessment it had when it crossed, which would keep quoting the certificate's exporter, quantities or the
 * operator's status after their retention ended); the feed events of such consignments that quote one go, as
 * events of a purged consignment go. The operators a purged AEO message may be quoted for are those it names (the
 * retention job reads their AEO ids just before it clears the body: PurgedMessage.aeoIds) and those its history
 * entries name (a snapshot's removals), not the records resting on it now: the record may have moved on to a later
 * message restating the status without writing an entry, while an older assessment still quotes the purged one.
 *
 * The same goes, once, for what an older version projected from messages sent for an aggregate-only purpose
 * (dropAggregateOnly, when a migration asks): such a message never reaches the risk view (engine.ts INDIVIDUAL_USE).
 */
import type { AeoChange } from '../../protocol/messages/aeo.js';
import type { AssessmentEvent } from '../../protocol/risk.js';
import { certificateKey, type EcooBody } from '../../protocol/messages/ecoo.js';
import { AEO_IDS_NAMED_SQL, type PurgedMessage } from '../retention.js';
import type { Db } from '../store/db.js';
import { KEY, type KeyKind } from './declaration.js';
import type { Store } from '../store/store.js';
import { BATCH, INDIVIDUAL_USE, offlineEngine, RECOMPUTE_HORIZON_MS, STORED_SELECT, type EngineDeps, type RiskEngine, type StoredMessage } from './engine.js';
import { RiskFeed } from './feed.js';
import type { LoadedRules } from './rules.js';

/** Key in risk_state asking for dropAggregateOnly (migration 20); its value is the messages.seq it has reached. */
const AGGREGATE_CLEANUP = 'aggregate-only-cleanup';

/**
 * How an assessment (and an event carrying one) quotes a message as evidence, as JSON.stringify writes an evidence
 * item (node/risk/indicators/context.ts): found by SQLite in the stored text, without parsing every candidate here.
 */
const quoting = (messageId: string): string => `"messageId":${JSON.stringify(messageId)}`;

/**
 * The search keys of a JSON array of [kind, value] pairs (@keys), each looked up in risk_keys by its primary key: the
 * rows `k` of the consignments carrying one. CROSS JOIN keeps the array as the outer loop.
 */
const KEYED = `FROM json_each(@keys) j CROSS JOIN risk_keys k ON k.k = json_extract(j.value, '$[0]') AND k.v = json_extract(j.value, '$[1]')`;

/** True when `column` quotes one of the messages of a JSON array of `quoting` strings (@quotes). */
const quotesOne = (column: string): string => `EXISTS (SELECT 1 FROM json_each(@quotes) q WHERE instr(${column}, q.value) > 0)`;

/**
 * What a running node's risk extension does on a purge, on a database no node runs on (the copy `gnc backup` writes):
 * `onPurge` for RetentionJob, then `reassess`, which assesses the consignments the purge queued again (those whose
 * assessment quoted a purged certificate or AEO message as evidence) under `rules`, as the node does right after it.
 * As on the node, one whose assessment throws is left queued, unassessed, and the others are assessed: the node's risk
 * loop assesses it once the copy is restored. `reassess` returns how many were so left.
 */
export function offlineRiskPurge(store: Store, clock: () => number, rules: () => LoadedRules): { onPurge(purged: PurgedMessage[]): void; reassess(): number } {
  const feed = new RiskFeed(store.db);
  const engine = offlineEngine(store, feed, clock, rules);
  const purge = new RiskPurge(store.db, engine, feed, clock);
  return {
    onPurge: (purged) => void purge.run(purged),
    reassess: () => {
      // a consignment whose assessment failed waits for a backoff no step here reaches: it is not taken twice
      while (store.db.transaction(() => engine.step()).immediate().more) {
        // the next batch
      }
      return engine.unassessable();
    },
  };
}

export class RiskPurge {
  private readonly s;

  /** `log`: where a rebuilt consignment whose assessment failed is reported (assess). */
  constructor(
    private readonly db: Db,
    private readonly engine: RiskEngine,
    private readonly feed: RiskFeed,
    private readonly clock: () => number,
    private readonly log: EngineDeps['log'] = () => undefined,
  ) {
    this.s = {
      cidOf: db.prepare('SELECT cid FROM risk_versions WHERE partner = ? AND message_id = ?').pluck(),
      drop: ['risk_pending', 'risk_assessments', 'risk_keys', 'risk_versions', 'risk_consignments'].map((t) => db.prepare(`DELETE FROM ${t} WHERE cid = ?`)),
      ecooOf: db.prepare('SELECT number FROM risk_ecoo WHERE partner = ? AND (message_id = ? OR status_message_id = ?)').pluck(),
      dropEcoo: db.prepare('DELETE FROM risk_ecoo WHERE partner = ? AND number = ?'),
      dropHistory: db.prepare('DELETE FROM risk_aeo_history WHERE partner = ? AND message_id = ?'),
      // the operators of a message's history entries, by message id (risk_aeo_history_message): a snapshot's "removed"
      // entries name operators its body does not (operatorsOf)
      entryOperators: db.prepare('SELECT DISTINCT aeo_id FROM risk_aeo_history WHERE partner = ? AND message_id = ?').pluck(),
      named: db.prepare(AEO_IDS_NAMED_SQL).pluck(),
      // consignments carrying one of the keys, whatever their date (the horizon does not protect a quote of purged data),
      // whose assessment or feed events quote one of the messages: one statement for all of them, however many
      pendQuoting: db.prepare(`INSERT OR IGNORE INTO risk_pending (cid) SELECT DISTINCT k.cid ${KEYED}
        JOIN risk_assessments a ON a.cid = k.cid WHERE ${quotesOne('a.assessment')}`),
      eventsQuoting: db.prepare(`SELECT DISTINCT e.seq ${KEYED} JOIN risk_events e ON e.cid = k.cid WHERE ${quotesOne('e.payload')}`).pluck(),
      cursor: db.prepare(`SELECT value FROM risk_state WHERE key = 'cursor'`).pluck(),
      rebuildAsked: db.prepare(`SELECT value FROM risk_state WHERE key = 'aeo-rebuild'`).pluck(),
      rebuildDone: db.prepare(`DELETE FROM risk_state WHERE key = 'aeo-rebuild'`),
      // every pinned partner (a handful of rows): one without AEO messages held is rebuilt to nothing, as it was
      aeoPartners: db.prepare('SELECT country FROM partners').pluck(),
      // dates compared as the registry compares them, the first 10 characters (YYYY-MM-DD) of asOf / statusDate
      changesSince: db.prepare(`SELECT m.seq, m.id, c.body FROM messages m JOIN message_content c ON c.seq = m.seq
        WHERE +m.direction = 'in' AND +m.partner = ? AND m.type = 'aeo' AND m.kind = 'change'
        AND m.seq <= @cursor AND ${INDIVIDUAL_USE} AND (json_extract(c.body, '$.operator.statusDate') > @asOf
          OR (json_extract(c.body, '$.operator.statusDate') = @asOf AND m.seq > @seq)) ORDER BY m.seq`),
      cleanupAt: db.prepare(`SELECT value FROM risk_state WHERE key = '${AGGREGATE_CLEANUP}'`).pluck(),
      cleanupReached: db.prepare(`UPDATE risk_state SET value = ? WHERE key = '${AGGREGATE_CLEANUP}'`),
      cleanupDone: db.prepare(`DELETE FROM risk_state WHERE key = '${AGGREGATE_CLEANUP}'`),
      // declarations and e-CoO messages the projection passed that were sent for an aggregate-only purpose
      aggregateOnly: db.prepare(`SELECT seq, id, partner, type FROM messages WHERE seq > ? AND seq <= ? AND +direction = 'in'
        AND type IN ('aci', 'ecoo') AND NOT (${INDIVIDUAL_USE}) ORDER BY seq LIMIT ?`),
      // a consignment's versions whose content is held (not purged) and that count (sent for individual use)
      held: db.prepare(`${STORED_SELECT} WHERE m.seq IN (SELECT seq FROM risk_versions WHERE cid = ?)
        AND c.body IS NOT NULL AND ${INDIVIDUAL_USE} ORDER BY m.seq`),
      // every e-CoO message of the partner the projection passed (each names one certificate number in its body)
      ecooMessages: db.prepare(`${STORED_SELECT} WHERE +m.direction = 'in' AND +m.partner = ? AND m.type = 'ecoo'
        AND c.body IS NOT NULL AND m.seq <= ? AND ${INDIVIDUAL_USE} ORDER BY m.seq`),
    };
  }

  /**
   * Call inside the purge transaction, after the messages' content was cleared. Returns the feed events of the
   * consignments it rebuilt and assessed, for the caller to publish once the transaction committed.
   */
  run(purged: PurgedMessage[]): AssessmentEvent[] {
    const since = this.clock() - RECOMPUTE_HORIZON_MS;
    const aeoPartners = new Set<string>();
    // the e-CoO and AEO messages no view may quote any more, and the keys of the consignments that may quote them
    const gone = new Set<string>();
    const named = new Map<string, [KeyKind, string]>();
    const name = (k: KeyKind, v: string) => named.set(`${k}:${v}`, [k, v]);
    // each consignment once, however many of its versions went; each AEO message once, however many of its parts went
    const consignments = new Set<number>();
    const aeoDone = new Set<number>();
    const bySeq = new Map(purged.map((m) => [m.seq, m]));
    for (const m of purged) {
      if (m.type === 'aci') {
        const cid = this.s.cidOf.get(m.partner, m.id) as number | undefined;
        if (cid === undefined) continue;
        consignments.add(cid);
        // before its consignment goes: what places later references to it, and says it was purged
        this.engine.consignments.recordPurged(m.partner, m.id, this.clock());
      } else if (m.type === 'ecoo') {
        gone.add(m.id);
        for (const number of this.s.ecooOf.all(m.partner, m.id, m.id) as string[]) {
          this.s.dropEcoo.run(m.partner, number);
          this.engine.consignments.pendByKey(KEY.ecoo, number, since);
          name(KEY.ecoo, number);
        }
      } else if (m.type === 'aeo') {
        // a part of a snapshot sent in parts takes what the whole snapshot said with it: the snapshot is no longer held
        const parts = this.engine.snapshots.partsWith(m.seq);
        for (const part of parts.length ? parts : [m]) {
          if (aeoDone.has(part.seq)) continue;
          aeoDone.add(part.seq);
          gone.add(part.id);
          for (const aeoId of this.operatorsOf(m.partner, part, bySeq.get(part.seq))) name(KEY.aeo, aeoId);
          this.s.dropHistory.run(m.partner, part.id);
        }
        aeoPartners.add(m.partner);
      }
    }
    const rebuilt = [...consignments].flatMap((cid) => this.rebuild(cid) ?? []);
    for (const partner of aeoPartners) {
      this.rebuildAeo(partner);
      this.engine.consignments.pendByPrefix(KEY.aeo, partner, since);
    }
    if (gone.size > 0) this.unquote(named.values(), gone);
    // assessed here, once the registries are as the purge leaves them: a rebuilt consignment is listed unassessed
    // only while an assessment that failed waits for the risk loop
    return rebuilt.flatMap((cid) => this.assess(cid) ?? []);
  }

  /**
   * The operators AEO message `m` may be quoted for: the AEO ids its body names (as the retention job read them before
   * clearing it, `purged.aeoIds`; read here for a part of the snapshot still held), and those of its history entries.
   * Its body covers every record that rested on it while listing the operator (an assessment quotes that message as
   * the register's holder of the AEO id, also after the record moved on to a later message restating the status, which
   * writes no entry); its entries cover the operators a snapshot removed by leaving them out.
   */
  private operatorsOf(partner: string, m: { seq: number; id: string }, purged: PurgedMessage | undefined): Set<string> {
    const named = purged?.aeoIds ?? (this.s.named.all({ seq: m.seq }) as string[]);
    return new Set([...named, ...(this.s.entryOperators.all(partner, m.id) as string[])]);
  }

  /**
   * Assesses a rebuilt consignment in a savepoint of the purge's transaction (RiskEngine.assessIsolated). An assessment
   * that throws (a bug, an indicator failing on what it reads, a write refused) must not roll the purge back: retried at
   * every sweep, it would keep the content past its retention end for as long as it throws. What the assessment wrote
   * goes with its savepoint; the consignment stays queued for assessment (risk_pending, as reproject left it), as one
   * waiting for the engine is, and the risk loop assesses it (retrying with a backoff while it fails). Logged with its
   * code and the error's name only: an error's message may quote the consignment's content. Except when SQLite rolled
   * back the purge's whole transaction (a full disk, an I/O error): then the error goes to the retention job, as any
   * failure of its purge (assessIsolated throws it).
   */
  private assess(cid: number): AssessmentEvent | undefined {
    const r = this.engine.assessIsolated(cid);
    if (r.failed) {
      const { code, error } = r.failed;
      this.log('retention purge: a rebuilt consignment could not be assessed; the purge went on, and it stays queued for the risk loop', { code, cid, error });
    }
    return r.event;
  }

  /**
   * Consignments carrying one of `keys` (any date): one whose assessment quotes a message in `gone` as evidence is
   * queued for reassessment, and its feed events that quote one are deleted with their webhook deliveries. Two
   * statements, whatever the number of keys and messages: a snapshot names up to 10,000 operators, and a search per
   * operator and message cost a statement each.
   */
  private unquote(keys: Iterable<[KeyKind, string]>, gone: ReadonlySet<string>): void {
    const args = { keys: JSON.stringify([...keys]), quotes: JSON.stringify([...gone].map(quoting)) };
    this.s.pendQuoting.run(args);
    this.feed.dropEventsById(this.s.eventsQuoting.all(args) as number[]);
  }

  /**
   * Deletes consignment `cid` with its versions, keys, assessment and feed events (all of which may quote a version
   * that no longer counts), then builds it again from its versions that still do (RiskEngine.reproject), queued for
   * assessment; with none held but a cancellation, it stays deleted. Returns the rebuilt consignment.
   */
  private rebuild(cid: number): number | undefined {
    const was = this.engine.consignments.get(cid);
    const held = this.s.held.all(cid) as StoredMessage[];
    // the feed deletes the events itself: it must not hand out their ids again
    this.feed.dropConsignment(cid);
    for (const stmt of this.s.drop) stmt.run(cid);
    return was && this.engine.reproject(was, held);
  }

  /**
   * Removes what an older version projected from declarations and e-CoO messages sent for an aggregate-only purpose,
   * when a migration asked for it (AGGREGATE_CLEANUP): a consignment one of them is a version of is dropped with its
   * feed events and projected again from its versions sent for individual use (so a declaration whose amendment was
   * sent for statistics is in force again, and one sent for statistics whose amendment was not is opened by that
   * amendment, as the projection does now); a certificate one of them recorded or changed is indexed again from the
   * partner's e-CoO messages for that number sent for individual use, and the consignments naming it are queued for
   * reassessment. (Their AEO data the same migration removed, asking for rebuildIfAsked.) At most `limit` such
   * messages per call; call inside a transaction. Undefined when nothing was asked, else whether more remains.
   */
  dropAggregateOnly(limit = BATCH): boolean | undefined {
    const reached = this.s.cleanupAt.get() as number | undefined;
    if (reached === undefined) return undefined;
    const cursor = (this.s.cursor.get() as number | undefined) ?? 0;
    const msgs = this.s.aggregateOnly.all(reached, cursor, limit) as PurgedMessage[];
    const cids = new Set<number>();
    const certificates = new Map<string, Set<string>>();
    for (const m of msgs) {
      if (m.type === 'aci') {
        const cid = this.s.cidOf.get(m.partner, m.id) as number | undefined;
        if (cid !== undefined) cids.add(cid);
        continue;
      }
      const numbers = certificates.get(m.partner) ?? new Set<string>();
      for (const number of this.s.ecooOf.all(m.partner, m.id, m.id) as string[]) numbers.add(number);
      if (numbers.size > 0) certificates.set(m.partner, numbers);
    }
    for (const cid of cids) this.rebuild(cid);
    const since = this.clock() - RECOMPUTE_HORIZON_MS;
    for (const [partner, numbers] of certificates) {
      for (const number of numbers) {
        this.s.dropEcoo.run(partner, number);
        this.engine.consignments.pendByKey(KEY.ecoo, number, since);
      }
      for (const m of this.s.ecooMessages.all(partner, cursor) as StoredMessage[]) {
        if (numbers.has(certificateKey((JSON.parse(m.body!) as EcooBody).certificateNumber))) this.project(m);
      }
    }
    if (msgs.length < limit) this.s.cleanupDone.run();
    else this.s.cleanupReached.run(msgs[msgs.length - 1]!.seq);
    return msgs.length === limit;
  }

  /** Projects a message again; one the projection cannot read was skipped (and logged) the first time, and is now. */
  private project(m: StoredMessage): void {
    try {
      this.engine.project(m);
    } catch {
      // as in RiskEngine.advance: it must not block the messages after it
    }
  }

  /**
   * Rebuilds every partner's AEO registry from the AEO messages held when a migration asked for it (risk_state
   * 'aeo-rebuild': records an older version projected differently), and queues their consignments for
   * reassessment; call inside a transaction. True when it rebuilt.
   */
  rebuildIfAsked(): boolean {
    if (this.s.rebuildAsked.get() === undefined) return false;
    const since = this.clock() - RECOMPUTE_HORIZON_MS;
    for (const partner of this.s.aeoPartners.all() as string[]) {
      this.rebuildAeo(partner);
      this.engine.consignments.pendByPrefix(KEY.aeo, partner, since);
    }
    this.s.rebuildDone.run();
    return true;
  }

  /** The partner's current AEO records from what is still held and already projected (up to the cursor). */
  private rebuildAeo(partner: string): void {
    const cursor = (this.s.cursor.get() as number | undefined) ?? 0;
    // records and the "has sent AEO data" marker: applying what is held sets both again
    this.engine.aeo.forget(partner);
    const now = this.clock();
    const snap = this.engine.snapshots.latest(partner, cursor);
    if (snap) this.engine.aeo.applySnapshot({ partner, seq: snap.seq, messageId: snap.messageId, now }, snap);
    // a change dated before the snapshot is superseded by it (its history entry stays); the registry orders the rest by date
    const since = { cursor, asOf: snap?.asOf.slice(0, 10) ?? '', seq: snap?.seq ?? 0 };
    for (const c of this.s.changesSince.all(partner, since) as { seq: number; id: string; body: string }[]) {
      this.engine.aeo.applyChange({ partner, seq: c.seq, messageId: c.id, now }, JSON.parse(c.body) as AeoChange);
    }
  }
}
