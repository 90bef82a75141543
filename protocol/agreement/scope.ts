/**
 * Enforcement of an agreement's scope on one message, the same code on both sides so that sender and
 * receiver can never disagree about what the document allows. On send a type or purpose outside the scope
 * is refused, and fields outside it are refused or, when the agreement says `minimise`, removed (the caller
 * is told which). On receive nothing is ever removed: any field outside the scope rejects the message,
 * because a partner that sends it has broken the agreement and the data must not be stored.
 */
import type { z } from 'zod';
import { GncError, type ErrorIssue, type XmlPathOf } from '../errors.js';
import { BODY_SCHEMAS, type BusinessType } from '../messages/registry.js';
import { MAX_REPORTED_FIELDS, STRUCTURAL_MEMBERS } from './constants.js';
import { agreementRef, type AgreementDocument, type MessageScope } from './document.js';
import { scopeTree, xmlElementsOf, type ScopeTree } from './field-paths.js';
import { issuesOf, summary } from './issues.js';

/** Array nesting beyond this in a body is treated as out of scope (the schemas nest lists two deep). */
const MAX_BODY_DEPTH = 64;

/** The scope for `type` from `from` to `to`, or undefined when the agreement does not allow it. */
export function scopeFor(doc: AgreementDocument, from: string, to: string, type: string): MessageScope | undefined {
  return doc.directions.find((d) => d.from === from && d.to === to)?.messages.find((m) => m.type === type);
}

const trees = new WeakMap<MessageScope, ScopeTree>();

/** Compiled once per scope object: a send or receive only walks the body. Structural members are always in it. */
function treeOf(scope: MessageScope): ScopeTree {
  let tree = trees.get(scope);
  if (!tree) {
    tree = scopeTree(scope.fields, BODY_SCHEMAS[scope.type] as z.core.$ZodType);
    for (const name of STRUCTURAL_MEMBERS[scope.type] ?? []) if (!tree.all) tree.members.set(name, { all: true, members: new Map() });
    trees.set(scope, tree);
  }
  return tree;
}

