/**
 * The composition root: the only place that builds the node's parts and hands each its dependencies
 * (libp2p-style components). Long-lived parts have start()/stop(); `GncNode.open(dir)` loads config,
 * identity and store, `start()` brings up libp2p, the dispatcher and the local API.
 */
import './polyfill.js';
import { GncError, isGncError, type GncErrorCode } from '../protocol/errors.js';
import { MAX_CONNECTIONS_PER_PEER } from '../protocol/constants.js';
import type { AddressInfo } from 'node:net';
import { createServer, type Server as HttpServer, type ServerResponse } from 'node:http';
import { getRequestListener, type ServerType } from '@hono/node-server';
import type { Libp2p } from 'libp2p';
import { loadIdentity, type LocalIdentity } from '../certs/identity.js';
import type { Signer } from '../protocol/envelope/seal.js';
import { answerClientError, answerExpectation, requestErrorResponse } from './api/client-error.js';
import { createApi } from './api/app.js';
import { isFinalStatus } from './api/routes/messages.js';
import type { AuthEnv } from './api/auth.js';
import { apiBaseUrl } from './api/url.js';
import type { NodeInfo } from './api/routes/node-info.js';
import type { Hono } from 'hono';
import { readConfig, type NodeConfig } from './config.js';
import { Receiver } from './inbound/receiver.js';
import { RetentionJob, type PurgedMessage } from './retention.js';
import { jsonLogger, LogBudget, type Logger } from './log.js';
import { Dispatcher, type ReceiptTransport } from './outbound/dispatcher.js';
import { FinalWaits } from './outbound/final-waits.js';
import { SubmitService } from './outbound/submit.js';
import type { Policy } from './policy/policy.js';
import { NodeLease, LEASE_RENEW_MS } from './store/lease.js';
import { Store } from './store/store.js';
import { ConnectionTrust } from './transport/connection-trust.js';
import { serveExchange } from './transport/inbound-streams.js';
import { createHost } from './transport/libp2p.js';
import { DIAL_TIMEOUT_MS, PartnerSession } from './transport/session.js';
import type { StreamTimeouts } from './transport/framed-stream.js';
import { multiaddr } from '@multiformats/multiaddr';
import { TrustIndex } from './trust.js';

/** How often a running node looks for changes the CLI made to its store (partners, agreements, tokens). */
export const EXTERNAL_CHANGE_POLL_MS = 500;

/**
 * How long a stopping node lets the API finish the requests it is handling (a submission being committed gets
 * its answer, with the id) before it closes their connections: half of the 10 s that `docker stop` (and
 * systemd's default TimeoutStopSec is longer) waits after SIGTERM before SIGKILL, leaving the rest for libp2p,
 * the evidence checkpoint and the store.
 */
export const API_DRAIN_MS = 5_000;

export interface NodeOptions {
  /** Injectable clock (tests of expiry and retention). */
  clock?: () => number;
  log?: Logger;
  /** Override the API port from the config (0 = any free port). */
  apiPort?: number;
  /** Override the retry backoff from the config. */
  retry?: { initialMs: number; maxMs: number };
  /** Shorter transport time limits (tests); unset, the production defaults apply. */
  transport?: TransportTimeouts;
  /**
   * Shorter time limits of the API's HTTP server (tests): for the headers, for the whole request, and how often Node
   * checks them; unset, Node's defaults apply (60 s, 300 s, every 30 s).
   */
  apiTimeouts?: { headersMs: number; requestMs: number; checkEveryMs: number };
  /** How long stop() lets API requests in progress finish (tests); default API_DRAIN_MS. */
  apiDrainMs?: number;
  /**
   * A line for the operator beside the JSON log (`gnc start` prints it on stderr): what the node did at start that the
   * operator must know of (a revocation stored again from identity/). One line, no key material.
   */
  warn?: (line: string) => void;
  /** The risk loop's first wait before a failed step or assessment is tried again (tests); default STEP_RETRY_MS. */
  riskRetryMs?: number;
  /** How long one write of a streamed response (/v1/arrivals/stream and /export) may wait for its client (tests); default SSE_WRITE_TIMEOUT_MS. */
  streamWriteTimeoutMs?: number;
}

export interface TransportTimeouts extends StreamTimeouts {
  receiptTimeoutMs?: number;
}

export interface NodeParts {
  dir: string;
  config: NodeConfig;
  identity: LocalIdentity;
  store: Store;
  trust: TrustIndex;
  clock: () => number;
  log: Logger;
  signer: () => Signer;
}

