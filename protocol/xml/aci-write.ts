/**
 * ACI body -> WCO DM declaration XML (namespace urn:wco:datamodel:WCO:DEC-DMS:2) that validates against the
 * CDS schema in ../shared/reference/wco-dm. Every content model there is an xs:sequence, so the order of the
 * calls below is the schema order and must not be rearranged (see the README's pitfalls).
 */
import type { Address, Party } from '../messages/common.js';
import { unNumbersOf, type AciBody, type AciCancellation, type AciGoodsItem } from '../messages/aci.js';
import { WCO_DEC_NS, WCO_DS_NS } from './limits.js';
import {
  AEO_ROLES, CANCELLATION_TYPE_CODE, DATETIME_FORMAT, ECOO_DOC_CATEGORY, ECOO_DOC_TYPE, EXT, EXT_TYPE, FUNCTION_CHANGE, FUNCTION_ORIGINAL,
  HS_TYPE, NATIONAL_TYPE, ORIGIN_NON_PREFERENTIAL, PARTY_KEYS, toWcoDateTime, TYPE_CODES, type FullAci,
} from './wco-profile.js';
import { XmlWriter, type XmlValue } from './writer.js';

const ROOT_ATTRS = { xmlns: WCO_DEC_NS, 'xmlns:ds': WCO_DS_NS };

function dateTime(w: XmlWriter, name: string, iso: string | undefined): void {
  if (iso === undefined) return;
  w.group(name, () => w.leaf('ds:DateTimeString', toWcoDateTime(iso), { formatCode: DATETIME_FORMAT }));
}

/** Address children in CDS order: CityName, CountryCode, (sub-division), Line, PostcodeID. */
function address(w: XmlWriter, a: Address): void {
  w.group('Address', () => {
    w.leaf('CityName', a.city).leaf('CountryCode', a.country).leaf('Line', a.line).leaf('PostcodeID', a.postcode);
  });
}

function party(w: XmlWriter, name: string, p: Party | undefined): void {
  if (!p) return;
  w.group(name, () => {
    w.leaf('Name', p.name).leaf('ID', p.id);
    address(w, p.address);
  });
}

function ext(w: XmlWriter, code: string, value: XmlValue): void {
  if (value === undefined) return;
  w.group('AdditionalInformation', () => {
    w.leaf('StatementCode', code).leaf('StatementDescription', value).leaf('StatementTypeCode', EXT_TYPE);
  });
}

function goodsItem(w: XmlWriter, item: AciGoodsItem): void {
  w.group('GovernmentAgencyGoodsItem', () => {
    w.leaf('CustomsValueAmount', item.customsValue.amount, { currencyID: item.customsValue.currency });
    w.leaf('SequenceNumeric', item.sequence);
    w.group('AdditionalDocument', () => {
      w.leaf('CategoryCode', ECOO_DOC_CATEGORY).leaf('ID', item.ecooReference).leaf('TypeCode', ECOO_DOC_TYPE);
    }, item.ecooReference !== undefined);
    w.group('Commodity', () => {
      w.leaf('Description', item.description);
      // the 6-digit HS subheading always; the full national code as well when it is longer
      w.group('Classification', () => w.leaf('ID', item.hsCode.slice(0, 6)).leaf('IdentificationTypeCode', HS_TYPE));
      w.group('Classification', () => w.leaf('ID', item.hsCode).leaf('IdentificationTypeCode', NATIONAL_TYPE), item.hsCode.length > 6);
      for (const un of unNumbersOf(item)) w.group('DangerousGoods', () => w.leaf('UNDGID', un));
      w.group('GoodsMeasure', () => {
        w.leaf('GrossMassMeasure', item.grossMass.value, { unitCode: item.grossMass.unit });
        if (item.netMass) w.leaf('NetNetWeightMeasure', item.netMass.value, { unitCode: item.netMass.unit });
      });
    });
    // TypeCode 1 says the country is the non-preferential origin: without it a reader may take it for another type
    w.group('Origin', () => w.leaf('CountryCode', item.originCountry).leaf('TypeCode', ORIGIN_NON_PREFERENTIAL));
    w.group('Packaging', () => {
      w.leaf('SequenceNumeric', 1).leaf('MarksNumbersID', item.packages.marks).leaf('QuantityQuantity', item.packages.count).leaf('TypeCode', item.packages.kind);
    });
  });
}

