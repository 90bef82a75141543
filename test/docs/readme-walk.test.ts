/**
 * The README's worked examples, run as a newcomer runs them. The other docs tests keep the README's tables and option
 * names equal to the code; this one runs what it tells an operator to type, in its order, with only its placeholders
 * filled in (a data dir in a temp folder for `/var/lib/gnc` and `D`, loopback addresses and free ports for the
 * host's, the fingerprints and ids the commands printed before): two national nodes set up from scratch by
 * "Run a real national node" (init, identity export, partner add with the fingerprint, tokens, start) as real
 * processes of the package bin on 127.0.0.1, the agreement of "Partner onboarding" drafted, proposed and
 * countersigned over the wire, its first message sent, the three bodies of "Message formats" submitted to the API as
 * an integrator copies them and accepted by the partner, the AEO register sent as a snapshot in parts by the shell
 * block as written (with `jq`), an evidence bundle exported both ways of "1. Export" (and its partner and time-range
 * line as written, whose window is relative to now) and verified as "2. Verify
 * offline" shows it, and a backup taken as step 7 says (and restored as it says, showing why it asks for a new backup
 * after each key rotation). The webhook verifier of "Pre-arrival risk" is run on the
 * signature the node computes, and the inline request bodies on the zod schemas they follow.
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataTerms } from '../../protocol/agreement/terms.js';
import { PartnerRemoveRequest } from '../../protocol/api/schemas.js';
import { parseBody } from '../../protocol/messages/registry.js';
import { MAX_BODY_BYTES } from '../../protocol/constants.js';
import { signatureHeader } from '../../node/risk/webhook.js';
import { BIN, killProcess, startProcess } from '../helpers/cli.js';
import { tempDir, testListen, waitFor } from '../helpers/network.js';
import { codeOf, read, sectionOf } from './markdown.js';

const readme = read('README.md');
const repo = new URL('../../', import.meta.url).pathname;

/** The text of step `n` of a numbered list in `section` (`3. **Pin the partner**: ...` up to step n + 1). */
function step(section: string, n: number): string {
  const at = section.search(new RegExp(`\\n${n}\\. `));
  const next = section.slice(at + 1).search(new RegExp(`\\n${n + 1}\\. `));
  if (at < 0) throw new Error(`no step ${n}`);
  return section.slice(at + 1, next < 0 ? undefined : at + 1 + next);
}

/** The one piece of code in `text` that starts with `start` (a command as the README writes it). */
function command(text: string, start: string): string {
  const found = [...new Set(codeOf(text).map((c) => c.trim()).filter((c) => c.startsWith(start)))];
  if (found.length !== 1) throw new Error(`expected one command starting "${start}", found ${JSON.stringify(found)}`);
  return found[0]!;
}

/** `text` with each placeholder replaced, failing when the README no longer has one (it drifted: look again). */
function fill(text: string, pairs: [string | RegExp, string][]): string {
  return pairs.reduce((t, [from, to]) => {
    if (typeof from === 'string' ? !t.includes(from) : !from.test(t)) throw new Error(`"${String(from)}" is not in: ${t}`);
    return typeof from === 'string' ? t.split(from).join(to) : t.replace(new RegExp(from.source, 'g'), to);
  }, text);
}

/** Runs README shell text in bash in `cwd`, `gnc` being the package bin run by this node, as `npm i -g` installs it. */
function sh(script: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const prelude = `gnc() { "${process.execPath}" "${BIN}" "$@"; }\nset -o pipefail\n`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', prelude + script], { cwd, env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

const ok = (r: { code: number; stdout: string; stderr: string }): string => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
};

