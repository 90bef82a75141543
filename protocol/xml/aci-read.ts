/**
 * WCO DM declaration XML -> ACI body, the reverse of aci-write.ts. National systems send more of the WCO DM
 * than the ACI data set (procedures, declarant, invoice ...): elements outside the mapping, or in another
 * namespace, are ignored, as the SPEC says; an element the mapping reads one value from must appear once
 * (XmlReader.one), except a goods item's Origin, which the schema lets repeat: those must agree (XmlReader.agreed),
 * and its DangerousGoods, each a UN number of the item. GNC extension fields must be known and appear once. Validation runs on the mapped
 * body with every error located at the element it came from.
 */
import { parseAciBody, type AciBody } from '../messages/aci.js';
import { XmlReader, put, toNumber } from './reader.js';
import { WCO_DS_NS } from './limits.js';
import { childrenNamed, type XmlElement } from './tree.js';
import {
  AEO_ROLES, CANCELLATION_TYPE_CODE, DATETIME_EXPECTED, ECOO_DOC_CATEGORY, ECOO_DOC_TYPE, EXT, EXT_TYPE, FUNCTION_CHANGE, FUNCTION_ORIGINAL,
  fromWcoDateTime, HS_TYPE, NATIONAL_TYPE, ORIGIN_NON_PREFERENTIAL, PARTY_KEYS, TYPE_FROM_CODE, type PartyKey,
} from './wco-profile.js';

type Obj = Record<string, unknown>;
type AeoRef = { el: XmlElement; id: string };

const KNOWN_EXT: ReadonlySet<string> = new Set(Object.values(EXT));

/** Reads Declaration/AdditionalInformation entries of type GNC; each may be read once. */
class Extensions {
  private readonly found = new Map<string, XmlElement>();
  private readonly used = new Set<string>();

  constructor(private readonly r: XmlReader, private readonly root: XmlElement) {
    for (const info of childrenNamed(root, 'AdditionalInformation')) {
      if (r.one(info, 'StatementTypeCode')?.text !== EXT_TYPE) continue;
      const code = r.one(info, 'StatementCode')?.text ?? '';
      if (!KNOWN_EXT.has(code)) r.problem(info, '/StatementCode', `a GNC StatementCode (${[...KNOWN_EXT].join(', ')})`, `"${code}"`);
      else if (this.found.has(code)) r.problem(info, '/StatementCode', `${code} once`, 'a repeated entry');
      else this.found.set(code, info);
    }
  }

  get(pointer: string, code: string, expected?: string): string | undefined {
    this.used.add(code);
    const info = this.found.get(code);
    if (!info) {
      this.r.mark(pointer, this.root, '/AdditionalInformation', `an AdditionalInformation with StatementCode ${code} and StatementTypeCode ${EXT_TYPE}`);
      return undefined;
    }
    return this.r.text(pointer, info, ['StatementDescription'], expected);
  }

  /** Reports GNC entries this kind of declaration does not carry. */
  finish(): void {
    for (const [code, info] of this.found) {
      if (!this.used.has(code)) this.r.problem(info, '/StatementCode', 'no such GNC entry on this kind of declaration', `"${code}"`);
    }
  }
}

function measure(r: XmlReader, ptr: string, from: XmlElement, names: readonly string[]): Obj | undefined {
  const el = r.at(ptr, from, names);
  if (!el) return undefined;
  r.mark(`${ptr}/value`, el);
  return { value: r.numberOf(el), unit: r.attr(`${ptr}/unit`, el, 'unitCode') };
}

function address(r: XmlReader, ptr: string, el: XmlElement): Obj {
  const a: Obj = {};
  put(a, 'line', r.text(`${ptr}/line`, el, ['Line']));
  put(a, 'city', r.text(`${ptr}/city`, el, ['CityName']));
  put(a, 'postcode', r.text(`${ptr}/postcode`, el, ['PostcodeID']));
  put(a, 'country', r.text(`${ptr}/country`, el, ['CountryCode']));
  return a;
}

function party(r: XmlReader, ptr: string, root: XmlElement, names: readonly string[], aeo: AeoRef | undefined): Obj | undefined {
  const el = r.at(ptr, root, names);
  if (!el && !aeo) return undefined;
  const p: Obj = {};
  if (el) {
    put(p, 'name', r.text(`${ptr}/name`, el, ['Name']));
    put(p, 'id', r.text(`${ptr}/id`, el, ['ID']));
    const a = r.at(`${ptr}/address`, el, ['Address']);
    if (a) p['address'] = address(r, `${ptr}/address`, a);
  }
  if (aeo) {
    p['aeoId'] = aeo.id;
    r.mark(`${ptr}/aeoId`, aeo.el, '/ID');
  }
  return p;
}

