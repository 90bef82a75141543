/**
 * `node dist/examples/soak/run.js [--messages 20000] [--restarts 4] [--minutes 5] [--keep] [--snapshots]`: a bounded soak of two
 * node processes on 127.0.0.1 (KZ sends, KG receives), for what a node that runs for months must not do: keep memory,
 * timers or sockets per message, per partner restart or per API client. Through KZ's API it submits the messages in
 * rounds (some waiting for their receipt with `Prefer: wait=`, some with an Idempotency-Key, some sent again with
 * it), while event-stream clients connect to both nodes' /v1/arrivals/stream and leave; between rounds KG stops (the
 * connection drops), submissions waiting for a receipt time out meanwhile, and KG starts again to drain the queue.
 * KG's risk view posts each assessment to a webhook receiver of this script's on 127.0.0.1, which refuses one in fifty
 * (the sender retries it). After each round each node's heap is sampled after a forced garbage collection, by a probe loaded into the node
 * processes by this script only (probe.ts). It prints the samples and KZ's growth from the first round to the last;
 * it stops by itself after --minutes (exit code 1 then) and removes its temporary folder unless --keep. With --snapshots
 * each sample also writes a heap snapshot into the node's data dir (keep them with --keep), to compare in Chrome DevTools.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { negotiate, setupNetwork, startNode, stopNode, until, type NodeProcess } from '../demo/proc.js';
import { call } from '../bench/e2e.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NODE_ARGS = ['--expose-gc', '--import', new URL('./probe.js', import.meta.url).href];
const say = (s: string): void => void process.stdout.write(s + '\n');

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const v = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} takes a number`);
  return v;
}

interface Sample {
  at: number;
  gc: boolean;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  resources: Record<string, number>;
}

/** Asks the probe in `n`'s process for a sample (after a garbage collection) and returns it. */
async function sample(n: NodeProcess): Promise<Sample> {
  const file = join(n.dir, 'soak-probe.jsonl');
  const lines = (): string[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);
  const before = lines().length;
  n.child.kill('SIGUSR2');
  const line = await until(`a memory sample of ${n.country}`, async () => lines()[before], 20_000);
  return JSON.parse(line) as Sample;
}

const mb = (b: number): string => (b / 1048576).toFixed(1);
function show(phase: string, country: string, s: Sample): void {
  const res = Object.entries(s.resources).map(([k, v]) => `${k} ${v}`).join(', ');
  say(`   ${phase.padEnd(22)} ${country}  rss ${mb(s.rss).padStart(6)} MB  heap ${mb(s.heapUsed).padStart(6)} MB  external ${mb(s.external).padStart(5)} MB  [${res}]`);
}

/** Event-stream clients that connect to `nodes` and leave after a moment, until `stop()`; returns how many connected. */
function streamChurn(nodes: () => NodeProcess[]): { stop: () => Promise<number> } {
  let running = true;
  let opened = 0;
  const loop = (async () => {
    while (running) {
      await Promise.all(nodes().map(async (n) => {
        const ac = new AbortController();
        try {
          const res = await fetch(`${n.url}/v1/arrivals/stream`, { headers: { authorization: `Bearer ${n.token}` }, signal: ac.signal });
          if (res.status === 200) opened++;
          const reader = res.body?.getReader();
          await Promise.race([reader?.read(), new Promise((r) => setTimeout(r, 100 + Math.random() * 400))]);
        } catch {
          /* a node restarting */
        }
        ac.abort();
      }));
    }
  })();
  return { stop: async () => ((running = false), await loop, opened) };
}

async function submitAll(kz: NodeProcess, body: unknown, count: number, workers: number, pick: (i: number) => { headers: Record<string, string>; expect: number }): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < count) {
      const { headers, expect } = pick(next++);
      const r = await call(kz, 'POST', '/v1/messages', body, headers);
      // 0: either answer (200 with the outcome, or 202 once the wait ran out)
      if (expect === 0 ? r.status !== 200 && r.status !== 202 : r.status !== expect) throw new Error(`submission answered ${r.status}, expected ${expect}: ${r.text.slice(0, 300)}`);
    }
  }));
}

async function drained(kz: NodeProcess): Promise<void> {
  await until('KZ outbox to drain', async () => ((await call(kz, 'GET', '/v1/health')).json?.outbox === 0 ? true : undefined), 120_000);
}