/** A TCP port free on 127.0.0.1 now (the API port `gnc init --api-port` writes into gnc.json). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const withJq = has('jq');
const withCurl = has('curl');

const node = sectionOf(readme, '## Run a real national node');
const onboarding = sectionOf(readme, '## Partner onboarding');
const formats = sectionOf(readme, '## Message formats');
const security = sectionOf(readme, '## For security teams');

describe('the README walked through on two real nodes', () => {
  const base = tempDir('gnc-readme-walk-');
  const dirs = { KZ: join(base, 'kz'), KG: join(base, 'kg') };
  const fp: Record<string, string> = {};
  const token: Record<string, string> = {};
  const port: Record<string, number> = {};
  const procs: Awaited<ReturnType<typeof startProcess>>[] = [];
  const url = (c: 'KZ' | 'KG'): string => `http://127.0.0.1:${port[c]}`;
  const api = (c: 'KZ' | 'KG', path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${url(c)}${path}`, { ...init, headers: { authorization: `Bearer ${token[c]}`, ...(init.headers as Record<string, string>) } });
  /** The id of the first message a command's output names. */
  const idIn = (out: string): string => /\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/.exec(out)![1]!;
  let firstMessage = '';

  beforeAll(async () => {
    symlinkSync(join(repo, 'examples'), join(base, 'examples'));
    // "Run a real national node", steps 1 (init), 2 (identity export), 6 (tokens) at each administration
    const init = command(step(node, 1), 'gnc init');
    const exportIdentity = command(step(node, 2), 'gnc identity export');
    const tokens = command(step(node, 6), 'gnc token create');
    for (const c of ['KZ', 'KG'] as const) {
      port[c] = await freePort();
      const listen = testListen();
      const out = ok(await sh(fill(init, [['/var/lib/gnc', dirs[c]], ['--country KZ', `--country ${c}`], [/--listen \S+/, `--listen ${listen}`], [/--announce \S+/, `--announce ${listen}`], [/--api-port \d+/, `--api-port ${port[c]}`]]), base));
      // "It prints the root fingerprint"
      fp[c] = /fingerprint:?\s+([\w-]{43})\b/.exec(out)![1]!;
      ok(await sh(fill(exportIdentity, [['/var/lib/gnc', dirs[c]], ['kz.identity.json', `${c.toLowerCase()}.identity.json`]]), base));
      token[c] = /\b(gnc_[0-9a-f]+_[\w-]+)/.exec(ok(await sh(fill(tokens, [['/var/lib/gnc', dirs[c]]]), base)))![1]!;
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) await killProcess(p.proc);
  });

  it('pins each partner by step 3, with the fingerprint given out of band, and refuses another fingerprint', async () => {
    const add = command(step(node, 3), 'gnc partner add');
    const at = (c: 'KZ' | 'KG', partner: 'KZ' | 'KG', fingerprint: string): string =>
      fill(add, [['/var/lib/gnc', dirs[c]], ['kg.identity.json', `${partner.toLowerCase()}.identity.json`], ['<KG fingerprint>', fingerprint]]);
    const wrong = await sh(at('KZ', 'KG', fp['KZ']!), base);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/^error GNC_FINGERPRINT_MISMATCH: /);
    expect(step(node, 3)).toContain('refused (`GNC_FINGERPRINT_MISMATCH`)');
    ok(await sh(at('KZ', 'KG', fp['KG']!), base));
    ok(await sh(at('KG', 'KZ', fp['KZ']!), base));
    // step 5: gnc start on each data dir
    expect(command(step(node, 5), 'gnc start --dir /var/lib/gnc')).toBe('gnc start --dir /var/lib/gnc');
    for (const c of ['KZ', 'KG'] as const) procs.push(await startProcess(dirs[c]));
  }, 60_000);

  it('agrees the scope as "Partner onboarding" says, over the wire, and sends the first message', async () => {
    // step 2: the example draft; step 3: draft and propose at KZ; step 4: review and countersign at KG
    copyFileSync(join(repo, 'examples/agreements/kz-kg-mra.json'), join(base, 'kz-kg-mra.json'));
    const id = (JSON.parse(readFileSync(join(base, 'kz-kg-mra.json'), 'utf8')) as { id: string }).id;
    const at = (c: 'KZ' | 'KG', cmd: string, more: [RegExp, string][] = []): string => fill(cmd, [[/--dir D\b/, `--dir ${dirs[c]}`], ...more]);
    ok(await sh(at('KZ', command(step(onboarding, 3), 'gnc agreement draft')), base));
    ok(await sh(at('KZ', command(step(onboarding, 3), 'gnc agreement sign')), base));
    const show = at('KG', command(step(onboarding, 4), 'gnc agreement show'), [[/--id ID\b/, `--id ${id}`]]);
    await waitFor(async () => ((await sh(show, base)).code === 0 ? true : undefined), 20_000, 'the proposal at KG');
    ok(await sh(at('KG', command(step(onboarding, 4), 'gnc agreement sign --dir D --id'), [[/--id ID\b/, `--id ${id}`]]), base));
    await waitFor(async () => {
      const list = (await (await api('KZ', '/v1/agreements')).json()) as { items: { id: string; status: string }[] };
      return list.items.some((a) => a.id === id && a.status === 'active') || undefined;
    }, 20_000, 'the countersigned agreement at KZ');
    // step 5: the first message, delivered to KG
    firstMessage = idIn(ok(await sh(at('KZ', command(step(onboarding, 5), 'gnc send')), base)));
    const m = (await (await api('KZ', `/v1/messages/${firstMessage}?wait=20`)).json()) as { status: string };
    expect(m.status).toBe('delivered');
  }, 90_000);

  it('takes the bodies of "Message formats" as an integrator copies them into {to, type, purpose, body}, and the partner accepts each', async () => {
    const bodies = [...formats.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as { kind: string });
    const types = [...formats.matchAll(/\(`type: "(\w+)"`\)/g)].map((m) => m[1]!);
    expect(types).toEqual(['aci', 'ecoo', 'aeo']);
    expect(formats).toContain('Submit `{to, type, purpose, ref?, body}` as JSON');
    const agreement = JSON.parse(readFileSync(join(repo, 'examples/agreements/kz-kg-mra.json'), 'utf8')) as { directions: { from: string; messages: { type: string; purposes: string[] }[] }[] };
    const scope = agreement.directions.find((d) => d.from === 'KZ')!.messages;
    for (const [i, type] of types.entries()) {
      const request = { to: 'KG', type, purpose: scope.find((s) => s.type === type)!.purposes[0]!, body: bodies[i] };
      const r = await api('KZ', '/v1/messages', { method: 'POST', body: JSON.stringify(request), headers: { 'content-type': 'application/json', prefer: 'wait=20, return=minimal' } });
      const answer = (await r.json()) as { status: string; receiptStatus: string };
      expect([r.status, answer.status, answer.receiptStatus], `${type}: ${JSON.stringify(answer)}`).toEqual([200, 'delivered', 'accepted']);
    }
  }, 90_000);

  it.skipIf(!withJq)('sends an AEO register of 6,000 operators of the example files\' size as the README\'s snapshot in parts, and the partner applies it', async () => {
    const block = /```sh\n([\s\S]*?)```/.exec(formats.slice(formats.indexOf('**A register larger than one message**')))![1]!;
    const work = join(base, 'register');
    mkdirSync(work);
    // the operators of the example registers, each given an AEO id of its own, as register.json's comment has it
    const examples = ['aeo-kz-snapshot.json', 'aeo-cn-snapshot-part.json'].flatMap((f) => (JSON.parse(readFileSync(join(repo, 'examples/messages', f), 'utf8')) as { operators: Record<string, unknown>[] }).operators);
    const operators = Array.from({ length: 6000 }, (_, i) => ({ ...examples[i % examples.length]!, aeoId: `KZAEO${100000000000 + i}`, nationalTraderId: String(100000000000 + i), address: { ...(examples[i % examples.length]!['address'] as object), country: 'KZ' } }));
    writeFileSync(join(work, 'register.json'), JSON.stringify({ asOf: '2026-11-23T06:00:00+05:00', operators }, null, 2));
    const r = await sh(fill(block, [[/--dir D\b/, `--dir ${dirs.KZ}`]]), work);
    ok(r);
    expect(r.stderr).toBe('');
    const ids = r.stdout.trim().split('\n').map(idIn);
    expect(ids).toHaveLength(3);
    for (const n of [1, 2, 3]) {
      const part = readFileSync(join(work, `part-${n}.json`));
      expect(part.byteLength).toBeLessThanOrEqual(MAX_BODY_BYTES);
      expect(() => parseBody('aeo', JSON.parse(part.toString('utf8')))).not.toThrow();
    }
    for (const id of ids) expect(((await (await api('KZ', `/v1/messages/${id}?wait=20`)).json()) as { status: string }).status).toBe('delivered');
    // "Each part gets its own receipt. The partner applies the snapshot once all N parts are in"
    await waitFor(async () => {
      const pending = (await (await api('KG', '/v1/aeo/pending?partner=KZ')).json()) as { items: unknown[] };
      const last = await api('KG', '/v1/aeo?partner=KZ&id=KZAEO100000005999');
      return (pending.items.length === 0 && last.status === 200 && ((await last.json()) as { items: unknown[] }).items.length === 1) || undefined;
    }, 30_000, 'the snapshot applied at KG');
  }, 120_000);

  it('exports the evidence of a message both ways of "1. Export" and verifies it as "2. Verify offline" shows', async () => {
    const exportBlock = /```sh\n([\s\S]*?)```/.exec(security.slice(security.indexOf('**1. Export**')))![1]!;
    const byMessage = exportBlock.split('\n').find((l) => l.includes('--message'))!;
    ok(await sh(fill(byMessage, [['/var/lib/gnc', dirs.KZ], [/--message \S+/, `--message ${firstMessage}`]]), base));
    // the partner and time-range line as written (its window is relative to now): KZ exchanged messages with KG just now
    const byPartner = exportBlock.split('\n').find((l) => l.includes('--partner KG'))!;
    ok(await sh(fill(byPartner, [['/var/lib/gnc', dirs.KZ]]), base));
    const byPartnerFile = /--out (\S+)/.exec(byPartner)![1]!;
    expect((JSON.parse(readFileSync(join(base, byPartnerFile), 'utf8')) as { selection: { partner?: string } }).selection.partner).toBe('KG');
    // and what the text after the block says of a window without traffic: no file, exit 4 (GNC_NOT_FOUND)
    const text = security.replace(/\s*\n\s*/g, ' ');
    expect(text).toContain('writes no file and exits 4 (`GNC_NOT_FOUND`)');
    const empty = await sh(fill(byPartner, [['/var/lib/gnc', dirs.KZ], [byPartnerFile, 'kg-none.json'], ["'30 days ago'", "'3 years ago'"], [/--to "[^"]*"/, '--to "$(date -u -d \'2 years ago\' +%FT%TZ)"']]), base);
    expect(empty.code, `${empty.stdout}\n${empty.stderr}`).toBe(4);
    expect(empty.stderr).toContain('GNC_NOT_FOUND');
    expect(readdirSync(base)).not.toContain('kg-none.json');
    const verify = command(security.slice(security.indexOf('**2. Verify offline**')), 'gnc audit verify case-4711.json');
    const filled = fill(verify, [['<KZ fingerprint>', fp['KZ']!], ['<KG fingerprint>', fp['KG']!]]);
    const lead = /The report starts with `([^`]+)`/.exec(security.replace(/\s*\n\s*/g, ' '))![1]!;
    expect(ok(await sh(filled, base)).startsWith(`${lead}\n`)).toBe(true);
    if (withCurl) {
      // the API's export: the same evidence, also VERIFIED
      const curl = exportBlock.split('\n').find((l) => l.startsWith('curl'))!;
      ok(await sh(fill(curl, [[/http:\/\/127\.0\.0\.1:\d+/, url('KZ')], ['case-4711.json', 'case-4711-api.json']]), base, { READ_TOKEN: token['KZ']!, ID: firstMessage }));
      expect(ok(await sh(filled.replace('case-4711.json', 'case-4711-api.json'), base)).startsWith(`${lead}\n`)).toBe(true);
    }
  }, 60_000);

  it('backs the running node up as step 7 says', async () => {
    const backup = command(step(node, 7), 'gnc backup --dir');
    mkdirSync(join(base, 'backup'));
    const out = ok(await sh(fill(backup, [['/var/lib/gnc', dirs.KZ], ['/backup/', `${join(base, 'backup')}/`]]), base));
    expect(step(node, 7)).toContain('(`Purged in the copy: the content of N received messages past their retention end`)');
    expect(out).toMatch(/^Purged in the copy: the content of \d+ received messages past their retention end/m);
    const files = readdirSync(join(base, 'backup'));
    expect(files).toEqual([expect.stringMatching(/^gnc-\d{4}-\d{2}-\d{2}\.sqlite$/)]);
    expect(statSync(join(base, 'backup', files[0]!)).mode & 0o777).toBe(0o600);
  }, 60_000);
});

describe('a restore as step 7 describes it', () => {
  it('finds a key rotation made after the backup unrecorded, as step 7 warns (take a backup after each), and the commands the node names record it again', async () => {
    const text = step(node, 7).replace(/\s*\n\s*/g, ' ');
    expect(text).toContain('take a new backup right after each `gnc keys rotate` and `gnc keys revoke`');
    const warned = /\(`gnc keys status` shows `([A-Z ]+)`/.exec(text)![1]!;
    const base = tempDir('gnc-readme-restore-');
    const dir = join(base, 'kz');
    const backup = command(step(node, 7), 'gnc backup --dir');
    ok(await sh(`gnc init --dir ${dir} --country KZ --name KZ --listen ${testListen()}`, base));
    ok(await sh(fill(backup, [['/var/lib/gnc', dir], [/--out .*$/, '--out before-rotation.sqlite']]), base));
    ok(await sh(`gnc keys rotate --dir ${dir}`, base));
    expect(ok(await sh(`gnc keys status --dir ${dir}`, base))).not.toContain(warned);
    // "stop the node, delete gnc.sqlite-wal and gnc.sqlite-shm, copy the backup over gnc.sqlite"
    expect(text).toContain('delete `gnc.sqlite-wal` and `gnc.sqlite-shm`, copy the backup over `gnc.sqlite`');
    ok(await sh(`rm -f ${dir}/gnc.sqlite-wal ${dir}/gnc.sqlite-shm && cp before-rotation.sqlite ${dir}/gnc.sqlite`, base));
    const status = ok(await sh(`gnc keys status --dir ${dir}`, base));
    expect(status).toContain(`${warned}: `);
    // "Run the commands it names, in the order it names them": the rotation is recorded again
    expect(text).toContain('Run the commands it names, in the order it names them');
    for (const m of status.matchAll(/`(gnc keys rotate [^`]*)`/g)) ok(await sh(m[1]!, base));
    expect(ok(await sh(`gnc keys status --dir ${dir}`, base))).not.toContain(warned);
  }, 60_000);
});

