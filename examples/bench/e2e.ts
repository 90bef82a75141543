/**
 * End-to-end and API figures between two node processes on 127.0.0.1 (KZ sends, KG receives): a message
 * counts when KZ has recorded KG's signed receipt, which KG sends only after its durable commit. Latency is
 * measured from the submission to its answer: each submission carries `Prefer: wait=30, return=minimal`, so the
 * node answers once the receipt is recorded (200 with status delivered and the receipt's outcome), as an
 * integrator that needs the receipt, and already has the body it sent, would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { startNode, stopNode, type NodeProcess } from '../demo/proc.js';

/** Keep-alive HTTP/1.1 client: fetch's default pool would measure connection setup, not the node. */
const agent = new Agent({ keepAlive: true, maxSockets: 128 });

/** One API request over the keep-alive pool (the bench's and the soak run's), with extra headers. */
export function call(n: NodeProcess, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
  const url = new URL(path, n.url);
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, timeout: 60_000,
        headers: { authorization: `Bearer ${n.token}`, ...extra, ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.end(data);
  });
}

export interface E2eFigures {
  e2e_msgs_per_s_1: number;
  e2e_p50_ms_1: number;
  e2e_p99_ms_1: number;
  e2e_msgs_per_s_64: number;
  e2e_p50_ms_64: number;
  e2e_p99_ms_64: number;
  api_submits_per_s_64: number;
  e2e_node_to_node_per_s_64: number;
  e2e_cpu_us_per_msg_64: number;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/**
 * User+system CPU time the node process has used so far, in microseconds, from /proc/<pid>/stat (Linux): the
 * bench's figure per message is this over a phase divided by the messages delivered, which other processes on
 * the same cores change far less than they change a rate.
 */
function cpuMicros(n: NodeProcess): number {
  const stat = readFileSync(`/proc/${n.child.pid}/stat`, 'utf8');
  // the command name (field 2) may hold spaces: fields are counted from after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / USER_HZ; // utime, stime: fields 14 and 15
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

/**
 * `inFlight` workers each submit and wait for the receipt, for `ms` milliseconds (bounded). With `window`, it is called
 * at a third of the time and at the end with the messages done so far: the CPU figure is read between the two, once
 * the JIT compilation that a new phase's load sets off has mostly run (it is the same whatever the messages cost).
 */
async function run(kz: NodeProcess, body: unknown, inFlight: number, ms: number, waitForReceipt: boolean, window?: (done: number) => void): Promise<{ rate: number; lat: number[] }> {
  const lat: number[] = [];
  const end = Date.now() + ms;
  const t0 = performance.now();
  let done = 0;
  const mark = window && setTimeout(() => window(done), ms / 3);
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < end) {
        const s = performance.now();
        const r = await call(kz, 'POST', '/v1/messages', body, waitForReceipt ? { prefer: 'wait=30, return=minimal' } : {});
        if (r.status !== (waitForReceipt ? 200 : 202)) throw new Error(`submit failed: ${r.status} ${r.text}`);
        if (waitForReceipt && (r.json.status !== 'delivered' || r.json.receiptStatus !== 'accepted')) throw new Error(`message ${r.json.id} ended ${r.json.status}`);
        lat.push(performance.now() - s);
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  clearTimeout(mark);
  window?.(done);
  return { rate: done / elapsed, lat: lat.sort((a, b) => a - b) };
}

/**
 * Node-to-node throughput alone: `count` messages wait, signed, in KZ's outbox while KG is stopped; KG starts,
 * and the clock runs from KG being up until KZ has recorded every signed receipt (64 in flight on the one
 * stream, durable commits on both sides). The HTTP clients of the other phases share these two cores; here
 * only the two nodes run. Returns messages per second and KG's restarted process.
 */
async function drain(kz: NodeProcess, kg: NodeProcess, body: unknown, count: number): Promise<{ rate: number; kg: NodeProcess }> {
  await stopNode(kg);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next++ < count) {
        const r = await call(kz, 'POST', '/v1/messages', body);
        if (r.status !== 202) throw new Error(`submit failed: ${r.status} ${r.text}`);
      }
    }),
  );
  const restarted = await startNode(kg.country, kg.dir, kg.token, Number(new URL(kg.url).port));
  const t0 = performance.now();
  for (let i = 0; i < 12_000; i++) {
    const h = await call(kz, 'GET', '/v1/health');
    if (h.json.outbox === 0) return { rate: count / ((performance.now() - t0) / 1000), kg: restarted };
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('KZ outbox did not drain within two minutes');
}

export async function benchE2e(kz: NodeProcess, kg: NodeProcess, examples: string, log: (s: string) => void): Promise<E2eFigures & { kg: NodeProcess }> {
  const body = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: JSON.parse(readFileSync(join(examples, 'messages', 'aci-kz-kg-road.json'), 'utf8')) };
  await run(kz, body, 8, 1500, true); // warm up JIT, connections, SQLite caches
  const one = await run(kz, body, 1, 4000, true);
  log(`   1 in flight:  ${one.rate.toFixed(0)} msg/s, p50 ${pct(one.lat, 50).toFixed(2)} ms, p99 ${pct(one.lat, 99).toFixed(2)} ms (${one.lat.length} messages)`);
  const cpu: { kz: number; kg: number; done: number }[] = [];
  const many = await run(kz, body, 64, 6000, true, (done) => cpu.push({ kz: cpuMicros(kz), kg: cpuMicros(kg), done }));
  const [from, to] = cpu as [(typeof cpu)[0], (typeof cpu)[0]];
  const perMsg = (side: 'kz' | 'kg'): number => (to[side] - from[side]) / (to.done - from.done);
  const cpuPerMsg = perMsg('kz') + perMsg('kg');
  log(`   64 in flight: ${many.rate.toFixed(0)} msg/s, p50 ${pct(many.lat, 50).toFixed(2)} ms, p99 ${pct(many.lat, 99).toFixed(2)} ms (${many.lat.length} messages)`);
  log(`   64 in flight: ${cpuPerMsg.toFixed(0)} us of CPU per message (KZ ${perMsg('kz').toFixed(0)}, KG ${perMsg('kg').toFixed(0)}; user+system, over the last two thirds of the phase)`);
  const api = await run(kz, body, 64, 4000, false);
  log(`   API submissions, 64 connections: ${api.rate.toFixed(0)} /s (p50 ${pct(api.lat, 50).toFixed(2)} ms)`);
  // let the queue drain so later sections measure an idle machine
  for (let i = 0; i < 600; i++) {
    const h = await call(kz, 'GET', '/v1/health');
    if (h.json.outbox === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const d = await drain(kz, kg, body, 5000);
  log(`   node to node, 64 in flight, 5,000 queued messages (no HTTP clients running): ${d.rate.toFixed(0)} msg/s`);
  return {
    kg: d.kg,
    e2e_node_to_node_per_s_64: round(d.rate, 1),
    e2e_msgs_per_s_1: round(one.rate, 1),
    e2e_p50_ms_1: round(pct(one.lat, 50)),
    e2e_p99_ms_1: round(pct(one.lat, 99)),
    e2e_msgs_per_s_64: round(many.rate, 1),
    e2e_p50_ms_64: round(pct(many.lat, 50)),
    e2e_p99_ms_64: round(pct(many.lat, 99)),
    e2e_cpu_us_per_msg_64: round(cpuPerMsg, 0),
    api_submits_per_s_64: round(api.rate, 1),
  };
}
