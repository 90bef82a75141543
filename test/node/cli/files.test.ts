/**
 * Input files named on the command line: bytes that are not UTF-8 are refused with the code of the format the
 * file is in, never decoded leniently into U+FFFD and sent or converted.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInputFile } from '../../../node/cli/files.js';
import { codeOf } from '../../helpers/errors.js';
import { runCli, tempDir } from '../../helpers/network.js';

const examples = new URL('../../../examples/messages/', import.meta.url);
const base = tempDir('gnc-files-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The example with the consignor's name in Latin-1, as an editor set to ISO 8859-1 saves it. */
function latin1File(example: string, name: string): string {
  const file = join(base, name);
  const text = readFileSync(new URL(example, examples), 'utf8').replace('Almaty Flour Mill JSC', 'Almaty Société JSC');
  writeFileSync(file, Buffer.from(text, 'latin1'));
  return file;
}

describe('readInputFile', () => {
  it('refuses an XML file that is not UTF-8 with GNC_XML_INVALID', () => {
    expect(codeOf(() => readInputFile(latin1File('aci-kz-kg-road.xml', 'latin1.xml')))).toBe('GNC_XML_INVALID');
  });

  it('refuses XML that is not UTF-8 by its leading "<" whatever the file is called', () => {
    expect(codeOf(() => readInputFile(latin1File('aci-kz-kg-road.xml', 'latin1.txt')))).toBe('GNC_XML_INVALID');
  });

  it('refuses a JSON file that is not UTF-8 with GNC_INVALID_JSON', () => {
    expect(codeOf(() => readInputFile(latin1File('aci-kz-kg-road.json', 'latin1.json')))).toBe('GNC_INVALID_JSON');
  });

  it('reads a UTF-8 file unchanged', () => {
    const file = join(base, 'utf8.json');
    writeFileSync(file, '{"name":"Société"}');
    expect(readInputFile(file)).toBe('{"name":"Société"}');
  });

  it('makes gnc convert exit 2 with GNC_XML_INVALID on a Latin-1 XML file', async () => {
    const r = await runCli(['convert', '--to', 'json', latin1File('aci-kz-kg-road.xml', 'convert.xml')]);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toContain('GNC_XML_INVALID');
    expect(r.out.join('\n')).not.toContain('Soci\ufffd');
  });
});
