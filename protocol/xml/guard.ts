/**
 * First line of defence for XML input, before any parser sees it: size limit, UTF-8 only, no DOCTYPE or
 * ENTITY declarations (the billion-laughs and external-entity attacks need them; XML 1.0 section 4.1 makes
 * only the five predefined entities and character references usable without a DTD), a nesting limit, and
 * the well-formedness the lenient parser does not check (matching end tags, attributes, one root element).
 */
import { MAX_BODY_BYTES } from '../constants.js';
import { GncError, type GncErrorCode } from '../errors.js';
import { MAX_XML_DEPTH } from './limits.js';

const FORBIDDEN = /<!\s*(?:DOCTYPE|ENTITY)/i;
/**
 * A character outside the XML 1.0 Char production (section 2.2): C0 controls but tab, CR and LF; U+FFFE,
 * U+FFFF; a surrogate that is not half of a pair (possible in a string, never in strictly decoded UTF-8).
 * The character reference &#xFFFF; is refused by the tree's decoder; the raw character must be too.
 */
const NOT_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NAME_END = /[\s/>]/g;
/**
 * Names the parser refuses as "[SECURITY] ... prototype pollution" (it builds objects keyed by them), though XML allows
 * them: refused here naming the element, instead of as a document that is not well-formed. No WCO DM or GNC element
 * or attribute has one, so one in a declaration is no element the node would have read (SPEC 7.6).
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const RESERVED_ADVICE = 'Rename or remove it: the node cannot read an element or attribute named __proto__, constructor or prototype, and no WCO DM or GNC one has such a name.';
const RESERVED_EXPECTED = 'a name other than __proto__, constructor and prototype';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Throws `code` for the XML element or attribute at `path`, with its one issue and a hint saying what to do. */
export function fail(code: GncErrorCode, path: string, expected: string, received: string, hint: string): never {
  throw new GncError(code, `XML ${path}: expected ${expected}, received ${received}. ${hint}`, {
    issues: [{ path, expected, received, message: `${path}: expected ${expected}, received ${received}` }],
  });
}

