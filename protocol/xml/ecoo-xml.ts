/**
 * The XML form of e-CoO messages, namespace urn:gnc:ecoo:1 (schema: schemas/gnc-ecoo-1.xsd, description in
 * protocol/SPEC.md section 7). Element names follow WCO DM conventions (Name, ID, Address/CityName,
 * ...CountryCode, unitCode on quantities) so a national system's WCO mapping can be reused; code values are
 * the JSON values (`preferential`, `cancelled`).
 */
import { parseEcooBody, type EcooBody } from '../messages/ecoo.js';
import { GNC_ECOO_NS } from './limits.js';
import { list, measure, num, obj, readDocument, text, writeDocument, type DocumentSpec, type FieldSpec } from './spec-codec.js';
import { XmlReader } from './reader.js';
import type { XmlElement } from './tree.js';
import { XmlWriter } from './writer.js';

const DATE = 'a date like 2026-11-20 (YYYY-MM-DD)';

export const ADDRESS_FIELDS: readonly FieldSpec[] = [text('line', 'Line'), text('city', 'CityName'), text('postcode', 'PostcodeID'), text('country', 'CountryCode')];
export const PARTY_FIELDS: readonly FieldSpec[] = [text('name', 'Name'), text('id', 'ID'), text('aeoId', 'AEOID'), obj('address', 'Address', ADDRESS_FIELDS)];

const CERTIFICATE: DocumentSpec = {
  root: 'OriginCertificate',
  kind: 'certificate',
  fields: [
    text('certificateNumber', 'ID'),
    text('issueDate', 'IssueDate', DATE),
    text('issuingCountry', 'IssuingCountryCode'),
    obj('issuingAuthority', 'IssuingAuthority', [text('name', 'Name'), text('id', 'ID')]),
    text('preference', 'PreferenceCode', 'PreferenceCode preferential or non-preferential'),
    text('arrangement', 'ArrangementName'),
    text('certificateForm', 'FormCode'),
    obj('exporter', 'Exporter', PARTY_FIELDS),
    obj('producer', 'Producer', PARTY_FIELDS),
    obj('consignee', 'Consignee', PARTY_FIELDS),
    obj('transport', 'Transport', [text('mode', 'ModeCode'), text('meansId', 'MeansID'), text('route', 'RouteDescription'), text('departureDate', 'DepartureDate', DATE)]),
    list(obj('invoices', 'Invoice', [text('number', 'ID'), text('date', 'IssueDate', DATE)])),
    list(
      obj('goodsItems', 'GoodsItem', [
        num('sequence', 'SequenceNumeric'),
        text('hsCode', 'HSCode'),
        text('description', 'Description'),
        measure('quantity', 'Quantity'),
        measure('grossMass', 'GrossMassMeasure'),
        obj('packages', 'Packaging', [num('count', 'QuantityQuantity'), text('kind', 'TypeCode'), text('marks', 'MarksNumbersID')]),
        text('originCriterion', 'OriginCriterionCode'),
        text('originCountry', 'OriginCountryCode'),
        text('invoiceNumber', 'InvoiceID'),
      ]),
    ),
    obj('signatory', 'Signatory', [text('name', 'Name'), text('position', 'Position'), text('place', 'PlaceName')]),
    text('remarks', 'Remarks'),
  ],
};

const STATUS: DocumentSpec = {
  root: 'OriginCertificateStatus',
  kind: 'status',
  fields: [
    text('certificateNumber', 'CertificateID'),
    text('status', 'StatusCode', 'StatusCode issued, replaced or cancelled'),
    text('statusDate', 'StatusDate', DATE),
    text('replacementCertificateNumber', 'ReplacementCertificateID'),
    text('reason', 'Reason'),
  ],
};

export const ECOO_ROOTS: Readonly<Record<string, DocumentSpec>> = { [CERTIFICATE.root]: CERTIFICATE, [STATUS.root]: STATUS };

export function ecooToXml(body: EcooBody, pretty = true): string {
  return writeDocument(new XmlWriter(pretty), body.kind === 'certificate' ? CERTIFICATE : STATUS, GNC_ECOO_NS, body);
}

/** Maps and validates an `OriginCertificate` or `OriginCertificateStatus` element; `reader` keeps where each field was read. */
export function ecooFromXml(root: XmlElement, reader = new XmlReader(root)): EcooBody {
  const spec = ECOO_ROOTS[root.name]!;
  const body = readDocument(reader, spec, 'ecoo');
  return parseEcooBody(body, { locate: reader.locate });
}
