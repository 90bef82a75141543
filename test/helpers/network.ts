/**
 * Test fixture: a real network of GNC nodes in one process: data dirs in a temp folder, identities made by
 * the real `gnc init`, partners pinned with `gnc partner add` and their fingerprints, agreements drafted
 * and signed by both roots, API tokens, and real libp2p hosts on 127.0.0.1 with real SQLite files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, vi } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportIdentity } from '../../certs/public-identity.js';
import { loadIdentity } from '../../certs/identity.js';
import { AgreementService } from '../../node/agreements/service.js';
import { main as cli } from '../../node/cli/main.js';
import { openNode, openOffline, type OfflineNode } from '../../node/compose.js';
import type { GncNode, NodeOptions } from '../../node/main.js';
import { Store } from '../../node/store/store.js';

/** Fast retries so delivery tests finish in seconds (production default: 500 ms doubling to 60 s). */
export const TEST_RETRY = { initialMs: 100, maxMs: 1000 };

export interface TestNode {
  country: string;
  dir: string;
  node: GncNode;
  token: string;
  url: string;
}

export async function runCli(args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await cli(args, (l) => out.push(l), (t) => out.push(t.trimEnd()));
  return { code, out };
}

/**
 * `gnc ...` run in this process with this machine's clock `ahead` ms ahead, as a node's moved clock is (a command
 * reads Date.now): what the command does once that time has come.
 */
export async function runCliAhead(ahead: number, args: string[]): Promise<{ code: number; out: string[] }> {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ahead);
  try {
    return await runCli(args);
  } finally {
    vi.useRealTimers();
  }
}

