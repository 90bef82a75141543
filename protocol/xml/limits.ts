/**
 * Limits for XML read from integrators, files and partners. XML is untrusted input: these bound the work a
 * document can cause before any mapping runs (the byte limit itself is MAX_BODY_BYTES in ../constants.ts,
 * shared with JSON bodies).
 */

/**
 * Deepest element nesting accepted. The deepest path of the WCO DM declaration schema (CDS profile 2.15) is
 * 7 levels (Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee/Payment/PaymentAmount),
 * 8 inside the md:MetaData wrapper; the e-CoO and AEO forms of protocol/SPEC.md section 7 need 5. 32 leaves
 * room for national extensions while keeping a hostile document (thousands of nested elements, made to
 * exhaust the stack of recursive readers) from ever reaching the parser.
 */
export const MAX_XML_DEPTH = 32;

/** Namespaces of the XML forms this node reads and writes. */
export const WCO_DEC_NS = 'urn:wco:datamodel:WCO:DEC-DMS:2';
export const WCO_DS_NS = 'urn:wco:datamodel:WCO:Declaration_DS:DMS:2';
export const WCO_METADATA_NS = 'urn:wco:datamodel:WCO:DocumentMetaData-DMS:2';
export const GNC_ECOO_NS = 'urn:gnc:ecoo:1';
export const GNC_AEO_NS = 'urn:gnc:aeo:1';
