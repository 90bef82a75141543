/**
 * Delivers the outbox. Per partner, up to MAX_IN_FLIGHT_PER_PARTNER envelopes travel at once over the
 * partner's single long-lived stream; each resolves with the partner's signed receipt, checked against the
 * exact bytes sent, and the final status (delivered | rejected) commits together with the receipt and the
 * removal of the outbox row. Failures reschedule with exponential backoff until the message's expiry
 * (status expired), and messages whose agreement is no longer in force are not sent (expired). A restart
 * resumes from the outbox: rows caught mid-send are retried, and the receiver deduplicates by id. A message
 * that refers to another (amendment, cancellation, status change) waits in the outbox until that one is final.
 * A message queued while nothing else of its partner's is queued or on the wire is marked as on its way in the commit
 * that queues it, and handed over once that commit is done (sendWithQueued), not one commit later.
 * A control envelope (agreement or key) does not expire: when it grows too old for the partner undelivered, or was
 * sealed by a node key whose certificate has ended or that a revocation names from before it was sealed, its body is
 * sealed again in a new envelope that takes its place (SPEC section 6), and the messages queued after it keep waiting
 * for it. So is one the partner refuses as older than its acceptance window on arrival (refusedAsTooOld: its clock
 * runs ahead, or this node paused between the check and the hand-over), in the commit of that receipt, once: a copy
 * sealed again after such a refusal ends rejected when refused so in turn. A business message sealed by such a revoked key ends expired, unsent. Nothing goes to a partner that was removed: what is still queued for it is withdrawn (a
 * message on the wire at the removal finishes its attempt first, and its receipt is recorded whenever it comes, signed
 * by the key of the partner's that was trusted when the message went: TrustIndex.receiptKey),
 * and a row withdrawn by another process meanwhile (`gnc messages withdraw`) is neither sent nor sealed again. A row
 * marked as on its way in the same group commit as its withdrawal (`POST /v1/messages/{id}/withdraw`) or a removal of
 * its partner has not left yet: it is withdrawn, and it is not handed over (OutboxRepo.takenBack).
 */
import { MAX_IN_FLIGHT_PER_PARTNER } from '../../protocol/constants.js';
import { peekKid } from '../../protocol/envelope/open.js';
import { GncError, isGncError, reasonOf } from '../../protocol/errors.js';
import { refusedAsTooOld } from '../../protocol/messages/receipt.js';
import { removedBy } from '../partners.js';
import { openReceipt } from '../receipts.js';
import { storageError } from '../store/storage-error.js';
import { SessionClosedError } from '../transport/session.js';
import type { Policy } from '../policy/policy.js';
import type { Store } from '../store/store.js';
import type { OutboxRow } from '../store/outbox.js';
import type { TrustIndex } from '../trust.js';
import { backoffDelay, PROBE_SPACING_MS, probeDelay, type BackoffConfig } from './backoff.js';
import type { Resealed } from './submit.js';
import { withdrawQueued } from './withdraw.js';

export interface ReceiptTransport {
  /**
   * The partner's receipt; `onWire` tells whether the partner may hold the envelope (see PartnerSession), `onStream` that
   * a stream to the partner is open for it (the dial went through): a failure after that reached the partner.
   */
  request(partner: string, envelope: Uint8Array, onWire?: (mayHold: boolean) => void, onStream?: () => void): Promise<Uint8Array>;
  /** Dial the partner, a connection and no message (probeLater): resolves once one is open, rejects when none can be. */
  probe?(partner: string): Promise<void>;
  close(): void;
}

export interface DispatcherDeps {
  self: string;
  store: Store;
  trust: TrustIndex;
  policy: Policy;
  transport: ReceiptTransport;
  clock: () => number;
  backoff: BackoffConfig;
  clockSkewMs: number;
  maxAgeMs: number;
  log: (msg: string) => void;
  evidence?: (event: 'receipt-received', messageId: string, peer: string, sha256: string) => void;
  /** Seal a control envelope's body again (SubmitService.reseal), inside the caller's transaction. */
  reseal: (row: OutboxRow, now: number) => Resealed;
  /** This node's keys whose certificates have all ended by `now`, with when (Keyring.endedKeys). */
  endedKeys?: (now: number) => ReadonlyMap<string, number>;
  /** This node's keys that a revocation of its administration names, with its earliest `revokedAt` (Keyring.revokedKeys). */
  revokedKeys?: () => ReadonlyMap<string, number>;
  onFinal?: (seq: number, status: 'delivered' | 'rejected' | 'expired' | 'resealed' | 'withdrawn') => void;
}

/** How often queued messages are checked for expiry (and idle partners re-polled). */
export const SWEEP_INTERVAL_MS = 2_000;

/**
 * When the backoff would overshoot a message's expiry, its last attempt is made this long before it instead (a
 * margin for a timer that fires late, or a sweep that finds the row only after its expiry).
 */
export const LAST_ATTEMPT_LEAD_MS = 1_000;

