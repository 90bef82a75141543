/**
 * Field paths of an agreement scope (`consignor.name`, `goodsItems[].hsCode`), checked against the zod
 * schema of the message body by introspection (zod 4 `_zod.def`). Walking the schema itself, rather than a
 * hand-kept list of fields, keeps the agreement check right while the message schemas grow: objects and
 * strict objects, arrays and tuples, optional / nullable / default wrappers, unions and discriminated
 * unions (every variant's members count), intersections, lazy schemas, pipes, and records (any member name)
 * are understood; refinements are checks on the same schema in zod 4 and need no unwrapping.
 *
 * A scope compiles into a ScopeTree of member names. List levels are transparent in the tree (a path goes
 * through every element), so `goodsItems[].hsCode` and a body's `goodsItems[3].hsCode` meet at the same node.
 */
import type { z } from 'zod';
import type { XmlPathOf } from '../errors.js';
import { pointer as jsonPointer } from '../validate.js';
import { ALL_FIELDS, FIELD_SUCCESSORS, MAX_FIELD_PATH_DEPTH } from './constants.js';

type Schema = z.core.$ZodType;

/** One member step of a field path and how many list levels the path goes through after it. */
export interface PathSegment {
  name: string;
  lists: number;
}

/** A compiled scope: `all` allows the whole value; otherwise only the named members (recursively). */
export interface ScopeTree {
  all: boolean;
  members: Map<string, ScopeTree>;
}

const SEGMENT = /^([A-Za-z_$][A-Za-z0-9_$-]*)((?:\[\])*)$/;
/** Nesting bound for walking self-referencing (lazy) schemas. */
const MAX_SCHEMA_DEPTH = 64;

/** Splits `a.b[].c` into segments; undefined when the text is not a field path. */
export function parseFieldPath(path: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  for (const part of path.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m) return undefined;
    segments.push({ name: m[1]!, lists: m[2]!.length / 2 });
  }
  return segments.length <= MAX_FIELD_PATH_DEPTH ? segments : undefined;
}

interface View {
  /** Named members across every object form the value may take. */
  members: Map<string, Schema[]>;
  /** Value schemas of records and object catch-alls: any member name is allowed there. */
  anyMember: Schema[];
  /** Element schemas of the list forms the value may take. */
  elements: Schema[];
  /** Discriminator keys of the discriminated unions the value passes through (implicitly in scope). */
  discriminators: Set<string>;
}

/** The concrete forms a schema may take, with wrappers, unions, intersections and pipes seen through. */
function terminals(schema: Schema, out: Schema[], discriminators: Set<string>, depth: number): void {
  if (depth > MAX_SCHEMA_DEPTH) return;
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return terminals(def.innerType, out, discriminators, depth + 1);
    case 'lazy':
      return terminals(def.getter(), out, discriminators, depth + 1);
    case 'pipe':
      // z.preprocess(fn, S) is pipe(transform, S): the JSON looks like S; otherwise the input side decides
      return terminals((def.in as z.core.$ZodTypes)._zod.def.type === 'transform' ? def.out : def.in, out, discriminators, depth + 1);
    case 'union':
      if ('discriminator' in def && typeof def.discriminator === 'string') discriminators.add(def.discriminator);
      for (const option of def.options) terminals(option, out, discriminators, depth + 1);
      return;
    case 'intersection':
      terminals(def.left, out, discriminators, depth + 1);
      terminals(def.right, out, discriminators, depth + 1);
      return;
    default:
      out.push(schema);
  }
}

/** Members and elements of the schemas; with `throughLists`, list elements' members count too. */
function view(schemas: readonly Schema[], throughLists = false, depth = 0): View {
  const v: View = { members: new Map(), anyMember: [], elements: [], discriminators: new Set() };
  const nodes: Schema[] = [];
  for (const s of schemas) terminals(s, nodes, v.discriminators, 0);
  for (const node of nodes) {
    const def = (node as z.core.$ZodTypes)._zod.def;
    if (def.type === 'object') {
      for (const [name, member] of Object.entries(def.shape)) v.members.set(name, [...(v.members.get(name) ?? []), member]);
      if (def.catchall !== undefined && (def.catchall as z.core.$ZodTypes)._zod.def.type !== 'never') v.anyMember.push(def.catchall);
    } else if (def.type === 'record') {
      v.anyMember.push(def.valueType);
    } else if (def.type === 'array') {
      v.elements.push(def.element);
    } else if (def.type === 'tuple') {
      v.elements.push(...def.items, ...(def.rest ? [def.rest] : []));
    }
  }
  if (throughLists && v.elements.length > 0 && depth < MAX_SCHEMA_DEPTH) {
    const inner = view(v.elements, true, depth + 1);
    for (const [name, list] of inner.members) v.members.set(name, [...(v.members.get(name) ?? []), ...list]);
    v.anyMember.push(...inner.anyMember);
    for (const d of inner.discriminators) v.discriminators.add(d);
  }
  return v;
}

