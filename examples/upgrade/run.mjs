/**
 * Upgrade hunt, run by hand (not a test: it needs a second build and takes about two minutes). KZ and KG nodes made and
 * run by the previous release's build: ACI declarations, amendments and cancellations, e-CoO certificates (remarks "not
 * issued retrospectively"), AEO snapshots and changes with a repeated status, agreement versions 1 and 2 (ACI kept one
 * day), a key rotation, a retention purge two days later (each node's clock moved by clock.mjs). Then the same data dirs
 * are opened by this build: new gnc commands on a stopped old dir, KG upgraded while KZ stays old (messages and key
 * envelopes both ways, a root succession, agreement version 3, a message the old version queued), both upgraded, a purge
 * by the new version, and an old `gnc backup` restored into the new version. It compares GET /v1/messages, /v1/arrivals
 * (list, detail, CSV, JSON lines, stream replay and resume with an old Last-Event-ID), /v1/aeo, /v1/health and
 * /v1/agreements with what the old version answered, accepting only the deliberate differences (the CSV's last column
 * purgedVersions, health risk, a repeated AEO status shown once, ecoo-issued-retrospectively after migration 32, goods.unNumbers
 * after migration 43), and
 * runs gnc audit export/verify (old bundles with the new gnc, new bundles with the old) and gnc backup.
 *   git worktree add ../old a17674f && cp -al node_modules ../old/ && (cd ../old && npm run build) && npm run build
 *   node examples/upgrade/run.mjs ../old [BASE_DIR]
 * Prints ok/FAIL lines and exits 1 on any FAIL.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { call, until } from '../../dist/examples/demo/proc.js';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const NEW_ROOT = resolve(HERE, '../..');
const OLD_ROOT = resolve(process.argv[2] ?? '');
const BASE = resolve(process.argv[3] ?? '/tmp/gnc-upgrade');
const BIN = { old: join(OLD_ROOT, 'dist/node/cli/bin.js'), new: join(NEW_ROOT, 'dist/node/cli/bin.js') };
const CLOCK = pathToFileURL(join(HERE, 'clock.mjs')).href;
const EX = join(NEW_ROOT, 'examples/messages');
const DAY = 86_400_000;
/** How far each node's clock (and the gnc commands run on its data dir) runs ahead of this machine's. */
const offsets = { KZ: 0, KG: 0 };
const failures = [];
const say = (s) => process.stdout.write(s + '\n');
const fail = (s) => { failures.push(s); say(`FAIL ${s}`); };
const check = (ok, s) => (ok ? say(`ok   ${s}`) : fail(s));
const ex = (f) => JSON.parse(readFileSync(join(EX, f), 'utf8'));
const env = (c) => ({ ...process.env, GNC_CLOCK_OFFSET_MS: String(offsets[c] ?? 0) });
const ofDir = (args) => { const i = args.indexOf('--dir'); const d = i >= 0 ? args[i + 1] : ''; return /\/kz/.test(d) ? 'KZ' : 'KG'; };