interface OutOfScope {
  /** Field path in agreement syntax, like `goodsItems[].customsValue`. */
  path: string;
  /** JSON pointer of the occurrence under the envelope, like `/body/goodsItems/0/customsValue`. */
  pointer: string;
  /** Its value, whose members name the elements of one the XML reader read from several places (xmlElementsOf). */
  value: unknown;
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The value with out-of-scope members left out (a copy; the input is never changed), listing each one. */
function filter(value: unknown, tree: ScopeTree, path: string, pointer: string, out: OutOfScope[], depth: number): unknown {
  if (tree.all) return value;
  if (depth > MAX_BODY_DEPTH) {
    out.push({ path, pointer, value });
    return undefined;
  }
  if (Array.isArray(value)) return value.map((e, i) => filter(e, tree, `${path}[]`, `${pointer}/${i}`, out, depth + 1));
  if (value === null || typeof value !== 'object') return value; // the schema check reports a value where an object belongs
  const kept: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    const p = path ? `${path}.${key}` : key;
    const child = tree.members.get(key);
    if (!child) {
      out.push({ path: p, pointer: `${pointer}/${escape(key)}`, value: member });
      continue;
    }
    // defineProperty: a member named "__proto__" from JSON.parse must stay a member, not become a prototype
    Object.defineProperty(kept, key, { value: filter(member, child, p, `${pointer}/${escape(key)}`, out, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return kept;
}

function unique(paths: readonly OutOfScope[]): string[] {
  return [...new Set(paths.map((p) => p.path))];
}

function describeDirection(doc: AgreementDocument, from: string, to: string): string {
  return `agreement ${agreementRef(doc)} from ${from} to ${to}`;
}

/** Type and purpose checks shared by both sides; returns the scope. */
function admit(doc: AgreementDocument, from: string, to: string, type: BusinessType, purpose: string | undefined): MessageScope {
  const scope = scopeFor(doc, from, to, type);
  if (!scope) {
    const allowed = doc.directions.find((d) => d.from === from && d.to === to)?.messages.map((m) => m.type) ?? [];
    throw new GncError(
      'GNC_AGREEMENT_TYPE',
      `Message type ${type} is not allowed under ${describeDirection(doc, from, to)}; ${allowed.length ? `it allows ${allowed.join(', ')}` : 'it allows nothing in this direction'}: `
        + `send ${type} only once a version of the agreement that allows it is in force (gnc agreement draft, then sign and propose it).`,
    );
  }
  // what to do, for the API, the CLI and the partner's negative receipt alike: the three ways of giving a purpose
  const givePurpose = `give one of them as the purpose ("purpose" of a JSON submission, ?purpose= of an XML one, gnc send --purpose) and submit again`;
  if (purpose === undefined) {
    throw new GncError('GNC_AGREEMENT_PURPOSE', `An ${type} message under ${describeDirection(doc, from, to)} must declare its purpose, one of ${scope.purposes.join(', ')}: ${givePurpose}.`);
  }
  if (!(scope.purposes as readonly string[]).includes(purpose)) {
    throw new GncError('GNC_AGREEMENT_PURPOSE', `Purpose "${purpose}" is not allowed for ${type} under ${describeDirection(doc, from, to)}; it allows ${scope.purposes.join(', ')}: ${givePurpose}.`);
  }
  return scope;
}

function fieldIssues(found: readonly OutOfScope[]): ErrorIssue[] {
  return found.slice(0, MAX_REPORTED_FIELDS).map((f) => ({
    path: f.pointer,
    expected: 'no field outside the agreement scope',
    received: `field ${f.path}`,
    message: `${f.pointer}: field ${f.path} is outside the agreement scope`,
  }));
}

function listPaths(paths: readonly string[]): string {
  return paths.length > MAX_REPORTED_FIELDS ? `${paths.slice(0, MAX_REPORTED_FIELDS).join(', ')} and ${paths.length - MAX_REPORTED_FIELDS} more` : paths.join(', ');
}

/** `fields a.b, c[].d` (`word` `Field` to start a sentence). */
function fieldList(paths: readonly string[], word = 'field'): string {
  return `${word}${paths.length > 1 ? 's' : ''} ${listPaths(paths)}`;
}

/**
 * The occurrences `found` in a body read from XML, as the elements they were read from, with their field paths:
 * `XML elements /Declaration/Exporter/ID, ... (fields exporter.id, ...)`, and how many elements that is.
 */
function elementList(found: readonly OutOfScope[], xmlPathOf: XmlPathOf): { words: string; count: number } {
  const elements = [...new Set(found.flatMap((f) => xmlElementsOf(f.value, f.pointer, xmlPathOf)))];
  return { words: `XML element${elements.length > 1 ? 's' : ''} ${listPaths(elements)} (${fieldList(unique(found))})`, count: elements.length };
}

export interface SendScopeResult {
  /** The body to seal: the input itself when nothing was removed, else a minimised copy. */
  body: Record<string, unknown>;
  /** Field paths removed by minimisation, each once (`goodsItems[].customsValue`); empty when none. */
  removed: string[];
}

/**
 * Applies the agreement to a message about to be sent. Throws GNC_AGREEMENT_TYPE or GNC_AGREEMENT_PURPOSE,
 * or GNC_AGREEMENT_FIELD naming the out-of-scope field paths (with JSON pointers under /body as issues)
 * unless the scope says `minimise`, in which case they are removed. A minimised body is validated again:
 * when a refinement of the message schema needs a removed field, the message is refused rather than
 * sent in a form the receiver must reject.
 */
export function enforceOnSend(
  doc: AgreementDocument,
  from: string,
  to: string,
  type: BusinessType,
  purpose: string | undefined,
  body: Record<string, unknown>,
): SendScopeResult {
  const scope = admit(doc, from, to, type, purpose);
  const found: OutOfScope[] = [];
  const kept = filter(body, treeOf(scope), '', '/body', found, 0) as Record<string, unknown>;
  if (found.length === 0) return { body, removed: [] };
  const removed = unique(found);
  const direction = describeDirection(doc, from, to);
  if (!scope.minimise) {
    // a body read from XML is refused by the elements the submitter wrote (GncError.inXml)
    const refusal = (what: string, count: number) => `${what} ${count > 1 ? 'are' : 'is'} outside ${direction} for ${type}: remove ${count > 1 ? 'them' : 'it'} and submit again.`;
    throw new GncError('GNC_AGREEMENT_FIELD', refusal(fieldList(removed, 'Field'), removed.length), {
      issues: fieldIssues(found),
      inXml: (xmlPathOf) => {
        const elements = elementList(found, xmlPathOf);
        return refusal(elements.words, elements.count);
      },
    });
  }
  const check = (BODY_SCHEMAS[type] as z.ZodType).safeParse(kept);
  if (!check.success) {
    const issues = issuesOf(check.error, kept, '/body');
    const invalid = (what: string, problems: readonly ErrorIssue[]) =>
      `Removing ${what} leaves the ${type} body invalid: ${summary(problems)}. The agreement's field list must keep what the message needs.`;
    throw new GncError('GNC_AGREEMENT_FIELD', invalid(`${listPaths(removed)} (outside ${direction})`, issues), {
      issues,
      inXml: (xmlPathOf) => invalid(`${elementList(found, xmlPathOf).words}, outside ${direction},`, issues.map((i) => {
        const at = xmlPathOf(i.path);
        return at === undefined ? i : { ...i, message: `XML element ${at}: expected ${i.expected}, received ${i.received}` };
      })),
    });
  }
  return { body: kept, removed };
}

/**
 * Applies the agreement to a received message. Never removes anything: a type, purpose or field outside
 * the scope throws GNC_AGREEMENT_TYPE / GNC_AGREEMENT_PURPOSE / GNC_AGREEMENT_FIELD (issues are the JSON
 * pointers of the offending fields under /body), for a signed negative receipt. Returns the scope.
 */
export function enforceOnReceive(
  doc: AgreementDocument,
  from: string,
  to: string,
  type: BusinessType,
  purpose: string | undefined,
  body: Record<string, unknown>,
): MessageScope {
  const scope = admit(doc, from, to, type, purpose);
  const found: OutOfScope[] = [];
  filter(body, treeOf(scope), '', '/body', found, 0);
  if (found.length > 0) {
    const paths = unique(found);
    throw new GncError(
      'GNC_AGREEMENT_FIELD',
      `Received ${type} carries ${listPaths(found.map((f) => f.pointer))}, outside ${describeDirection(doc, from, to)} (field${paths.length > 1 ? 's' : ''} ${listPaths(paths)}); the message is refused and not stored.`,
      { issues: fieldIssues(found) },
    );
  }
  return scope;
}