export function tempDir(prefix = 'gnc-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A permissive-but-real agreement between two countries: every type both ways, all fields. */
export function openAgreementDraft(a: string, b: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const scope = (type: string) => ({ type, fields: ['*'], minimise: false, purposes: ['pre-arrival-risk-assessment', 'aeo-mra-benefits', 'origin-verification'], retentionDays: 365, onwardTransfer: false });
  return {
    v: 1,
    id: `${a}-${b}-test`,
    version: 1,
    title: `Test agreement ${a}-${b}`,
    legalBasis: { instrument: 'mra', reference: 'Test MRA' },
    parties: [
      { country: a, name: `Customs of ${a}`, rootFingerprint: `@root:${a}` },
      { country: b, name: `Customs of ${b}`, rootFingerprint: `@root:${b}` },
    ],
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2030-12-31T23:59:59Z',
    directions: [
      { from: a, to: b, messages: ['aci', 'ecoo', 'aeo'].map(scope) },
      { from: b, to: a, messages: ['aci', 'ecoo', 'aeo'].map(scope) },
    ],
    contacts: [a, b].map((c) => ({ country: c, name: 'Exchange desk', role: 'operations', email: `desk@customs-${c.toLowerCase()}.example` })),
    ...overrides,
  };
}

/**
 * openAgreementDraft, keeping the types the days `days` gives (by default ACI 1 day) and the other types 30 days on both
 * sides: for the retention tests.
 */
export function shortRetentionDraft(a: string, b: string, days: Record<string, number> = { aci: 1 }): Record<string, unknown> {
  const draft = openAgreementDraft(a, b);
  const directions = draft['directions'] as { messages: { type: string; retentionDays: number }[] }[];
  for (const d of directions) for (const m of d.messages) m.retentionDays = days[m.type] ?? 30;
  return draft;
}

export interface NetworkOptions {
  /** Pairs that get an agreement signed by both (default: every pair, with openAgreementDraft). */
  agreements?: { a: string; b: string; draft?: Record<string, unknown> }[];
  nodeOptions?: (country: string) => NodeOptions;
  start?: boolean;
  /** Runs after every node's `gnc init`, before they pin each other: change an identity there. */
  prepare?: (dirs: Record<string, string>) => void | Promise<void>;
}

/**
 * The libp2p address of a test node. `gnc init` turns `tcp/0` into a random free port of the stable range (10000 up to
 * the kernel's ephemeral range) and keeps it across restarts; with two test files running at once, a port one file's
 * node leaves free while it is stopped for a restart could be drawn by the other file's init, and the restart then
 * fails with EADDRINUSE. So each vitest worker (VITEST_POOL_ID) takes its ports from its own block of that range, in
 * turn from a random start: no two workers ever draw the same port.
 */
export function testListen(): string {
  const worker = Math.max(1, Number(process.env['VITEST_POOL_ID'] ?? '1'));
  const block = 5_000;
  const first = 10_000 + ((worker - 1) % 4) * block;
  portTurn = portTurn < 0 ? Math.floor(Math.random() * block) : (portTurn + 1) % block;
  return `/ip4/127.0.0.1/tcp/${first + portTurn}`;
}
let portTurn = -1;

export async function initNode(base: string, country: string): Promise<string> {
  const dir = join(base, country.toLowerCase());
  const r = await runCli(['init', '--dir', dir, '--country', country, '--name', `Customs of ${country}`, '--listen', testListen()]);
  if (r.code !== 0) throw new Error(`init ${country} failed: ${r.out.join('\n')}`);
  return dir;
}

export async function pinEachOther(dirs: Record<string, string>, base: string): Promise<void> {
  for (const [c, dir] of Object.entries(dirs)) {
    const file = join(base, `${c}.identity.json`);
    writeFileSync(file, JSON.stringify(exportIdentity(loadIdentity(dir))));
  }
  for (const [c, dir] of Object.entries(dirs)) {
    for (const [p] of Object.entries(dirs)) {
      if (p === c) continue;
      const fp = loadIdentity(dirs[p]!).root.thumbprint;
      const r = await runCli(['partner', 'add', '--dir', dir, join(base, `${p}.identity.json`), `--fingerprint=${fp}`]);
      if (r.code !== 0) throw new Error(`partner add ${p} into ${c} failed: ${r.out.join('\n')}`);
    }
  }
}

/** The data dirs of KZ and KG, each made by `gnc init` under `base` and pinned to the other (no agreement yet). */
export async function pinnedPairDirs(base: string): Promise<{ KZ: string; KG: string }> {
  const dirs = { KZ: await initNode(base, 'KZ'), KG: await initNode(base, 'KG') };
  await pinEachOther(dirs, base);
  return dirs;
}

/** Draft and sign an agreement on both sides (file exchange path: a signs, b imports and countersigns, a imports). */
export async function signAgreementBoth(dirs: Record<string, string>, a: string, b: string, draft: Record<string, unknown>): Promise<void> {
  const na = openOffline(dirs[a]!);
  const nb = openOffline(dirs[b]!);
  try {
    const sa = new AgreementService(na.parts, na.agreements, () => na.submit);
    const sb = new AgreementService(nb.parts, nb.agreements, () => nb.submit);
    const signedA = await sa.sign(sa.draft(draft));
    // file exchange: b imports a's signed copy and countersigns; a imports the result (no wire traffic)
    const both = await sb.sign(sb.import(signedA.signed).signed, { returnToProposer: false });
    sa.import(both.signed);
  } finally {
    await na.close();
    await nb.close();
  }
}

/** The node of data dir `dir` (made by initNode), not started, with a new token of every scope. */
export function openTestNode(country: string, dir: string, options: NodeOptions = {}): TestNode {
  const store = Store.open(dir);
  const { token } = store.tokens.create('test', ['submit', 'read', 'admin']);
  store.close();
  const node = openNode(dir, { apiPort: 0, log: () => undefined, retry: TEST_RETRY, ...options });
  return { country, dir, node, token, url: '' };
}

/** openTestNode, started. */
export async function startTestNode(country: string, dir: string, options: NodeOptions = {}): Promise<TestNode> {
  const n = openTestNode(country, dir, options);
  await n.node.start();
  n.url = n.node.apiUrl;
  return n;
}

/**
 * The data dirs of KZ and KG pinned to each other under an open agreement both signed, KG's node certificate valid for
 * one day only (`gnc init --validity-days 1`): for the tests of what happens once a node key has expired.
 */
export async function oneDayKgDirs(base: string): Promise<{ KZ: string; KG: string }> {
  const dirs = { KZ: await initNode(base, 'KZ'), KG: join(base, 'kg') };
  const init = await runCli(['init', '--dir', dirs.KG, '--country', 'KG', '--name', 'Customs of KG', '--listen', testListen(), '--validity-days', '1']);
  if (init.code !== 0) throw new Error(`gnc init KG failed: ${init.out.join('\n')}`);
  await pinEachOther(dirs, base);
  await signAgreementBoth(dirs, 'KZ', 'KG', openAgreementDraft('KZ', 'KG'));
  return dirs;
}

/**
 * KZ and KG of oneDayKgDirs started for the file (stopped and removed after it), with clocks that run `ahead` ms ahead of
 * the wall clock: a test sets `ahead` to move both past KG's one-day certificate together. `pinKgAtKz` has KZ pin KG's
 * identity file as it is now (after KG's rotation to a new key), as an operator does with `gnc partner add`.
 */
export function oneDayKgForFile(prefix: string): { base: string; nodes: Record<string, TestNode>; ahead: number; clock: () => number; pinKgAtKz: () => Promise<void> } {
  const t = {
    base: tempDir(prefix), nodes: {} as Record<string, TestNode>, ahead: 0, clock: (): number => Date.now() + t.ahead,
    pinKgAtKz: async (): Promise<void> => {
      const file = join(t.base, 'kg-new.identity.json');
      const exported = await runCli(['identity', 'export', '--dir', t.nodes.KG!.dir, '--out', file, '--force']);
      if (exported.code !== 0) throw new Error(`gnc identity export KG failed: ${exported.out.join('\n')}`);
      const pinned = await runCli(['partner', 'add', '--dir', t.nodes.KZ!.dir, file, '--fingerprint', loadIdentity(t.nodes.KG!.dir).root.thumbprint]);
      if (pinned.code !== 0) throw new Error(`gnc partner add KG into KZ failed: ${pinned.out.join('\n')}`);
    },
  };
  beforeAll(async () => {
    const dirs = await oneDayKgDirs(t.base);
    for (const [c, dir] of Object.entries(dirs)) t.nodes[c] = await startTestNode(c, dir, { clock: t.clock });
  }, 60_000);
  afterAll(async () => {
    for (const n of Object.values(t.nodes)) await n.node.stop().catch(() => undefined);
    rmSync(t.base, { recursive: true, force: true });
  });
  return t;
}

export async function makeNetwork(countries: string[], opts: NetworkOptions = {}): Promise<{ base: string; nodes: Record<string, TestNode>; dirs: Record<string, string>; close(): Promise<void> }> {
  const base = tempDir();
  const dirs: Record<string, string> = {};
  for (const c of countries) dirs[c] = await initNode(base, c);
  await opts.prepare?.(dirs);
  await pinEachOther(dirs, base);
  const pairs: NonNullable<NetworkOptions['agreements']> = opts.agreements ?? countries.flatMap((a, i) => countries.slice(i + 1).map((b) => ({ a, b })));
  for (const p of pairs) await signAgreementBoth(dirs, p.a, p.b, p.draft ?? openAgreementDraft(p.a, p.b));
  const nodes: Record<string, TestNode> = {};
  for (const c of countries) nodes[c] = openTestNode(c, dirs[c]!, opts.nodeOptions?.(c));
  if (opts.start !== false) {
    for (const n of Object.values(nodes)) {
      await n.node.start();
      n.url = n.node.apiUrl;
    }
  }
  return {
    base,
    nodes,
    dirs,
    async close() {
      for (const n of Object.values(nodes)) await n.node.stop().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export type Network = Awaited<ReturnType<typeof makeNetwork>>;

/**
 * The network of one test file, made before its first test and closed after its last. The objects are returned at
 * once and filled in by the beforeAll, so a file can name them where it used to declare them:
 * `const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);` (read them inside tests and hooks).
 */
export function networkForFile<const C extends string>(countries: readonly C[], opts: NetworkOptions = {}, timeoutMs = 60_000): { net: Network; nodes: Record<C, TestNode> } {
  const net = {} as Network;
  const nodes = Object.fromEntries(countries.map((c) => [c, {} as TestNode])) as Record<C, TestNode>;
  beforeAll(async () => {
    const made = await makeNetwork([...countries], opts);
    // the file's objects stand for the network's own, so that close() stops a node a test restarted on them
    for (const c of countries) made.nodes[c] = Object.assign(nodes[c], made.nodes[c]);
    Object.assign(net, made);
  }, timeoutMs);
  afterAll(async () => net.close?.());
  return { net, nodes };
}

/**
 * One clock for the nodes of a test, `ahead` ms ahead of the wall clock (the test moves it), back to the wall clock
 * after each test. Made before networkPerTest, its reset runs after the network has closed.
 */
export function sharedClockPerTest(): { ahead: number; clock: () => number } {
  const t = { ahead: 0, clock: (): number => Date.now() + t.ahead };
  afterEach(() => {
    t.ahead = 0;
  });
  return t;
}

/**
 * Moves clock `t` (sharedClockPerTest) to `ahead` once `from`'s dispatcher has nothing of partner `to`'s taken
 * (Dispatcher.inFlight), in the same turn: no attempt judged by the clock before the move is handed over after it. A
 * test that jumps the clock past the maximum message age while the partner is away needs this: such an attempt, handed
 * over once the partner is back, reaches it older than its acceptance window and is refused (GNC_CLOCK_SKEW), where the
 * test means the envelope to be sealed again by the sender's own check (a business message ends rejected; a control
 * envelope is sealed again after the refusal, once, which is another path: reseal-refused.test.ts).
 */
export async function moveClockWhenIdle(t: { ahead: number }, from: TestNode, to: string, ahead: number): Promise<void> {
  await waitFor(() => (from.node.dispatcher.inFlight(to) === 0 ? ((t.ahead = ahead), true) : undefined), 10_000, `${from.country} to have nothing on its way to ${to}`);
}

/**
 * A network per test, closed after the test that made it: `const network = networkPerTest();`, then in a test
 * `const net = await network(['KZ', 'KG'], opts);`.
 */
export function networkPerTest(): (countries: string[], opts?: NetworkOptions) => Promise<Network> {
  let current: Network | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (countries, opts) => (current = await makeNetwork(countries, opts));
}

/**
 * An initialised data dir per test with the offline node (store and services, no network) opened on it, both gone
 * after the test: `const offlineNode = offlineNodePerTest();`, then in a test
 * `const { dir, off } = await offlineNode('KG', (dir) => ...files to write before it opens...);`.
 */
export function offlineNodePerTest(): (country: string, prepare?: (dir: string) => void) => Promise<{ dir: string; off: OfflineNode }> {
  let base: string | undefined;
  let off: OfflineNode | undefined;
  afterEach(async () => {
    await off?.close();
    if (base) rmSync(base, { recursive: true, force: true });
    off = undefined;
    base = undefined;
  });
  return async (country, prepare) => {
    base = tempDir();
    const dir = await initNode(base, country);
    prepare?.(dir);
    off = openOffline(dir, { log: () => undefined });
    return { dir, off };
  };
}

/** Open a stopped node's data dir again (test defaults, then `options`) and start it: a restart. */
export async function restartNode(n: TestNode, options: NodeOptions = {}): Promise<void> {
  n.node = openNode(n.dir, { apiPort: 0, log: () => undefined, retry: TEST_RETRY, ...options });
  await n.node.start();
  n.url = n.node.apiUrl;
}

/** A request to `n`'s API with its token: `body` as JSON, or a string or bytes as they are (give their content-type). */
export async function api(n: TestNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const raw = typeof body === 'string' || body instanceof Uint8Array;
  const res = await fetch(`${n.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${n.token}`, ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** Message `id` as `GET /v1/messages/{id}` on `n` gives it, once it is final (delivered, rejected or expired). */
export async function finalMessage(n: TestNode, id: string, timeoutMs = 15_000): Promise<any> {
  return waitFor(async () => {
    const m = (await api(n, 'GET', `/v1/messages/${id}`)).json;
    return ['delivered', 'rejected', 'expired'].includes(m.status) ? m : undefined;
  }, timeoutMs, `message ${id} to be final`);
}

/**
 * The partner never gets the receipt of the first envelope `n` handles: `n` commits the message and its receipt,
 * then every connection of `n` drops before the receipt leaves (once); the sender sends the envelope again later.
 */
export function loseFirstReceipt(n: TestNode): void {
  let cut = 0;
  const receiver = n.node.receiver;
  const handle = receiver.handle.bind(receiver);
  receiver.handle = async (bytes, peer) => {
    const answer = await handle(bytes, peer);
    if (cut++ === 0) for (const c of n.node.host!.getConnections()) c.abort(new Error('connection lost after commit'));
    return answer;
  };
}

/**
 * The partner never gets the receipt of the first envelope `n` handles (as loseFirstReceipt), and every later envelope
 * is dropped on arrival, unprocessed, with the connection, until `release()`: the sender keeps what it handed over
 * waiting, with no receipt, for as long as the test needs.
 */
export function loseFirstReceiptAndHold(n: TestNode): () => void {
  const receiver = n.node.receiver;
  const handle = receiver.handle.bind(receiver);
  let calls = 0;
  let holding = true;
  const drop = (): void => {
    for (const c of n.node.host!.getConnections()) c.abort(new Error('connection lost'));
  };
  receiver.handle = async (bytes, peer) => {
    if (!holding) return handle(bytes, peer);
    if (calls++ > 0) {
      drop();
      throw new Error('dropped by the test');
    }
    const answer = await handle(bytes, peer);
    drop();
    return answer;
  };
  return () => {
    holding = false;
  };
}

/** Submits through `n`'s API and waits for the final status, as an integrator with `Prefer: wait` does (its summary). */
export async function submitAndWait(n: TestNode, submission: Record<string, unknown>): Promise<{ id: string; status: string }> {
  const r = await api(n, 'POST', '/v1/messages', submission, { prefer: 'wait=30, return=minimal' });
  expect(r.status, r.text).toBe(200);
  return r.json as { id: string; status: string };
}

/** The message id an envelope's payload names. */
export function payloadId(bytes: Uint8Array): string {
  const jws = JSON.parse(new TextDecoder().decode(bytes)) as { payload: string };
  return (JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as { id: string }).id;
}

/**
 * The shared clock `t` (sharedClockPerTest) moves ahead by `pauses[i]` ms as the i-th envelope reaches `n`, before `n`
 * handles it: the time between the sender's check of the envelope and its arrival (the sender's machine suspended, a
 * long GC, a slow disk), which moves every node's clock. What comes after the last pause is handled as it comes.
 */
export function pauseBeforeArrival(n: TestNode, t: { ahead: number }, pauses: number[]): void {
  const receiver = n.node.receiver;
  const handle = receiver.handle.bind(receiver);
  let arrived = 0;
  receiver.handle = async (bytes, peer) => {
    t.ahead += pauses[arrived++] ?? 0;
    return handle(bytes, peer);
  };
}

/** `n` holds every receipt back until `release()`, after committing the message; `arrived`: the ids, in order. */
export function holdReceipts(n: TestNode): { arrived: string[]; release: () => void } {
  const receiver = n.node.receiver;
  const handle = receiver.handle.bind(receiver);
  const arrived: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  receiver.handle = async (bytes, peer) => {
    const receipt = await handle(bytes, peer);
    arrived.push(payloadId(bytes));
    await released;
    return receipt;
  };
  return {
    arrived,
    release: () => {
      receiver.handle = handle;
      release();
    },
  };
}

/** `sent` of `n`'s outbox row for its message `id` to `partner` (1 once an attempt handed it over), if it is queued. */
export function outboxSent(n: TestNode, partner: string, id: string): number | undefined {
  return n.node.parts.store.db.prepare(`SELECT o.sent FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.direction = 'out' AND m.partner = ? AND m.id = ?`).pluck().get(partner, id) as number | undefined;
}

/** Poll until `check` returns a value (bounded: gives up after `timeoutMs`). */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
