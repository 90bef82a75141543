/**
 * Process helpers of the demo and the bench: run `gnc` subcommands, start nodes as separate processes and
 * wait for their API, talk to the API with a token. Everything stays on 127.0.0.1.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
export const GNC_BIN = fileURLToPath(new URL('../../node/cli/bin.js', import.meta.url));

export async function gnc(...args: string[]): Promise<string> {
  try {
    const r = await run(process.execPath, [GNC_BIN, ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`gnc ${args.slice(0, 2).join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export interface NodeProcess {
  country: string;
  dir: string;
  child: ChildProcess;
  url: string;
  token: string;
}

/**
 * A node process; it runs with this process's Node flags, so that `node --cpu-prof dist/examples/bench/run.js e2e`
 * profiles the nodes too (one .cpuprofile per process, named by its pid), and with `nodeArgs` after them (the soak
 * run's probe).
 */
export async function startNode(country: string, dir: string, token: string, apiPort: number, nodeArgs: readonly string[] = []): Promise<NodeProcess> {
  const child = spawn(process.execPath, [...process.execArgv, ...nodeArgs, GNC_BIN, 'start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stdout!.on('data', () => undefined);
  const url = `http://127.0.0.1:${apiPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${country} node exited (${child.exitCode}): ${logs.join('').slice(-2000)}`);
    try {
      const r = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${country} node did not start: ${logs.join('').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { country, dir, child, url, token };
}

export async function stopNode(n: NodeProcess): Promise<void> {
  if (n.child.exitCode !== null) return;
  const exited = new Promise<void>((r) => n.child.once('exit', () => r()));
  n.child.kill('SIGTERM');
  // the grace timer is cleared once the node has exited, or the demo would linger 10 s after its summary
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (grace = setTimeout(r, 10_000)))]);
  clearTimeout(grace);
  if (n.child.exitCode === null) n.child.kill('SIGKILL');
}

export async function call(n: NodeProcess, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${n.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${n.token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Identities, mutual pinning by fingerprint, tokens and running node processes for the given
 * administrations, in a fresh `base` folder (used by the demo and the bench).
 */
export async function setupNetwork(base: string, names: Record<string, string>, say: (line: string) => void, nodeArgs: readonly string[] = []): Promise<Record<string, NodeProcess>> {
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const countries = Object.keys(names);
  const dirs = Object.fromEntries(countries.map((c) => [c, join(base, c.toLowerCase())]));
  say('1. Each administration creates its identity (root key, node key, libp2p key, root-signed node certificate)');
  await Promise.all(countries.map((c) => gnc('init', '--dir', dirs[c]!, '--country', c, '--name', names[c]!, '--listen', '/ip4/127.0.0.1/tcp/0')));
  const fingerprints: Record<string, string> = {};
  for (const c of countries) {
    const file = join(base, `${c}.identity.json`);
    await gnc('identity', 'export', '--dir', dirs[c]!, '--out', file);
    fingerprints[c] = (JSON.parse(readFileSync(file, 'utf8')) as { root: { fingerprint: string } }).root.fingerprint;
    say(`   ${c}  root fingerprint ${fingerprints[c]}`);
  }
  say("2. Each pair pins the other's root, checking the fingerprint received by another channel");
  for (const c of countries) {
    for (const p of countries) if (p !== c) await gnc('partner', 'add', '--dir', dirs[c]!, join(base, `${p}.identity.json`), `--fingerprint=${fingerprints[p]!}`);
  }
  const nodes: Record<string, NodeProcess> = {};
  say('3. Nodes start as separate processes');
  await Promise.all(
    countries.map(async (c) => {
      const { token } = JSON.parse(await gnc('token', 'create', '--dir', dirs[c]!, '--name', 'demo-integrator', '--scopes', 'submit,read,admin', '--json')) as { token: string };
      const cfg = JSON.parse(readFileSync(join(dirs[c]!, 'gnc.json'), 'utf8')) as { api: { port: number } };
      nodes[c] = await startNode(c, dirs[c]!, token, cfg.api.port, nodeArgs);
      say(`   ${c}  API ${nodes[c]!.url}/v1`);
    }),
  );
  return nodes;
}

/** Proposer drafts, signs and proposes over the wire; the partner countersigns; both see it in force. */
export async function negotiate(proposer: NodeProcess, partner: NodeProcess, draftPath: string, workDir: string): Promise<string> {
  const out = join(workDir, `${proposer.country}-${partner.country}.draft.json`);
  await gnc('agreement', 'draft', '--dir', proposer.dir, draftPath, '--out', out);
  const id = (JSON.parse(Buffer.from((JSON.parse(readFileSync(out, 'utf8')) as { payload: string }).payload, 'base64url').toString()) as { id: string }).id;
  await gnc('agreement', 'sign', '--dir', proposer.dir, out, '--propose');
  await until(`${partner.country} to receive ${id}`, async () => ((await call(partner, 'GET', `/v1/agreements/${id}`)).status === 200 ? true : undefined));
  await gnc('agreement', 'sign', '--dir', partner.dir, '--id', id);
  for (const n of [proposer, partner]) {
    await until(`${id} in force at ${n.country}`, async () => ((await call(n, 'GET', `/v1/agreements/${id}`)).json?.status === 'active' ? true : undefined));
  }
  return id;
}