function show(segments: readonly PathSegment[]): string {
  return segments.map((s) => s.name + '[]'.repeat(s.lists)).join('.');
}

/**
 * Why `path` names no field of `schema` (a sentence fragment), or undefined when it does. A path names
 * members from the body down; `[]` follows every list the path goes through, and the last member carries
 * none (naming a list covers all its elements).
 */
export function fieldPathProblem(schema: Schema, path: string): string | undefined {
  const segments = parseFieldPath(path);
  if (!segments) {
    return `"${path}" is not a field path: write at most ${MAX_FIELD_PATH_DEPTH} member names separated by dots, with [] after each list the path goes through, like "goodsItems[].hsCode"`;
  }
  let current: Schema[] = [schema];
  let at = '';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const v = view(current);
    const found = v.members.get(seg.name) ?? (v.anyMember.length > 0 ? v.anyMember : undefined);
    if (!found) {
      if (v.elements.length > 0 && view(v.elements, true).members.has(seg.name)) {
        return `"${at}" is a list: write "${at}[].${show(segments.slice(i))}"`;
      }
      if (v.members.size === 0) return `"${at}" is a single value and has no member "${seg.name}"`;
      const known = [...v.members.keys()];
      return `${at ? `"${at}"` : 'the body'} has no member "${seg.name}" (it has ${known.slice(0, 30).join(', ')}${known.length > 30 ? ', ...' : ''})`;
    }
    current = found;
    at = at ? `${at}.${seg.name}` : seg.name;
    if (i === segments.length - 1 && seg.lists > 0) return `end the path at "${at}": naming a list covers all its elements`;
    for (let k = 0; k < seg.lists; k++) {
      const elements = view(current).elements;
      if (elements.length === 0) return `"${at}" is not a list: remove the []`;
      current = elements;
      at += '[]';
    }
  }
  return undefined;
}

/**
 * Compiles a field list into a tree, each path with the later members it covers (FIELD_SUCCESSORS). With the body schema, the discriminators of its discriminated unions
 * (the `kind` of every message variant) are added wherever the tree reaches such a union, because a body
 * without its discriminator cannot be read at all. Paths that do not parse are ignored here (the
 * agreement's validation reports them).
 */
export function scopeTree(fields: readonly string[], schema?: Schema): ScopeTree {
  const root: ScopeTree = { all: fields.includes(ALL_FIELDS), members: new Map() };
  if (root.all) return root;
  for (const path of fields.flatMap((f) => [f, ...(FIELD_SUCCESSORS[f] ?? [])])) {
    const segments = parseFieldPath(path);
    if (!segments) continue;
    let node = root;
    for (const seg of segments) {
      let next = node.members.get(seg.name);
      if (!next) {
        next = { all: false, members: new Map() };
        node.members.set(seg.name, next);
      }
      node = next;
    }
    node.all = true;
  }
  if (schema) addDiscriminators(root, [schema], 0);
  return root;
}

function addDiscriminators(tree: ScopeTree, schemas: readonly Schema[], depth: number): void {
  if (tree.all || depth > MAX_FIELD_PATH_DEPTH) return;
  const v = view(schemas, true);
  for (const d of v.discriminators) if (!tree.members.has(d)) tree.members.set(d, { all: true, members: new Map() });
  for (const [name, child] of tree.members) {
    const member = v.members.get(name) ?? v.anyMember;
    if (member.length > 0) addDiscriminators(child, member, depth + 1);
  }
}

/**
 * The required members a scope leaves out, as field paths. A member is required when its object is sent
 * at all (the body, or an object some allowed path reaches into) and the schema does not mark it optional:
 * stripping it would make every such message fail validation at the receiver. Every variant of a union
 * counts, because any of them may be sent.
 */
export function missingRequired(schema: Schema, tree: ScopeTree): string[] {
  const out = new Set<string>();
  walkRequired([schema], tree, '', out, 0);
  return [...out];
}