export class Dispatcher {
  private readonly inflight = new Map<string, Set<number>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** One per message whose outcome could not be written (see unrecorded). */
  private readonly unrecordedTimers = new Set<NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | undefined;
  private running = false;
  private readonly pumpQueued = new Set<string>();
  /**
   * Partners last found unreachable, with when that began (the node's clock): logged once when it begins and once when
   * it ends, not per message; GET /v1/health tells of those unreachable for long (unreachableSince). Kept in the
   * database too (PartnerRepo.markUnreachable), written in the commit of the attempt that begins or ends it, so that a
   * restart goes on counting from when it began.
   */
  private readonly unreachable = new Map<string, number>();
  /** Messages marked in the commit that queued them (sendWithQueued). */
  private markedWithQueued = 0;
  /**
   * Partners whose last failed attempt reached them (a stream opened) and failed otherwise: they closed the stream, answered
   * an error frame (their disk is full), sent no receipt or a bad one; `true` once a connection has brought their queue
   * forward since (connected), which the next connections do not do again: one that connects in a loop would have its
   * messages tried at its connection rate, not on the backoff. A delivery that goes through ends it, and so does a failed
   * dial (the partner was away: a connection then means it is back), its removal and a restart.
   */
  private readonly failedWhenReached = new Map<string, boolean>();
  /**
   * Partners found unreachable (`unreachable`): when their next attempt may go, how many rounds of attempts failed in a
   * row, and the timer that pumps them then. While a partner is unreachable one message at a time asks whether it is
   * back, on this backoff of the partner's own, not every queued message on its own backoff: each retried every 30-60 s,
   * a queue of thousands had the node dial a partner that was down, and write two commits per message, thousands of
   * times a minute (measured: 3,000 messages queued for a stopped partner, 12,600 attempts and 39 % of a core in the
   * first 15 s). The gate opens early for the earliest expiry of the partner's queue (its last attempt, as a message's
   * own backoff gives it: retryLater), and the attempt then is that message's (pump; the other attempts go to the oldest
   * due row). A connection of the partner, a delivery that goes through, or an attempt it answers (an error frame, a bad
   * receipt: retryLater) lifts it.
   */
  private readonly gates = new Map<string, Gate>();
  /** Partners probed (probeLater): the next probe's number, and its timer or the dial under way. */
  private readonly probes = new Map<string, Probe>();
  /** When (Date.now) the next probe of any partner may start at the earliest (PROBE_SPACING_MS), once its delay is over. */
  private probeSlot = 0;

  constructor(private readonly d: DispatcherDeps) {}

  /** The partners whose last delivery attempt found them unreachable, with when the first attempt in a row that did was (ms). */
  unreachableSince(): ReadonlyMap<string, number> {
    return this.unreachable;
  }

  start(): void {
    this.running = true;
    for (const { country, since } of this.d.store.partners.unreachable()) {
      if (this.unreachable.has(country)) continue;
      this.unreachable.set(country, since);
      this.d.log(`partner ${country} is unreachable (since ${new Date(since).toISOString()}, as found before this start); its messages stay queued and are retried with backoff`);
    }
    const reset = this.d.store.outbox.resetSending(this.d.clock());
    if (reset > 0) this.d.log(`resuming ${reset} message(s) interrupted mid-send`);
    for (const p of this.d.store.outbox.partners()) this.notify(p);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  stop(): void {
    this.running = false;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const t of this.unrecordedTimers) clearTimeout(t);
    this.unrecordedTimers.clear();
    for (const p of this.probes.values()) clearTimeout(p.timer);
    this.probes.clear();
    for (const g of this.gates.values()) clearTimeout(g.timer);
    this.gates.clear();
    this.d.transport.close();
  }

  /**
   * A libp2p connection with `partner` opened, either way (its node started and greeted this one, a dial went through, or a
   * probe's did: probeLater): it is reachable. One found unreachable is no longer (GET /v1/health), also when nothing of it
   * is queued that a delivery would clear it with: in the same commit, on the connection's event, never on a message's path.
   * Its queued messages are retried now, not at the next backoff, when they wait because it could not be reached (a failed
   * dial) or, once, when its last attempts reached it and failed otherwise (failedWhenReached: a partner that restarts
   * after its disk filled up gets its queue at once); from then on until a delivery goes through or a dial fails, they keep
   * to their backoff, whatever connects: a partner that connects in a loop would have them tried at each connection.
   * Nothing to write (the partner neither unreachable nor to be retried): no commit.
   */
  connected(partner: string): void {
    const was = this.unreachable.has(partner);
    const forward = this.failedWhenReached.get(partner) !== true;
    if (this.failedWhenReached.has(partner)) this.failedWhenReached.set(partner, true);
    if (!was && !forward) return this.notify(partner);
    this.d.store.commits
      .run(() => {
        if (forward) this.d.store.outbox.retryNow(partner, this.d.clock());
        if (was) this.d.store.partners.clearUnreachable(partner);
      })
      .then(
        () => {
          if (was && this.reachableAgain(partner)) this.d.log(`partner ${partner} is reachable again: it is connected`);
          this.notify(partner);
        },
        (err: unknown) => this.d.log(`could not reschedule the queued messages of ${partner}, connected again: ${(err as Error).message}`),
      );
  }

  /** New work for a partner (a submission, or the partner came back): a probe waiting for it is not needed (probeLater). */
  notify(partner: string): void {
    if (!this.running) return;
    const probe = this.probes.get(partner);
    if (probe !== undefined) {
      clearTimeout(probe.timer);
      probe.timer = undefined;
    }
    const t = this.timers.get(partner);
    if (t) {
      clearTimeout(t);
      this.timers.delete(partner);
    }
    this.schedulePump(partner);
  }

  /** Messages this dispatcher marked in the commit that queued them (sendWithQueued): what the tests observe. */
  get markedOnQueueing(): number {
    return this.markedWithQueued;
  }

