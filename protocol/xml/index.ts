/** Re-exports the XML forms of the message bodies (WCO DM declaration for ACI, GNC forms for e-CoO and AEO). */
export { parseXmlBody, bodyToXml, bodyTypeOf, xmlRootType, withXmlPaths, removedXmlPaths, type XmlBody } from './body.js';
export { aciToXml } from './aci-write.js';
export { aciFromXml } from './aci-read.js';
export { ecooToXml, ecooFromXml } from './ecoo-xml.js';
export { aeoToXml, aeoFromXml } from './aeo-xml.js';
export { parseXmlTree, elementPath, type XmlElement } from './tree.js';
export { MAX_XML_DEPTH, WCO_DEC_NS, WCO_DS_NS, GNC_ECOO_NS, GNC_AEO_NS } from './limits.js';