function lineOf(xml: string, index: number): string {
  let line = 1;
  let last = -1;
  for (let i = xml.indexOf('\n'); i !== -1 && i < index; i = xml.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return `line ${line} column ${index - last}`;
}

/** Decodes and size-checks the input; returns the text without a byte order mark. */
export function xmlText(input: string | Uint8Array): string {
  const bytes = typeof input === 'string' ? (input.length * 3 <= MAX_BODY_BYTES ? 0 : Buffer.byteLength(input, 'utf8')) : input.byteLength;
  if (bytes > MAX_BODY_BYTES) {
    fail('GNC_BODY_TOO_LARGE', '/', `at most ${MAX_BODY_BYTES} bytes`, `${bytes} bytes`, 'Split the consignment into several messages.');
  }
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = utf8.decode(input);
    } catch {
      fail('GNC_XML_INVALID', '/', 'UTF-8 encoded XML', 'bytes that are not UTF-8', 'Send the document in UTF-8.');
    }
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

const ATTRIBUTE = /([A-Za-z_][\w.:-]*)[ \t\r\n]*=[ \t\r\n]*(["'])/y;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Checks the attributes of a start tag from `from` (just after its name) and returns the index of its ">".
 * XML 1.0 section 3.1: each attribute is `name="value"` (or single quotes) after white space, appears once
 * (the parser would keep the last of `currencyID="USD" currencyID="EUR"`), and its value has no "<".
 */
function attributes(xml: string, from: number, tag: string, invalid: (index: number, expected: string, received: string) => never, reserved: (index: number, what: string) => never): number {
  let seen: string[] | undefined;
  for (let j = from; ; ) {
    const spaced = j;
    while (j < xml.length && isSpace(xml.charCodeAt(j))) j++;
    const c = xml.charCodeAt(j);
    if (j >= xml.length) invalid(from, `">" closing <${tag}>`, 'the end of the document');
    if (c === 62 /* > */) return j;
    if (c === 47 /* / */ && xml.charCodeAt(j + 1) === 62) return j + 1;
    ATTRIBUTE.lastIndex = j;
    const m = ATTRIBUTE.exec(xml);
    if (!m || j === spaced) {
      const bare = /^[A-Za-z_][\w.:-]*/.exec(xml.slice(j, j + 64))?.[0];
      const received = j === spaced ? `no white space before "${xml.slice(j, j + 12)}"` : bare ? `attribute ${bare} without ="value"` : `"${xml.slice(j, j + 12)}"`;
      invalid(j, `white space, then an attribute name="value", "/>" or ">" in <${tag}>`, received);
    }
    const name = m[1]!;
    if (RESERVED_NAMES.has(name)) reserved(j, `attribute ${name} of <${tag}>`);
    if (seen?.includes(name)) invalid(j, `each attribute once in <${tag}>`, `a second ${name}`);
    (seen ??= []).push(name);
    const close = xml.indexOf(m[2]!, ATTRIBUTE.lastIndex);
    if (close === -1) invalid(j, `the quote closing attribute ${name}`, 'the end of the document');
    const lt = xml.indexOf('<', ATTRIBUTE.lastIndex);
    if (lt !== -1 && lt < close) invalid(lt, `no "<" in the value of attribute ${name} (write &lt;)`, '"<"');
    j = close + 1;
  }
}

/**
 * Scans the document once: refuses DOCTYPE/ENTITY (GNC_XML_FORBIDDEN), characters outside the XML Char
 * production (GNC_XML_INVALID), nesting deeper than MAX_XML_DEPTH
 * (GNC_XML_TOO_DEEP) and mismatched or unclosed tags, malformed or repeated attributes, text outside the
 * root, a second root element and a declared encoding other than UTF-8 (GNC_XML_INVALID). Answers whether a
 * CDATA section, comment or processing instruction inside the root may split an element's text in pieces.
 */
export function checkXml(xml: string): boolean {
  const bad = FORBIDDEN.exec(xml);
  if (bad) {
    fail('GNC_XML_FORBIDDEN', '/', 'no DOCTYPE or ENTITY declaration', `"${bad[0]}" at ${lineOf(xml, bad.index)}`, 'Entity and DTD processing is disabled for safety: remove the DOCTYPE.');
  }
  const notChar = NOT_CHAR.exec(xml);
  if (notChar) {
    const cp = `U+${notChar[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    fail('GNC_XML_INVALID', '/', 'only characters XML 1.0 allows (section 2.2)', `${cp} at ${lineOf(xml, notChar.index)}`, 'Remove the character; XML cannot carry it even as a character reference.');
  }
  const stack: string[] = [];
  const where = () => '/' + stack.join('/');
  const invalid = (index: number, expected: string, received: string): never =>
    fail('GNC_XML_INVALID', stack.length ? where() : '/', expected, `${received} at ${lineOf(xml, index)}`, 'Send well-formed XML (XML 1.0).');
  const reserved = (index: number, what: string): never => fail('GNC_XML_INVALID', where(), RESERVED_EXPECTED, `${what} at ${lineOf(xml, index)}`, RESERVED_ADVICE);
  let roots = 0;
  let split = false;
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const end = lt === -1 ? n : lt;
    if (stack.length === 0 && end > i && xml.slice(i, end).trim() !== '') invalid(i, 'nothing but markup outside the root element', 'text');
    if (lt === -1) break;
    const c = xml.charCodeAt(lt + 1);
    if (c === 63 /* ? */) {
      const close = xml.indexOf('?>', lt + 2);
      if (close === -1) invalid(lt, '"?>" closing the processing instruction', 'the end of the document');
      if (/^<\?xml\s/.test(xml.slice(lt, lt + 6))) {
        if (lt !== 0) invalid(lt, 'the XML declaration at the very start', 'a late <?xml ...?>');
        const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(xml.slice(lt, close));
        if (enc && enc[1]!.toLowerCase() !== 'utf-8') {
          fail('GNC_XML_INVALID', '/', 'encoding="UTF-8"', `encoding="${enc[1]}"`, 'Send the document in UTF-8.');
        }
      }
      if (stack.length > 0) split = true;
      i = close + 2;
    } else if (c === 33 /* ! */) {
      if (xml.startsWith('<!--', lt)) {
        const close = xml.indexOf('-->', lt + 4);
        if (close === -1) invalid(lt, '"-->" closing the comment', 'the end of the document');
        if (stack.length > 0) split = true;
        i = close + 3;
      } else if (xml.startsWith('<![CDATA[', lt) && stack.length > 0) {
        const close = xml.indexOf(']]>', lt + 9);
        if (close === -1) invalid(lt, '"]]>" closing the CDATA section', 'the end of the document');
        split = true;
        i = close + 3;
      } else {
        fail('GNC_XML_FORBIDDEN', stack.length ? where() : '/', 'elements, text, comments or CDATA', `"${xml.slice(lt, lt + 12)}" at ${lineOf(xml, lt)}`, 'Markup declarations are not accepted.');
      }
    } else if (c === 47 /* / */) {
      const close = xml.indexOf('>', lt + 2);
      if (close === -1) invalid(lt, '">" closing the end tag', 'the end of the document');
      const name = xml.slice(lt + 2, close).trim();
      const open = stack.pop();
      if (open !== name) {
        if (open !== undefined) stack.push(open);
        invalid(lt, open === undefined ? 'no end tag outside the root' : `</${open}>`, `</${name}>`);
      }
      i = close + 1;
    } else {
      NAME_END.lastIndex = lt + 1;
      const m = NAME_END.exec(xml);
      const nameEnd = m ? m.index : n;
      const name = xml.slice(lt + 1, nameEnd);
      if (!/^[A-Za-z_][\w.:-]*$/.test(name)) invalid(lt, 'an element name', `"<${xml.slice(lt + 1, lt + 12)}"`);
      if (stack.length === 0 && roots++ > 0) invalid(lt, 'a single root element', `a second root <${name}>`);
      stack.push(name);
      if (RESERVED_NAMES.has(name)) reserved(lt, `<${name}>`);
      if (stack.length > MAX_XML_DEPTH) {
        fail('GNC_XML_TOO_DEEP', where(), `elements nested at most ${MAX_XML_DEPTH} deep`, `deeper nesting at ${lineOf(xml, lt)}`, 'Flatten the document; WCO DM declarations need 8 levels at most.');
      }
      const end = attributes(xml, nameEnd, name, invalid, reserved);
      if (xml.charCodeAt(end - 1) === 47 /* / */) stack.pop();
      i = end + 1;
    }
  }
  if (stack.length > 0) invalid(n, `</${stack[stack.length - 1]}>`, 'the end of the document');
  if (roots === 0) invalid(0, 'a root element', 'no element');
  return split;
}