  /**
   * How many of `partner`'s rows this dispatcher has taken and not let go yet: judged by its clock (verdict), then being
   * marked, on the wire or being sealed again. What the tests observe: a test that moves the clock while one is taken
   * would have it handed over as judged by the clock before the move.
   */
  inFlight(partner: string): number {
    return this.inflight.get(partner)?.size ?? 0;
  }

  private flying(partner: string): Set<number> {
    let s = this.inflight.get(partner);
    if (!s) this.inflight.set(partner, (s = new Set()));
    return s;
  }

  private pump(partner: string): void {
    if (!this.running) return;
    const flying = this.flying(partner);
    const capacity = MAX_IN_FLIGHT_PER_PARTNER - flying.size;
    if (capacity <= 0) return;
    const now = this.d.clock();
    if (!this.d.trust.isPartner(partner)) {
      this.withdrawForRemoved(partner, flying, now);
      if (flying.size === 0) this.forget(partner);
      return;
    }
    // found unreachable: one attempt at a time asks whether it is back (gates), once its gate opens; the other rows are
    // still judged (expired, sealed again) as due
    let gate: Gate | undefined;
    if (this.unreachable.has(partner)) {
      gate = this.gates.get(partner);
      if (gate === undefined) this.gates.set(partner, (gate = { failures: 0, until: now, timer: undefined, attempt: undefined, forExpiry: false }));
      if (gate.attempt !== undefined && flying.has(gate.attempt)) return;
      if (now < gate.until) return this.waitForGate(partner, gate);
    }
    // a gate that opened early for an expiry (closeGate) gives its one attempt to the row expiring first, that message's
    // last: the oldest due row would be one queued behind the gate and never tried, and the expiring one would expire
    // untried. Otherwise the oldest due row goes, so that each queued message is tried in turn
    const rows = this.d.store.outbox.due(partner, now, capacity, flying, gate?.forExpiry === true);
    if (rows.length === 0) {
      if (flying.size === 0) this.scheduleNext(partner, now);
      return;
    }
    const send: OutboxRow[] = [];
    const reseal: { row: OutboxRow; why: string }[] = [];
    const expire: { seq: number; code: string; reason: string }[] = [];
    const keys = this.keysAt(now);
    for (const r of rows) {
      const v = this.verdict(r, partner, now, keys);
      if (v.act === 'expire') {
        expire.push({ seq: r.seq, code: v.code, reason: v.reason });
        continue;
      }
      if (v.act === 'reseal') reseal.push({ row: r, why: v.why });
      else if (gate !== undefined && send.length > 0) continue; // waits for the answer of the one attempt
      else send.push(r);
      flying.add(r.seq);
    }
    if (expire.length > 0) {
      this.d.store.commits
        .run(() => {
          for (const x of expire) this.finishExpired(x.seq, x.code, x.reason);
        })
        .catch((err: unknown) => this.d.log(`could not record the expiry of ${expire.length} message(s) to ${partner}: ${(err as Error).message}; the sweep tries again`));
    }
    if (gate !== undefined && send.length > 0) gate.attempt = send[0]!.seq;
    if (send.length > 0) this.markThenDeliver(partner, send, now);
    for (const r of reseal) this.resealThenPump(r.row, r.why, now);
  }

  /**
   * This node's keys that partners refuse what they seal, as of `now`: read once per pump (verdict). What a key of this
   * node sealed before its certificate ended is refused by partners (SPEC section 4, check 11), unless they hold exactly
   * that envelope already (check 10); what a key sealed at or after the instant a revocation of it names (`gnc keys
   * revoke --at`, a compromise) is refused even then (check 9), and is not its administration's.
   */
  private keysAt(now: number): RefusedKeys {
    const ended = this.d.endedKeys?.(now);
    const revoked = this.d.revokedKeys?.();
    return { ended, revoked, any: (ended !== undefined && ended.size > 0) || (revoked !== undefined && revoked.size > 0) };
  }

  /**
   * What becomes of due row `r` to `partner` now, checked before it is marked and sent: sent, sealed again (a control
   * envelope too old for the partner or sealed by a key it refuses) or expired unsent (its expiry, its key, or its
   * agreement no longer in force). The pump and sendWithQueued ask the same.
   */
  private verdict(r: OutboxRow, partner: string, now: number, keys: RefusedKeys): Verdict {
    const kid = keys.any ? sealedBy(r.jws) : undefined;
    const endedAt = kid === undefined ? undefined : keys.ended?.get(kid);
    const revokedAt = kid === undefined ? undefined : keys.revoked?.get(kid);
    const voidedAt = revokedAt !== undefined && Date.parse(r.created) >= revokedAt ? revokedAt : undefined;
    if (r.control === 1 && (r.expires_at <= now || endedAt !== undefined || voidedAt !== undefined)) {
      const why = voidedAt !== undefined
        ? `was sealed with node key ${kid}, revoked from ${new Date(voidedAt).toISOString()}, before it was sealed`
        : endedAt === undefined ? 'was not delivered within the maximum message age' : `was sealed with node key ${kid}, whose certificate ended at ${new Date(endedAt).toISOString()}`;
      return { act: 'reseal', why };
    }
    if (voidedAt !== undefined) {
      // a certain refusal (check 9 comes before check 10: also by a partner that holds it), once the partner has the
      // revocation, and until then a signature its administration disowns: never sent, whatever an earlier attempt did
      const maybeHeld = r.sent === 1 ? ` An earlier attempt may have handed it to ${partner} before the revocation: ask ${partner} whether it holds message ${r.id} before you submit it again.` : '';
      const reason = `It was sealed with node key ${kid}, revoked from ${new Date(voidedAt).toISOString()} (gnc keys revoke), at or before it was sealed, so ${partner} refuses it and it was not sent: submit it again, and it is sealed with the key this node signs with now.${maybeHeld}`;
      return { act: 'expire', code: 'GNC_KEY_REVOKED', reason };
    }
    if (endedAt !== undefined && now > endedAt + this.d.clockSkewMs && r.sent === 0) {
      // a certain refusal once partners' clocks are past the end too: the integrator is told now, not after days of
      // retries. One an earlier attempt may have handed over goes on instead, the same bytes: a partner that holds
      // them answers with its stored receipt (SPEC section 4, check 10), one that does not refuses it, finally
      const reason = `It was sealed with node key ${kid}, whose certificate ended at ${new Date(endedAt).toISOString()} before the message was delivered, so ${partner} refuses it: submit it again once this node signs with a new key (\`gnc keys rotate\`, then give ${partner} your new identity file).`;
      return { act: 'expire', code: 'GNC_KEY_EXPIRED', reason };
    }
    if (r.expires_at <= now) return { act: 'expire', code: 'GNC_DELIVERY_EXPIRED', reason: 'The message could not be delivered before its expiry.' };
    let lapsed: string | undefined;
    if (r.agreement !== null && r.sent === 0 && (lapsed = this.d.policy.notInForce(r.agreement, partner, now)) !== undefined) {
      // never sent: it stays here. One an earlier attempt sent without a receipt coming back may be at the
      // partner, so it goes again, the same bytes, to learn its fate: the partner answers a message it holds
      // with its stored receipt, and judges one it lacks under the agreement as it sees it
      return { act: 'expire', code: 'GNC_AGREEMENT_NONE', reason: lapsed };
    }
    return { act: 'send' };
  }

