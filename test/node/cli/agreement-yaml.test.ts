/**
 * `gnc agreement draft` reads a readable draft as JSON or YAML: the shipped YAML example drafts to exactly the
 * same document as its JSON twin, and broken or hostile YAML is refused with a GNC code and a non-zero exit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedPairDirs, runCli, tempDir } from '../../helpers/network.js';

const examples = new URL('../../../examples/agreements/', import.meta.url).pathname;
const base = tempDir('gnc-yaml-');
let kz: string;

beforeAll(async () => {
  const dirs = await pinnedPairDirs(base);
  kz = dirs.KZ;
});
afterAll(async () => (await import('node:fs')).rmSync(base, { recursive: true, force: true }));

async function draft(file: string): Promise<{ code: number; out: string[]; doc?: unknown }> {
  const out = join(base, `drafted-${Math.random().toString(36).slice(2)}.json`);
  const r = await runCli(['agreement', 'draft', '--dir', kz, file, '--out', out]);
  return r.code === 0 ? { ...r, doc: JSON.parse(readFileSync(out, 'utf8')) as unknown } : r;
}

describe('agreement drafts in YAML', () => {
  it('drafts the YAML example to the same document as the JSON example', async () => {
    const fromJson = await draft(join(examples, 'kz-kg-mra.json'));
    const fromYaml = await draft(join(examples, 'kz-kg-mra.yaml'));
    expect(fromJson.code, fromJson.out.join('\n')).toBe(0);
    expect(fromYaml.code, fromYaml.out.join('\n')).toBe(0);
    expect(fromYaml.doc).toEqual(fromJson.doc);
  });

  it('refuses YAML that does not parse, naming the problem (GNC_CONFIG_INVALID, exit 2)', async () => {
    const file = join(base, 'broken.yaml');
    writeFileSync(file, 'id: KZ-KG\nparties: [KZ, KG\n');
    const r = await draft(file);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toMatch(/GNC_CONFIG_INVALID.*broken\.yaml is not a valid YAML draft/);
  });

  it('refuses an alias bomb instead of expanding it', async () => {
    const file = join(base, 'bomb.yaml');
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10).fill(`*${'abcdefghij'[i - 1]}`).join(',')}]`);
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await draft(file);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toMatch(/GNC_CONFIG_INVALID/);
  });

  it('refuses duplicate keys rather than letting the last one win silently', async () => {
    const file = join(base, 'dup.yaml');
    writeFileSync(file, readFileSync(join(examples, 'kz-kg-mra.yaml'), 'utf8') + 'version: 2\n');
    const r = await draft(file);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toMatch(/GNC_CONFIG_INVALID/);
  });
});
