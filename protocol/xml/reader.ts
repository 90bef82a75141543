/**
 * Reading an element tree into a JSON body while remembering, for every field, the element it came from (or
 * would have come from). When the zod schema later refuses a field, the error names the XML element path
 * (`/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID`) and the XML form
 * that was expected, not a JSON pointer the integrator never wrote.
 */
import { MAX_REPORTED_ISSUES } from '../constants.js';
import { GncError, type ErrorIssue } from '../errors.js';
import { moreProblems } from '../validate.js';
import type { Locator } from '../messages/common.js';
import { childrenNamed, elementPath, type XmlElement } from './tree.js';

interface Mark {
  el: XmlElement;
  rest: string;
  expected: string | undefined;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;

/** XSD decimal text as a number; anything else stays a string so the schema reports it with its value. */
export function toNumber(text: string): number | string {
  return DECIMAL.test(text) ? Number(text) : text;
}

/** A decimal text as its value is written: no sign for a positive, no leading or trailing zeros, no lone point. */
function canonicalDecimal(text: string): string {
  const negative = text.startsWith('-');
  const [int = '', fraction = ''] = text.replace(/^[+-]/, '').split('.');
  const i = int.replace(/^0+/, '') || '0';
  const f = fraction.replace(/0+$/, '');
  const digits = f ? `${i}.${f}` : i;
  return negative && digits !== '0' ? `-${digits}` : digits;
}

/**
 * Whether a decimal text reads as exactly the number it writes: a JSON number is an IEEE double, which holds every
 * decimal of up to 15 significant digits but not each of 16 or more (9007199254740993 reads as ...992). Such a
 * value is refused, never changed on the way in; a number that needs an exponent is left to the schema's check.
 */
function exactDecimal(text: string, value: number): boolean {
  const written = String(value);
  return /e/i.test(written) || canonicalDecimal(written) === canonicalDecimal(text);
}

/** Sets `obj[key]` only for defined values, so optional fields stay absent rather than undefined. */
export function put<T extends object>(obj: T, key: string, value: unknown): void {
  if (value !== undefined) (obj as Record<string, unknown>)[key] = value;
}

export class XmlReader {
  private readonly marks = new Map<string, Mark>();
  readonly problems: ErrorIssue[] = [];

  constructor(readonly root: XmlElement) {}

  /** Remembers that JSON `pointer` is read from `el` + `rest` (the element steps that were missing). */
  mark(pointer: string, el: XmlElement, rest = '', expected?: string): void {
    this.marks.set(pointer, { el, rest, expected });
  }

  private readonly repeated = new Set<XmlElement>();

  /**
   * The child `name` of `el` in namespace `ns` (by default `el`'s), where the mapping holds one value: a second
   * one is reported (once), never silently dropped for the first (a second FunctionalReferenceID, Consignor or
   * GoodsShipment would otherwise be ignored).
   */
  one(el: XmlElement | undefined, name: string, ns = el?.ns): XmlElement | undefined {
    if (!el) return undefined;
    let first: XmlElement | undefined;
    let count = 0;
    for (const c of el.children) {
      if (c.name !== name || c.ns !== ns) continue;
      if (count++ === 0) first = c;
    }
    if (count > 1 && !this.repeated.has(first!)) {
      this.repeated.add(first!);
      this.problem(childrenNamed(el, name, ns)[1]!, '', `one <${name}>`, `${count}`);
    }
    return first;
  }

  /** Follows `names` down from `from`, marks `pointer` at the deepest element reached, returns the target. */
  at(pointer: string, from: XmlElement, names: readonly string[], expected?: string): XmlElement | undefined {
    let cur = from;
    for (let i = 0; i < names.length; i++) {
      const next = this.one(cur, names[i]!);
      if (!next) {
        this.mark(pointer, cur, '/' + names.slice(i).join('/'), expected);
        return undefined;
      }
      cur = next;
    }
    this.mark(pointer, cur, '', expected);
    return cur;
  }

  /** The repeated elements `names` ends in (the steps before it are single), marked at `pointer`. */
  list(pointer: string, from: XmlElement, names: readonly string[]): XmlElement[] {
    let cur = from;
    for (let i = 0; i < names.length - 1; i++) {
      const next = this.one(cur, names[i]!);
      if (!next) {
        this.mark(pointer, cur, '/' + names.slice(i).join('/'));
        return [];
      }
      cur = next;
    }
    const last = names[names.length - 1]!;
    this.mark(pointer, cur, `/${last}`);
    return childrenNamed(cur, last);
  }