  /**
   * Inside the transaction that queues row `seq` for `partner` (SubmitService.enqueue): when the partner's queue is idle
   * (nothing else of it in the outbox, none on the wire or being sealed again, its last attempt not unreachable), the row
   * is the next to go, and the pump would mark it in a commit of its own at once. Marked here instead, after the checks
   * the pump makes (verdict), the queueing commit carries the mark (still durable before the frame leaves, SPEC section
   * 8.6) and the message goes one commit sooner. Returns what to call once that commit has settled (`committed`: it
   * went through; otherwise the mark rolled back with the row), or undefined when the pump is to take the row as usual.
   */
  sendWithQueued(seq: number, partner: string): ((committed: boolean) => void) | undefined {
    if (!this.running || this.unreachable.has(partner) || !this.d.trust.isPartner(partner)) return undefined;
    const flying = this.flying(partner);
    if (flying.size > 0 || this.d.store.outbox.hasOthers(partner, seq)) return undefined;
    const row = this.d.store.outbox.row(seq);
    const now = this.d.clock();
    if (row === undefined || this.verdict(row, partner, now, this.keysAt(now)).act !== 'send') return undefined;
    if (this.mark([row], now).length === 0) return undefined;
    flying.add(seq);
    this.markedWithQueued++;
    return (committed) => {
      if (committed) this.handOver(partner, [row]);
      else this.release(partner, row);
    };
  }

  /**
   * `partner` is no longer pinned (`gnc partner remove` or the API's, which withdrew what was queued then; the reason
   * names the one that removed it: removedBy): what is left, a message
   * that was on the wire at the removal and whose attempt has ended without a receipt, is withdrawn too, as nothing
   * from that partner is trusted any more. Rows on the wire now (`flying`) finish their attempt first.
   */
  private withdrawForRemoved(partner: string, flying: ReadonlySet<number>, now: number): void {
    const reason = `${partner} is no longer a partner of this node (${removedBy(this.d.store, partner)}): the message will not be sent.`;
    this.d.store.commits
      .run(() => withdrawQueued(this.d.store, partner, reason, now, flying))
      .then(
        (done) => {
          if (done.length > 0) this.d.log(`${done.length} message(s) to ${partner}, no longer a partner, withdrawn`);
          for (const { seq } of done) this.d.onFinal?.(seq, 'withdrawn');
        },
        (err: unknown) => this.d.log(`could not withdraw the messages to ${partner}, no longer a partner: ${(err as Error).message}; the sweep tries again`),
      );
  }

  /**
   * `partner`, no longer pinned, has nothing on the wire any more: what this dispatcher kept about it goes, so that it
   * is not held for the life of the process, and a partner pinned again (`gnc partner add`) is not told unreachable
   * (GET /v1/health) from before its removal until a message gets through.
   */
  private forget(partner: string): void {
    this.inflight.delete(partner);
    this.reachableAgain(partner);
    this.failedWhenReached.delete(partner);
    clearTimeout(this.timers.get(partner));
    this.timers.delete(partner);
  }

  /** `partner` is no longer found unreachable (in memory: the caller commits what is kept), nor probed; whether it was. */
  private reachableAgain(partner: string): boolean {
    clearTimeout(this.probes.get(partner)?.timer);
    this.probes.delete(partner);
    clearTimeout(this.gates.get(partner)?.timer);
    this.gates.delete(partner);
    return this.unreachable.delete(partner);
  }

