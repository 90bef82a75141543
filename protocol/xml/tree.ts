/**
 * The single fast-xml-parser instance and the small element tree the mappings read. The parser runs with
 * `parseTagValue: false` (an HS code 0847130000 must stay a string), `processEntities: false` (no entity
 * expansion at all; the five predefined entities and character references are decoded here, anything else
 * is refused) and in preserveOrder mode, which keeps repeated elements in document order and is the fastest
 * mode. Namespace prefixes are resolved for every element (an undeclared one is refused); child elements are
 * matched by local name and namespace.
 */
import { XMLParser } from 'fast-xml-parser';
import { GncError, quoted } from '../errors.js';
import { checkXml, fail, xmlText } from './guard.js';
import { MAX_XML_DEPTH } from './limits.js';

export interface XmlElement {
  /** Local name (prefix removed). */
  name: string;
  /** Namespace URI, resolved for every element from the xmlns declarations in scope. */
  ns: string;
  attrs: Readonly<Record<string, string>> | undefined;
  children: XmlElement[];
  /** Decoded text content (entities and character references resolved, CDATA verbatim), trimmed as a whole. */
  text: string;
  parent: XmlElement | undefined;
}

const OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  // guard.ts refuses deeper documents first; this is the parser's own backstop
  maxNestedTags: MAX_XML_DEPTH + 1,
} as const;

/**
 * Text is trimmed once per element, as a whole (convert). When nothing splits an element's text into pieces
 * (no CDATA section, comment or processing instruction inside the root: nearly every document), the parser's
 * own trimming of each piece gives the same values and skips the white space between elements, which is
 * cheaper; otherwise the pieces are kept raw so that "Fish <![CDATA[&]]> Chips" keeps its spaces.
 */
const parser = new XMLParser({ ...OPTIONS, trimValues: true });
const rawParser = new XMLParser({ ...OPTIONS, trimValues: false });

type FxpNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));|&/g;
const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Resolves predefined entities and character references; throws for anything else (XML 1.0, 4.6). */
function decode(raw: string, at: () => string): string {
  if (raw.indexOf('&') === -1) return raw;
  return raw.replace(ENTITY, (whole, named: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (named) return PREDEFINED[named]!;
    const cp = dec !== undefined ? parseInt(dec, 10) : hex !== undefined ? parseInt(hex, 16) : -1;
    if (cp < 0 || !isXmlChar(cp)) {
      const received = whole === '&' ? 'a bare "&" or an undeclared entity' : `"${whole}"`;
      fail('GNC_XML_INVALID', at(), 'only &amp; &lt; &gt; &quot; &apos; or a character reference', received, 'Escape "&" as "&amp;".');
    }
    return String.fromCodePoint(cp);
  });
}

/**
 * The path step of each child of a parent, computed for all its children at once and kept while the tree
 * lives: a document with 100,000 unknown siblings, each reported, must cost one pass over them, not one per
 * report (that was quadratic, tens of seconds of a blocked node).
 */
const STEPS = new WeakMap<XmlElement, Map<XmlElement, string>>();

function stepsOf(parent: XmlElement): Map<XmlElement, string> {
  let steps = STEPS.get(parent);
  if (steps) return steps;
  const counts = new Map<string, number>();
  for (const c of parent.children) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  steps = new Map();
  for (const c of parent.children) {
    const index = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, index);
    steps.set(c, counts.get(c.name)! > 1 ? `${c.name}[${index}]` : c.name);
  }
  STEPS.set(parent, steps);
  return steps;
}

/** Element path like `/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]`: index only where repeated. */
export function elementPath(el: XmlElement): string {
  let path = '';
  for (let cur: XmlElement | undefined = el; cur; cur = cur.parent) {
    path = '/' + (cur.parent ? (stepsOf(cur.parent).get(cur) ?? cur.name) : cur.name) + path;
  }
  return path;
}

/**
 * The namespace a prefix stands for; an undeclared prefix is not namespace-well-formed (Namespaces in XML 1.0,
 * section 5), and reading `<zz:FunctionCode>` as our FunctionCode would take an element of no known vocabulary
 * for ours.
 */
function declared(scope: Readonly<Record<string, string>>, prefix: string, at: () => string): string {
  if (prefix === 'xml') return XML_NS;
  const uri = scope[prefix];
  if (uri) return uri;
  return fail('GNC_XML_INVALID', at(), 'a namespace prefix declared with xmlns:', `undeclared prefix "${prefix}:"`, `Declare the prefix (xmlns:${prefix}="...") or remove it.`);
}

