import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodyToXml, bodyTypeOf, parseXmlBody } from '../../../protocol/xml/index.js';
import { REPO_ROOT } from './fixtures.js';

const fullSpec = readFileSync(resolve(REPO_ROOT, 'protocol/SPEC.md'), 'utf8');
/** Section 7 (message bodies) only: the other sections hold JSON blocks of their own (envelopes, agreements). */
const spec = fullSpec.slice(fullSpec.indexOf('\n## 7. Message bodies'), fullSpec.indexOf('\n## 8. '));
const blocks = (lang: string) => [...spec.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]!);
const pairs = blocks('json').map((json, i) => ({ json: JSON.parse(json) as unknown, xml: blocks('xml')[i]! }));

describe('protocol/SPEC.md section 7 examples', () => {
  it('has one JSON and one XML example of each message type, and of an AEO snapshot part', () => {
    expect(pairs.map((p) => bodyTypeOf(p.json))).toEqual(['aci', 'ecoo', 'aeo', 'aeo']);
    expect(blocks('xml')).toHaveLength(4);
  });

  it.each([0, 1, 2, 3])('example %i: the XML block reads back to the JSON block', (i) => {
    expect(parseXmlBody(pairs[i]!.xml).body).toStrictEqual(pairs[i]!.json);
  });

  it.each([0, 1, 2, 3])('example %i: the XML block is what the node writes for the JSON block', (i) => {
    const { json, xml } = pairs[i]!;
    expect(bodyToXml(bodyTypeOf(json), json)).toBe(`${xml}\n`);
  });
});
