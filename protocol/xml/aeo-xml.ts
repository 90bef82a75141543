/**
 * The XML form of AEO records, namespace urn:gnc:aeo:1 (schema: schemas/gnc-aeo-1.xsd, description in
 * protocol/SPEC.md section 7): `AeoSnapshot` with every operator (or, with `Part`, those of one part), or
 * `AeoChange` with one. Element names follow WCO DM conventions; code values are the JSON values (`security`,
 * `suspended`).
 */
import { parseAeoBody, type AeoBody } from '../messages/aeo.js';
import { ADDRESS_FIELDS } from './ecoo-xml.js';
import { GNC_AEO_NS } from './limits.js';
import { list, num, obj, readDocument, text, writeDocument, type DocumentSpec, type FieldSpec } from './spec-codec.js';
import { XmlReader } from './reader.js';
import type { XmlElement } from './tree.js';
import { XmlWriter } from './writer.js';

const DATE = 'a date like 2026-11-20 (YYYY-MM-DD)';

const OPERATOR_FIELDS: readonly FieldSpec[] = [
  text('aeoId', 'AEOID'),
  text('nationalTraderId', 'NationalTraderID'),
  text('legalName', 'LegalName'),
  obj('address', 'Address', ADDRESS_FIELDS),
  text('programme', 'ProgrammeCode', 'ProgrammeCode security, simplifications or both'),
  text('status', 'StatusCode', 'StatusCode valid, suspended or revoked'),
  text('statusDate', 'StatusDate', DATE),
  text('validFrom', 'ValidFromDate', DATE),
  text('validUntil', 'ValidUntilDate', DATE),
];

const SNAPSHOT: DocumentSpec = {
  root: 'AeoSnapshot',
  kind: 'snapshot',
  fields: [
    text('asOf', 'AsOfDateTime', 'a date-time like 2026-11-20T08:00:00+05:00'),
    obj('part', 'Part', [num('number', 'SequenceNumeric'), num('of', 'TotalQuantity')]),
    list(obj('operators', 'Operator', OPERATOR_FIELDS)),
  ],
};

const CHANGE: DocumentSpec = {
  root: 'AeoChange',
  kind: 'change',
  fields: [obj('operator', 'Operator', OPERATOR_FIELDS), text('reason', 'Reason')],
};

export const AEO_ROOTS: Readonly<Record<string, DocumentSpec>> = { [SNAPSHOT.root]: SNAPSHOT, [CHANGE.root]: CHANGE };

export function aeoToXml(body: AeoBody, pretty = true): string {
  return writeDocument(new XmlWriter(pretty), body.kind === 'snapshot' ? SNAPSHOT : CHANGE, GNC_AEO_NS, body);
}

/** Maps and validates an `AeoSnapshot` or `AeoChange` element; `reader` keeps where each field was read. */
export function aeoFromXml(root: XmlElement, reader = new XmlReader(root)): AeoBody {
  const spec = AEO_ROOTS[root.name]!;
  const body = readDocument(reader, spec, 'aeo');
  return parseAeoBody(body, { locate: reader.locate });
}