/** Extension points (agreements, audit, risk) are composed here too; each gets the parts it needs. */
export interface Extension {
  policy?: Policy;
  routes?: { path: string; routes: Hono<AuthEnv> }[];
  control?: ConstructorParameters<typeof Receiver>[0]['control'];
  controlRolledBack?: ConstructorParameters<typeof Receiver>[0]['controlRolledBack'];
  evidence?: (event: 'sent' | 'received' | 'receipt-sent' | 'receipt-received', messageId: string, peer: string, sha256: string) => void;
  onAccepted?: ConstructorParameters<typeof Receiver>[0]['onAccepted'];
  /** Remove derived data of messages whose retention ended (inside the purge transaction). */
  onPurge?: (purged: PurgedMessage[]) => void;
  /** Called when another process (the CLI) changed the store: reload cached state. */
  reload?: () => void;
  /** This node's keys whose certificates have all ended by `now`, with when (Keyring.endedKeys). */
  endedKeys?: (now: number) => ReadonlyMap<string, number>;
  /** This node's keys that a revocation of its administration names, with when it takes effect (Keyring.revokedKeys). */
  revokedKeys?: () => ReadonlyMap<string, number>;
  /** This node's certificate of its key `kid` to announce (Keyring.certificateOf). */
  certificateOf?: (kid: string, issuer?: string) => string | undefined;
  /** Before anything listens, sends or signs (the lease is held): bring the store in step with the data dir's files. */
  prepare?: (node: GncNode) => void | Promise<void>;
  start?: (node: GncNode) => void | Promise<void>;
  /** The risk view's part of GET /v1/health. */
  health?: NodeInfo['risk'];
  /** Which key signs and until when, for GET /v1/health (Keyring.signing). */
  signing?: NodeInfo['signing'];
  /** The node is stopping: end the API responses that last until told or as long as their client reads (event streams, exports), so the API can drain. */
  closeStreams?: () => void;
  stop?: () => void | Promise<void>;
}

export class GncNode {
  host: Libp2p | undefined;
  api: ServerType | undefined;
  apiAddress: AddressInfo | undefined;
  readonly sessions = new Map<string, PartnerSession>();
  /** Requests waiting for an outbound message to be delivered, rejected or expired. */
  readonly finals = new FinalWaits();
  readonly dispatcher: Dispatcher;
  readonly receiver: Receiver;
  readonly submit: SubmitService;
  readonly retention: RetentionJob;
  private readonly startedAt = Date.now();
  private watcher: NodeJS.Timeout | undefined;
  /** Closes the connections of peers that trust changes leave unadmitted (the gater decides at the handshake only). */
  private connectionTrust: ConnectionTrust | undefined;
  private readonly greetings = new Map<string, Promise<void>>();
  /** API responses not yet finished, and a wake-up for stop() once there are none. */
  private readonly apiResponses = new Set<ServerResponse>();
  private apiDrained: (() => void) | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** startParts while under way: stop() waits for it, so that no part starts after the store closed. */
  private starting: Promise<void> | undefined;
  /** This node's hold on its data dir (one running node per data dir), renewed by a timer. */
  private readonly lease: NodeLease;
  private leaseTimer: NodeJS.Timeout | undefined;
  private lostLease: ((err: GncError) => void) | undefined;
  /** Settles when the node stopped itself: another node took its data dir over (`gnc start` then exits). */
  readonly halted = new Promise<GncError>((resolve) => (this.lostLease = resolve));

