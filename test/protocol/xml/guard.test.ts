import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../../protocol/constants.js';
import { checkXml, xmlText } from '../../../protocol/xml/guard.js';
import { MAX_XML_DEPTH } from '../../../protocol/xml/limits.js';
import { parseXmlTree } from '../../../protocol/xml/tree.js';
import { parseXmlBody } from '../../../protocol/xml/index.js';
import { gncError, paths } from '../messages/fixtures.js';

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Declaration xmlns="urn:wco:datamodel:WCO:DEC-DMS:2"><FunctionCode>&lol9;</FunctionCode></Declaration>`;

function nested(depth: number): string {
  return '<a>'.repeat(depth) + '</a>'.repeat(depth);
}

describe('XML guard: forbidden constructs', () => {
  it('refuses the billion laughs bomb with GNC_XML_FORBIDDEN before parsing', () => {
    const err = gncError(() => parseXmlBody(BILLION_LAUGHS));
    expect(err.code).toBe('GNC_XML_FORBIDDEN');
    expect(err.issues?.[0]).toMatchObject({ path: '/', expected: 'no DOCTYPE or ENTITY declaration', received: expect.stringContaining('line 2') });
  });

  it('refuses an external entity (XXE) declaration', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>';
    expect(gncError(() => parseXmlBody(xxe)).code).toBe('GNC_XML_FORBIDDEN');
  });

  it('refuses a DOCTYPE written in lower case', () => {
    expect(gncError(() => checkXml('<!doctype d><d/>')).code).toBe('GNC_XML_FORBIDDEN');
  });

  it('refuses an ENTITY declaration even without a DOCTYPE', () => {
    expect(gncError(() => checkXml('<d><!ENTITY x "y"></d>')).code).toBe('GNC_XML_FORBIDDEN');
  });

  it('refuses other markup declarations inside the document', () => {
    const err = gncError(() => checkXml('<d><e><!ELEMENT x ANY></e></d>'));
    expect(err.code).toBe('GNC_XML_FORBIDDEN');
    expect(paths(err)).toEqual(['/d/e']);
  });

  it('refuses an entity reference that no DTD may declare, naming the element', () => {
    const err = gncError(() => parseXmlTree('<d><e>a &nbsp; b</e></d>'));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(paths(err)).toEqual(['/d/e']);
  });

  it('decodes the predefined entities and character references', () => {
    const root = parseXmlTree('<d a="x &amp; y"><e>Smith &amp; Sons &lt;KZ&gt; &#1046;&#x416;</e></d>');
    expect(root.attrs).toEqual({ a: 'x & y' });
    expect(root.children[0]!.text).toBe('Smith & Sons <KZ> ЖЖ');
  });

  it('refuses attribute names that could reach object prototypes', () => {
    expect(gncError(() => parseXmlTree('<d __proto__="y"><e/></d>')).code).toBe('GNC_XML_INVALID');
    expect(({} as Record<string, unknown>)['y']).toBeUndefined();
  });

  it('keeps attributes in objects without a prototype', () => {
    expect(Object.getPrototypeOf(parseXmlTree('<d toString="z"/>').attrs)).toBeNull();
  });

  it('keeps CDATA content verbatim', () => {
    expect(parseXmlTree('<d><e><![CDATA[a &amp; <b>]]></e></d>').children[0]!.text).toBe('a &amp; <b>');
  });
});

describe('XML guard: depth', () => {
  it(`accepts nesting of exactly ${MAX_XML_DEPTH} elements`, () => {
    expect(() => checkXml(nested(MAX_XML_DEPTH))).not.toThrow();
  });

  it('refuses one level more with GNC_XML_TOO_DEEP and the element path', () => {
    const err = gncError(() => parseXmlBody(nested(MAX_XML_DEPTH + 1)));
    expect(err.code).toBe('GNC_XML_TOO_DEEP');
    expect(paths(err)).toEqual(['/a'.repeat(MAX_XML_DEPTH + 1)]);
  });

  it('refuses 100000 nested elements without exhausting the stack', () => {
    expect(gncError(() => parseXmlBody(nested(100_000))).code).toBe('GNC_XML_TOO_DEEP');
  });

  it('counts a self-closing element as a level', () => {
    expect(gncError(() => checkXml('<a>'.repeat(MAX_XML_DEPTH) + '<b/>' + '</a>'.repeat(MAX_XML_DEPTH))).code).toBe('GNC_XML_TOO_DEEP');
  });
});

describe('XML guard: size and encoding', () => {
  it('refuses a string over MAX_BODY_BYTES with GNC_BODY_TOO_LARGE', () => {
    const big = `<d>${'x'.repeat(MAX_BODY_BYTES)}</d>`;
    const err = gncError(() => parseXmlBody(big));
    expect(err.code).toBe('GNC_BODY_TOO_LARGE');
    expect(err.issues?.[0]).toMatchObject({ path: '/', expected: `at most ${MAX_BODY_BYTES} bytes`, received: `${MAX_BODY_BYTES + 7} bytes` });
  });

  it('counts UTF-8 bytes, not characters', () => {
    const cyrillic = `<d>${'Ж'.repeat(MAX_BODY_BYTES / 2)}</d>`;
    expect(gncError(() => xmlText(cyrillic)).code).toBe('GNC_BODY_TOO_LARGE');
  });

  it('refuses bytes over the limit before decoding them', () => {
    expect(gncError(() => parseXmlBody(new Uint8Array(MAX_BODY_BYTES + 1))).code).toBe('GNC_BODY_TOO_LARGE');
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(gncError(() => xmlText(new Uint8Array([0x3c, 0x64, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x64, 0x3e]))).code).toBe('GNC_XML_INVALID');
  });

  it('refuses a declared encoding other than UTF-8', () => {
    const err = gncError(() => checkXml('<?xml version="1.0" encoding="windows-1251"?><d/>'));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]).toMatchObject({ expected: 'encoding="UTF-8"' });
  });

  it('refuses a raw U+FFFF as it refuses &#xFFFF;', () => {
    const err = gncError(() => parseXmlTree('<d><e>a\uffffb</e></d>'));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]).toMatchObject({ received: expect.stringContaining('U+FFFF') });
  });

  it('refuses an unpaired surrogate in a string document', () => {
    expect(gncError(() => parseXmlTree('<d><e>a\ud83db</e></d>')).code).toBe('GNC_XML_INVALID');
  });

  it('refuses a raw control character other than tab, CR and LF', () => {
    expect(gncError(() => parseXmlTree('<d><e>a\u0001b</e></d>')).code).toBe('GNC_XML_INVALID');
  });

  it('reads UTF-8 bytes with a byte order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('<d>Ж</d>')]);
    expect(parseXmlTree(bytes).text).toBe('Ж');
  });
});

describe('XML guard: well-formedness', () => {
  it('refuses a mismatched end tag and names where it happened', () => {
    const err = gncError(() => parseXmlBody('<d><e>x</f></d>'));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: '/d/e', expected: '</e>', received: expect.stringContaining('</f>') });
  });

  it('refuses an element left open at the end', () => {
    expect(gncError(() => checkXml('<d><e>x</e>')).code).toBe('GNC_XML_INVALID');
  });

  it('refuses a second root element', () => {
    expect(gncError(() => checkXml('<d/><d/>')).code).toBe('GNC_XML_INVALID');
  });

  it('refuses text after the root element', () => {
    expect(gncError(() => checkXml('<d/>trailing')).code).toBe('GNC_XML_INVALID');
  });

  it('refuses a document without elements', () => {
    expect(gncError(() => parseXmlBody('   ')).code).toBe('GNC_XML_INVALID');
  });

  it('accepts ">" and "/" inside attribute values', () => {
    expect(() => checkXml('<d a="x>y/"><e b=\'1/2\'/></d>')).not.toThrow();
  });

  it('accepts comments and processing instructions around the root', () => {
    expect(() => checkXml('<?xml version="1.0" encoding="utf-8"?>\n<!-- note --><d><!-- <e> --></d>\n')).not.toThrow();
  });

  it('accepts attributes with white space around "=" and either quote', () => {
    expect(() => checkXml('<d a = "1"\n\tb=\'2\' ><e c="3"/></d>')).not.toThrow();
  });

  it('refuses an attribute given twice instead of keeping the last value, naming the element', () => {
    const err = gncError(() => parseXmlBody('<d><e currencyID="USD" currencyID="EUR">1</e></d>'));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: '/d/e', expected: 'each attribute once in <e>', received: expect.stringContaining('a second currencyID') });
  });

  it('refuses an attribute without a value', () => {
    const err = gncError(() => checkXml('<d><e foo>1</e></d>'));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: '/d/e', received: expect.stringContaining('attribute foo without ="value"') });
  });

  it('refuses attributes without white space between them', () => {
    expect(gncError(() => checkXml('<d a="1"b="2"/>')).code).toBe('GNC_XML_INVALID');
  });

  it('refuses an unquoted attribute value', () => {
    expect(gncError(() => checkXml('<d a=1/>')).code).toBe('GNC_XML_INVALID');
  });

  it('refuses "<" inside an attribute value', () => {
    const err = gncError(() => checkXml('<d><e a="x<y">1</e></d>'));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: '/d/e', expected: expect.stringContaining('no "<" in the value of attribute a') });
  });

  it('refuses an element with an undeclared namespace prefix', () => {
    const err = gncError(() => parseXmlTree('<d xmlns="urn:a"><zz:e>1</zz:e></d>'));
    expect(err.code).toBe('GNC_XML_INVALID');
    expect(err.issues?.[0]).toMatchObject({ path: '/d/e', received: 'undeclared prefix "zz:"' });
  });

  it('refuses an attribute with an undeclared namespace prefix', () => {
    expect(gncError(() => parseXmlTree('<d><e zz:a="1"/></d>')).code).toBe('GNC_XML_INVALID');
  });

  it('resolves the xml prefix without a declaration', () => {
    expect(parseXmlTree('<d xml:lang="ru"/>').attrs).toEqual({ 'xml:lang': 'ru' });
  });
});
