/**
 * A minimal XML writer for the documents this node produces: UTF-8, two-space indentation, elements in the
 * order they are written (the WCO DM schemas are all xs:sequence, so order is the mapping's job), text and
 * attribute values escaped. Values are schema-validated before they get here, so they are single-line text,
 * codes and plain decimals.
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

export function escapeXml(value: string): string {
  return /[&<>"]/.test(value) ? value.replace(/[&<>"]/g, (c) => ESCAPES[c]!) : value;
}

export type XmlValue = string | number | undefined;
export type XmlAttrs = Readonly<Record<string, XmlValue>>;

function attrText(attrs: XmlAttrs | undefined): string {
  if (!attrs) return '';
  let out = '';
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    if (v !== undefined) out += ` ${key}="${escapeXml(String(v))}"`;
  }
  return out;
}

export class XmlWriter {
  private readonly parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  private readonly open: string[] = [];
  private readonly nl: string;

  /** `pretty` writes one element per line, indented; otherwise no whitespace between elements. */
  constructor(private readonly pretty = true) {
    this.nl = pretty ? '\n' : '';
  }

  private indent(): string {
    return this.pretty ? '  '.repeat(this.open.length) : '';
  }

  /** Opens an element; children follow until `end()`. */
  start(name: string, attrs?: XmlAttrs): this {
    this.parts.push(`${this.indent()}<${name}${attrText(attrs)}>${this.nl}`);
    this.open.push(name);
    return this;
  }

  end(): this {
    const name = this.open.pop();
    if (name === undefined) throw new Error('XmlWriter.end() without an open element');
    this.parts.push(`${this.indent()}</${name}>${this.nl}`);
    return this;
  }

  /** An element with text content; nothing is written for an undefined value. */
  leaf(name: string, value: XmlValue, attrs?: XmlAttrs): this {
    if (value === undefined) return this;
    this.parts.push(`${this.indent()}<${name}${attrText(attrs)}>${escapeXml(String(value))}</${name}>${this.nl}`);
    return this;
  }

  /** Opens `name`, runs `body` for its children, closes it; skipped when `when` is false. */
  group(name: string, body: () => void, when = true, attrs?: XmlAttrs): this {
    if (!when) return this;
    this.start(name, attrs);
    body();
    return this.end();
  }

  toString(): string {
    if (this.open.length) throw new Error(`XmlWriter: <${this.open.join('><')}> not closed`);
    return this.parts.join('');
  }
}
