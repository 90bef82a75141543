/**
 * Entry points of the XML forms: read any message body from XML (the type follows from the root element
 * and its namespace) and write a body of a known type as XML. Everything read is validated with the same
 * zod schema as JSON, so XML and JSON submissions are held to exactly the same rules.
 */
import { fieldOccurrences, xmlElementsAt, xmlElementsOf } from '../agreement/field-paths.js';
import { MAX_BODY_BYTES } from '../constants.js';
import { GncError, isGncError, type XmlPathOf } from '../errors.js';
import type { AciBody } from '../messages/aci.js';
import type { AeoBody } from '../messages/aeo.js';
import type { EcooBody } from '../messages/ecoo.js';
import { BODY_SCHEMAS, type BusinessType } from '../messages/registry.js';
import { parseDocument } from '../messages/common.js';
import { aciFromXml } from './aci-read.js';
import { aciToXml } from './aci-write.js';
import { AEO_ROOTS, aeoFromXml, aeoToXml } from './aeo-xml.js';
import { ECOO_ROOTS, ecooFromXml, ecooToXml } from './ecoo-xml.js';
import { GNC_AEO_NS, GNC_ECOO_NS, WCO_DEC_NS, WCO_METADATA_NS } from './limits.js';
import { XmlReader } from './reader.js';
import { child, parseXmlTree, type XmlElement } from './tree.js';

export type XmlBody = ({ type: 'aci'; body: AciBody } | { type: 'ecoo'; body: EcooBody } | { type: 'aeo'; body: AeoBody }) & {
  /**
   * The element path a member of the body was read from, by its JSON pointer under `/body` as a submission and an
   * envelope hold the body (`/body/goodsItems/0/hsCode` ->
   * `/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification/ID`); for a member the XML
   * lacks, the element it belongs in. Undefined for a pointer outside `/body`.
   */
  xmlPathOf: XmlPathOf;
};

/**
 * The same error with `xmlPath` on each issue that `xmlPathOf` finds in the XML document, and worded for XML where it
 * has such a wording (GncError.inXml: an agreement's field refusal names the elements); any other error as it is.
 * Given the body read from the document, an issue at a member the reader read from several elements that are not in
 * one of its own (an ACI's notifyParty, officeOfExit: xmlElementsOf) has them all as `xmlPaths`, and the first as
 * `xmlPath`, rather than the element holding them (the root).
 */
export function withXmlPaths(err: unknown, xmlPathOf: XmlPathOf, body?: unknown): unknown {
  if (!isGncError(err)) return err;
  let found = false;
  const issues = err.issues?.map((issue) => {
    const elements = body === undefined ? undefined : xmlElementsAt(body, issue.path, xmlPathOf);
    const xmlPath = elements?.[0] ?? xmlPathOf(issue.path);
    if (xmlPath === undefined) return issue;
    found = true;
    const several = elements !== undefined && elements.length > 1 ? { xmlPaths: elements } : {};
    return { path: issue.path, xmlPath, ...several, expected: issue.expected, received: issue.received, message: issue.message };
  });
  if (!found && !err.inXml) return err;
  return new GncError(err.code, err.inXml ? err.inXml(xmlPathOf) : err.message, { issues, cause: err.cause });
}

/**
 * The element paths in an XML document of the fields an agreement removed from the body read from it (`removed`, field
 * paths such as `goodsItems[].netMass`): each element once, in the order of the paths, then of the document.
 */
export function removedXmlPaths(body: unknown, removed: readonly string[], xmlPathOf: XmlPathOf): string[] {
  const paths = removed.flatMap((field) => fieldOccurrences(body, field, '/body').flatMap(({ value, pointer }) => xmlElementsOf(value, pointer, xmlPathOf)));
  return [...new Set(paths)];
}

const ROOTS = `Declaration (${WCO_DEC_NS}), OriginCertificate or OriginCertificateStatus (${GNC_ECOO_NS}), AeoSnapshot or AeoChange (${GNC_AEO_NS})`;

function unknownRoot(el: XmlElement): never {
  const path = `/${el.name}`;
  const received = `<${el.name}> in ${el.ns ? `namespace ${el.ns}` : 'no namespace'}`;
  throw new GncError('GNC_UNKNOWN_TYPE', `XML root ${received} is not a message this node knows: send ${ROOTS}.`, {
    issues: [{ path, expected: ROOTS, received, message: `${path}: expected ${ROOTS}, received ${received}` }],
  });
}

/** The message type an XML root element stands for (a WCO md:MetaData wrapper is looked through). */
export function xmlRootType(root: XmlElement): { type: BusinessType; element: XmlElement } {
  let el = root;
  if (el.ns === WCO_METADATA_NS && el.name === 'MetaData') el = child(el, 'Declaration', WCO_DEC_NS) ?? unknownRoot(el);
  if (el.ns === WCO_DEC_NS && el.name === 'Declaration') return { type: 'aci', element: el };
  if (el.ns === GNC_ECOO_NS && ECOO_ROOTS[el.name]) return { type: 'ecoo', element: el };
  if (el.ns === GNC_AEO_NS && AEO_ROOTS[el.name]) return { type: 'aeo', element: el };
  return unknownRoot(el);
}

