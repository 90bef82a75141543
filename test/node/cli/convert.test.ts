/**
 * `gnc convert`: a body is converted only into a document a node accepts (SPEC 7.6), or the command fails
 * with the code that says why.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/network.js';

const base = tempDir('gnc-convert-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('gnc convert', () => {
  it('exits 2 with GNC_BODY_TOO_LARGE when the XML of a valid body would be over the body limit', async () => {
    const body = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, any>;
    const item = body['goodsItems'][0];
    body['goodsItems'] = Array.from({ length: 999 }, (_, i) => ({ ...item, sequence: i + 1, description: 'Wheat flour ' + 'x'.repeat(500) }));
    Object.assign(body, { goodsItemCount: 999, totalPackages: 999 * 300, totalGrossMass: { value: 999 * 15060, unit: 'KGM' } });
    const file = join(base, 'large.json');
    writeFileSync(file, JSON.stringify(body));
    const r = await runCli(['convert', '--to', 'xml', file, '--out', join(base, 'large.xml')]);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toContain('GNC_BODY_TOO_LARGE');
  });

  it('exits 2 with GNC_UNKNOWN_TYPE when --type contradicts the XML root, as gnc send does', async () => {
    const file = new URL('../../../examples/messages/aci-kz-kg-road.xml', import.meta.url).pathname;
    const r = await runCli(['convert', '--to', 'json', '--type', 'ecoo', file]);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toContain('GNC_UNKNOWN_TYPE: --type ecoo contradicts the XML root, which is an aci document');
  });
});