describe('the README request and webhook examples', () => {
  it('partner removal bodies of step 8 follow PartnerRemoveRequest', () => {
    const text = step(node, 8).replace(/\s*\n\s*/g, ' ');
    const body = JSON.parse(/with `(\{"reason": [^`]+\})`/.exec(text)![1]!) as Record<string, unknown>;
    const flag = JSON.parse(`{${/\(`("despiteAgreement": true)` for `--despite-agreement`\)/.exec(text)![1]!}}`) as Record<string, unknown>;
    expect(PartnerRemoveRequest.parse(body)).toEqual({ reason: 'Pilot ended', despiteAgreement: false });
    expect(PartnerRemoveRequest.parse({ ...body, ...flag }).despiteAgreement).toBe(true);
  });

  it('the terms example is DataTerms, no member more or less', () => {
    const text = onboarding.replace(/\s*\n\s*/g, ' ');
    const example = JSON.parse(/like `(\{"agreement": [^`]+\})`/.exec(text)![1]!) as Record<string, unknown>;
    expect(DataTerms.strict().safeParse(example).error).toBeUndefined();
    expect(text).toContain(`\`terms: {${Object.keys(DataTerms.shape).join(', ')}}\``);
  });

  it("the webhook receiver's check accepts the node's signature, and refuses another body or an old one", async () => {
    const block = /```js\n([\s\S]*?)```/.exec(sectionOf(readme, '## Pre-arrival risk'))![1]!;
    const file = join(tempDir('gnc-readme-webhook-'), 'verify.mjs');
    writeFileSync(file, `${block}\nexport { verifyGncWebhook };\n`);
    const { verifyGncWebhook } = (await import(pathToFileURL(file).href)) as { verifyGncWebhook: (secret: string, header: string | undefined, rawBody: string, maxSkewSeconds?: number) => boolean };
    const secret = 'a-webhook-secret-of-32-characters';
    const body = JSON.stringify({ id: 7, type: 'assessment', change: 'new' });
    const now = Math.floor(Date.now() / 1000);
    expect(verifyGncWebhook(secret, signatureHeader(secret, body, now), body)).toBe(true);
    expect(verifyGncWebhook(secret, signatureHeader(secret, body, now), body.replace('7', '8'))).toBe(false);
    expect(verifyGncWebhook(secret, signatureHeader(secret, body, now - 3600), body)).toBe(false);
    expect(verifyGncWebhook(secret, undefined, body)).toBe(false);
  });
});