async function gnc(ver, ...args) {
  try {
    return (await run(process.execPath, ['--import', CLOCK, BIN[ver], ...args], { env: env(ofDir(args)), timeout: 60_000, maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    throw new Error(`gnc(${ver}) ${args.slice(0, 2).join(' ')} failed (${e.code}): ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}
async function gncTry(ver, ...args) {
  try { return { code: 0, out: await gnc(ver, ...args) }; } catch (e) { return { code: 1, out: e.message }; }
}

const nodes = {};
/** Message ids whose GET /v1/arrivals/{id} answer is compared across versions. */
const probeIds = {};
async function start(c, ver) {
  const dir = join(BASE, c.toLowerCase());
  const port = JSON.parse(readFileSync(join(dir, 'gnc.json'), 'utf8')).api.port;
  const child = spawn(process.execPath, ['--import', CLOCK, BIN[ver], 'start', '--dir', dir], { env: env(c), stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  child.stderr.on('data', (d) => logs.push(d.toString()));
  child.stdout.on('data', (d) => logs.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${c} (${ver}) exited ${child.exitCode}: ${logs.join('').slice(-3000)}`);
    try { if ((await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1000) })).ok) break; } catch {}
    if (Date.now() > end) throw new Error(`${c} did not start: ${logs.join('').slice(-3000)}`);
    await sleep(100);
  }
  nodes[c] = { c, ver, dir, child, url, logs, token: nodes[c]?.token ?? readFileSync(join(BASE, `${c}.token`), 'utf8') };
  return nodes[c];
}
async function stop(c) {
  const n = nodes[c];
  if (!n || n.child.exitCode !== null) return;
  const exited = new Promise((r) => n.child.once('exit', r));
  n.child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (n.child.exitCode === null) { fail(`${c} did not stop on SIGTERM`); n.child.kill('SIGKILL'); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function send(from, to, type, purpose, body, ref, expect = 'delivered') {
  const r = await call(nodes[from], 'POST', '/v1/messages', { to, type, purpose, body, ...(ref ? { ref } : {}) });
  if (r.status !== 202) throw new Error(`${from}->${to} ${type}: ${r.status} ${r.text}`);
  const m = await until(`${from}->${to} ${r.json.id}`, async () => { const g = await call(nodes[from], 'GET', `/v1/messages/${r.json.id}`); return ['delivered', 'rejected', 'expired'].includes(g.json?.status) ? g.json : undefined; });
  if (expect && m.status !== expect) fail(`${from}->${to} ${type} ${r.json.id}: ${m.status} ${JSON.stringify(m.error ?? m.receipt?.error ?? '')} (${nodes[from].ver} -> ${nodes[to]?.ver})`);
  return { id: r.json.id, m };
}
const inHours = (h) => new Date(Date.now() + offsets.KZ + h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function draft(version, aciDays) {
  const scope = (type, days) => ({ type, fields: ['*'], minimise: false, purposes: ['pre-arrival-risk-assessment', 'aeo-mra-benefits', 'origin-verification'], retentionDays: days, onwardTransfer: false });
  const msgs = [scope('aci', aciDays), scope('ecoo', 30), scope('aeo', 30)];
  return {
    v: 1, id: 'KZ-KG-UPG', version, title: `KZ-KG upgrade hunt v${version}`, legalBasis: { instrument: 'mra', reference: 'Test MRA' },
    parties: [{ country: 'KZ', name: 'Customs of KZ', rootFingerprint: '@root:KZ' }, { country: 'KG', name: 'Customs of KG', rootFingerprint: '@root:KG' }],
    validFrom: '2026-01-01T00:00:00Z', validUntil: '2030-12-31T23:59:59Z',
    directions: [{ from: 'KZ', to: 'KG', messages: msgs }, { from: 'KG', to: 'KZ', messages: msgs }],
    contacts: ['KZ', 'KG'].map((c) => ({ country: c, name: 'Desk', role: 'operations', email: `desk@customs-${c.toLowerCase()}.example` })),
  };
}
async function negotiate(ver, proposer, partner, version, aciDays) {
  const f = join(BASE, `draft-v${version}.json`);
  writeFileSync(f, JSON.stringify(draft(version, aciDays)));
  const out = join(BASE, `draft-v${version}.jws.json`);
  await gnc(ver, 'agreement', 'draft', '--dir', nodes[proposer].dir, f, '--out', out, '--force');
  await gnc(ver, 'agreement', 'sign', '--dir', nodes[proposer].dir, out, '--propose');
  await until(`${partner} gets v${version}`, async () => ((await call(nodes[partner], 'GET', `/v1/agreements/KZ-KG-UPG`)).json?.versions?.some?.((v) => v.version === version) || (await call(nodes[partner], 'GET', `/v1/agreements/KZ-KG-UPG?version=${version}`)).status === 200 ? true : undefined));
  await gnc(nodes[partner].ver, 'agreement', 'sign', '--dir', nodes[partner].dir, '--id', 'KZ-KG-UPG', '--version', String(version));
  for (const c of [proposer, partner]) await until(`v${version} active at ${c}`, async () => { const a = (await call(nodes[c], 'GET', '/v1/agreements/KZ-KG-UPG')).json; return a?.status === 'active' && (a.version ?? a.document?.version) === version ? true : undefined; });
}

async function pages(n, path, key = 'items') {
  const out = [];
  let cursor;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await call(n, 'GET', `${path}${sep}limit=${path.startsWith('/v1/arrivals') ? 500 : 500}${cursor ? `&cursor=${cursor}` : ''}`);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
    out.push(...r.json[key]);
    if (!r.json.nextCursor) return out;
    cursor = r.json.nextCursor;
  }
}
async function sse(n, headers, ms = 2500) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), ms);
  let text = '';
  let status = 0;
  try {
    const res = await fetch(`${n.url}/v1/arrivals/stream${headers.after !== undefined ? `?after=${headers.after}` : ''}`, { headers: { authorization: `Bearer ${n.token}`, ...(headers['last-event-id'] ? { 'last-event-id': headers['last-event-id'] } : {}) }, signal: ctl.signal });
    status = res.status;
    const rd = res.body.getReader();
    for (;;) { const { value, done } = await rd.read(); if (done) break; text += Buffer.from(value).toString(); }
  } catch {}
  clearTimeout(t);
  const events = text.split('\n\n').filter((b) => b.includes('data:')).map((b) => ({ id: /^id: ?(.*)$/m.exec(b)?.[1], event: /^event: ?(.*)$/m.exec(b)?.[1], data: JSON.parse(b.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n')) }));
  return { status, events, text };
}

/** Everything the API shows of a node, for comparison across the upgrade. */
async function snapshot(c) {
  const n = nodes[c];
  const messages = await pages(n, '/v1/messages');
  const arrivals = await pages(n, '/v1/arrivals?includeCancelled=true');
  const details = {};
  for (const a of arrivals) details[a.id] = (await call(n, 'GET', `/v1/arrivals/${a.id}`)).json;
  const csv = (await call(n, 'GET', '/v1/arrivals/export?format=csv&includeCancelled=true')).text;
  const jsonl = (await call(n, 'GET', '/v1/arrivals/export?format=jsonl&includeCancelled=true')).text;
  const aeo = (await call(n, 'GET', '/v1/aeo?name=shymkent%20cotton')).json;
  const aeoIds = {};
  for (const id of ['KZAEO060140009876', 'KZAEO981140001234', 'KGAEO0210520162']) aeoIds[id] = (await call(n, 'GET', `/v1/aeo?id=${id}`)).json;
  const health = (await call(n, 'GET', '/v1/health')).json;
  const probes = {};
  for (const [k, id] of Object.entries(probeIds)) { const r = await call(n, 'GET', `/v1/arrivals/${id}`); probes[k] = `${r.status} ${r.json?.code ?? r.json?.status ?? ''} ${r.json?.id ?? ''} ${JSON.stringify(r.json?.purgedVersions ?? '')}`; }
  const stream = await sse(n, { after: 0 });
  const agreements = (await call(n, 'GET', '/v1/agreements')).json;
  return { messages, arrivals, details, csv, jsonl, aeo, aeoIds, health, stream, agreements, probes };
}
const strip = (m) => { const { ...x } = m; return x; };
function compareMessages(c, a, b) {
  const byKey = (l) => new Map(l.map((m) => [`${m.direction}/${m.partner ?? m.to ?? m.from}/${m.id}`, m]));
  const A = byKey(a), B = byKey(b);
  const lost = [...A.keys()].filter((k) => !B.has(k));
  check(lost.length === 0, `${c}: no message lost across the upgrade (${A.size} before, ${B.size} after)${lost.length ? `: lost ${lost.join(', ')}` : ''}`);
  let diffs = 0;
  for (const [k, m] of A) {
    const n = B.get(k); if (!n) continue;
    const fa = JSON.stringify(strip(m)), fb = JSON.stringify(strip(n));
    if (fa !== fb) { diffs++; if (diffs <= 5) say(`     diff ${k}:\n       old ${fa.slice(0, 600)}\n       new ${fb.slice(0, 600)}`); }
  }
  check(diffs === 0, `${c}: GET /v1/messages answers every message as the old version did (${diffs} differ)`);
}
function compareArrivals(c, a, b) {
  check(JSON.stringify(a.arrivals.map((x) => x.id)) === JSON.stringify(b.arrivals.map((x) => x.id)), `${c}: GET /v1/arrivals lists the same consignments (${a.arrivals.length} / ${b.arrivals.length})`);
  for (const x of a.arrivals) {
    const o = a.details[x.id];
    // deliberate (migration 43): goods shows the UN numbers, filled from the version's body; none in these declarations
    const { unNumbers, ...goods } = b.details[x.id]?.goods ?? {};
    const n = o?.goods && !('unNumbers' in o.goods) && JSON.stringify(unNumbers) === '[]' ? { ...b.details[x.id], goods } : b.details[x.id];
    const keys = new Set([...Object.keys(o ?? {}), ...Object.keys(n ?? {})]);
    const changed = [...keys].filter((k) => JSON.stringify(o?.[k]) !== JSON.stringify(n?.[k]));
    // deliberate (migration 32): a certificate whose remarks deny the endorsement now raises ecoo-issued-retrospectively
    const codes = (v) => (v?.indicators ?? []).map((i) => i.code).filter((k) => k !== 'ecoo-issued-retrospectively').join();
    const retro = changed.every((k) => ['score', 'level', 'indicators', 'assessment', 'updatedAt'].includes(k)) && codes(o) === codes(n) && n?.indicators?.some((i) => i.code === 'ecoo-issued-retrospectively');
    check(changed.length === 0 || retro, `${c}: arrival ${x.id} detail unchanged${retro ? ' but for ecoo-issued-retrospectively (migration 32, deliberate)' : changed.length ? ` (changed: ${changed.join(', ')})` : ''}`);
    if (!retro) for (const k of changed) say(`     ${k}: old ${JSON.stringify(o?.[k])?.slice(0, 400)}\n     ${k}: new ${JSON.stringify(n?.[k])?.slice(0, 400)}`);
  }
  const oh = a.csv.split('\n')[0].trimEnd(), nh = b.csv.split('\n')[0].trimEnd();
  check(nh.startsWith(oh), `${c}: CSV header old columns kept, new added at the end (${nh.slice(oh.length)})`);
  check(a.csv.split('\n').length === b.csv.split('\n').length, `${c}: CSV has the same rows`);
  check(a.jsonl.trim().split('\n').length === b.jsonl.trim().split('\n').length, `${c}: JSONL has the same rows`);
  const oldIds = a.stream.events.map((e) => e.id);
  const extra = b.stream.events.slice(oldIds.length);
  check(JSON.stringify(oldIds) === JSON.stringify(b.stream.events.slice(0, oldIds.length).map((e) => e.id)) && extra.every((e) => e.data?.change === 'changed'), `${c}: stream after=0 replays the old event ids, then ${extra.length} 'changed' events of the reassessment (${a.stream.events.length} / ${b.stream.events.length})`);
  const hk = (h) => JSON.stringify(Object.keys(h ?? {}).sort());
  say(`     health old keys ${hk(a.health)}; new ${hk(b.health)}; new risk ${JSON.stringify(b.health?.risk)}`);
  // deliberate (6fa2cdc): GET /v1/aeo shows an entry repeating the status of the one before it once
  const once = (r) => JSON.stringify({ ...r, items: (r?.items ?? []).map((i) => (i.history ? { ...i, history: i.history.filter((h, k) => k === 0 || h.status !== i.history[k - 1].status) } : i)) });
  for (const id of Object.keys(a.aeoIds)) check(once(a.aeoIds[id]) === JSON.stringify(b.aeoIds[id]), `${c}: GET /v1/aeo?id=${id} as before, a repeated status shown once (deliberate)`);
  check(once(a.aeo) === JSON.stringify(b.aeo), `${c}: GET /v1/aeo?name=shymkent cotton as before, a repeated status shown once`);
  check(JSON.stringify(a.agreements) === JSON.stringify(b.agreements), `${c}: GET /v1/agreements unchanged`);
  for (const k of Object.keys(a.probes)) say(`     GET /v1/arrivals/{${k}}: old ${a.probes[k]} | new ${b.probes[k]}`);
}

async function main() {
  if (!existsSync(BIN.old)) throw new Error(`no old build at ${BIN.old}`);
  rmSync(BASE, { recursive: true, force: true });
  mkdirSync(BASE, { recursive: true });
  say('== 1. OLD: init, pin, tokens, start');
  const fp = {};
  for (const c of ['KZ', 'KG']) {
    const dir = join(BASE, c.toLowerCase());
    await gnc('old', 'init', '--dir', dir, '--country', c, '--name', `Customs of ${c}`, '--listen', '/ip4/127.0.0.1/tcp/0');
    await gnc('old', 'identity', 'export', '--dir', dir, '--out', join(BASE, `${c}.identity.json`));
    fp[c] = JSON.parse(readFileSync(join(BASE, `${c}.identity.json`), 'utf8')).root.fingerprint;
  }
  for (const [a, b] of [['KZ', 'KG'], ['KG', 'KZ']]) await gnc('old', 'partner', 'add', '--dir', join(BASE, a.toLowerCase()), join(BASE, `${b}.identity.json`), `--fingerprint=${fp[b]}`);
  for (const c of ['KZ', 'KG']) {
    const { token } = JSON.parse(await gnc('old', 'token', 'create', '--dir', join(BASE, c.toLowerCase()), '--name', 'hunt', '--scopes', 'submit,read,admin', '--json'));
    writeFileSync(join(BASE, `${c}.token`), token);
    await start(c, 'old');
  }
  say('== 2. OLD: agreement v1 (ACI kept 1 day), traffic');
  await negotiate('old', 'KZ', 'KG', 1, 1);
  const ids = {};
  const risk = 'pre-arrival-risk-assessment', aeoP = 'aeo-mra-benefits', orig = 'origin-verification';
  ids.snap = (await send('KZ', 'KG', 'aeo', aeoP, ex('aeo-kz-snapshot.json'))).id;
  ids.susp = (await send('KZ', 'KG', 'aeo', aeoP, ex('aeo-kz-suspension.json'))).id;
  const again = ex('aeo-kz-suspension.json'); again.operator.statusDate = '2026-11-24'; again.reason = 'Suspension confirmed';
  ids.susp2 = (await send('KZ', 'KG', 'aeo', aeoP, again)).id; // a repeated status
  const back = ex('aeo-kz-suspension.json'); back.operator.status = 'valid'; back.operator.statusDate = '2026-11-25'; back.reason = 'Reinstated';
  ids.valid = (await send('KZ', 'KG', 'aeo', aeoP, back)).id;
  const c1 = ex('ecoo-kz-kg-preferential.json'); c1.remarks = 'Certificate not issued retrospectively'; c1.issueDate = '2026-11-25'; c1.transport.departureDate = '2026-11-23';
  ids.ecoo1 = (await send('KZ', 'KG', 'ecoo', orig, c1)).id;
  const c2 = ex('ecoo-kz-kg-preferential.json'); c2.certificateNumber = 'KZ-ST1-2026-0048299'; c2.remarks = 'Issued retrospectively';
  ids.ecoo2 = (await send('KZ', 'KG', 'ecoo', orig, c2)).id;
  const road = ex('aci-kz-kg-road.json'); road.expectedArrival = inHours(60);
  ids.aciA = (await send('KZ', 'KG', 'aci', risk, road)).id;
  const amend = ex('aci-kz-kg-amendment.json'); if (amend.expectedArrival) amend.expectedArrival = inHours(62);
  ids.amendA = (await send('KZ', 'KG', 'aci', risk, amend, ids.aciA)).id;
  const roadB = ex('aci-kz-kg-road.json'); roadB.functionalReference = 'KZEXP-20261124-0200'; roadB.expectedArrival = inHours(70);
  for (const it of roadB.goodsItems) it.ecooReference = 'KZ-ST1-2026-0048299';
  ids.aciB = (await send('KZ', 'KG', 'aci', risk, roadB)).id;
  const cancel = ex('aci-kz-kg-cancellation.json'); cancel.functionalReference = 'KZEXP-20261124-0200';
  ids.cancelB = (await send('KZ', 'KG', 'aci', risk, cancel, ids.aciB)).id;
  const roadC = ex('aci-kz-kg-road.json'); roadC.functionalReference = 'KZEXP-20261124-0300'; roadC.expectedArrival = inHours(80);
  ids.aciC = (await send('KZ', 'KG', 'aci', risk, roadC)).id; // stays held after the purge? no: ACI kept 1 day
  // rejected: an amendment of an original KG never received
  const bad = await call(nodes.KZ, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, ref: 'no-such-original-0001', body: amend });
  say(`   amendment of an unknown original: HTTP ${bad.status} ${bad.json?.code ?? ''}`);
  if (bad.status === 202) { const m = await until('rejection', async () => { const g = await call(nodes.KZ, 'GET', `/v1/messages/${bad.json.id}`); return ['delivered', 'rejected'].includes(g.json?.status) ? g.json : undefined; }); say(`   -> ${m.status} ${m.error?.code ?? m.receipt?.error?.code ?? ''}`); ids.rejected = bad.json.id; }
  // KG -> KZ traffic
  const kgaeo = { kind: 'snapshot', asOf: inHours(-1), operators: [{ aeoId: 'KGAEO0210520162', nationalTraderId: '02105201610044', legalName: 'Issyk-Kul Grain Trade LLC', address: { line: 'Chui Ave 219', city: 'Bishkek', postcode: '720001', country: 'KG' }, programme: 'both', status: 'revoked', statusDate: '2026-08-14', validFrom: '2021-10-05' }] };
  ids.kgaeo = (await send('KG', 'KZ', 'aeo', aeoP, kgaeo)).id;
  ids.kgaeo2 = (await send('KG', 'KZ', 'aeo', aeoP, kgaeo)).id; // the same snapshot again: repeated statuses
  say('== 3. OLD: agreement v2, key rotation of KZ');
  await negotiate('old', 'KG', 'KZ', 2, 1);
  say('   ' + (await gnc('old', 'keys', 'rotate', '--dir', nodes.KZ.dir, '--overlap-hours', '1')).trim().split('\n')[0]);
  await sleep(1500);
  ids.afterRot = (await send('KZ', 'KG', 'ecoo', orig, { ...c1, certificateNumber: 'KZ-ST1-2026-0048300' })).id;
  ids.kgAfterRot = (await send('KG', 'KZ', 'aeo', aeoP, kgaeo)).id;
  const oldLive = { KZ: await snapshot('KZ'), KG: await snapshot('KG') };
  writeFileSync(join(BASE, 'old-live.json'), JSON.stringify(oldLive, null, 1));
  say('== 4. OLD: both restarted 2 days later: the retention purge runs');
  await stop('KZ'); await stop('KG');
  offsets.KZ = offsets.KG = 2 * DAY + 3_600_000;
  await start('KG', 'old'); await start('KZ', 'old');
  await until('ACI purged at KG', async () => ((await call(nodes.KG, 'GET', `/v1/messages/${ids.aciA}`)).json?.purged ? true : undefined), 20_000).catch((e) => fail(e.message));
  // a new version of consignment A after its versions were purged
  const a2 = await send('KZ', 'KG', 'aci', risk, amend, ids.aciA, null);
  ids.amendA2 = a2.id;
  say(`   amendment of purged consignment A (old): ${a2.m.status} ${a2.m.error?.code ?? ''}`);
  // consignments held through the upgrade: one naming the certificate "not issued retrospectively", amended
  const roadE = ex('aci-kz-kg-road.json'); roadE.functionalReference = 'KZEXP-20261124-0500'; roadE.expectedArrival = inHours(20);
  for (const it of roadE.goodsItems) it.ecooReference = 'KZ-ST1-2026-0048213';
  ids.aciE = (await send('KZ', 'KG', 'aci', risk, roadE)).id;
  ids.amendE = (await send('KZ', 'KG', 'aci', risk, { ...amend, functionalReference: 'KZEXP-20261124-0500', goodsItems: amend.goodsItems.map((it) => ({ ...it, ecooReference: 'KZ-ST1-2026-0048213' })) }, ids.aciE)).id;
  const roadF = ex('aci-kz-kg-road.json'); roadF.functionalReference = 'KZEXP-20261124-0600'; roadF.expectedArrival = inHours(22);
  ids.aciF = (await send('KZ', 'KG', 'aci', risk, roadF)).id;
  ids.cancelF = (await send('KZ', 'KG', 'aci', risk, { ...cancel, functionalReference: 'KZEXP-20261124-0600' }, ids.aciF)).id;
  await sleep(1500);
  for (const k of ['aciA', 'amendA', 'amendA2', 'aciB', 'cancelB', 'aciE', 'amendE', 'aciF', 'cancelF']) probeIds[k] = ids[k];
  const old = { KZ: await snapshot('KZ'), KG: await snapshot('KG') };
  writeFileSync(join(BASE, 'old.json'), JSON.stringify(old, null, 1));
  const lastEvent = old.KG.stream.events.at(-1)?.id;
  say(`   KG arrivals ${old.KG.arrivals.length}, events ${old.KG.stream.events.length} (last ${lastEvent}), messages ${old.KG.messages.length}; KZ messages ${old.KZ.messages.length}`);
  await gnc('old', 'backup', '--dir', nodes.KG.dir, '--out', join(BASE, 'kg-old-backup.sqlite'));
  await gnc('old', 'audit', 'export', '--dir', nodes.KG.dir, '--out', join(BASE, 'kg-old-bundle.json'));
  await gnc('old', 'audit', 'export', '--dir', nodes.KZ.dir, '--out', join(BASE, 'kz-old-bundle.json'));
  for (const c of ['kz', 'kg']) cpSync(join(BASE, c), join(BASE, `${c}-old-copy`), { recursive: true });
  say('   KZ away: old KG queues a message and a key rotation for it, then stops (sent by the new version)');
  await stop('KZ');
  const q = await call(nodes.KG, 'POST', '/v1/messages', { to: 'KZ', type: 'aeo', purpose: aeoP, body: kgaeo });
  ids.queuedOld = q.json?.id;
  say('   ' + (await gnc('old', 'keys', 'rotate', '--dir', nodes.KG.dir, '--overlap-hours', '1')).trim().split('\n')[0]);
  await sleep(1000);
  await stop('KG');

  say('== 4b. NEW gnc commands on a stopped data dir of the old version, never started by the new one');
  const cold = join(BASE, 'kg-cold');
  cpSync(join(BASE, 'kg'), cold, { recursive: true });
  for (const args of [['backup', '--dir', cold, '--out', join(BASE, 'kg-cold-backup.sqlite')], ['audit', 'export', '--dir', cold, '--out', join(BASE, 'kg-cold-bundle.json')], ['audit', 'verify', join(BASE, 'kg-cold-bundle.json')], ['messages', '--dir', cold], ['arrivals', '--dir', cold], ['keys', 'status', '--dir', cold], ['partner', 'list', '--dir', cold]]) {
    const r = await gncTry('new', ...args);
    check(r.code === 0, `new gnc ${args.slice(0, 2).join(' ')} on the stopped old dir: ${r.out.trim().split('\n').slice(-1)[0].slice(0, 200)}`);
  }
  say('== 5. NEW KG, OLD KZ (mixed versions)');
  const ver0 = new Database(join(nodes.KG.dir, 'gnc.sqlite'), { readonly: true }).pragma('user_version', { simple: true });
  await start('KG', 'new'); await start('KZ', 'old');
  const dbv = () => { const d = new Database(join(nodes.KG.dir, 'gnc.sqlite'), { readonly: true }); try { return d.pragma('user_version', { simple: true }); } finally { d.close(); } };
  const ver1 = dbv();
  say(`   KG schema ${ver0} -> ${ver1}`);
  check(ver1 > ver0, 'KG: migrations applied at start');
  await sleep(2000);
  const up = { KG: await snapshot('KG'), KZ: await snapshot('KZ') };
  writeFileSync(join(BASE, 'new-kg.json'), JSON.stringify(up, null, 1));
  compareMessages('KG', old.KG.messages, up.KG.messages);
  compareArrivals('KG', old.KG, up.KG);
  // stream resume with an old Last-Event-ID
  if (lastEvent) {
    const r = await sse(nodes.KG, { 'last-event-id': lastEvent }, 2000);
    check(r.status === 200, `KG: stream resumes with the old Last-Event-ID ${lastEvent} (HTTP ${r.status}, ${r.events.length} events after: ${r.events.map((e) => `${e.id}:${e.event ?? e.data?.type}/${e.data?.change ?? ''}`).join(' ')})`);
    const mid = old.KG.stream.events.at(-3)?.id ?? '0';
    const r2 = await sse(nodes.KG, { 'last-event-id': mid }, 2000);
    check(r2.status === 200 && r2.events.slice(0, 2).map((e) => e.id).join() === old.KG.stream.events.slice(-2).map((e) => e.id).join(), `KG: stream resume from ${mid} replays the old events after it first`);
  }
  for (const f of ['kg-old-bundle.json', 'kz-old-bundle.json']) {
    const v = await gncTry('new', 'audit', 'verify', join(BASE, f));
    check(v.code === 0, `new gnc audit verify of the old bundle ${f}: ${v.out.trim().split('\n').slice(-1)[0]}`);
  }
  const vd = await gncTry('new', 'audit', 'verify', '--dir', nodes.KG.dir);
  check(vd.code === 0, `new gnc audit verify --dir KG (old log + new): ${vd.out.trim().split('\n').slice(-1)[0]}`);
  const qm = await until('the message the old version queued', async () => { const g = await call(nodes.KG, 'GET', `/v1/messages/${ids.queuedOld}`); return ['delivered', 'rejected', 'expired'].includes(g.json?.status) ? g.json : undefined; });
  check(qm.status === 'delivered', `a message queued by the old KG, sent by the new one to old KZ: ${qm.status} ${qm.error?.code ?? ''}`);
  say('   new KG <-> old KZ traffic');
  const a3 = await send('KZ', 'KG', 'aci', risk, amend, ids.aciA, null);
  say(`   amendment of consignment A purged by the old version (new KG): ${a3.m.status} ${a3.m.error?.code ?? ''}; arrival ${JSON.stringify((await call(nodes.KG, 'GET', `/v1/arrivals/${a3.id}`)).json?.id)}`);
  const kzNew1 = await send('KZ', 'KG', 'ecoo', orig, { ...c1, certificateNumber: 'KZ-ST1-2026-0048301' });
  const roadD = ex('aci-kz-kg-road.json'); roadD.functionalReference = 'KZEXP-20261124-0400'; roadD.expectedArrival = inHours(30);
  const aciD = await send('KZ', 'KG', 'aci', risk, roadD);
  await send('KZ', 'KG', 'aci', risk, { ...amend, functionalReference: 'KZEXP-20261124-0400' }, aciD.id);
  await send('KG', 'KZ', 'aeo', aeoP, kgaeo);
  say('   KG keys rotate (new) seen by old KZ');
  say('   ' + (await gnc('new', 'keys', 'rotate', '--dir', nodes.KG.dir, '--overlap-hours', '1')).trim().split('\n')[0]);
  await sleep(1500);
  await send('KG', 'KZ', 'aeo', aeoP, kgaeo);
  say('   KZ keys rotate (old) seen by new KG');
  say('   ' + (await gnc('old', 'keys', 'rotate', '--dir', nodes.KZ.dir, '--overlap-hours', '1')).trim().split('\n')[0]);
  await sleep(1500);
  await send('KZ', 'KG', 'ecoo', orig, { ...c1, certificateNumber: 'KZ-ST1-2026-0048302' });
  say('   KG root succession (new) seen by old KZ');
  const rr = await gncTry('new', 'keys', 'rotate', '--dir', nodes.KG.dir, '--root');
  say('   ' + rr.out.trim().split('\n').slice(0, 3).join(' | '));
  await sleep(2000);
  await send('KG', 'KZ', 'aeo', aeoP, kgaeo);
  await send('KZ', 'KG', 'ecoo', orig, { ...c1, certificateNumber: 'KZ-ST1-2026-0048303' });
  say('   agreement v3 proposed by new KG, countersigned by old KZ');
  await negotiate('new', 'KG', 'KZ', 3, 1);
  await send('KZ', 'KG', 'ecoo', orig, { ...c1, certificateNumber: 'KZ-ST1-2026-0048304' });
  await send('KG', 'KZ', 'aeo', aeoP, kgaeo);
  const mixedKz = await pages(nodes.KZ, '/v1/messages');
  const rejectedAtKz = mixedKz.filter((m) => m.status === 'rejected' || m.receipt?.status === 'rejected');
  say(`   KZ (old) messages ${mixedKz.length}, rejected ${rejectedAtKz.map((m) => `${m.id}:${m.type}:${m.error?.code ?? ''}`).join(' ')}`);
  const kgAll = await pages(nodes.KG, '/v1/messages');
  say(`   KG (new) messages ${kgAll.length}, out not delivered: ${kgAll.filter((m) => m.direction === 'out' && m.status !== 'delivered').map((m) => `${m.id}:${m.type}:${m.status}:${m.error?.code ?? ''}`).join(' ')}`);
  say(`   KZ (old) out not delivered: ${mixedKz.filter((m) => m.direction === 'out' && m.status !== 'delivered').map((m) => `${m.id}:${m.type}:${m.status}:${m.error?.code ?? ''}`).join(' ')}`);
  const b = await gncTry('new', 'backup', '--dir', nodes.KG.dir, '--out', join(BASE, 'kg-new-backup.sqlite'));
  check(b.code === 0, `new gnc backup of the running upgraded KG: ${b.out.trim().split('\n').slice(-1)[0]}`);
  const ae = await gncTry('new', 'audit', 'export', '--dir', nodes.KG.dir, '--out', join(BASE, 'kg-new-bundle.json'));
  check(ae.code === 0, 'new gnc audit export of KG');
  const av = await gncTry('new', 'audit', 'verify', join(BASE, 'kg-new-bundle.json'));
  check(av.code === 0, `new gnc audit verify of its bundle: ${av.out.trim().split('\n').slice(-1)[0]}`);
  const ov = await gncTry('old', 'audit', 'verify', join(BASE, 'kg-new-bundle.json'));
  say(`   old gnc audit verify of the new bundle: ${ov.code} ${ov.out.trim().split('\n').slice(-1)[0]}`);
  // a one-direction export of an id only received names no direction (SPEC 9.5.1), which the old verifier refuses
  await gnc('new', 'audit', 'export', '--dir', nodes.KG.dir, '--out', join(BASE, 'kg-new-in.json'), '--message', ids.afterRot, '--direction', 'in');
  const oi = await gncTry('old', 'audit', 'verify', join(BASE, 'kg-new-in.json'));
  check(oi.code === 0, `old gnc audit verify of a new --message --direction in bundle: ${oi.out.trim().split('\n').slice(-1)[0]}`);
  say('== 6. KG restarted (migrations once), then KZ upgraded too');
  await stop('KG');
  await start('KG', 'new');
  check(dbv() === ver1, 'KG: a second start applies no migration');
  await stop('KZ');
  await start('KZ', 'new');
  await send('KZ', 'KG', 'ecoo', orig, { ...c1, certificateNumber: 'KZ-ST1-2026-0048305' });
  await send('KG', 'KZ', 'aeo', aeoP, kgaeo);
  say('== 6b. NEW both, 2 more days: a purge by the new version');
  const before = await snapshot('KG');
  await stop('KZ'); await stop('KG');
  offsets.KZ = offsets.KG = 4 * DAY + 3_600_000;
  await start('KG', 'new'); await start('KZ', 'new');
  await sleep(1500);
  const after = await snapshot('KG');
  say(`   KG arrivals ${before.arrivals.length} -> ${after.arrivals.length}; events ${before.stream.events.length} -> ${after.stream.events.length}`);
  for (const k of Object.keys(after.probes)) say(`     GET /v1/arrivals/{${k}}: before ${before.probes[k]} | after ${after.probes[k]}`);
  if (lastEvent) {
    const r = await sse(nodes.KG, { 'last-event-id': lastEvent }, 2000);
    say(`   stream resume from old-era id ${lastEvent} after the new purge: HTTP ${r.status} ${r.events.map((e) => `${e.id}:${e.event ?? e.data?.type}`).join(' ')}`);
  }
  say(`   CSV:\n${after.csv.split('\n').slice(0, 4).map((l) => '     ' + l.slice(-200)).join('\n')}`);
  const vz = await gncTry('new', 'audit', 'verify', '--dir', nodes.KZ.dir);
  check(vz.code === 0, `new gnc audit verify --dir KZ: ${vz.out.trim().split('\n').slice(-1)[0]}`);
  await stop('KZ'); await stop('KG');
  say('== 7. The old backup of KG restored into the new version (on the day it was taken)');
  offsets.KG = 2 * DAY + 3_600_000;
  const rdir = join(BASE, 'kg');
  for (const f of ['gnc.sqlite-wal', 'gnc.sqlite-shm']) rmSync(join(rdir, f), { force: true });
  // the identity as it was when the backup was taken (the root and key rotated since)
  rmSync(rdir, { recursive: true, force: true });
  cpSync(join(BASE, 'kg-old-copy'), rdir, { recursive: true });
  for (const f of ['gnc.sqlite-wal', 'gnc.sqlite-shm']) rmSync(join(rdir, f), { force: true });
  copyFileSync(join(BASE, 'kg-old-backup.sqlite'), join(rdir, 'gnc.sqlite'));
  await start('KG', 'new');
  const restored = await snapshot('KG');
  compareMessages('KG restored', old.KG.messages, restored.messages);
  compareArrivals('KG restored', old.KG, restored);
  const vr = await gncTry('new', 'audit', 'verify', '--dir', rdir);
  check(vr.code === 0, `new gnc audit verify --dir of the restored KG: ${vr.out.trim().split('\n').slice(-1)[0]}`);
  await stop('KG');
  say(failures.length ? `\n${failures.length} FAILURES` : '\nall checks passed');
  process.exitCode = failures.length ? 1 : 0;
}

main().catch(async (e) => {
  say(`hunt failed: ${e.stack}`);
  for (const n of Object.values(nodes)) say(`--- ${n.c} (${n.ver}) log tail:\n${n.logs.join('').slice(-2500)}`);
  process.exitCode = 2;
}).finally(async () => { for (const c of Object.keys(nodes)) await stop(c); });