function walkRequired(schemas: readonly Schema[], tree: ScopeTree, at: string, out: Set<string>, depth: number): void {
  if (tree.all || depth > MAX_SCHEMA_DEPTH) return;
  const nodes: Schema[] = [];
  const discriminators = new Set<string>();
  for (const s of schemas) terminals(s, nodes, discriminators, 0);
  const join = (name: string) => (at ? `${at}.${name}` : name);
  for (const node of nodes) {
    const def = (node as z.core.$ZodTypes)._zod.def;
    if (def.type === 'object') {
      for (const [name, member] of Object.entries(def.shape)) {
        const child = tree.members.get(name);
        if (child) walkRequired([member], child, join(name), out, depth + 1);
        else if (member._zod.optin !== 'optional' && !discriminators.has(name)) out.add(join(name));
      }
    } else if (def.type === 'array') {
      walkRequired([def.element], tree, `${at}[]`, out, depth + 1);
    } else if (def.type === 'tuple') {
      walkRequired([...def.items, ...(def.rest ? [def.rest] : [])], tree, `${at}[]`, out, depth + 1);
    } else if (def.type === 'record') {
      for (const [name, child] of tree.members) walkRequired([def.valueType], child, join(name), out, depth + 1);
    }
  }
}

/** A member a field path names in a body: its value and its JSON pointer. */
export interface FieldOccurrence {
  value: unknown;
  pointer: string;
}

/**
 * The members a field path names in a body, with their JSON pointers under `prefix`, each element of every list it
 * goes through (`goodsItems[].netMass` -> `/body/goodsItems/0/netMass`, `/body/goodsItems/1/netMass` ...); only those
 * the body holds, none for a path that does not parse.
 */
export function fieldOccurrences(body: unknown, path: string, prefix = ''): FieldOccurrence[] {
  const segments = parseFieldPath(path);
  if (!segments) return [];
  let at: FieldOccurrence[] = [{ value: body, pointer: prefix }];
  for (const { name, lists } of segments) {
    at = at.flatMap(({ value, pointer }) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, name)
        ? [{ value: (value as Record<string, unknown>)[name], pointer: `${pointer}/${name}` }]
        : []);
    for (let k = 0; k < lists; k++) {
      at = at.flatMap(({ value, pointer }) => (Array.isArray(value) ? value.map((v: unknown, i) => ({ value: v, pointer: `${pointer}/${i}` })) : []));
    }
  }
  return at;
}

/** The JSON pointers of fieldOccurrences. */
export function fieldPointers(body: unknown, path: string, prefix = ''): string[] {
  return fieldOccurrences(body, path, prefix).map((a) => a.pointer);
}

/**
 * The XML elements a member of a body read from XML was read from, for its value and its JSON pointer: its own
 * element; for an object or list the reader read from elements that are not in one of its own (the ACI's
 * `officeOfExit` and `notifyParty`, from ExitOffice and GNC AdditionalInformation entries), which `xmlPathOf` places
 * at the element of the member holding it, the elements of its members instead, so a list of what to remove never
 * names an element that holds more (the document's root). The pointer itself where `xmlPathOf` knows none.
 */
export function xmlElementsOf(value: unknown, pointer: string, xmlPathOf: XmlPathOf): string[] {
  const own = xmlPathOf(pointer);
  if (own === undefined) return [pointer];
  if (value === null || typeof value !== 'object' || own !== xmlPathOf(pointer.slice(0, pointer.lastIndexOf('/')))) return [own];
  const members = Object.entries(value).flatMap(([key, member]) => xmlElementsOf(member, jsonPointer([key], pointer), xmlPathOf));
  return members.length > 0 ? members : [own];
}

/**
 * xmlElementsOf for the member a JSON pointer under `prefix` names in a body (`/body/notifyParty` -> the elements of
 * its members); undefined where the body holds no such member or `xmlPathOf` knows no element for it.
 */
export function xmlElementsAt(body: unknown, pointer: string, xmlPathOf: XmlPathOf, prefix = '/body'): string[] | undefined {
  if (pointer !== prefix && !pointer.startsWith(`${prefix}/`)) return undefined;
  if (xmlPathOf(pointer) === undefined) return undefined;
  let value = body;
  for (const raw of pointer.slice(prefix.length).split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return [...new Set(xmlElementsOf(value, pointer, xmlPathOf))];
}