  constructor(readonly parts: NodeParts, readonly ext: Extension & { policy: Policy }, private readonly opts: NodeOptions = {}) {
    const { config, identity, store, trust, clock, log, signer } = parts;
    const clockSkewMs = config.clockSkewSeconds * 1000;
    const maxAgeMs = config.maxMessageAgeHours * 3_600_000;
    this.receiver = new Receiver({
      self: identity.country, signer, trust, store, policy: ext.policy, clock, clockSkewMs, maxAgeMs,
      control: ext.control, controlRolledBack: ext.controlRolledBack, onAccepted: ext.onAccepted, evidence: ext.evidence,
    });
    const transport: ReceiptTransport = {
      request: (partner, envelope, onWire, onStream) => this.session(partner).request(envelope, onWire, onStream),
      probe: async (partner) => {
        if ((await this.dialPartner(partner)) === undefined) throw new GncError('GNC_PARTNER_UNREACHABLE', `${partner}'s certificate names no address to dial.`);
      },
      close: () => {
        for (const s of this.sessions.values()) s.close();
        this.sessions.clear();
      },
    };
    this.dispatcher = new Dispatcher({
      self: identity.country, store, trust, policy: ext.policy, transport, clock, backoff: opts.retry ?? config.retry, clockSkewMs, maxAgeMs,
      log: (m) => log(m), evidence: ext.evidence, reseal: (row, now) => this.submit.reseal(row, now), endedKeys: ext.endedKeys,
      revokedKeys: ext.revokedKeys,
      onFinal: (seq) => this.finals.settle(seq),
    });
    this.submit = new SubmitService({
      self: identity.country, signer, store, trust, policy: ext.policy, clock, maxAgeMs, clockSkewMs,
      onQueued: (p) => this.dispatcher.notify(p), sendWithQueued: (seq, p) => this.dispatcher.sendWithQueued(seq, p), evidence: ext.evidence, certificateOf: ext.certificateOf, revokedKeys: ext.revokedKeys,
    });
    this.retention = new RetentionJob(store, { clock, log, onPurge: ext.onPurge });
    this.lease = new NodeLease(store.db);
    // a partner whose trusted peer id or addresses changed, or that lost trust, gets a fresh session; the others
    // keep theirs and the requests in flight on them (a key announcement or a revocation changes neither). The trust
    // index tells of changes in the store and, while the node runs, of certificates starting or ending meanwhile
    trust.onChange(() => {
      for (const [c, s] of this.sessions) {
        // a partner removed loses its session also when that never reached it (never dialed, so never stale): else one
        // such session per partner ever removed stayed until the node stopped
        if (!s.isStale() && trust.isPartner(c)) continue;
        s.close();
        this.sessions.delete(c);
        this.dispatcher.notify(c);
      }
    });
  }

  static load(dir: string, opts: NodeOptions = {}): NodeParts {
    const config = readConfig(dir);
    const identity = loadIdentity(dir);
    const store = Store.open(dir);
    const clock = opts.clock ?? Date.now;
    const trust = new TrustIndex(store, clock, config.clockSkewSeconds * 1000);
    const log = opts.log ?? jsonLogger(identity.country);
    const signer = (): Signer => identity.node.signer;
    return { dir, config, identity, store, trust, clock, log, signer };
  }

  session(partner: string): PartnerSession {
    let s = this.sessions.get(partner);
    if (!s) {
      if (!this.host) throw new Error('node not started');
      // a dial joins libp2p's pending dial to the same peer: let the start-up greeting settle first, so a
      // partner that was down then does not fail the first real request with the greeting's stale error
      const greeting = this.greetings.get(partner);
      const t = this.opts.transport ?? {};
      s = new PartnerSession(this.host, () => this.parts.trust.peerOf(partner), partner, {
        before: greeting, receiptTimeoutMs: t.receiptTimeoutMs, drainTimeoutMs: t.drainTimeoutMs, frameReadTimeoutMs: t.frameReadTimeoutMs,
        log: (m) => this.parts.log(m),
      });
      this.sessions.set(partner, s);
    }
    return s;
  }

  get country(): string {
    return this.parts.identity.country;
  }

  get apiUrl(): string {
    if (!this.apiAddress) throw new Error('API not started');
    return apiBaseUrl(this.apiAddress.address, this.apiAddress.port);
  }

  /** Start everything, or nothing: a part that cannot start (a port in use) stops the ones already running. */
  async start(): Promise<void> {
    try {
      // cleared once settled: a stop() after the start runs at once, in the caller's turn (mark-on-queueing-races.test.ts)
      await (this.starting = this.startParts().finally(() => (this.starting = undefined)));
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw listenError(err, this.parts.config.listen, `${this.parts.config.api.host}:${this.opts.apiPort ?? this.parts.config.api.port}`);
    }
  }