function aeoParties(r: XmlReader, root: XmlElement): Map<PartyKey, AeoRef> {
  const byRole = new Map<string, PartyKey>(PARTY_KEYS.map((k) => [AEO_ROLES[k], k]));
  const out = new Map<PartyKey, AeoRef>();
  for (const el of childrenNamed(r.one(root, 'GoodsShipment'), 'AEOMutualRecognitionParty')) {
    const key = byRole.get(r.one(el, 'RoleCode')?.text ?? '');
    if (key === undefined) continue; // other roles (forwarder, warehouse keeper ...) are outside the ACI data set
    if (out.has(key)) r.problem(el, '/RoleCode', `one AEO id per role`, `a second ${AEO_ROLES[key]}`);
    out.set(key, { el, id: r.one(el, 'ID')?.text ?? '' });
  }
  return out;
}

function notifyParty(r: XmlReader, ext: Extensions, aeo: AeoRef | undefined): Obj | undefined {
  const p: Obj = {};
  const a: Obj = {};
  put(p, 'name', ext.get('/notifyParty/name', EXT.notifyName));
  put(p, 'id', ext.get('/notifyParty/id', EXT.notifyId));
  put(a, 'line', ext.get('/notifyParty/address/line', EXT.notifyLine));
  put(a, 'city', ext.get('/notifyParty/address/city', EXT.notifyCity));
  put(a, 'postcode', ext.get('/notifyParty/address/postcode', EXT.notifyPostcode));
  put(a, 'country', ext.get('/notifyParty/address/country', EXT.notifyCountry));
  if (Object.keys(a).length) p['address'] = a;
  if (aeo) {
    p['aeoId'] = aeo.id;
    r.mark('/notifyParty/aeoId', aeo.el, '/ID');
  }
  return Object.keys(p).length ? p : undefined;
}

/**
 * Repeated blocks numbered by SequenceNumeric (Itinerary, TransportEquipment, Seal) in the order of their
 * numbers, which must be 1..n, each once: a sender's numbers say the order (a route KZ -> KG must not be read
 * KG -> KZ because the blocks came swapped), and a gap or repeat means a block is missing or doubled. Blocks
 * without any SequenceNumeric keep document order.
 */
function bySequence(r: XmlReader, blocks: XmlElement[]): XmlElement[] {
  const numbered = blocks.map((el) => {
    const seq = r.one(el, 'SequenceNumeric');
    // any xs:decimal form of a whole number counts ("+1", "01", "1.0" are 1, as the schema reads them)
    const value = seq ? toNumber(seq.text) : NaN;
    return { el, seq, n: typeof value === 'number' && Number.isInteger(value) ? value : NaN };
  });
  if (numbered.every((b) => b.seq === undefined)) return blocks;
  const seen = new Set<number>();
  for (const { el, seq, n } of numbered) {
    if (!(n >= 1 && n <= blocks.length) || seen.has(n)) {
      r.problem(seq ?? el, seq ? '' : '/SequenceNumeric', `SequenceNumeric 1 to ${blocks.length}, each once`, seq ? `"${seq.text}"` : 'nothing');
    }
    seen.add(n);
  }
  return numbered.sort((a, b) => a.n - b.n).map((b) => b.el);
}

/**
 * The one block among `blocks` (those of a kind the mapping reads one value from, picked out of a repeated
 * element by a code, like the e-CoO among a goods item's AdditionalDocuments): a second one is refused, never
 * dropped for the first (SPEC 7.3.1), since it would say something the body could not carry.
 */
function single(r: XmlReader, blocks: XmlElement[], expected: string): XmlElement | undefined {
  if (blocks.length > 1) r.problem(blocks[1]!, '', expected, `${blocks.length}`);
  return blocks[0];
}

/**
 * HS code: the full national code (CV) when present, else the HS subheading. With both, the HS subheading
 * must be six digits and the start of the national code: otherwise the two say different goods, and reading
 * only the CV code would hide it.
 */
