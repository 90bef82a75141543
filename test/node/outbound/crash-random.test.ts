/**
 * Both nodes killed (SIGKILL) at random moments under load, with real processes: KZ and KG each run as `gnc start` in
 * a child process on their own data dir, a client submits to KZ's API a few at a time (each submission with its own
 * Idempotency-Key, retried with that key until it is accepted, as an integrator does after a lost answer), and in
 * each round one of the two (taking turns, the first and every delay drawn from a seeded PRNG: GNC_CRASH_SEED=N
 * replays a run's schedule) is killed and started again. Once both have run undisturbed until KZ's outbox is empty,
 * what was promised holds: every acceptance (202, or 200 to a submission that waits for its receipt) is a message KZ
 * delivered, stored once at KG with exactly the bytes KZ sent, KZ holds KG's receipt (the very bytes KG stored,
 * verifying, naming that envelope's hash), KG holds nothing KZ never accepted, no key made two messages, and both
 * evidence logs name each envelope and receipt once and still verify.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prng } from '../../../examples/risk/traffic.js';
import { openOffline } from '../../../node/compose.js';
import { openReceipt } from '../../../node/receipts.js';
import { Store } from '../../../node/store/store.js';
import { BIN, gnc, queryDir } from '../../helpers/cli.js';
import { openAgreementDraft, pinnedPairDirs, signAgreementBoth, tempDir, TEST_RETRY, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';

/** The seed of the kill schedule (the bench's mulberry32 PRNG), named in the test's title: GNC_CRASH_SEED=N replays it. */
const SEED = Number(process.env['GNC_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
/** Kills per run; GNC_CRASH_ROUNDS=N runs a longer soak by hand (the suite keeps 5, well under a minute). */
const ROUNDS = Number(process.env['GNC_CRASH_ROUNDS'] ?? 5);
const IN_FLIGHT = 3;
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Proc {
  country: string;
  dir: string;
  url: string;
  token: string;
  child?: ChildProcess;
  stderr: string;
}

/** `gnc start` on `p.dir` as its own process. */
function spawnNode(p: Proc): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'start', '--dir', p.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  p.child = child;
  child.stderr!.on('data', (d: Buffer) => (p.stderr += d.toString()));
  return child;
}

/** spawnNode, resolving once its API answers. */
async function start(p: Proc): Promise<void> {
  const child = spawnNode(p);
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`gnc start ${p.country} exited ${child.exitCode}: ${p.stderr.slice(-2000)}`);
    return fetch(`${p.url}/v1/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok || undefined, () => undefined);
  }, 20_000, `${p.country} to answer`);
}

/** Ends `p`'s process with `signal` (SIGKILL: no clean-up at all) and waits until it has exited. */
function end(p: Proc, signal: NodeJS.Signals): Promise<void> {
  const c = p.child;
  if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    c.kill(signal);
  });
}

/**
 * One submission of the client: its key, the id its acceptance named, and what its attempts met on the way. `wait`: it
 * asks for the receipt in the answer (Prefer: wait), so that its request is open, its message committed, most of the
 * time: a kill of KZ then nearly always cuts off an answer whose message exists, and the retry must be its replay.
 */
interface Sub {
  key: string;
  id?: string;
  attempts: number;
  failures: string[];
  replayed: boolean;
  wait: boolean;
}

async function submitOnce(kz: Proc, s: Sub): Promise<boolean> {
  s.attempts++;
  try {
    const r = await fetch(`${kz.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${kz.token}`, 'content-type': 'application/json', 'idempotency-key': s.key, ...(s.wait ? { prefer: 'wait=10, return=minimal' } : {}) },
      body: JSON.stringify(submission),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    // 202, or 200 with the final message when a wait for it was asked and it came in time
    if (r.status !== 202 && !(s.wait && r.status === 200)) {
      s.failures.push(`HTTP ${r.status} ${text.slice(0, 300)}`);
      return false;
    }
    s.id = (JSON.parse(text) as { id: string }).id;
    s.replayed = r.headers.get('idempotent-replayed') === 'true';
    return true;
  } catch (err) {
    s.failures.push(String((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message));
    return false;
  }
}

let base: string | undefined;
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) await end(p, 'SIGKILL');
  if (base) rmSync(base, { recursive: true, force: true });
});

describe(`both nodes killed at random moments under load (GNC_CRASH_SEED=${SEED})`, () => {
  it('lose no accepted submission, store each once, and hold a verifying receipt for each', async () => {
    const rnd = prng(SEED);
    base = tempDir('gnc-crash-random-');
    const dirs = await pinnedPairDirs(base);
    await signAgreementBoth(dirs, 'KZ', 'KG', openAgreementDraft('KZ', 'KG'));
    const proc = (country: 'KZ' | 'KG'): Proc => {
      const dir = dirs[country];
      const file = join(dir, 'gnc.json');
      const config = JSON.parse(readFileSync(file, 'utf8')) as { api: { port: number }; retry?: unknown };
      // fast retries, as the in-process test nodes have (TEST_RETRY): a restarted partner is tried again within a second
      config.retry = TEST_RETRY;
      writeFileSync(file, JSON.stringify(config, null, 2));
      const store = Store.open(dir);
      const { token } = store.tokens.create('crash-test', ['submit', 'read', 'admin']);
      store.close();
      return { country, dir, url: `http://127.0.0.1:${config.api.port}`, token, stderr: '' };
    };
    const kz = proc('KZ');
    const kg = proc('KG');
    procs.push(kz, kg);
    await Promise.all([start(kz), start(kg)]);

    // the client: IN_FLIGHT workers, each retrying its submission with the same key until it is accepted; the first
    // waits for each receipt
    const subs: Sub[] = [];
    let submitting = true;
    const worker = async (w: number): Promise<void> => {
      for (let n = 0; submitting; n++) {
        const s: Sub = { key: `crash-${SEED}-${w}-${n}`, attempts: 0, failures: [], replayed: false, wait: w === 0 };
        subs.push(s);
        while (!(await submitOnce(kz, s))) {
          if (s.attempts > 400) throw new Error(`submission ${s.key} was not accepted in ${s.attempts} attempts: ${s.failures.slice(-3).join('; ')}`);
          await sleep(100);
        }
      }
    };
    const client = Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
    // a worker that gives up fails the test at `await client` below, after the rounds, not as an unhandled rejection
    client.catch(() => undefined);

    const log: string[] = [];
    let victim = rnd() < 0.5 ? kz : kg;
    for (let round = 0; round < ROUNDS; round++) {
      const up = Math.round(200 + rnd() * 1000);
      const down = Math.round(rnd() * 300);
      await sleep(up);
      const before = subs.filter((s) => s.id).length;
      await end(victim, 'SIGKILL');
      log.push(`round ${round}: ${victim.country} killed after ${up} ms (${before} accepted so far), restarted after ${down} ms`);
      await sleep(down);
      if (rnd() < 0.3) {
        // now and then the restart itself is cut short: killed while it starts (opening the store, resuming the
        // outbox, greeting its partner), before or just after its API answers
        const early = Math.round(rnd() * 800);
        spawnNode(victim);
        await sleep(early);
        await end(victim, 'SIGKILL');
        log.push(`  its restart killed after ${early} ms`);
      }
      await start(victim);
      victim = victim === kz ? kg : kz;
    }
    submitting = false;
    await client;

    // both undisturbed until KZ's outbox is empty (bounded)
    const what = `seed ${SEED}\n${log.join('\n')}`;
    const queued = (): { status: string; n: number }[] => queryDir(kz.dir, 'SELECT m.status, COUNT(*) AS n FROM outbox o JOIN messages m ON m.seq = o.seq GROUP BY m.status');
    await waitFor(() => queued().length === 0 || undefined, 20_000, "KZ's outbox to drain").catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(queued())} left\n${what}`);
    });
    await Promise.all([end(kz, 'SIGTERM'), end(kg, 'SIGTERM')]);

    expect(subs.length, what).toBeGreaterThan(0);
    // each side's messages with the receipt it holds for them (KZ: the one it received; KG: the one it sent)
    type Row = { seq: number; id: string; status: string; sha256: string; jws: Buffer; created: string; receipt_id: string | null; receipt_status: string | null; receipt_sha256: string | null; receipt: Buffer | null };
    const rows = (dir: string, direction: string, partner: string): Row[] => queryDir<Row>(dir, `SELECT m.seq, m.id, m.status, m.sha256, c.jws, m.created, r.receipt_id, r.status AS receipt_status, r.sha256 AS receipt_sha256, r.jws AS receipt
      FROM messages m JOIN message_content c ON c.seq = m.seq LEFT JOIN receipts r ON r.message_seq = m.seq WHERE m.direction = ? AND m.partner = ? AND m.type = 'aci'`, direction, partner);
    const sent = rows(kz.dir, 'out', 'KG');
    const got = rows(kg.dir, 'in', 'KZ');
    /** What `a` holds that `b` lacks, and twice what is in `a` more than once. */
    const beyond = (a: string[], b: string[]): string[] => {
      const left = new Set(b);
      const seen = new Set<string>();
      return a.filter((x) => (seen.has(x) ? true : (seen.add(x), !left.has(x))));
    };
    const ids = subs.map((s) => s.id!);
    // KZ holds exactly the accepted submissions: none lost, none made twice by a retried key
    expect({ lost: beyond(ids, sent.map((r) => r.id)), unaccepted: beyond(sent.map((r) => r.id), ids) }, what).toEqual({ lost: [], unaccepted: [] });
    expect(queryDir<{ n: number }>(kz.dir, "SELECT COUNT(*) AS n FROM idempotency_keys WHERE key LIKE 'crash-%'")[0]!.n, what).toBe(subs.length);
    // each delivered; KG holds each of them once, and nothing KZ never accepted
    expect(sent.filter((r) => r.status !== 'delivered').map((r) => `${r.id} ${r.status}`), what).toEqual([]);
    expect({ missing: beyond(ids, got.map((r) => r.id)), unaccepted: beyond(got.map((r) => r.id), ids) }, what).toEqual({ missing: [], unaccepted: [] });
    const atKg = new Map(got.map((r) => [r.id, r]));
    // each side's evidence log names each envelope and each receipt once, by the hash of the bytes it holds
    const entries = (dir: string): Map<string, number> => {
      const counts = new Map<string, number>();
      const all = queryDir<{ e: string }>(dir, "SELECT json_extract(entry, '$.event') || ' ' || message_id || ' ' || json_extract(entry, '$.sha256') AS e FROM evidence");
      for (const { e } of all) counts.set(e, (counts.get(e) ?? 0) + 1);
      return counts;
    };
    const logged = { KZ: entries(kz.dir), KG: entries(kg.dir) };
    const unlogged = sent.flatMap((m) => {
      const want: [keyof typeof logged, string][] = [['KZ', `sent ${m.id} ${m.sha256}`], ['KZ', `receipt-received ${m.receipt_id} ${m.receipt_sha256}`], ['KG', `received ${m.id} ${m.sha256}`], ['KG', `receipt-sent ${m.receipt_id} ${m.receipt_sha256}`]];
      return want.filter(([c, e]) => logged[c].get(e) !== 1).map(([c, e]) => `${c}: ${e} logged ${logged[c].get(e) ?? 0} times`);
    });
    expect(unlogged, what).toEqual([]);
    const off = openOffline(kz.dir, { log: () => undefined });
    try {
      const { trust } = off.parts;
      const opts = { resolveKey: (kid: string) => trust.receiptKey(kid, 'KG'), self: 'KZ', now: Date.now(), clockSkewMs: 60_000, maxAgeMs: 3_600_000 };
      for (const m of sent) {
        const g = atKg.get(m.id)!;
        // exactly the bytes KZ sent, and KZ holds KG's receipt: the one KG stored, naming this envelope's hash, verifying
        // under KG's key
        expect({ sha256: g.sha256, same: Buffer.compare(g.jws, m.jws) === 0, receipt: g.receipt_id, receiptSha256: g.receipt_sha256 }, `${what}\n${m.id}`)
          .toEqual({ sha256: m.sha256, same: true, receipt: m.receipt_id, receiptSha256: m.receipt_sha256 });
        expect(m.receipt_status, `${what}\n${m.id}`).toBe('accepted');
        const { body } = openReceipt(new Uint8Array(m.receipt!), opts, { messageId: m.id, sha256: m.sha256, created: m.created, partner: 'KG' });
        expect(body.status).toBe('accepted');
      }
    } finally {
      await off.close();
    }
    // both evidence logs still verify
    for (const p of [kz, kg]) {
      const v = await gnc('audit', 'verify', '--dir', p.dir);
      expect(v.code, `${what}\n${p.country}: ${v.stdout}${v.stderr}`).toBe(0);
    }
    const interrupted = subs.filter((s) => s.failures.length > 0);
    console.log(`${what}\n${subs.length} submissions, ${interrupted.length} retried after a failed attempt, ${subs.filter((s) => s.replayed).length} answered as replays`);
  }, 90_000);
});