  private async startParts(): Promise<void> {
    const { config, identity, trust, store, log } = this.parts;
    // before anything listens or sends: a second node on this data dir would send the same outbox again
    this.lease.acquire();
    this.leaseTimer = setInterval(() => this.renewLease(), LEASE_RENEW_MS);
    this.leaseTimer.unref();
    await this.ext.prepare?.(this);
    const refusals = new LogBudget();
    this.host = await createHost({
      privateKey: identity.libp2pKey,
      listen: config.listen,
      trust,
      onRefused: (peerId, direction) => {
        // any host can provoke this line at will, under new peer ids: all of them share one budget
        const line = refusals.admit('untrusted peers', 'refused untrusted peer');
        if (line !== undefined) log(line, { peerId, direction });
      },
      onConnectionReplaced: (peerId, open) => {
        // a partner can provoke this at will: its lines are budgeted per partner
        const country = trust.peer(peerId)?.country;
        const line = refusals.admit(country ?? 'untrusted peers', `closed the oldest connection of ${country ?? peerId} for its new one: ${open} of its connections were open already (limit ${MAX_CONNECTIONS_PER_PEER} per peer; a partner that restarted may have left dead ones)`);
        if (line !== undefined) log(line, { partner: country ?? null, peerId });
      },
    });
    await serveExchange(this.host, trust, this.receiver, (m) => log(m), this.opts.transport);
    // a partner that (re)connects is reachable again: its queued messages are retried now, and it is no longer reported unreachable
    this.host.addEventListener('peer:connect', (evt) => {
      const p = trust.peer(evt.detail.toString());
      if (p) this.dispatcher.connected(p.country);
    });
    // a partner's further connection (it restarted and greeted this node while its old connection still looks open
    // here): its session's new requests go on the newest one (PartnerSession.connectionOpened)
    this.host.addEventListener('connection:open', (evt) => {
      const p = trust.peer(evt.detail.remotePeer.toString());
      if (p) this.sessions.get(p.country)?.connectionOpened(evt.detail);
    });
    await this.host.start();
    this.connectionTrust = new ConnectionTrust({ host: this.host, trust, clock: this.parts.clock, log });
    this.connectionTrust.start();
    const app = createApi({
      store,
      submit: this.submit,
      finals: this.finals,
      info: {
        country: identity.country, name: identity.name, peerId: identity.peerId, kid: () => this.parts.signer().kid,
        addresses: () => this.host?.getMultiaddrs().map((a) => a.toString()) ?? [], startedAt: this.startedAt,
        connected: (c) => {
          const p = trust.peerOf(c);
          return p !== undefined && (this.host?.getConnections().some((x) => x.remotePeer.toString() === p.peerId) ?? false);
        },
        risk: this.ext.health,
        signing: this.ext.signing,
        unreachableSince: () => this.dispatcher.unreachableSince(),
        clock: this.parts.clock,
      },
      extra: this.ext.routes,
      log: (m) => log(m),
      clock: this.parts.clock,
    });
    await new Promise<void>((resolve, reject) => {
      // hono's Node listener as `serve` makes it, with the answer to a request it cannot turn into a URL (a bad Host
      // header, a backslash in the path, `GET *`) given as problem details instead of its bare 400
      const t = this.opts.apiTimeouts;
      const limits = t ? { headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: t.checkEveryMs } : {};
      const server = createServer(limits, getRequestListener(app.fetch, { hostname: config.api.host, errorHandler: requestErrorResponse }));
      server.listen(this.opts.apiPort ?? config.api.port, config.api.host, () => {
        this.apiAddress = server.address() as AddressInfo;
        resolve();
      });
      server.once('error', reject);
      // what the HTTP parser refuses, and a request cut off by the time limits, is answered as problem details too,
      // not with Node's bare 400 or 408
      server.on('clientError', answerClientError);
      // and so is an Expect the node cannot meet, not with Node's bare 417
      server.on('checkExpectation', answerExpectation);
      // runs before hono's listener: every request is counted until its response is finished or cut off
      server.prependListener('request', (_req: unknown, res: ServerResponse) => this.trackResponse(res));
      this.api = server;
    });
    await this.ext.start?.(this);
    this.dispatcher.start();
    this.retention.start();
    this.greetPartners();
    store.changedElsewhere();
    this.watcher = setInterval(() => {
      if (store.changedElsewhere()) this.applyStoreChanges();
    }, EXTERNAL_CHANGE_POLL_MS);
    this.watcher.unref();
    // no commit of the running node copies the WAL into the database file: a worker thread does (stopped in stopParts);
    // started last, so that its start-up does not compete with the first dials and pumps for the CPU
    store.startCheckpoints({ log });
    log('node started', { country: identity.country, peerId: identity.peerId, api: this.apiUrl });
  }