function hsCode(r: XmlReader, ptr: string, item: XmlElement): string | undefined {
  const commodity = r.one(item, 'Commodity');
  const list = childrenNamed(commodity, 'Classification');
  const typed = (code: string): XmlElement | undefined =>
    single(r, list.filter((c) => r.one(c, 'IdentificationTypeCode')?.text === code), `one <Classification> with IdentificationTypeCode ${code}`);
  const hs = typed(HS_TYPE);
  const cv = typed(NATIONAL_TYPE);
  if (hs && cv) {
    const hsId = r.one(hs, 'ID')?.text ?? '';
    const cvId = r.one(cv, 'ID')?.text ?? '';
    if (!/^\d{6}$/.test(hsId)) r.problem(hs, '/ID', 'the six-digit HS subheading', `"${hsId}"`);
    else if (!cvId.startsWith(hsId)) r.problem(cv, '/ID', `a national code starting with the HS subheading ${hsId}`, `"${cvId}"`);
  }
  const pick = cv ?? hs ?? list[0];
  if (!pick) {
    r.at(ptr, item, ['Commodity', 'Classification', 'ID'], 'a Classification with IdentificationTypeCode HS (and CV for a longer national code)');
    return undefined;
  }
  return r.text(ptr, pick, ['ID']);
}

/**
 * The country of origin: the Origin blocks without TypeCode or with TypeCode 1 (non-preferential) must agree.
 * Origin blocks of other types (2, preferential) are outside the ACI data set and ignored like other WCO DM
 * elements: preference rests on the e-CoO, and the cross-check compares the certificate with this country.
 */
function originCountry(r: XmlReader, ptr: string, item: XmlElement): string | undefined {
  const expected = `one country of origin per goods item (Origin/CountryCode in an Origin without TypeCode or with TypeCode ${ORIGIN_NON_PREFERENTIAL}, non-preferential)`;
  r.mark(ptr, item, '/Origin/CountryCode', expected);
  const origins = childrenNamed(item, 'Origin').filter((o) => (r.one(o, 'TypeCode')?.text ?? ORIGIN_NON_PREFERENTIAL) === ORIGIN_NON_PREFERENTIAL);
  return r.agreed(ptr, origins, ['CountryCode'], expected);
}

/**
 * The UN numbers of a goods item, one per `Commodity/DangerousGoods/UNDGID`, each once in document order: blocks that
 * repeat a number read it once, blocks without UNDGID say nothing. One number is `unNumber`, which every version
 * reads; several are `unNumbers` (SPEC 7.3.1).
 */
function unNumbers(r: XmlReader, ptr: string, item: Obj, el: XmlElement): void {
  r.mark(`${ptr}/unNumber`, el, '/Commodity/DangerousGoods/UNDGID');
  const blocks = childrenNamed(r.one(el, 'Commodity'), 'DangerousGoods');
  r.mark(`${ptr}/unNumbers`, blocks[0] ?? el, blocks[0] ? '' : '/Commodity/DangerousGoods');
  const found = new Map<string, XmlElement>();
  for (const block of blocks) {
    const id = r.one(block, 'UNDGID');
    if (!id) continue;
    const text = r.textOf(id);
    if (!found.has(text)) found.set(text, id);
  }
  const list = [...found];
  if (list.length === 1) {
    r.mark(`${ptr}/unNumber`, list[0]![1]);
    item['unNumber'] = list[0]![0];
  } else if (list.length > 1) {
    list.forEach(([, id], i) => r.mark(`${ptr}/unNumbers/${i}`, id));
    item['unNumbers'] = list.map(([text]) => text);
  }
}

