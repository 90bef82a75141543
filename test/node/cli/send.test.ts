/**
 * `gnc send` and `gnc messages` against the data dir of a running node (two real nodes): a message queued by
 * the CLI is picked up by the running node and delivered; bad input gets its code and exit status and queues
 * nothing; `--idempotency-key` makes a second run of the same command queue nothing new.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gnc } from '../../helpers/cli.js';
import { api, makeNetwork, runCli, tempDir, waitFor, type TestNode } from '../../helpers/network.js';
import { example, EXAMPLES_DIR } from '../../protocol/messages/fixtures.js';

/** An example file's path, as an operator passes it. */
const file = (name: string): string => join(EXAMPLES_DIR, name);
const aci = example('aci-kz-kg-road');

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let files: string;

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG']);
  kz = net.nodes.KZ!;
  files = tempDir('gnc-send-');
});
afterAll(async () => {
  await net?.close();
  rmSync(files, { recursive: true, force: true });
});

const outMessages = (): number => kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'out'`).pluck().get() as number;
const send = (...args: string[]) => runCli(['send', '--dir', kz.dir, '--to', 'KG', '--purpose', 'pre-arrival-risk-assessment', ...args]);
const idOf = (line: string): string => /\b([0-9a-f]{8}-[0-9a-f-]{27})\b/.exec(line)![1]!;

describe('gnc send', () => {
  it('queues a JSON body beside the running node, which delivers it', async () => {
    const r = await send('--type', 'aci', file('aci-kz-kg-road.json'));
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^Queued aci .* for KG under agreement KZ-KG-test@1/);
    const id = idOf(r.out[0]!);
    await waitFor(async () => ((await api(kz, 'GET', `/v1/messages/${id}`)).json.status === 'delivered' ? true : undefined), 15_000, 'delivery of the CLI message');
  });

  it('takes the type of an XML body from its root element', async () => {
    const r = await send('--json', file('aci-kz-kg-road.xml'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]!)).toMatchObject({ type: 'aci', to: 'KG', status: 'queued', replayed: false });
  });

  it('refuses bad input with its code and exit status, and queues nothing', async () => {
    const before = outMessages();
    const broken = join(files, 'broken.json');
    writeFileSync(broken, '{"kind": "declaration",');
    const invalid = join(files, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ ...aci, goodsItems: [] }));
    const cases: [string[], number, RegExp][] = [
      [[file('aci-kz-kg-road.json')], 2, /^error GNC_UNKNOWN_TYPE: .*--type aci\|ecoo\|aeo/],
      [['--type', 'ecoo', file('aci-kz-kg-road.xml')], 2, /^error GNC_UNKNOWN_TYPE: --type ecoo contradicts the XML root/],
      [['--type', 'aci', broken], 2, /^error GNC_INVALID_JSON: .*broken\.json is not valid JSON/],
      [['--type', 'aci', invalid], 2, /^error GNC_SCHEMA_INVALID: .*goodsItems/],
      [['--type', 'aci', '--idempotency-key', 'schlüssel', file('aci-kz-kg-road.json')], 2, /^error GNC_IDEMPOTENCY_KEY_INVALID: /],
    ];
    for (const [args, code, message] of cases) {
      const r = await send(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.out.join('\n'), args.join(' ')).toMatch(message);
    }
    const stranger = await runCli(['send', '--dir', kz.dir, '--to', 'MN', '--type', 'aci', file('aci-kz-kg-road.json')]);
    expect(stranger.code).toBe(4);
    expect(stranger.out.join('\n')).toMatch(/^error GNC_PARTNER_UNKNOWN: /);
    expect(outMessages()).toBe(before);
  });

  it('needs --purpose (required in --help) and without it refuses before checking the body, naming the purposes the agreement allows', async () => {
    const help = await gnc('send', '--help');
    expect(help.stdout).toContain('Usage: gnc send --dir DIR --to XX --purpose P [--type');
    expect(help.stdout).toContain('--purpose <value>  (required)');
    const before = outMessages();
    const invalid = join(files, 'invalid-no-purpose.json');
    writeFileSync(invalid, JSON.stringify({ ...aci, goodsItems: [] }));
    for (const body of [file('aci-kz-kg-road.json'), invalid]) {
      const r = await gnc('send', '--dir', kz.dir, '--to', 'KG', '--type', 'aci', body);
      expect(r.code, r.stderr).toBe(6);
      expect(r.stderr).toMatch(/^error GNC_AGREEMENT_PURPOSE: gnc send needs --purpose: agreement KZ-KG-test@1 allows aci messages from KZ to KG only for [a-z-]+(, [a-z-]+)*; pass one of them, e.g. --purpose [a-z-]+\./);
    }
    // a partner without an agreement, or a type it does not allow, is refused for that, as before
    const stranger = await gnc('send', '--dir', kz.dir, '--to', 'MN', '--type', 'aci', file('aci-kz-kg-road.json'));
    expect(stranger.stderr).toMatch(/^error GNC_PARTNER_UNKNOWN: /);
    expect(outMessages()).toBe(before);
  });

  it('queues nothing new when the same command runs again with the same --idempotency-key', async () => {
    const before = outMessages();
    const args = ['--type', 'aci', '--idempotency-key', 'KZ-OPS-2026-11-23-1', file('aci-kz-kg-road.json')];
    const first = await send(...args);
    const again = await send(...args);
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(again.out[0]).toMatch(/^Already queued: aci .* by an earlier run with idempotency key "KZ-OPS-2026-11-23-1"; nothing new was queued/);
    expect(idOf(again.out[0]!)).toBe(idOf(first.out[0]!));
    expect(outMessages()).toBe(before + 1);
    // the same body as XML is the same submission; another body with the key is refused
    expect(idOf((await send('--idempotency-key', 'KZ-OPS-2026-11-23-1', file('aci-kz-kg-road.xml'))).out[0]!)).toBe(idOf(first.out[0]!));
    const changed = join(files, 'changed.json');
    writeFileSync(changed, JSON.stringify({ ...aci, functionalReference: 'KZEXP-20261124-9999' }));
    const other = await send('--type', 'aci', '--idempotency-key', 'KZ-OPS-2026-11-23-1', changed);
    expect(other.code).toBe(2);
    expect(other.out.join('\n')).toMatch(/^error GNC_IDEMPOTENCY_KEY_REUSED: /);
  });
});

describe('gnc messages', () => {
  it('lists the messages with their status, filtered as the API filters', async () => {
    const r = await runCli(['messages', '--dir', kz.dir, '--direction', 'out', '--status', 'delivered', '--json']);
    expect(r.code).toBe(0);
    const rows = r.out.map((l) => JSON.parse(l) as { direction: string; status: string; receipt: string | null });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatchObject({ direction: 'out', status: 'delivered', receipt: 'accepted' });
    const table = await runCli(['messages', '--dir', kz.dir, '--limit', '1']);
    expect(table.code).toBe(0);
    expect(table.out).toHaveLength(1);
  });

  it('gives a received message the terms the API list gives it, and a sent one none (gnc as a process, --json)', async () => {
    const kg = net.nodes.KG!;
    const listed = async (dir: string, direction: string) => {
      const r = await gnc('messages', '--dir', dir, '--direction', direction, '--limit', '500', '--json');
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; type: string; terms: unknown });
    };
    // deliveries of the earlier tests may still land on KG: compare the CLI's list with an API list taken before and
    // after it that agree, so both read the same messages
    const apiList = async () => ((await api(kg, 'GET', '/v1/messages?direction=in&limit=500')).json.items as { id: string; terms: unknown }[]).map((i) => [i.id, i.terms]);
    let received: Awaited<ReturnType<typeof listed>> = [];
    let items: unknown[][] = [];
    for (let tries = 0; tries < 5; tries++) {
      const before = await apiList();
      received = await listed(kg.dir, 'in');
      items = await apiList();
      if (JSON.stringify(before) === JSON.stringify(items)) break;
    }
    expect(received.map((l) => [l.id, l.terms])).toEqual(items);
    expect(received.find((l) => l.type === 'aci')?.terms).toEqual({ agreement: 'KZ-KG-test@1', purpose: 'pre-arrival-risk-assessment', retainUntil: expect.any(String), onwardTransfer: false });
    const sent = await listed(kz.dir, 'out');
    expect(sent.length).toBeGreaterThan(0);
    for (const l of sent) expect(l.terms).toBeNull();
  });

  it('refuses a filter the API would refuse, instead of listing nothing, naming the option as typed', async () => {
    for (const [args, expected] of [[['--status', 'lost'], 'one of "queued"|'], [['--direction', 'sideways'], 'one of "out"|"in"'], [['--limit', 'ten'], 'a whole number from 1 to 500'],
      [['--limit', '0'], 'a whole number from 1 to 500'], [['--partner', 'XX1'], 'an ISO 3166-1 alpha-2 country code'],
      // plain decimal digits, as the API takes: not read as 10, 16 or 5
      [['--limit', '1e1'], 'a whole number from 1 to 500'], [['--limit', '0x10'], 'a whole number from 1 to 500'], [['--limit', ' 5'], 'a whole number from 1 to 500']] as const) {
      const r = await runCli(['messages', '--dir', kz.dir, ...args]);
      const option = args[0];
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out[0], args.join(' ')).toMatch(new RegExp(`^error GNC_CONFIG_INVALID: ${option} is invalid: expected .*, received string "${args[1]}"\\. Fix ${option}, then run the command again\\.$`));
      expect(r.out[0], args.join(' ')).toContain(`expected ${expected}`);
      expect(r.out[1], args.join(' ')).toMatch(new RegExp(`^  at ${option}: expected `));
    }
  });
});