/**
 * Parses untrusted XML (string or bytes) into a validated message body. Throws GncError:
 * GNC_BODY_TOO_LARGE, GNC_XML_FORBIDDEN (DOCTYPE/ENTITY), GNC_XML_TOO_DEEP, GNC_XML_INVALID,
 * GNC_UNKNOWN_TYPE (root element), GNC_SCHEMA_INVALID or GNC_TOTALS_MISMATCH, whose issues' paths are element
 * paths (SPEC 7.2), each also as `xmlPath`.
 */
export function parseXmlBody(xml: string | Uint8Array): XmlBody {
  try {
    const { type, element } = xmlRootType(parseXmlTree(xml));
    // the reader that maps the body is kept: its marks locate the fields of a later refusal (an agreement's)
    const reader = new XmlReader(element);
    const xmlPathOf = (pointer: string): string | undefined =>
      pointer === '/body' || pointer.startsWith('/body/') ? reader.locate(pointer.slice('/body'.length))?.path : undefined;
    switch (type) {
      case 'aci':
        return { type, body: aciFromXml(element, reader), xmlPathOf };
      case 'ecoo':
        return { type, body: ecooFromXml(element, reader), xmlPathOf };
      case 'aeo':
        return { type, body: aeoFromXml(element, reader), xmlPathOf };
    }
  } catch (err) {
    throw withXmlPaths(err, (path) => path);
  }
}


/**
 * Writes a message body as XML: WCO DM Declaration for `aci`, the GNC forms for `ecoo` and `aeo`. The body is
 * validated first (bodies from storage are plain JSON), so the output is always schema-valid. The XML is
 * indented, unless that would take it over MAX_BODY_BYTES (a declaration near 999 goods items): then it is
 * written without whitespace between elements, so whatever this node writes it can also read. A body whose
 * XML is over the limit even then (999 items with long descriptions: XML markup is larger than JSON's) is
 * refused with GNC_BODY_TOO_LARGE rather than written as a document no node accepts (SPEC 7.6).
 */
export function bodyToXml(type: BusinessType, body: unknown): string {
  const write = writerFor(type, body);
  const xml = write(true);
  if (xml.length * 3 <= MAX_BODY_BYTES || Buffer.byteLength(xml) <= MAX_BODY_BYTES) return xml;
  const compact = write(false);
  const bytes = Buffer.byteLength(compact);
  if (bytes <= MAX_BODY_BYTES) return compact;
  const expected = `at most ${MAX_BODY_BYTES} bytes of XML`;
  const received = `${bytes} bytes`;
  throw new GncError('GNC_BODY_TOO_LARGE', `This ${type} body is ${bytes} bytes as XML, over the ${MAX_BODY_BYTES}-byte limit of a message body, so no node would accept it: use its JSON form, or split the consignment into several messages.`, {
    issues: [{ path: '/', expected, received, message: `/: expected ${expected}, received ${received}` }],
  });
}

function writerFor(type: BusinessType, body: unknown): (pretty: boolean) => string {
  switch (type) {
    case 'aci': {
      const valid = parseDocument(BODY_SCHEMAS.aci, body, 'aci message body');
      return (pretty) => aciToXml(valid, pretty);
    }
    case 'ecoo': {
      const valid = parseDocument(BODY_SCHEMAS.ecoo, body, 'ecoo message body');
      return (pretty) => ecooToXml(valid, pretty);
    }
    case 'aeo': {
      const valid = parseDocument(BODY_SCHEMAS.aeo, body, 'aeo message body');
      return (pretty) => aeoToXml(valid, pretty);
    }
  }
}

/** The message type of a JSON body from its `kind` (the kinds of the three types do not overlap). */
export function bodyTypeOf(body: unknown): BusinessType {
  const kind = (body as { kind?: unknown } | null)?.kind;
  if (kind === 'declaration' || kind === 'amendment' || kind === 'cancellation') return 'aci';
  if (kind === 'certificate' || kind === 'status') return 'ecoo';
  if (kind === 'snapshot' || kind === 'change') return 'aeo';
  const received = typeof kind === 'string' ? `kind "${kind}"` : 'no kind';
  throw new GncError('GNC_UNKNOWN_TYPE', `Body has ${received}: ACI kinds are declaration, amendment, cancellation; e-CoO certificate, status; AEO snapshot, change.`, {
    issues: [{ path: '/kind', expected: 'a known kind', received, message: `/kind: expected a known kind, received ${received}` }],
  });
}