/** A webhook receiver on 127.0.0.1 taking KG's assessment events: one POST in fifty is answered 500 (retried). */
async function webhookReceiver(): Promise<{ server: Server; url: string; posts: () => number }> {
  let posts = 0;
  const server = createServer((req, res) => {
    posts++;
    req.resume().on('end', () => res.writeHead(posts % 50 === 0 ? 500 : 204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/assessments`, posts: () => posts };
}

/** KG's risk rules: assessments go to `url`, signed with a secret the node reads from its environment (this one's). */
function writeWebhookRules(dir: string, url: string): void {
  process.env['GNC_SOAK_WEBHOOK_SECRET'] ??= randomUUID() + randomUUID();
  const webhook = { url, secretEnv: 'GNC_SOAK_WEBHOOK_SECRET', maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 1000, timeoutMs: 5000, maxAgeHours: 1 };
  writeFileSync(join(dir, 'risk-rules.json'), JSON.stringify({ v: 1, webhook }, null, 2));
}

async function main(): Promise<void> {
  if (process.argv.includes('--snapshots')) process.env['GNC_SOAK_SNAPSHOTS'] = '1';
  const messages = option('messages', 20_000);
  const restarts = option('restarts', 4);
  const deadline = setTimeout(() => {
    say(`soak stopped after ${option('minutes', 5)} minutes`);
    process.exit(1);
  }, option('minutes', 5) * 60_000);
  deadline.unref();
  const base = mkdtempSync(join(tmpdir(), 'gnc-soak-'));
  let nodes: Record<string, NodeProcess> = {};
  const receiver = await webhookReceiver();
  try {
    nodes = await setupNetwork(base, { KZ: 'Soak KZ', KG: 'Soak KG' }, () => undefined, NODE_ARGS);
    writeWebhookRules(nodes.KG!.dir, receiver.url); // read at KG's next look at its rules file
    await negotiate(nodes.KZ!, nodes.KG!, join(ROOT, 'examples', 'agreements', 'kz-kg-mra.json'), base);
    const body = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: JSON.parse(readFileSync(join(ROOT, 'examples', 'messages', 'aci-kz-kg-road.json'), 'utf8')) };
    const t0 = performance.now();
    say(`Soak: ${messages} messages KZ -> KG in ${restarts + 1} rounds; between rounds KG (first half) or KZ (second half) stops and starts with messages on the wire; event streams come and go`);
    let keys: string[] = [];
    const pick = (i: number): { headers: Record<string, string>; expect: number } => {
      if (i % 10 === 0) return { headers: { prefer: 'wait=30, return=minimal' }, expect: 200 };
      if (i % 7 === 0) {
        // a new key, or one of the last round's again (answered from the stored key, 202 with the same message)
        const key = i % 14 === 0 && keys.length > 0 ? keys[i % keys.length]! : randomUUID();
        keys.push(key);
        return { headers: { 'idempotency-key': key }, expect: 202 };
      }
      return { headers: {}, expect: 202 };
    };
    await submitAll(nodes.KZ!, body, 500, 16, pick); // warm-up: JIT, caches, connections
    await drained(nodes.KZ!);
    const first = { KZ: await sample(nodes.KZ!), KG: await sample(nodes.KG!) };
    show('after warm-up', 'KZ', first.KZ);
    show('after warm-up', 'KG', first.KG);
    // the first half of the restarts stop KG (KZ runs throughout them), the second half KZ (KG runs throughout those)
    const restartsKg = Math.ceil(restarts / 2);
    let since = { KZ: first.KZ, KG: first.KG };
    const perRound = Math.ceil(messages / (restarts + 1));
    const restart = async (country: 'KZ' | 'KG'): Promise<void> => {
      const n = nodes[country]!;
      await stopNode(n);
      nodes[country] = await startNode(country, n.dir, n.token, Number(new URL(n.url).port), NODE_ARGS);
    };
    for (let round = 0; round <= restarts; round++) {
      keys = keys.slice(-200);
      const churn = streamChurn(() => [nodes.KZ!, nodes.KG!]);
      await submitAll(nodes.KZ!, body, perRound, 32, pick);
      const streams = await churn.stop();
      await drained(nodes.KZ!);
      const end = { KZ: await sample(nodes.KZ!), KG: await sample(nodes.KG!) };
      show(`round ${round + 1} (${streams} streams)`, 'KZ', end.KZ);
      show(`round ${round + 1}`, 'KG', end.KG);
      if (round === restartsKg) say(`KZ (running since the start, through ${restartsKg} restarts of KG): heap ${mb(since.KZ.heapUsed)} -> ${mb(end.KZ.heapUsed)} MB, rss ${mb(since.KZ.rss)} -> ${mb(end.KZ.rss)} MB after warm-up`);
      if (round === restarts) say(`KG (running since round ${restartsKg + 1}, through ${restarts - restartsKg} restarts of KZ): heap ${mb(since.KG.heapUsed)} -> ${mb(end.KG.heapUsed)} MB, rss ${mb(since.KG.rss)} -> ${mb(end.KG.rss)} MB`);
      if (round === restarts) break;
      // a restart with messages on the wire: the connection drops under them
      await submitAll(nodes.KZ!, body, 256, 32, () => ({ headers: {}, expect: 202 }));
      if (round < restartsKg) {
        await restart('KG');
        // while KG starts, submissions waiting for their receipt may time out
        await submitAll(nodes.KZ!, body, 64, 32, () => ({ headers: { prefer: 'wait=1, return=minimal' }, expect: 0 }));
      } else {
        await restart('KZ');
      }
      await drained(nodes.KZ!);
      if (round + 1 === restartsKg) since = { ...since, KG: await sample(nodes.KG!) };
    }
    say(`Done in ${((performance.now() - t0) / 1000).toFixed(0)} s; the webhook receiver got ${receiver.posts()} POSTs`);
  } finally {
    await Promise.all(Object.values(nodes).map(stopNode));
    receiver.server.closeAllConnections();
    receiver.server.close();
    if (!process.argv.includes('--keep')) rmSync(base, { recursive: true, force: true });
    else say(`Data dirs kept in ${base}`);
    clearTimeout(deadline);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