  /**
   * An attempt found `partner` unreachable (now): its next attempt waits for its gate (gates), one backoff step later than
   * the last, or until the last attempt of the earliest expiring message of its queue. The messages that were on the
   * wire together when it went away fail in the same instant: one round, one step.
   */
  private closeGate(partner: string, now: number): void {
    const gate = this.gates.get(partner);
    if (gate !== undefined && now < gate.until) return;
    const failures = (gate?.failures ?? 0) + 1;
    const expiry = this.d.store.outbox.nextExpiry(partner, now + LAST_ATTEMPT_LEAD_MS);
    const backoff = now + backoffDelay(failures - 1, this.d.backoff);
    const last = expiry === undefined ? Infinity : expiry - LAST_ATTEMPT_LEAD_MS;
    clearTimeout(gate?.timer);
    this.gates.set(partner, { failures, until: Math.min(backoff, last), timer: undefined, attempt: undefined, forExpiry: last < backoff });
  }

  /** Pumps `partner` once its gate opens (one timer per gate). */
  private waitForGate(partner: string, gate: Gate): void {
    if (gate.timer === undefined) arm(gate, Math.max(0, gate.until - this.d.clock()), () => this.pump(partner));
  }

  /**
   * `partner` is found unreachable and nothing of it is queued or on the wire, so no delivery will find it back: this node
   * dials it (transport.probe, a connection and no message) after a backoff of its own (probeDelay, constants in
   * backoff.ts), at most one probe of a partner at a time, those of different partners spread (PROBE_SPACING_MS). A probe
   * that connects clears the mark as any connection does (connected: the one commit); one that fails writes nothing and
   * waits longer for the next. Probing ends when the partner is reachable again, something is queued for it (notify; the
   * probe checks too, for what another process queued), it is removed, or the node stops. The sweep starts it.
   */
  private probeLater(partner: string): void {
    if (!this.running || this.d.transport.probe === undefined || !this.unreachable.has(partner) || !this.d.trust.isPartner(partner)) return;
    let probe = this.probes.get(partner);
    if (probe === undefined) this.probes.set(partner, (probe = { attempt: 0, timer: undefined, dialing: false }));
    if (probe.timer !== undefined || probe.dialing) return;
    // the spacing is taken when the delay is over, not added to it: reserved now, after the far-off next probe of a
    // partner down for long (up to PROBE_MAX_MS), it held back the first probe of one found unreachable a moment ago
    // on the probe's timer, which notify, reachableAgain and stop clear
    arm(probe, probeDelay(probe.attempt, this.d.backoff), () => {
      const now = Date.now();
      const at = Math.max(now, this.probeSlot);
      this.probeSlot = at + PROBE_SPACING_MS;
      if (at === now) this.probe(partner, probe);
      else arm(probe, at - now, () => this.probe(partner, probe));
    });
  }

  private probe(partner: string, p: Probe): void {
    if (!this.running || this.probes.get(partner) !== p) return;
    // back, or removed, meanwhile: nothing to probe. Something queued: its delivery finds the partner back, and the sweep
    // probes again once nothing is (with this probe's number: its backoff goes on)
    if (!this.unreachable.has(partner) || !this.d.trust.isPartner(partner)) return void this.probes.delete(partner);
    if (this.inFlight(partner) > 0 || this.d.store.outbox.nextDue(partner) !== undefined) return;
    p.dialing = true;
    this.d.transport.probe!(partner).then(
      () => {
        p.dialing = false;
        if (this.running && this.unreachable.has(partner)) this.connected(partner);
      },
      () => {
        p.dialing = false;
        p.attempt++;
        if (this.probes.get(partner) === p) this.probeLater(partner);
      },
    );
  }

  /**
   * Whether row `seq` still waits to be sent: queued or retrying, and in the outbox. Another process (the CLI) may
   * have withdrawn it since the dispatcher read it; asked again inside the commit that would re-seal it (the commit that
   * sends one asks the same through MessageRepo.markSending).
   */
  private stillWaiting(seq: number): boolean {
    const status = this.d.store.messages.statusOf(seq);
    return (status === 'queued' || status === 'retrying') && this.d.store.outbox.mayHold(seq) !== undefined;
  }

  /**
   * A control envelope about to be too old for the partner, or sealed with a key of this node whose certificate has
   * ended since or that is revoked from before it was sealed, is sealed again (SPEC section 6); the new one is due at
   * once. One that cannot be (this node's key has expired or is revoked, its disk is full) is held back for a backoff,
   * then tried again: it never expires.
   */
  private resealThenPump(row: OutboxRow, why: string, now: number): void {
    const flying = this.flying(row.partner);
    this.d.store.commits
      .run(() => (this.stillWaiting(row.seq) ? this.d.reseal(row, now) : undefined))
      .then(
        (next) => {
          flying.delete(row.seq);
          if (next !== undefined) this.resealed(row, why, next); // else withdrawn meanwhile
          this.schedulePump(row.partner);
        },
        (err: unknown) => {
          const e = isGncError(err) ? err : new GncError('GNC_INTERNAL', reasonOf(err));
          const delay = backoffDelay(row.attempts, this.d.backoff);
          this.d.log(`could not seal ${row.id} to ${row.partner} again (${e.code}): ${e.message} Trying again in ${Math.round(delay / 1000)} s.`);
          const t = setTimeout(() => {
            this.unrecordedTimers.delete(t);
            flying.delete(row.seq);
            this.schedulePump(row.partner);
          }, delay);
          t.unref();
          this.unrecordedTimers.add(t);
        },
      );
  }

  /** Control envelope `row` was sealed again as `next` (SubmitService.reseal), which has committed: say so, and that it is final. */
  private resealed(row: OutboxRow, why: string, next: Resealed): void {
    const moved = next.announcementMoved ? ' (queued behind it before, moved ahead)' : '';
    const ahead = next.announced === undefined ? '' : `, behind ${next.announced}, the announcement of the key that sealed it${moved}`;
    this.d.log(`${row.id} to ${row.partner} (a control envelope) ${why}: its body goes on, sealed again, as ${next.id}${ahead}`);
    this.d.onFinal?.(row.seq, 'resealed');
  }