function declaration(w: XmlWriter, d: FullAci): void {
  w.leaf('FunctionCode', d.kind === 'declaration' ? FUNCTION_ORIGINAL : FUNCTION_CHANGE);
  w.leaf('FunctionalReferenceID', d.functionalReference).leaf('ID', d.declarationId);
  dateTime(w, 'IssueDateTime', d.issueDateTime);
  w.leaf('TypeCode', TYPE_CODES[d.declarationType]).leaf('GoodsItemQuantity', d.goodsItemCount).leaf('DeclarationOfficeID', d.declarationOffice);
  w.leaf('TotalGrossMassMeasure', d.totalGrossMass.value, { unitCode: d.totalGrossMass.unit }).leaf('TotalPackageQuantity', d.totalPackages);

  ext(w, EXT.expectedArrival, d.expectedArrival);
  ext(w, EXT.exitPoint, d.officeOfExit?.borderCrossingPoint);
  ext(w, EXT.entryPoint, d.officeOfEntry.borderCrossingPoint);
  const n = d.notifyParty;
  if (n) {
    ext(w, EXT.notifyName, n.name);
    ext(w, EXT.notifyId, n.id);
    ext(w, EXT.notifyLine, n.address.line);
    ext(w, EXT.notifyCity, n.address.city);
    ext(w, EXT.notifyPostcode, n.address.postcode);
    ext(w, EXT.notifyCountry, n.address.country);
  }
  if (d.kind === 'amendment') ext(w, EXT.reason, d.amendmentReason);

  const m = d.borderTransportMeans;
  w.group('BorderTransportMeans', () => {
    w.leaf('Name', m.name).leaf('ID', m.id).leaf('IdentificationTypeCode', m.idType).leaf('RegistrationNationalityCode', m.nationality).leaf('ModeCode', m.mode);
  });
  w.group('Consignment', () => {
    party(w, 'Carrier', d.carrier);
    d.itinerary.forEach((country, i) => w.group('Itinerary', () => w.leaf('SequenceNumeric', i + 1).leaf('RoutingCountryCode', country)));
  });
  w.group('ExitOffice', () => w.leaf('ID', d.officeOfExit?.id), d.officeOfExit !== undefined);
  party(w, 'Exporter', d.exporter);
  w.group('GoodsShipment', () => {
    for (const key of PARTY_KEYS) {
      const aeoId = d[key]?.aeoId;
      if (aeoId !== undefined) w.group('AEOMutualRecognitionParty', () => w.leaf('ID', aeoId).leaf('RoleCode', AEO_ROLES[key]));
    }
    party(w, 'Consignee', d.consignee);
    w.group('Consignment', () => {
      w.leaf('ContainerCode', d.containerised ? '1' : '0');
      d.transportEquipment.forEach((eq, i) => {
        w.group('TransportEquipment', () => {
          w.leaf('SequenceNumeric', i + 1).leaf('ID', eq.id);
          eq.seals.forEach((seal, s) => w.group('Seal', () => w.leaf('SequenceNumeric', s + 1).leaf('ID', seal)));
        });
      });
    });
    party(w, 'Consignor', d.consignor);
    for (const item of d.goodsItems) goodsItem(w, item);
    w.group('UCR', () => w.leaf('ID', d.ucr), d.ucr !== undefined);
  });
  w.group('PresentationOffice', () => w.leaf('ID', d.officeOfEntry.id));
}

function cancellation(w: XmlWriter, c: AciCancellation): void {
  w.leaf('FunctionCode', FUNCTION_CHANGE).leaf('FunctionalReferenceID', c.functionalReference).leaf('TypeCode', CANCELLATION_TYPE_CODE);
  ext(w, EXT.reason, c.reason);
}

/** Writes a validated ACI body as a WCO DM Declaration document (indented unless `pretty` is false). */
export function aciToXml(body: AciBody, pretty = true): string {
  const w = new XmlWriter(pretty);
  w.group('Declaration', () => (body.kind === 'cancellation' ? cancellation(w, body) : declaration(w, body)), true, ROOT_ATTRS);
  return w.toString();
}