function convert(node: FxpNode, tag: string, parent: XmlElement | undefined, scope: Readonly<Record<string, string>>): XmlElement {
  const rawAttrs = node[':@'];
  let ns = scope;
  let attrs: Record<string, string> | undefined;
  const colon = tag.indexOf(':');
  const el: XmlElement = { name: colon === -1 ? tag : tag.slice(colon + 1), ns: '', attrs: undefined, children: [], text: '', parent };
  if (rawAttrs) {
    attrs = Object.create(null) as Record<string, string>; // names come from the document: no prototype
    for (const key of Object.keys(rawAttrs)) {
      const value = decode(rawAttrs[key]!, () => `${elementPath(el)}/@${key}`).trim();
      if (key === 'xmlns' || key.startsWith('xmlns:')) {
        if (ns === scope) ns = Object.assign(Object.create(null) as Record<string, string>, scope);
        (ns as Record<string, string>)[key === 'xmlns' ? '' : key.slice(6)] = value;
      } else attrs[key] = value;
    }
    el.attrs = attrs;
    for (const key of Object.keys(attrs)) {
      const at = key.indexOf(':');
      if (at !== -1) declared(ns, key.slice(0, at), () => `${elementPath(el)}/@${key}`);
    }
  }
  el.ns = colon === -1 ? (ns[''] ?? '') : declared(ns, tag.slice(0, colon), () => elementPath(el));
  const kids = node[tag] as FxpNode[];
  // the pieces of text around CDATA sections, comments and processing instructions are one value: joined as
  // they are, then trimmed once ("Fish <![CDATA[&]]> Chips" is "Fish & Chips", never "Fish&Chips")
  let text = '';
  for (const kid of kids) {
    if ('#text' in kid) text += decode(String(kid['#text']), () => elementPath(el));
    else if ('#cdata' in kid) text += (kid['#cdata'] as { '#text': string }[]).map((t) => t['#text']).join('');
    else {
      const name = Object.keys(kid).find((k) => k !== ':@');
      if (name !== undefined) el.children.push(convert(kid, name, el, ns));
    }
  }
  // trimmed as a whole, with the white space String.trim knows (as the parser trims pieces): the text rule
  // (SPEC 7.1) allows none at either end, so nothing a JSON body can hold is lost
  el.text = text.trim();
  if (el.children.length > 0 && el.text !== '') mixedContent(el);
  return el;
}

/**
 * No element of the WCO DM or GNC forms has mixed content: an element holds text or elements. Reading only the
 * text (`<Reason>Goods <i>not</i> cancelled</Reason>` as "Goods cancelled") or only the elements would change
 * what the sender wrote.
 */
function mixedContent(el: XmlElement): never {
  const received = `text ${quoted(el.text)} beside <${el.children[0]!.name}>`;
  return fail('GNC_XML_INVALID', elementPath(el), 'either text or child elements, not both', received, 'Write the value as text alone (escape "<" as "&lt;").');
}

/** Guards, parses and returns the root element of an untrusted XML document. */
export function parseXmlTree(input: string | Uint8Array): XmlElement {
  const xml = xmlText(input);
  const split = checkXml(xml);
  let nodes: FxpNode[];
  try {
    nodes = (split ? rawParser : parser).parse(xml) as FxpNode[];
  } catch (err) {
    throw new GncError('GNC_XML_INVALID', `XML is not well-formed: ${(err as Error).message}. Send well-formed XML (XML 1.0).`, {
      cause: err,
      issues: [{ path: '/', expected: 'well-formed XML', received: (err as Error).message, message: `/: expected well-formed XML, received ${(err as Error).message}` }],
    });
  }
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
    if (tag !== undefined) return convert(node, tag, undefined, Object.create(null) as Record<string, string>);
  }
  throw new GncError('GNC_XML_INVALID', 'XML has no root element.', { issues: [{ path: '/', expected: 'a root element', received: 'none', message: '/: expected a root element, received none' }] });
}

/**
 * First child with this local name in namespace `ns`, by default the parent's: the WCO DM and GNC forms put
 * every child in the namespace of its parent (elementFormDefault qualified), so `<x:FunctionCode
 * xmlns:x="urn:evil">` is some other vocabulary's element and never read as ours.
 */
export function child(el: XmlElement | undefined, name: string, ns = el?.ns): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) if (c.name === name && c.ns === ns) return c;
  return undefined;
}

/** All children with this local name in namespace `ns` (by default the parent's), in document order. */
export function childrenNamed(el: XmlElement | undefined, name: string, ns = el?.ns): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name && c.ns === ns) : [];
}
