/**
 * Generated round trips: bodies from a seeded generator (test/protocol/xml/generate.ts) go JSON -> XML (bodyToXml)
 * -> xmllint against the schema (the WCO DM declaration schema for ACI, protocol/xml/schemas for e-CoO and AEO) ->
 * XML reader -> the same body. The XML is also rewritten in other valid layouts a national system may send (a
 * namespace prefix, no indentation, character references, CDATA, comments, an md:MetaData wrapper) and must read
 * as the same body. One xmllint process per schema checks all the documents. Fixed seed, so a failure reproduces;
 * GNC_XML_SEED=<n> runs another seed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bodyToXml, bodyTypeOf, parseXmlBody } from '../../../protocol/xml/index.js';
import { BODY_SCHEMAS, type BusinessType } from '../../../protocol/messages/registry.js';
import { ISO_3166_ALPHA2 } from '../../../protocol/codes/countries.js';
import { ISO_4217_CURRENCIES } from '../../../protocol/codes/currencies.js';
import { REC21_PACKAGE_KINDS } from '../../../protocol/codes/package-kinds.js';
import { REC19_TRANSPORT_MODES } from '../../../protocol/codes/transport-modes.js';
import { REC20_UNITS } from '../../../protocol/codes/units.js';
import { REPO_ROOT } from '../messages/fixtures.js';
import { Gen } from './generate.js';

const SEED = Number(process.env['GNC_XML_SEED'] ?? 20261124);
const BODIES = Number(process.env['GNC_XML_BODIES'] ?? 200);

const XSD: Record<BusinessType, string> = {
  aci: resolve(REPO_ROOT, '../shared/reference/wco-dm/WCO_DEC_2_DMS.xsd'),
  ecoo: resolve(REPO_ROOT, 'protocol/xml/schemas/gnc-ecoo-1.xsd'),
  aeo: resolve(REPO_ROOT, 'protocol/xml/schemas/gnc-aeo-1.xsd'),
};
const METADATA_XSD = resolve(REPO_ROOT, '../shared/reference/wco-dm/examples/metadata-with-declaration.xsd');

const dir = mkdtempSync(join(tmpdir(), 'gnc-xml-gen-'));
afterAll(() => process.env['GNC_XML_KEEP'] ? console.log(`kept ${dir}`) : rmSync(dir, { recursive: true, force: true }));

/** Runs one xmllint over many files; returns the files that did not validate with xmllint's words about each. */
function xmllintAll(files: readonly string[], xsd: string): Map<string, string> {
  const failed = new Map<string, string>();
  if (files.length === 0) return failed;
  const run = spawnSync('xmllint', ['--noout', '--schema', xsd, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.error) throw new Error(`xmllint could not run (${run.error.message}): install libxml2-utils`);
  const out = `${run.stdout}${run.stderr}`;
  for (const file of files) {
    if (out.includes(`${file} validates`)) continue;
    failed.set(file, out.split('\n').filter((l) => l.startsWith(file)).join('\n') || out.slice(0, 2000));
  }
  return failed;
}

/** Each run of consecutive sibling `<name>` blocks (as the writer indents them) in reverse order. */
function reverseRuns(xml: string, name: string): string {
  const block = `[ \\t]*<${name}>[\\s\\S]*?</${name}>\\n`;
  return xml.replace(new RegExp(`(?:${block})+`, 'g'), (run) => run.match(new RegExp(block, 'g'))!.reverse().join(''));
}

const PADDED_NUMBERS = new Set(['GoodsItemQuantity', 'TotalPackageQuantity', 'TotalGrossMassMeasure', 'GrossMassMeasure', 'NetNetWeightMeasure', 'CustomsValueAmount', 'QuantityQuantity', 'SequenceNumeric', 'Quantity', 'TotalQuantity']);
const PADDED_TEXT = new Set(['Name', 'Line', 'CityName', 'Description', 'StatementDescription', 'MarksNumbersID', 'FunctionalReferenceID']);

/** Other valid layouts of the same document: what a national system's serializer might write. */
const LAYOUTS: Record<string, (xml: string, type: BusinessType) => string> = {
  // the document's namespace under a prefix instead of the default namespace
  prefixed: (xml) =>
    xml
      .replace(/<(\/?)(?!\?|ds:)([A-Za-z]+)/g, '<$1p:$2')
      .replace(/ xmlns="/, ' xmlns:p="'),
  // every non-ASCII character as a character reference, and ' quotes around attribute values
  // the letter e in text too, the first letter of attribute values, and ' quotes around attribute values after a
  // line break and spaces around "="
  // (not in the XML declaration, which has no references)
  references: (xml) =>
    xml.slice(0, xml.indexOf('?>') + 2) +
    xml
      .slice(xml.indexOf('?>') + 2)
      .replace(/>([^<]+)</g, (_, t: string) => `>${t.replace(/e/g, '&#101;')}<`)
      .replace(/[^\x00-\x7f]/gu, (c) => `&#x${c.codePointAt(0)!.toString(16)};`)
      .replace(/(\s[A-Za-z:]+)="([^"]*)"/g, (_, name: string, value: string) => `${name}\n  =  '${value.replace(/^[A-Z]/, (c) => `&#${c.charCodeAt(0)};`)}'`),
  // text in two CDATA sections with a comment or a processing instruction between them (split where the text holds
  // "]]>"), comments between elements, no indentation
  cdata: (xml) =>
    xml
      .replace(/>\s+</g, '><')
      .replace(/(<\/[A-Za-z:]+>)/g, '$1<!-- c -->')
      .replace(/>([^<]+)</g, (_, t: string) => {
        const chars = [...t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')];
        const half = Math.ceil(chars.length / 2);
        const cdata = (part: string[]): string => `<![CDATA[${part.join('').replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
        return `>${cdata(chars.slice(0, half))}${half % 2 ? '<!-- split -->' : '<?gnc split?>'}${cdata(chars.slice(half))}<`;
      }),
  // white space around every value, which readers trim (spaces only: the WCO text pattern has no line break)
  // (XSD decimals collapse it; the WCO text types keep it and count it in their length, the GNC text types refuse it)
  padded: (xml, type) =>
    xml.replace(/<([A-Za-z]+)([^>]*)>([^<\n]+)<\/\1>/g, (whole, name: string, attrs: string, value: string) =>
      PADDED_NUMBERS.has(name) || (type === 'aci' && PADDED_TEXT.has(name) && [...value].length <= 30) ? `<${name}${attrs}>  ${value} </${name}>` : whole),
  // numbered blocks out of document order, GNC entries, AEO parties and classifications in another order, a foreign
  // AdditionalInformation, an Origin without TypeCode, the ds element in the default namespace, xsi attributes
  shuffled: (xml, type) =>
    type !== 'aci'
      ? xml
      : ['Itinerary', 'TransportEquipment', 'Seal', 'AdditionalInformation', 'AEOMutualRecognitionParty', 'Classification']
          .reduce(reverseRuns, xml)
          // an additional declaration type after the type (EXD is an export), a repeated DangerousGoods, a preferential Origin
          .replace(/^  <TypeCode>EX<\/TypeCode>$/m, '  <TypeCode>EXD</TypeCode>')
          .replace(/( *<DangerousGoods>[\s\S]*?<\/DangerousGoods>\n)/g, '$1$1')
          .replace(/(<\/Origin>\n)/g, '$1<Origin><CountryCode>AQ</CountryCode><TypeCode>2</TypeCode></Origin>\n')
          .replace(/(<CountryCode>[A-Z]{2}<\/CountryCode>)\s*<TypeCode>1<\/TypeCode>(\s*<\/Origin>)/g, '$1$2')
          .replace(/<ds:DateTimeString formatCode="304">([^<]*)<\/ds:DateTimeString>/, '<DateTimeString xmlns="urn:wco:datamodel:WCO:Declaration_DS:DMS:2" formatCode="304">$1</DateTimeString>')
          .replace(/(<(?:TypeCode|FunctionalReferenceID)>[^<]*<\/(?:TypeCode|FunctionalReferenceID)>\n)(\s*<AdditionalInformation>|\s*<BorderTransportMeans>)/, '$1<AdditionalInformation><StatementCode>AAA</StatementCode><StatementDescription>not ours</StatementDescription><StatementTypeCode>ABC</StatementTypeCode></AdditionalInformation>\n$2')
          .replace(/<Declaration /, '<Declaration xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:wco:datamodel:WCO:DEC-DMS:2 WCO_DEC_2_DMS.xsd" '),
  // xsi:schemaLocation on the root of the GNC forms
  located: (xml, type) =>
    type === 'aci' ? xml : xml.replace(/ xmlns="(urn:gnc:[a-z]+:1)"/, ` xmlns="$1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="$1 gnc-${type}-1.xsd"`),
  // numbers in other lexical forms of the same xs:decimal (xs:integer in the GNC forms): sign, leading and trailing zeros
  numerals: (xml, type) =>
    xml.replace(/<([A-Za-z]+)([^>]*)>(\d+)(\.\d+)?<\/\1>/g, (whole, name: string, attrs: string, int: string, frac: string | undefined) =>
      PADDED_NUMBERS.has(name) ? `<${name}${attrs}>+0${int}${frac ? `${frac}0` : type === 'aci' ? '.0' : ''}</${name}>` : whole),
  // as a Windows tool writes it: byte order mark, CR LF line ends (XML reads them as LF), the declaration in other
  // words (read from bytes, as the API and the CLI read it)
  windows: (xml) => '\ufeff' + xml.replace('<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>").replace(/\n/g, '\r\n'),
  // the WCO DocumentMetaData wrapper around a declaration
  metadata: (xml, type) =>
    type !== 'aci'
      ? xml
      : xml.replace(
          /<Declaration /,
          '<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"><md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode><md:WCOTypeName>DEC</md:WCOTypeName><md:ResponsibleCountryCode>KZ</md:ResponsibleCountryCode><md:ResponsibleAgencyName>KGD</md:ResponsibleAgencyName><md:AgencyAssignedCustomizationVersionCode>GNC</md:AgencyAssignedCustomizationVersionCode>\n<Declaration ',
        ).replace(/<\/Declaration>\s*$/, '</Declaration></md:MetaData>\n'),
};

/** The first JSON pointer where two values differ, with both values, for a readable failure. */
function firstDiff(a: unknown, b: unknown, at = ''): string | undefined {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDiff((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}/${key}`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${at || '/'}: read ${JSON.stringify(a)}, written ${JSON.stringify(b)}`;
}

interface Case {
  name: string;
  type: BusinessType;
  body: Record<string, unknown>;
  xml: string;
  file: string;
  xsd: string;
}

function generate(): Case[] {
  const gen = new Gen(SEED);
  const cases: Case[] = [];
  for (let i = 0; i < BODIES; i++) {
    const type = (['aci', 'aci', 'ecoo', 'aeo'] as const)[i % 4]!;
    const body = gen[type]();
    const xml = bodyToXml(type, body);
    for (const [layout, rewrite] of [['written', (x: string) => x] as const, ...Object.entries(LAYOUTS)]) {
      const out = rewrite(xml, type);
      if (layout !== 'written' && out === xml) continue;
      const name = `${String(i).padStart(3, '0')}-${type}-${body['kind'] as string}-${layout}`;
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, out);
      cases.push({ name, type, body, xml: out, file, xsd: layout === 'metadata' ? METADATA_XSD : XSD[type] });
    }
  }
  return cases;
}

describe(`generated XML round trips (seed ${SEED}, ${BODIES} bodies)`, () => {
  console.log(`XML round-trip generator seed: ${SEED} (GNC_XML_SEED to change)`);
  const cases = generate();

  it('generates valid bodies of every type and kind', () => {
    for (const c of cases) expect(BODY_SCHEMAS[c.type].safeParse(c.body).success, c.name).toBe(true);
    expect(new Set(cases.map((c) => `${c.type}/${c.body['kind'] as string}`)).size).toBe(7);
  });

  it('uses every value of the code lists and enumerations', () => {
    const seen = new Map<string, Set<string>>();
    const note = (list: string, v: unknown): void => void (typeof v === 'string' && (seen.get(list) ?? seen.set(list, new Set()).get(list)!).add(v));
    const walk = (v: unknown, key: string): void => {
      if (Array.isArray(v)) return v.forEach((x) => (typeof x === 'string' ? note(key === 'itinerary' ? 'country' : key, x) : walk(x, key)));
      if (typeof v !== 'object' || v === null) return;
      for (const [k, x] of Object.entries(v)) {
        if (/country$|Country$|nationality/.test(k)) note('country', x);
        else if (['currency', 'unit', 'mode', 'kind', 'status', 'programme', 'preference', 'declarationType'].includes(k)) note(k, x);
        walk(x, k);
      }
    };
    for (const c of cases) walk(c.body, '');
    const lists: Record<string, readonly string[]> = {
      country: ISO_3166_ALPHA2,
      currency: ISO_4217_CURRENCIES,
      unit: REC20_UNITS,
      mode: Object.keys(REC19_TRANSPORT_MODES),
      kind: [...Object.keys(REC21_PACKAGE_KINDS), 'declaration', 'amendment', 'cancellation', 'certificate', 'status', 'snapshot', 'change'],
      status: ['issued', 'replaced', 'cancelled', 'valid', 'suspended', 'revoked'],
      programme: ['security', 'simplifications', 'both'],
      preference: ['preferential', 'non-preferential'],
      declarationType: ['export', 'transit', 'pre-arrival'],
    };
    for (const [list, values] of Object.entries(lists)) expect(values.filter((v) => !seen.get(list)?.has(v)), list).toEqual([]);
  });

  it('writes XML that validates against the schema, in every layout', () => {
    const failed = new Map<string, string>();
    for (const xsd of new Set(cases.map((c) => c.xsd))) {
      for (const [file, why] of xmllintAll(cases.filter((c) => c.xsd === xsd).map((c) => c.file), xsd)) failed.set(file, why);
    }
    expect([...failed.values()].slice(0, 5)).toEqual([]);
  });

  it('reads every layout back as the same body', () => {
    const mismatches: string[] = [];
    for (const c of cases) {
      try {
        const read = parseXmlBody(c.name.endsWith('-windows') ? new TextEncoder().encode(c.xml) : c.xml);
        expect(read.type).toBe(bodyTypeOf(c.body));
        const diff = firstDiff(read.body, c.body);
        if (diff) mismatches.push(`${c.name}: ${diff}`);
      } catch (err) {
        mismatches.push(`${c.name}: ${(err as Error).message.slice(0, 600)}`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});