function goodsItem(r: XmlReader, ptr: string, el: XmlElement): Obj {
  const item: Obj = {};
  put(item, 'sequence', r.number(`${ptr}/sequence`, el, ['SequenceNumeric']));
  put(item, 'hsCode', hsCode(r, `${ptr}/hsCode`, el));
  put(item, 'description', r.text(`${ptr}/description`, el, ['Commodity', 'Description']));
  const pk = r.at(`${ptr}/packages`, el, ['Packaging']);
  if (pk) {
    const p: Obj = {};
    put(p, 'count', r.number(`${ptr}/packages/count`, pk, ['QuantityQuantity']));
    put(p, 'kind', r.text(`${ptr}/packages/kind`, pk, ['TypeCode']));
    put(p, 'marks', r.text(`${ptr}/packages/marks`, pk, ['MarksNumbersID']));
    item['packages'] = p;
  }
  put(item, 'grossMass', measure(r, `${ptr}/grossMass`, el, ['Commodity', 'GoodsMeasure', 'GrossMassMeasure']));
  put(item, 'netMass', measure(r, `${ptr}/netMass`, el, ['Commodity', 'GoodsMeasure', 'NetNetWeightMeasure']));
  const cv = r.at(`${ptr}/customsValue`, el, ['CustomsValueAmount']);
  if (cv) {
    r.mark(`${ptr}/customsValue/amount`, cv);
    item['customsValue'] = { amount: r.numberOf(cv), currency: r.attr(`${ptr}/customsValue/currency`, cv, 'currencyID') };
  }
  put(item, 'originCountry', originCountry(r, `${ptr}/originCountry`, el));
  const docs = childrenNamed(el, 'AdditionalDocument').filter((d) => r.one(d, 'CategoryCode')?.text === ECOO_DOC_CATEGORY && r.one(d, 'TypeCode')?.text === ECOO_DOC_TYPE);
  const doc = single(r, docs, `one <AdditionalDocument> with CategoryCode ${ECOO_DOC_CATEGORY} and TypeCode ${ECOO_DOC_TYPE} (the e-CoO)`);
  if (doc) put(item, 'ecooReference', r.text(`${ptr}/ecooReference`, doc, ['ID']));
  unNumbers(r, ptr, item, el);
  return item;
}

function declarationType(code: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  // national systems append the additional declaration type (EXA, EXD): the first two letters decide
  return TYPE_FROM_CODE[code] ?? TYPE_FROM_CODE[code.slice(0, 2)] ?? code;
}

function fullDeclaration(r: XmlReader, root: XmlElement, ext: Extensions, kind: string): Obj {
  const d: Obj = { kind };
  const aeo = aeoParties(r, root);
  put(d, 'functionalReference', r.text('/functionalReference', root, ['FunctionalReferenceID']));
  put(d, 'declarationId', r.text('/declarationId', root, ['ID']));
  declarationTypeAndDate(r, root, d);
  put(d, 'ucr', r.text('/ucr', root, ['GoodsShipment', 'UCR', 'ID']));
  put(d, 'declarationOffice', r.text('/declarationOffice', root, ['DeclarationOfficeID']));
  put(d, 'exporter', party(r, '/exporter', root, ['Exporter'], aeo.get('exporter')));
  put(d, 'consignor', party(r, '/consignor', root, ['GoodsShipment', 'Consignor'], aeo.get('consignor')));
  put(d, 'consignee', party(r, '/consignee', root, ['GoodsShipment', 'Consignee'], aeo.get('consignee')));
  put(d, 'carrier', party(r, '/carrier', root, ['Consignment', 'Carrier'], aeo.get('carrier')));
  put(d, 'notifyParty', notifyParty(r, ext, aeo.get('notifyParty')));
  const btm = r.at('/borderTransportMeans', root, ['BorderTransportMeans']);
  if (btm) {
    const m: Obj = {};
    put(m, 'mode', r.text('/borderTransportMeans/mode', btm, ['ModeCode']));
    put(m, 'id', r.text('/borderTransportMeans/id', btm, ['ID']));
    put(m, 'idType', r.text('/borderTransportMeans/idType', btm, ['IdentificationTypeCode']));
    put(m, 'name', r.text('/borderTransportMeans/name', btm, ['Name']));
    put(m, 'nationality', r.text('/borderTransportMeans/nationality', btm, ['RegistrationNationalityCode']));
    d['borderTransportMeans'] = m;
  }
  d['itinerary'] = bySequence(r, r.list('/itinerary', root, ['Consignment', 'Itinerary'])).map((it, i) => r.text(`/itinerary/${i}`, it, ['RoutingCountryCode']));
  const exitBcp = ext.get('/officeOfExit/borderCrossingPoint', EXT.exitPoint);
  if (r.one(root, 'ExitOffice') || exitBcp !== undefined) {
    d['officeOfExit'] = {};
    put(d['officeOfExit'] as Obj, 'id', r.text('/officeOfExit/id', root, ['ExitOffice', 'ID']));
    put(d['officeOfExit'] as Obj, 'borderCrossingPoint', exitBcp);
  }
  const entry: Obj = {};
  r.at('/officeOfEntry', root, ['PresentationOffice']);
  put(entry, 'id', r.text('/officeOfEntry/id', root, ['PresentationOffice', 'ID']));
  put(entry, 'borderCrossingPoint', ext.get('/officeOfEntry/borderCrossingPoint', EXT.entryPoint));
  d['officeOfEntry'] = entry;
  put(d, 'expectedArrival', ext.get('/expectedArrival', EXT.expectedArrival, 'a date-time like 2026-11-25T14:00:00+05:00'));
  const cc = r.text('/containerised', root, ['GoodsShipment', 'Consignment', 'ContainerCode'], 'ContainerCode 0 (not in containers) or 1 (in containers)');
  put(d, 'containerised', cc === '1' ? true : cc === '0' ? false : cc);
  const equipment = bySequence(r, r.list('/transportEquipment', root, ['GoodsShipment', 'Consignment', 'TransportEquipment']));
  d['transportEquipment'] = equipment.map((eq, i) => {
    const e: Obj = {};
    put(e, 'id', r.text(`/transportEquipment/${i}/id`, eq, ['ID']));
    e['seals'] = bySequence(r, r.list(`/transportEquipment/${i}/seals`, eq, ['Seal'])).map((s, k) => r.text(`/transportEquipment/${i}/seals/${k}`, s, ['ID']));
    return e;
  });
  d['goodsItems'] = r.list('/goodsItems', root, ['GoodsShipment', 'GovernmentAgencyGoodsItem']).map((el, i) => goodsItem(r, `/goodsItems/${i}`, el));
  put(d, 'totalGrossMass', measure(r, '/totalGrossMass', root, ['TotalGrossMassMeasure']));
  put(d, 'totalPackages', r.number('/totalPackages', root, ['TotalPackageQuantity']));
  put(d, 'goodsItemCount', r.number('/goodsItemCount', root, ['GoodsItemQuantity']));
  if (kind === 'amendment') put(d, 'amendmentReason', ext.get('/amendmentReason', EXT.reason));
  return d;
}

