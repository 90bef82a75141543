/**
 * The README's message-format examples are real: each JSON block in that section is a valid body of the
 * type its paragraph names, so integrators can copy them as they are.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBody } from '../../protocol/messages/registry.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Message formats'), readme.indexOf('## Partner onboarding'));
const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);

describe('README message formats', () => {
  it('has one example per message type', () => {
    expect(blocks).toHaveLength(3);
  });

  it.each([
    ['aci', 0],
    ['ecoo', 1],
    ['aeo', 2],
  ] as const)('shows a valid %s body', (type, i) => {
    expect(() => parseBody(type, blocks[i])).not.toThrow();
  });
});