  /**
   * One value the body holds once, read from blocks the schema lets repeat (a goods item's `Origin`): blocks that repeat the value read once, blocks without it say nothing, and a block with
   * another value is reported at its element, naming the element whose value was read, never dropped for the
   * first. `pointer` is marked at the element read, else where it is missing in the first block (when there
   * is no block at all, the caller's mark stays).
   */
  agreed(pointer: string, blocks: readonly XmlElement[], names: readonly string[], expected: string): string | undefined {
    let first: { el: XmlElement; text: string } | undefined;
    for (const block of blocks) {
      let el: XmlElement | undefined = block;
      for (const name of names) el = this.one(el, name);
      if (!el) continue;
      const text = this.textOf(el);
      if (!first) {
        first = { el, text };
        this.mark(pointer, el);
      } else if (text !== first.text) {
        this.problem(el, '', `${expected}: the value of ${elementPath(first.el)}, "${first.text}"`, `"${text}"`);
      }
    }
    if (!first && blocks[0]) this.mark(pointer, blocks[0], '/' + names.join('/'));
    return first?.text;
  }

  text(pointer: string, from: XmlElement, names: readonly string[], expected?: string): string | undefined {
    const el = this.at(pointer, from, names, expected);
    return el && this.textOf(el);
  }

  /** The text of an element that holds a value; child elements there are reported, not skipped. */
  textOf(el: XmlElement): string {
    if (el.children.length > 0) this.problem(el.children[0]!, '', `text only in <${el.name}>`, `element <${el.children[0]!.name}>`);
    return el.text;
  }

  number(pointer: string, from: XmlElement, names: readonly string[], expected?: string): number | string | undefined {
    const el = this.at(pointer, from, names, expected);
    return el && this.numberOf(el);
  }

  /**
   * The decimal text of `el` as a number (anything else stays a string for the schema to report); a decimal that a
   * JSON number cannot hold exactly is reported at the element, as the value would otherwise change on the way in.
   */
  numberOf(el: XmlElement): number | string {
    const text = this.textOf(el);
    const value = toNumber(text);
    if (typeof value === 'number' && !exactDecimal(text, value)) {
      this.problem(el, '', `a decimal a JSON number holds exactly (every one of up to 15 significant digits, not each of 16: this one would read as ${String(value)})`, `"${text}"`);
    }
    return value;
  }

  /** Value of an attribute of `el`, marked as `el/@name`. */
  attr(pointer: string, el: XmlElement, name: string, expected?: string): string | undefined {
    this.mark(pointer, el, `/@${name}`, expected);
    return el.attrs?.[name];
  }

  /** How many problems were found; `problems` keeps the first MAX_REPORTED_ISSUES of them. */
  problemCount = 0;

  /** Records a problem the schema cannot see (an unexpected element, a repeated one). */
  problem(el: XmlElement, rest: string, expected: string, received: string): void {
    // capped like schema issues: a document of 100,000 unknown elements gets a short answer, not 30 MB
    if (this.problemCount++ >= MAX_REPORTED_ISSUES) return;
    const path = elementPath(el) + rest;
    this.problems.push({ path, expected, received, message: `${path}: expected ${expected}, received ${received}` });
  }

  /** Throws GNC_SCHEMA_INVALID with the problems found, if any, before the schema runs. */
  throwProblems(what: string): void {
    const first = this.problems[0];
    if (!first) return;
    throw new GncError('GNC_SCHEMA_INVALID', `${what} XML is invalid: ${first.message}${moreProblems(this.problemCount)}. Fix the element and submit again.`, { issues: this.problems });
  }

  /** Maps a JSON pointer (from a schema issue) to the element path it was read from. */
  readonly locate: Locator = (pointer) => {
    let p = pointer;
    for (;;) {
      const m = this.marks.get(p);
      if (m) return { path: elementPath(m.el) + m.rest, expected: p === pointer ? m.expected : undefined };
      const cut = p.lastIndexOf('/');
      if (cut <= 0) return { path: elementPath(this.root) };
      p = p.slice(0, cut);
    }
  };
}
