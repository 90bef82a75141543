/**
 * `gnc backup` beside running nodes: KZ sends to KG over libp2p while KG's database is copied; the copy is a
 * complete node database (its evidence log verifies, its messages list) once put in a data dir with KG's keys
 * and identity, and it is readable by its owner only.
 */
import { cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { api, networkForFile, runCli, waitFor } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

function count(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'in'`).pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('gnc backup', () => {
  it('copies the database of a node that is receiving messages into a node database that verifies', async () => {
    const ids: string[] = [];
    const sending = (async () => {
      for (let i = 0; i < 30; i++) {
        const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
        expect(r.status).toBe(202);
        ids.push(r.json.id as string);
      }
    })();
    await waitFor(async () => ((await api(kg, 'GET', '/v1/messages?direction=in')).json.items.length > 0 ? true : undefined), 15_000, 'a first message at KG');
    const file = join(net.base, 'kg-live.sqlite');
    const r = await runCli(['backup', '--dir', kg.dir, '--out', file]);
    expect(r.code, r.out.join('\n')).toBe(0);
    await sending;
    expect(r.out.join('\n')).toMatch(/Backed up .* messages, evidence log up to entry \d+/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const copied = count(file);
    expect(copied).toBeGreaterThan(0);

    // a restored data dir: KG's config, keys and identity, and the copy as its database
    const restored = join(net.base, 'kg-restored');
    mkdirSync(restored);
    for (const f of ['gnc.json', 'keys', 'identity']) cpSync(join(kg.dir, f), join(restored, f), { recursive: true });
    cpSync(file, join(restored, 'gnc.sqlite'));
    const v = await runCli(['audit', 'verify', '--dir', restored]);
    expect(v.code, v.out.join('\n')).toBe(0);
    const listed = await runCli(['messages', '--dir', restored, '--direction', 'in', '--limit', '500', '--json']);
    expect(listed.code, listed.out.join('\n')).toBe(0);
    expect(listed.out.map((l) => JSON.parse(l) as { direction: string }).filter((m) => m.direction === 'in')).toHaveLength(copied);
  }, 60_000);

  it('refuses an existing --out file before copying anything (exit 2, GNC_FILE_ACCESS)', async () => {
    const file = join(net.base, 'kg-twice.sqlite');
    expect((await runCli(['backup', '--dir', kg.dir, '--out', file])).code).toBe(0);
    const before = statSync(file).mtimeMs;
    const again = await runCli(['backup', '--dir', kg.dir, '--out', file]);
    expect(again.code).toBe(2);
    expect(again.out.join('\n')).toContain('GNC_FILE_ACCESS');
    expect(statSync(file).mtimeMs).toBe(before);
  });

  it('says that --dir holds no node (exit 4, GNC_IDENTITY_MISSING)', async () => {
    const empty = join(net.base, 'no-node');
    mkdirSync(empty);
    const r = await runCli(['backup', '--dir', empty, '--out', join(net.base, 'none.sqlite')]);
    expect(r.code).toBe(4);
    expect(r.out.join('\n')).toContain('GNC_IDENTITY_MISSING');
  });
});