  /**
   * From the moment its frame is handed over the partner may hold a message, and one it may hold is sent again
   * whatever becomes of its agreement (SPEC section 8.6): that mark commits, with 'sending', before the hand-off,
   * or a crash in between would leave the message "never sent" and a suspension would expire it unsent. The rows
   * of one pump share the commit (and with it whatever else this turn commits). A message queued while its partner's
   * queue is idle is marked in the commit that queues it instead (sendWithQueued).
   */
  private markThenDeliver(partner: string, send: OutboxRow[], now: number): void {
    this.d.store.commits
      .run(() => this.mark(send, now))
      .then(
        (marked) => {
          for (const r of send) if (!marked.includes(r)) this.release(partner, r);
          this.handOver(partner, marked);
        },
        (err: unknown) => {
          // nothing was handed over: the rows stay as they were, held back for a backoff (not re-pumped at once)
          const e = isGncError(err) ? err : new GncError('GNC_INTERNAL', reasonOf(err));
          const delay = backoffDelay(Math.min(...send.map((r) => r.attempts)), this.d.backoff);
          this.d.log(`could not record the start of delivery of ${send.length} message(s) to ${partner} (${e.code}): ${e.message} Trying again in ${Math.round(delay / 1000)} s.`);
          const t = setTimeout(() => {
            this.unrecordedTimers.delete(t);
            for (const r of send) this.release(partner, r);
          }, delay);
          t.unref();
          this.unrecordedTimers.add(t);
        },
      );
  }

  /**
   * Inside the caller's transaction: marks each row 'sending' and that the partner may hold it. Returns the rows marked:
   * one withdrawn by another process since it was read (status withdrawn, outbox row gone) is not, and is not sent.
   */
  private mark(rows: OutboxRow[], now: number): OutboxRow[] {
    return rows.filter((r) => {
      if (!this.d.store.messages.markSending(r.seq, now)) return false;
      this.d.store.outbox.markSent(r.seq, r.sent);
      return true;
    });
  }

  /**
   * Once their mark has committed: each row is handed to the partner, and leaves `flying` when its attempt ends. One
   * that a withdrawal in that same commit took back (withdrawMessage, or a partner removal: withdrawQueued) is not:
   * nothing of it has left.
   */
  private handOver(partner: string, marked: OutboxRow[]): void {
    // stopped meanwhile: nothing is handed over; a restart turns 'sending' back into 'retrying'
    if (!this.running) return;
    for (const r of marked) {
      if (this.d.store.outbox.takenBack(r.seq) && this.d.store.messages.statusOf(r.seq) === 'withdrawn') this.release(partner, r);
      else void this.deliver(r).finally(() => this.release(partner, r));
    }
  }

  /** Row `r` is no longer on the wire: the pump may take it (or what waited behind it) again. */
  private release(partner: string, r: OutboxRow): void {
    this.flying(partner).delete(r.seq);
    this.schedulePump(partner);
  }

  /** Coalesce completions of one event-loop turn into one pump (one query, one group commit). */
  private schedulePump(partner: string): void {
    if (this.pumpQueued.has(partner)) return;
    this.pumpQueued.add(partner);
    setImmediate(() => {
      this.pumpQueued.delete(partner);
      this.pump(partner);
    });
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const bytes = new Uint8Array(row.jws);
    let sent = false;
    let reached = false;
    try {
      const answer = await this.d.transport.request(row.partner, bytes, (mayHold) => (sent = mayHold), () => (reached = true));
      const now = this.d.clock();
      const { body, opened } = openReceipt(
        answer,
        // a receipt that comes after the partner was removed (the message was on the wire) still counts: TrustIndex.receiptKey
        { resolveKey: (kid) => this.d.trust.receiptKey(kid, row.partner), self: this.d.self, now, clockSkewMs: this.d.clockSkewMs, maxAgeMs: this.d.maxAgeMs },
        { messageId: row.id, sha256: row.sha256, created: row.created, partner: row.partner },
      );
      const status = body.status === 'accepted' ? 'delivered' : 'rejected';
      const tooOld = row.control === 1 && refusedAsTooOld(body, row.created);
      let again: string | undefined;
      const next = await this.d.store.commits.run(() => {
        // the first delivery after it was unreachable: kept so (PartnerRepo), in this commit, not one of its own
        if (this.unreachable.has(row.partner)) this.d.store.partners.clearUnreachable(row.partner);
        this.d.store.messages.saveReceipt({
          message_seq: row.seq, receipt_id: opened.payload.id, status: body.status, code: body.code ?? null, reason: body.reason ?? null,
          jws: opened.bytes, sha256: opened.sha256, at: now,
        });
        this.d.evidence?.('receipt-received', opened.payload.id, row.partner, opened.sha256);
        const refusedBefore = tooOld ? this.d.store.messages.sealedAgainFromRefused(row.partner, row.id) : undefined;
        if (refusedBefore !== undefined) again = `${body.reason ?? ''} ${refusedAgain(row, refusedBefore)}`.trim();
        this.d.store.messages.setStatus(row.seq, status, body.code ?? null, again ?? body.reason ?? null, now);
        // refused as too old on arrival (the partner's clock ahead, or a pause between the check and the hand-over): the
        // body goes on sealed again, as one that grew too old here (SPEC section 6), once; not for a partner removed
        if (tooOld && refusedBefore === undefined && this.d.trust.isPartner(row.partner)) return this.d.reseal(row, now);
        this.d.store.outbox.remove(row.seq);
        return undefined;
      });
      this.failedWhenReached.delete(row.partner);
      if (this.reachableAgain(row.partner)) this.d.log(`partner ${row.partner} is reachable again: its queued messages are being delivered`);
      if (next !== undefined) return this.resealed(row, `was refused by ${row.partner} as older than its acceptance window (GNC_CLOCK_SKEW) on arrival`, next);
      if (again !== undefined) this.d.log(`${row.id} to ${row.partner} (a control envelope) was refused as too old (GNC_CLOCK_SKEW) on arrival: ${again}`);
      this.d.onFinal?.(row.seq, status);
    } catch (err) {
      try {
        if (!reached) this.failedWhenReached.delete(row.partner);
        else if (!this.failedWhenReached.has(row.partner)) this.failedWhenReached.set(row.partner, false);
        await this.retryLater(row, err, sent, reached);
      } catch (failed) {
        this.unrecorded(row, failed);
      }
    }
  }