function declarationTypeAndDate(r: XmlReader, root: XmlElement, d: Obj): void {
  put(d, 'declarationType', declarationType(r.text('/declarationType', root, ['TypeCode'], 'TypeCode EX (export), TR (transit) or ENS (pre-arrival)')));
  const wrapper = r.at('/issueDateTime', root, ['IssueDateTime'], DATETIME_EXPECTED);
  if (!wrapper) return;
  // the one element of the declaration in the ds namespace (WCO_DEC_DS_2_DMS.xsd)
  const el = r.one(wrapper, 'DateTimeString', WCO_DS_NS);
  if (!el) return r.mark('/issueDateTime', wrapper, '/DateTimeString', DATETIME_EXPECTED);
  r.mark('/issueDateTime', el, '', DATETIME_EXPECTED);
  const iso = fromWcoDateTime(r.textOf(el));
  // an ISO 8601 text would pass the JSON schema, but the WCO DM only has the compact form
  if (iso === el.text) r.problem(el, '', DATETIME_EXPECTED, `"${el.text}"`);
  d['issueDateTime'] = iso;
}

/** Maps and validates a WCO DM `Declaration` element as an ACI body; `r` keeps where each field was read. */
export function aciFromXml(root: XmlElement, r = new XmlReader(root)): AciBody {
  const fn = r.text('/kind', root, ['FunctionCode'], `FunctionCode ${FUNCTION_ORIGINAL} (declaration) or ${FUNCTION_CHANGE} (amendment; with TypeCode ${CANCELLATION_TYPE_CODE} a cancellation)`);
  const kind = fn === FUNCTION_ORIGINAL ? 'declaration' : fn === FUNCTION_CHANGE ? (r.one(root, 'TypeCode')?.text === CANCELLATION_TYPE_CODE ? 'cancellation' : 'amendment') : fn;
  const ext = new Extensions(r, root);
  let body: Obj;
  if (kind === 'cancellation') {
    body = { kind };
    put(body, 'functionalReference', r.text('/functionalReference', root, ['FunctionalReferenceID']));
    put(body, 'reason', ext.get('/reason', EXT.reason));
  } else if (kind === 'declaration' || kind === 'amendment') {
    body = fullDeclaration(r, root, ext, kind);
  } else {
    body = { kind }; // the schema names the FunctionCode as the problem
  }
  if (kind === 'declaration' || kind === 'amendment' || kind === 'cancellation') ext.finish();
  r.throwProblems('aci');
  return parseAciBody(body, { locate: r.locate });
}
