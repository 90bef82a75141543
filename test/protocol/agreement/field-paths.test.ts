/**
 * Field paths against zod schemas, walked generically: the message schemas change while agreements are
 * signed, so the walker is tested on small schemas using every construct it must see through.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { fieldPathProblem, fieldPointers, missingRequired, parseFieldPath, scopeTree } from '../../../protocol/agreement/index.js';

const Item = z.strictObject({ code: z.string(), note: z.string().optional(), tags: z.array(z.string()) });
const Node: z.ZodType<{ name: string; children?: unknown[] }> = z.lazy(() => z.strictObject({ name: z.string(), children: z.array(Node).optional() }));

const Body = z.discriminatedUnion('kind', [
  z
    .strictObject({
      kind: z.literal('a'),
      party: z.strictObject({ name: z.string(), id: z.string().optional() }).nullable(),
      items: z.array(Item).min(1),
      grid: z.array(z.array(z.strictObject({ x: z.number() }))).optional(),
      extra: z.record(z.string(), z.strictObject({ v: z.number() })).optional(),
      both: z.intersection(z.object({ left: z.string() }), z.object({ right: z.string() })).optional(),
      piped: z.string().transform((s) => s.length).pipe(z.number()).optional(),
      pre: z.preprocess((v) => v, z.strictObject({ inner: z.string() })).optional(),
      tree: Node.optional(),
      either: z.union([z.string(), z.strictObject({ code: z.string() })]).optional(),
    })
    .superRefine(() => {}),
  z.strictObject({ kind: z.literal('b'), reason: z.string() }),
]);

describe('field paths', () => {
  it('parses members, list markers and nesting', () => {
    expect(parseFieldPath('items[].tags')).toEqual([{ name: 'items', lists: 1 }, { name: 'tags', lists: 0 }]);
    expect(parseFieldPath('grid[][].x')).toEqual([{ name: 'grid', lists: 2 }, { name: 'x', lists: 0 }]);
    expect(parseFieldPath('items..code')).toBeUndefined();
    expect(parseFieldPath('items[0].code')).toBeUndefined();
  });

  it('finds members through nullable, optional and refined objects and every union variant', () => {
    for (const p of ['party.name', 'items[].code', 'reason', 'kind', 'either.code']) expect(fieldPathProblem(Body, p)).toBeUndefined();
  });

  it('finds members through nested lists, records, intersections, pipes, preprocess and lazy schemas', () => {
    for (const p of ['grid[][].x', 'extra.anyKey.v', 'both.left', 'both.right', 'piped', 'pre.inner', 'tree.children[].children[].name']) {
      expect(fieldPathProblem(Body, p)).toBeUndefined();
    }
  });

  it('names the members that exist when a member is unknown', () => {
    expect(fieldPathProblem(Body, 'items[].colour')).toContain('has no member "colour" (it has code, note, tags)');
  });

  it('tells to add [] when a path goes through a list without it', () => {
    expect(fieldPathProblem(Body, 'items.code')).toContain('write "items[].code"');
  });

  it('refuses [] on a member that is not a list, and at the end of a path', () => {
    expect(fieldPathProblem(Body, 'party[].name')).toContain('is not a list');
    expect(fieldPathProblem(Body, 'items[]')).toContain('end the path at "items"');
  });

  it('refuses a member below a single value', () => {
    expect(fieldPathProblem(Body, 'reason.text')).toContain('single value');
  });

  it('adds the discriminator of a discriminated union to a partial scope', () => {
    expect(scopeTree(['reason'], Body).members.has('kind')).toBe(true);
  });

  it('lists the required members a partial scope leaves out, in every variant', () => {
    expect(missingRequired(Body, scopeTree(['items[].code', 'party.id'], Body))).toEqual(['party.name', 'items[].tags', 'reason']);
  });

  it('requires nothing more when the scope names whole required members', () => {
    expect(missingRequired(Body, scopeTree(['party', 'items', 'reason'], Body))).toEqual([]);
  });

  it('finds the JSON pointers a field path names in a body: every element of each list it goes through, only members the body holds', () => {
    const body = { kind: 'a', party: null, items: [{ code: 'x', note: 'n' }, { code: 'y' }, 7], grid: [[{ x: 1 }], [], [{ x: 2 }, { y: 3 }]] };
    expect(fieldPointers(body, 'items[].note', '/body')).toEqual(['/body/items/0/note']);
    expect(fieldPointers(body, 'items', '/body')).toEqual(['/body/items']);
    expect(fieldPointers(body, 'grid[][].x')).toEqual(['/grid/0/0/x', '/grid/2/0/x']);
    expect(fieldPointers(body, 'party.name')).toEqual([]);
    expect(fieldPointers(body, 'not a path')).toEqual([]);
    expect(fieldPointers(JSON.parse('{"__proto__":{"a":1}}'), '__proto__.a')).toEqual(['/__proto__/a']);
  });
});