  /**
   * Neither the outcome nor the retry could be written (the node's disk is full): the message stays in the
   * outbox as it was, and is tried again after the backoff; a receipt the partner already sent comes back
   * then, since the partner answers a duplicate with its stored receipt.
   */
  private unrecorded(row: OutboxRow, err: unknown): void {
    const e = isGncError(err) ? err : new GncError('GNC_INTERNAL', reasonOf(err));
    const delay = backoffDelay(row.attempts, this.d.backoff);
    this.d.log(`could not record the delivery of ${row.id} to ${row.partner} (${e.code}): ${e.message} Trying again in ${Math.round(delay / 1000)} s.`);
    const t = setTimeout(() => {
      this.unrecordedTimers.delete(t);
      if (!this.running) return;
      // a transient 'sending' may be stored, which would keep it from being due: make it 'retrying' once that
      // can be written (else wait once more); a delivery that succeeded meanwhile is left as it is
      this.d.store.commits
        .run(() => {
          if (this.d.store.messages.statusOf(row.seq) === 'sending') this.d.store.messages.setStatus(row.seq, 'retrying', e.code, e.message, this.d.clock());
        })
        .then(() => this.schedulePump(row.partner), (again: unknown) => this.unrecorded(row, again));
    }, delay);
    t.unref();
    this.unrecordedTimers.add(t);
  }

  /**
   * Attempt `row` failed with `err`; `sent`: the partner may hold it, `reached`: a stream to the partner opened for it.
   * One the partner answered (reached, and not GNC_PARTNER_UNREACHABLE: an error frame, a bad receipt) tells it is up:
   * one found unreachable is no longer (in this commit), and its queue goes again, each message on its own backoff. Its
   * mark can outlive its connection's return: a receipt timeout or a closed stream marks it while the connection stays
   * open, and no new connection (connected) comes to clear it then.
   */
  private async retryLater(row: OutboxRow, err: unknown, sent: boolean, reached: boolean): Promise<void> {
    const e = isGncError(err) ? err : new GncError('GNC_PARTNER_UNREACHABLE', reasonOf(err));
    const answered = reached && e.code !== 'GNC_PARTNER_UNREACHABLE';
    // its session closed on purpose (a trust change, or the node stopping): not found unreachable, so no mark and no gate
    const found = this.running && !(err instanceof SessionClosedError);
    const now = this.d.clock();
    // a backoff that ends after the expiry does not expire the message early (up to retry.maxMs): one more
    // attempt is made just before it. A control envelope never expires: one due after its expiry is sealed again
    const backoff = now + backoffDelay(row.attempts, this.d.backoff);
    const next = row.control === 1 ? backoff : Math.min(backoff, row.expires_at - LAST_ATTEMPT_LEAD_MS);
    await this.d.store.commits.run(() => {
      // the first failure in a row that found it unreachable: kept (PartnerRepo), in this commit, not one of its own.
      // Not when its session closed on purpose (found): that fails what is in flight, with the same code
      if (e.code === 'GNC_PARTNER_UNREACHABLE' && found && !this.unreachable.has(row.partner)) this.d.store.partners.markUnreachable(row.partner, now);
      if (answered && this.unreachable.has(row.partner)) this.d.store.partners.clearUnreachable(row.partner);
      if (next <= now) {
        this.finishExpired(row.seq, 'GNC_DELIVERY_EXPIRED', `Delivery failed until expiry; last error ${e.code}: ${e.message}`);
      } else {
        // the mark set before this attempt is replaced by what is known: an earlier attempt's, or this one's
        this.d.store.outbox.reschedule(row.seq, next, `${e.code}: ${e.message}`, sent || row.sent === 1);
        this.d.store.messages.setStatus(row.seq, 'retrying', e.code, e.message, now);
      }
    });
    // a stopping node, or a session closed for a trust change, fails what is in flight on purpose: nothing to report. A
    // partner that cannot be reached fails every message queued for it: one line says so (and one when it is back),
    // whatever the size of the queue
    if (!found) return;
    if (answered && this.reachableAgain(row.partner)) this.d.log(`partner ${row.partner} is reachable again: it answers (${e.code}); its queued messages are retried, each on its own backoff`);
    // any other failure of a partner found unreachable (one it did not answer: a receipt timeout, a closed stream) steps its gate
    if (e.code === 'GNC_PARTNER_UNREACHABLE' || this.unreachable.has(row.partner)) this.closeGate(row.partner, now);
    if (e.code === 'GNC_PARTNER_UNREACHABLE') {
      if (this.unreachable.has(row.partner)) return;
      this.unreachable.set(row.partner, now);
      this.d.log(`partner ${row.partner} is unreachable (${e.code}: ${e.message}); its messages stay queued and are retried with backoff, each until it expires (control envelopes are sealed again instead)`);
      return;
    }
    if (row.attempts === 0 || row.attempts % 10 === 0) this.d.log(`delivery of ${row.id} to ${row.partner} failed (${e.code}); retrying`);
  }

