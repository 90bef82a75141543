/**
 * A declarative JSON <-> XML mapping for the document forms this product defines itself (e-CoO and AEO
 * records, protocol/SPEC.md section 7). Each JSON member maps to one child element, in the order written
 * here, which is also the xs:sequence order of their XSDs (protocol/xml/schemas/). Unlike the WCO DM
 * reading, these forms are ours, so unknown or repeated elements are errors rather than ignored.
 */
import { XmlReader } from './reader.js';
import { childrenNamed, type XmlElement } from './tree.js';
import type { XmlWriter } from './writer.js';

export interface FieldSpec {
  key: string;
  el: string;
  /** text and number are element content; measure is `<El unitCode="KGM">12.5</El>` for `{value, unit}`. */
  type: 'text' | 'number' | 'measure' | 'object';
  /** Repeated element, one per array entry. */
  list?: boolean;
  fields?: readonly FieldSpec[];
  /** How the XML value is written, for error messages (enumerations, dates). */
  hint?: string;
}

export interface DocumentSpec {
  root: string;
  kind: string;
  fields: readonly FieldSpec[];
}

export const text = (key: string, el: string, hint?: string): FieldSpec => ({ key, el, type: 'text', ...(hint ? { hint } : {}) });
export const num = (key: string, el: string): FieldSpec => ({ key, el, type: 'number' });
export const measure = (key: string, el: string): FieldSpec => ({ key, el, type: 'measure' });
export const obj = (key: string, el: string, fields: readonly FieldSpec[]): FieldSpec => ({ key, el, type: 'object', fields });
export const list = (field: FieldSpec): FieldSpec => ({ ...field, list: true });

type Obj = Record<string, unknown>;

function writeOne(w: XmlWriter, f: FieldSpec, v: unknown): void {
  if (f.type === 'object') w.group(f.el, () => writeFields(w, f.fields ?? [], v as Obj));
  else if (f.type === 'measure') {
    const m = v as { value: number; unit: string };
    w.leaf(f.el, m.value, { unitCode: m.unit });
  } else w.leaf(f.el, v as string | number);
}

export function writeFields(w: XmlWriter, fields: readonly FieldSpec[], value: Obj): void {
  for (const f of fields) {
    const v = value[f.key];
    if (v === undefined) continue;
    if (f.list) for (const item of v as unknown[]) writeOne(w, f, item);
    else writeOne(w, f, v);
  }
}

function readOne(r: XmlReader, ptr: string, el: XmlElement, f: FieldSpec): unknown {
  r.mark(ptr, el, '', f.hint);
  switch (f.type) {
    case 'text':
      return r.textOf(el);
    case 'number':
      return r.numberOf(el);
    case 'measure':
      r.mark(`${ptr}/value`, el);
      return { value: r.numberOf(el), unit: r.attr(`${ptr}/unit`, el, 'unitCode') };
    case 'object':
      return readFields(r, ptr, el, f.fields ?? []);
  }
}

export function readFields(r: XmlReader, ptr: string, el: XmlElement, fields: readonly FieldSpec[]): Obj {
  const out: Obj = {};
  const known = new Set(fields.map((f) => f.el));
  const expected = `one of ${[...known].join(', ')}`;
  for (const c of el.children) {
    // an element of another namespace is not ours, whatever its local name
    if (c.ns !== el.ns) r.problem(c, '', `${expected} in namespace ${el.ns}`, `<${c.name}> in ${c.ns ? `namespace ${c.ns}` : 'no namespace'}`);
    else if (!known.has(c.name)) r.problem(c, '', expected, `<${c.name}>`);
  }
  for (const f of fields) {
    const p = `${ptr}/${f.key}`;
    const found = childrenNamed(el, f.el);
    if (f.list) {
      r.mark(p, el, `/${f.el}`, f.hint);
      out[f.key] = found.map((c, i) => readOne(r, `${p}/${i}`, c, f));
      continue;
    }
    if (found.length > 1) r.problem(found[1]!, '', `one <${f.el}>`, `${found.length}`);
    const c = found[0];
    if (c) out[f.key] = readOne(r, p, c, f);
    else r.mark(p, el, `/${f.el}`, f.hint);
  }
  return out;
}

/** Writes a body under its root element in namespace `ns`. */
export function writeDocument(w: XmlWriter, spec: DocumentSpec, ns: string, body: Obj): string {
  w.group(spec.root, () => writeFields(w, spec.fields, body), true, { xmlns: ns });
  return w.toString();
}

/** Reads the reader's root's fields into a body with the spec's `kind`; unknown elements are reported together. */
export function readDocument(reader: XmlReader, spec: DocumentSpec, what: string): Obj {
  const body: Obj = { kind: spec.kind, ...readFields(reader, '', reader.root, spec.fields) };
  reader.throwProblems(what);
  return body;
}