  /**
   * Bring the running node in step with a change to its store made outside its own parts: by the CLI beside it (the
   * watcher finds it), or by an API route whose service the CLI shares (`POST /v1/partners/{country}/remove`), which
   * calls this after its commit. Trust is read again (a partner removed loses its sessions and connections), so are
   * the extensions' caches, and the requests waiting for a message withdrawn meanwhile are answered now.
   */
  applyStoreChanges(): void {
    const { store, trust } = this.parts;
    trust.reload();
    this.ext.reload?.();
    this.finals.settleWhere((seq) => isFinalStatus(store.messages.statusOf(seq)));
  }

  /**
   * Dial every trusted partner once at start (best effort, silent on failure): a partner holding messages for
   * this node sees the connection and retries them at once instead of waiting out its backoff.
   */
  private greetPartners(): void {
    for (const country of this.parts.trust.allRoots().keys()) {
      if (country === this.country) continue;
      const greeting = this.dialPartner(country)?.then(
        () => undefined,
        () => undefined,
      );
      if (greeting === undefined) continue;
      this.greetings.set(country, greeting);
      void greeting.finally(() => {
        if (this.greetings.get(country) === greeting) this.greetings.delete(country);
      });
    }
  }

  /**
   * A connection with partner `country` at the addresses its certificate names, no stream (a greeting, or the dispatcher's
   * probe of a partner found unreachable); undefined when it names none or the node is not started.
   */
  private dialPartner(country: string): Promise<unknown> | undefined {
    const peer = this.parts.trust.peerOf(country);
    if (!peer || peer.addrs.length === 0 || !this.host) return undefined;
    const addrs = peer.addrs.map((a) => multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${peer.peerId}`));
    return this.host.dial(addrs, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
  }

  private trackResponse(res: ServerResponse): void {
    this.apiResponses.add(res);
    // a request that arrives on a kept-alive connection while the node stops is served, then its connection ends
    if (this.stopping) res.setHeader('connection', 'close');
    res.once('close', () => {
      this.apiResponses.delete(res);
      if (this.apiResponses.size === 0) this.apiDrained?.();
    });
  }

  /**
   * Stop the API gracefully: no new connection; held answers (Prefer: wait, ?wait=) are given now, event streams
   * end, exports are cut off (without their final chunk: incomplete to the client), and every request in progress finishes (a submission committed gets its 202 with the id, not a reset
   * connection that would make the client submit it twice), for at most API_DRAIN_MS; then what is left is cut.
   */
  private async closeApi(): Promise<void> {
    const srv = this.api as HttpServer | undefined;
    this.finals.close();
    if (!srv) return;
    const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
    for (const res of this.apiResponses) if (!res.headersSent) res.setHeader('connection', 'close');
    this.ext.closeStreams?.();
    if (this.apiResponses.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.opts.apiDrainMs ?? API_DRAIN_MS);
        this.apiDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    srv.closeAllConnections();
    await closed;
  }

  private renewLease(): void {
    let mine: boolean;
    try {
      mine = this.lease.renew();
    } catch {
      return; // the write lock is busy (a CLI command beside the node): the next round renews, well within the TTL
    }
    if (mine || this.stopping) return;
    const err = new GncError('GNC_CONFLICT', 'Another gnc node took this data dir over while this one did not renew its lease (the process was paused, or the clock jumped): this node stops, so that only one sends. Check which node should run here.');
    this.parts.log(err.message);
    // a part that fails to stop is logged (stopParts): the node halts with the lost lease all the same
    void this.stop().catch(() => undefined).finally(() => this.lostLease?.(err));
  }

  /**
   * Stops everything once; a second call waits for the first. Called while the node starts, it waits for the start to
   * end (or fail), then stops what it started: stopped at once, the store was closed and every part started after it
   * (libp2p, the API, the dispatcher) kept running on it.
   */
  stop(): Promise<void> {
    this.stopped ??= this.starting === undefined ? this.stopParts() : this.starting.then(() => this.stopParts(), () => this.stopParts());
    return this.stopped;
  }

  /**
   * Every part is stopped, also when one before it fails (each failure logged with its code): the store is closed and
   * libp2p stopped whatever happened before. A failure then rejects stop() (`gnc start` exits non-zero with it).
   */
  private async stopParts(): Promise<void> {
    const started = this.apiAddress !== undefined;
    const { log, identity, store } = this.parts;
    if (started) log('node stopping', { country: identity.country });
    this.stopping = true;
    const failed: { part: string; code: GncErrorCode; error: string }[] = [];
    const failure = (name: string, err: unknown): void => {
      const code = isGncError(err) ? err.code : 'GNC_INTERNAL';
      const error = (err as Error)?.message ?? String(err);
      failed.push({ part: name, code, error });
      log('a part of the node failed to stop; the others were stopped', { part: name, code, error });
    };
    // a part that stops synchronously is stopped without yielding to the event loop: retention, dispatcher and
    // connection trust stop in one tick, as before, so no submission's hand-over runs between them (a microtask of an
    // `await` would let one through after the commit that marked it, mark-on-queueing-races.test.ts)
    const part = (name: string, stop: () => unknown): Promise<void> | undefined => {
      try {
        const r = stop();
        if (r instanceof Promise) return r.then(() => undefined, (err: unknown) => failure(name, err));
      } catch (err) {
        failure(name, err);
      }
      return undefined;
    };
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.watcher) clearInterval(this.watcher);
    part('retention', () => this.retention.stop());
    part('dispatcher', () => this.dispatcher.stop());
    part('connection trust', () => this.connectionTrust?.stop());
    // the store stays open until the API has drained: what it accepts meanwhile is queued for the next start
    await part('api', () => this.closeApi());
    await part('extensions', () => this.ext.stop?.());
    await part('libp2p', () => this.host?.stop());
    // let in-flight group commits land before closing the database
    await part('commits', () => store.commits.run(() => undefined));
    await part('checkpoints', () => store.stopCheckpoints());
    try {
      this.lease.release();
    } catch {
      // not written (the write lock is busy): the lease goes stale by itself, and this host's restart takes it at once
    }
    // what waits in the outbox goes at the next start
    if (started) await part('outbox count', () => log('node stopped', { country: identity.country, queued: store.outbox.count() }));
    await part('store', () => store.close());
    if (failed.length === 0) return;
    const which = failed.map((f) => `${f.part} (${f.code}: ${f.error})`).join('; ');
    throw new GncError(failed[0]!.code, `The node stopped, but ${failed.length === 1 ? 'one part' : `${failed.length} parts`} failed to stop cleanly: ${which}. Everything else was stopped and the store closed; what was accepted is stored. See the log line "a part of the node failed to stop", fix its cause, then start the node again.`);
  }
}

/**
 * A listen failure as the operator can act on it: the libp2p address or the API port is taken (another node on
 * this data dir, or another program) or cannot be bound on this host. Anything else is passed on.
 */
function listenError(err: unknown, listen: readonly string[], api: string): unknown {
  if (isGncError(err)) return err;
  const text = `${(err as Error)?.message ?? String(err)} ${String((err as { code?: unknown })?.code ?? '')}`;
  const libp2p = (err as Error)?.name === 'UnsupportedListenAddressesError' || /listen address/i.test(text);
  const what = libp2p ? `libp2p cannot listen on ${listen.join(', ')}` : `the API cannot listen on ${api}`;
  if (/EADDRINUSE/.test(text)) {
    return new GncError('GNC_CONFIG_INVALID', `${what}: the address is in use. Another node may be running on this data dir (stop it), or another program holds the port (change ${libp2p ? '"listen" in gnc.json' : '--api-port or "api" in gnc.json'}).`, { cause: err });
  }
  if (/EADDRNOTAVAIL|EACCES|ENOTFOUND|EAI_AGAIN|ERR_SOCKET_BAD_PORT/.test(text) || libp2p) {
    return new GncError('GNC_CONFIG_INVALID', `${what}: ${libp2p ? listenReasons(err) : ((err as Error)?.message ?? String(err))}. Use an address of this host and a port you may bind (check gnc.json).`, { cause: err });
  }
  return err;
}

/**
 * What libp2p says about the addresses it could not listen on, one clause per address. Its message embeds each
 * cause with its stack trace and advice about its own options (`transportManager.faultTolerance`), none of
 * which the operator can act on: only "<address>: <reason>" is kept.
 */
function listenReasons(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  const reasons = [...message.matchAll(/^\s*(\/\S+): (?:[A-Za-z]*Error: )?(.+)$/gm)].map((m) => `${m[1]}: ${m[2]!.trim()}`);
  if (reasons.length > 0) return reasons.join('; ');
  return message.split('\n').filter((line) => !/^\s+at /.test(line)).join(' ').replace(/\s+/g, ' ').trim();
}