  private finishExpired(seq: number, code: string, reason: string): void {
    // withdrawn meanwhile by another process: that is its final status
    if (this.d.store.messages.statusOf(seq) === 'withdrawn') return;
    this.d.store.messages.setStatus(seq, 'expired', code, reason, this.d.clock());
    this.d.store.outbox.remove(seq);
    queueMicrotask(() => this.d.onFinal?.(seq, 'expired'));
  }

  private scheduleNext(partner: string, now: number): void {
    const next = this.d.store.outbox.nextDue(partner);
    if (next === undefined || this.timers.has(partner)) return;
    const t = setTimeout(() => {
      this.timers.delete(partner);
      this.pump(partner);
    }, Math.max(0, Math.min(next - now, SWEEP_INTERVAL_MS * 30)));
    t.unref();
    this.timers.set(partner, t);
  }

  /** Expire what can no longer be delivered, and poll every partner with messages in the outbox. */
  private sweep(): void {
    try {
      this.sweepOnce();
    } catch (err) {
      this.d.log(`outbox sweep failed: ${(storageError(err) as Error).message}`);
    }
  }

  private sweepOnce(): void {
    const now = this.d.clock();
    const flying = new Set([...this.inflight.values()].flatMap((s) => [...s]));
    const expired = this.d.store.outbox.expiredSeqs(now).filter((s) => !flying.has(s));
    if (expired.length) {
      this.d.store.db.transaction(() => {
        for (const s of expired) this.finishExpired(s, 'GNC_DELIVERY_EXPIRED', 'The message could not be delivered before its expiry.');
      }).immediate();
    }
    // every partner, also one whose timer waits for a message in backoff: rows another process queued (gnc send,
    // a notice signed with the CLI) are due now, and nothing else tells this node about them
    const queued = this.d.store.outbox.partners();
    for (const p of queued) this.pump(p);
    // a partner found unreachable with nothing queued or on the wire: probed, so that health tells when it is back
    for (const p of this.unreachable.keys()) if (!queued.includes(p) && this.inFlight(p) === 0) this.probeLater(p);
    // and one removed with nothing left queued, which nothing else may bring here (a removal by the CLI finds no
    // session to renew of a partner never reached): what is kept about it goes (forget). Also one found unreachable
    // before this start (the mark from the database) and not pumped since, which has no entry in `inflight`: kept, it
    // was told unreachable from before its removal once pinned again
    for (const p of new Set([...this.inflight.keys(), ...this.unreachable.keys()])) if (!queued.includes(p) && !this.d.trust.isPartner(p)) this.pump(p);
  }
}

/** This node's keys whose seals partners refuse now (Dispatcher.keysAt); `any`: at least one. */
interface RefusedKeys {
  ended: ReadonlyMap<string, number> | undefined;
  revoked: ReadonlyMap<string, number> | undefined;
  any: boolean;
}

/** Runs `then` after `ms` on `holder`'s timer (a probe's, a gate's), which is undefined again once it fired and keeps no process alive. */
function arm(holder: { timer: NodeJS.Timeout | undefined }, ms: number, then: () => void): void {
  holder.timer = setTimeout(() => {
    holder.timer = undefined;
    then();
  }, ms);
  holder.timer.unref();
}

/** A partner's gate while it is unreachable (Dispatcher.gates): when its next attempt may go, after how many failed rounds, and the attempt under way. */
interface Gate {
  failures: number;
  until: number;
  timer: NodeJS.Timeout | undefined;
  /** The row of the attempt under way (while it is in `inflight`, no other goes). */
  attempt: number | undefined;
  /** Whether it opens (`until`) for the last attempt of the message expiring first, not on its backoff: that message's attempt. */
  forExpiry: boolean;
}

/** A partner's probing (Dispatcher.probeLater): the next probe's number (its backoff), and its timer or dial under way. */
interface Probe {
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
}

/** What the pump does with a due row (Dispatcher.verdict). */
type Verdict = { act: 'send' } | { act: 'reseal'; why: string } | { act: 'expire'; code: string; reason: string };

/**
 * Why control envelope `row`, sealed again from `before` after the partner refused that one as too old, ends rejected
 * when refused as too old in turn (not sealed again: each copy would be refused alike, SPEC section 6).
 */
function refusedAgain(row: OutboxRow, before: string): string {
  return `It was sealed again from ${before}, which ${row.partner} refused as too old too, so it is not sealed again: check that the clocks of both nodes are right (NTP) and that both configure the same maxMessageAgeHours, then send the document it carries again.`;
}

/** The `kid` of an envelope's protected header (the sender writes `protected` first), read without parsing the payload. */
function sealedBy(jws: Buffer): string | undefined {
  const m = /^\{"protected":"([A-Za-z0-9_-]{1,512})"/.exec(jws.subarray(0, 600).toString('latin1'));
  return m === null ? undefined : peekKid(m[1]!);
}
