/**
 * Refusals of a message submitted as WCO DM XML name the element in the XML that was sent (`xmlPath`) next to the
 * JSON pointer into the body it was read as, and their detail names the elements: an agreement's field refusal, and
 * one when minimising leaves the body invalid. Errors of reading the XML carry it too; a JSON submission's answer has
 * none. Fields minimisation removes are named by their elements too (`removedXmlPaths`). Real nodes, real HTTP. `gnc
 * send` of an XML file (the real CLI process, on the running node's data dir) prints the same element paths.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gnc } from '../../helpers/cli.js';
import { api, networkForFile, openAgreementDraft, tempDir } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, any>;
const ecoo = JSON.parse(readFileSync(new URL('../../../examples/messages/ecoo-kz-kg-preferential.json', import.meta.url), 'utf8')) as Record<string, any>;
const ecooXml = readFileSync(new URL('../../../examples/messages/ecoo-kz-kg-preferential.xml', import.meta.url), 'utf8');
const aciXml = readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.xml', import.meta.url), 'utf8');
const risk = 'pre-arrival-risk-assessment';
const xml = { 'content-type': 'application/xml' };

/** The fields of an agreement scope: the example body's members and `extra`, but those `leftOut` (`exporter.id`). */
function fieldsOf(body: Record<string, any>, extra: string[], leftOut: string[]): string[] {
  return [...Object.keys(body), ...extra].filter((k) => k !== 'kind' && !leftOut.includes(k)).flatMap((k) => {
    const step = Array.isArray(body[k]) ? `${k}[]` : k;
    const inner = leftOut.filter((p) => p.startsWith(`${step}.`));
    if (inner.length === 0) return [k];
    return Object.keys([body[k]].flat()[0]).map((m) => `${step}.${m}`).filter((p) => !inner.includes(p));
  });
}
const scope = (type: string, fields: string[], minimise = false) => ({ type, fields, minimise, purposes: [risk], retentionDays: 30, onwardTransfer: false });
// KZ -> KG refuses exporter.id and the goods items' net mass of a declaration, the gross mass and remarks of a certificate;
// KG -> KZ removes those of a declaration (minimise), and a certificate's arrangement, which a preferential one needs
const draft = openAgreementDraft('KZ', 'KG', {
  id: 'KZ-KG-XML-PATHS',
  directions: [
    {
      from: 'KZ',
      to: 'KG',
      messages: [
        scope('aci', fieldsOf(aci, ['reason'], ['exporter.id', 'goodsItems[].netMass'])),
        scope('ecoo', fieldsOf(ecoo, ['status', 'statusDate'], ['remarks', 'goodsItems[].grossMass'])),
      ],
    },
    {
      from: 'KG',
      to: 'KZ',
      messages: [
        scope('aci', fieldsOf(aci, ['reason'], ['exporter.id', 'goodsItems[].netMass']), true),
        scope('ecoo', fieldsOf(ecoo, ['status', 'statusDate'], ['arrangement']), true),
      ],
    },
  ],
});

const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft }] });

const ITEM = '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem';
const NET_MASS = [1, 2, 3].map((i) => `${ITEM}[${i}]/Commodity/GoodsMeasure/NetNetWeightMeasure`);
const AGREEMENT = 'agreement KZ-KG-XML-PATHS@1';

describe('refusals of an XML submission name the XML element', () => {
  it('names each field an agreement refuses by its JSON pointer and by its element path in the XML sent, and a JSON submitter as before (GNC_AGREEMENT_FIELD)', async () => {
    const r = await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, aciXml, xml);
    expect(r.status, r.text).toBe(403);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.json.code).toBe('GNC_AGREEMENT_FIELD');
    expect(r.json.issues.map((i: { path: string; xmlPath?: string }) => [i.path, i.xmlPath])).toEqual([
      ['/body/exporter/id', '/Declaration/Exporter/ID'],
      ['/body/goodsItems/0/netMass', `${ITEM}[1]/Commodity/GoodsMeasure/NetNetWeightMeasure`],
      ['/body/goodsItems/1/netMass', `${ITEM}[2]/Commodity/GoodsMeasure/NetNetWeightMeasure`],
      ['/body/goodsItems/2/netMass', `${ITEM}[3]/Commodity/GoodsMeasure/NetNetWeightMeasure`],
    ]);
    expect(kz.node.parts.store.messages.list({ limit: 10 })).toHaveLength(0);
    // the same body as JSON is answered as before: the same issues, without xmlPath, and the fields in the detail
    const json = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(json.status, json.text).toBe(403);
    expect(json.json.issues).toEqual(r.json.issues.map(({ xmlPath: _, ...issue }: { xmlPath: string }) => issue));
    expect(json.json.detail).toBe(`Fields exporter.id, goodsItems[].netMass are outside ${AGREEMENT} from KZ to KG for aci: remove them and submit again.`);
  });

  it('says in the detail which elements of the XML sent are outside the agreement, with their field paths', async () => {
    const r = await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, aciXml, xml);
    expect(r.status, r.text).toBe(403);
    expect(r.json.detail).toBe(
      `XML elements /Declaration/Exporter/ID, ${NET_MASS.join(', ')} (fields exporter.id, goodsItems[].netMass) are outside ${AGREEMENT} from KZ to KG for aci: remove them and submit again.`,
    );
    const one = await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, ecooXml.replace(/<GrossMassMeasure[^>]*>[^<]*<\/GrossMassMeasure>/g, ''), xml);
    expect(one.status, one.text).toBe(403);
    expect(one.json.detail).toBe(`XML element /OriginCertificate/Remarks (field remarks) is outside ${AGREEMENT} from KZ to KG for ecoo: remove it and submit again.`);
  });

  it('names them in the GNC XML forms too (e-CoO)', async () => {
    const r = await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, ecooXml, xml);
    expect(r.status, r.text).toBe(403);
    expect(r.json.code).toBe('GNC_AGREEMENT_FIELD');
    expect(r.json.issues.map((i: { path: string; xmlPath?: string }) => [i.path, i.xmlPath])).toEqual([
      ['/body/goodsItems/0/grossMass', '/OriginCertificate/GoodsItem[1]/GrossMassMeasure'],
      ['/body/goodsItems/1/grossMass', '/OriginCertificate/GoodsItem[2]/GrossMassMeasure'],
      ['/body/goodsItems/2/grossMass', '/OriginCertificate/GoodsItem[3]/GrossMassMeasure'],
      ['/body/remarks', '/OriginCertificate/Remarks'],
    ]);
  });

  it('gives the errors of reading the XML their element path as xmlPath too, and none to a query parameter', async () => {
    const schema = await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, aciXml.replace('<ID>981140001234</ID>', '<ID></ID>'), xml);
    expect(schema.status, schema.text).toBe(422);
    expect(schema.json.code).toBe('GNC_SCHEMA_INVALID');
    expect(schema.json.issues[0]).toMatchObject({ path: '/Declaration/Exporter/ID', xmlPath: '/Declaration/Exporter/ID' });
    const malformed = await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, aciXml.replace('</Exporter>', '</Exporte>'), xml);
    expect(malformed.json.code).toBe('GNC_XML_INVALID');
    expect(malformed.json.issues[0].xmlPath).toBe(malformed.json.issues[0].path);
    const query = await api(kz, 'POST', `/v1/messages?to=kg&purpose=${risk}`, aciXml, xml);
    expect(query.status, query.text).toBe(422);
    expect(query.json.issues[0].path).toBe('/to');
    expect(query.json.issues[0]).not.toHaveProperty('xmlPath');
  });
});

describe('gnc send of an XML file names the XML element in its errors', () => {
  const aciXmlFile = new URL('../../../examples/messages/aci-kz-kg-road.xml', import.meta.url).pathname;
  const files = tempDir('gnc-send-xml-');
  afterAll(() => rmSync(files, { recursive: true, force: true }));
  const send = (...args: string[]) => gnc('send', '--dir', kz.dir, '--to', 'KG', '--purpose', risk, ...args);
  /** What each issue line of the error names: the text between "  at " and ": expected". */
  const where = (stderr: string): string[] => stderr.split('\n').slice(1).filter(Boolean).map((l) => /^ {2}at (.*?): expected /.exec(l)?.[1] ?? l);

  it('prints each field the agreement refuses by its element path in the file and its JSON pointer (exit 6, GNC_AGREEMENT_FIELD); a JSON file as before', async () => {
    const r = await send(aciXmlFile);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr.split('\n')[0]).toBe(`error GNC_AGREEMENT_FIELD: XML elements /Declaration/Exporter/ID, ${NET_MASS.join(', ')} (fields exporter.id, goodsItems[].netMass) are outside ${AGREEMENT} from KZ to KG for aci: remove them and submit again.`);
    expect(where(r.stderr)).toEqual([
      'XML element /Declaration/Exporter/ID (JSON pointer /body/exporter/id)',
      `XML element ${ITEM}[1]/Commodity/GoodsMeasure/NetNetWeightMeasure (JSON pointer /body/goodsItems/0/netMass)`,
      `XML element ${ITEM}[2]/Commodity/GoodsMeasure/NetNetWeightMeasure (JSON pointer /body/goodsItems/1/netMass)`,
      `XML element ${ITEM}[3]/Commodity/GoodsMeasure/NetNetWeightMeasure (JSON pointer /body/goodsItems/2/netMass)`,
    ]);
    // --json shapes what a queued message prints; a refusal is the same text on stderr
    expect((await send('--json', aciXmlFile)).stderr).toBe(r.stderr);
    // the same body as a JSON file: the pointers alone, as ever
    const json = join(files, 'aci.json');
    writeFileSync(json, JSON.stringify(aci));
    const fromJson = await send('--type', 'aci', json);
    expect(fromJson.code).toBe(6);
    expect(fromJson.stderr.split('\n')[0]).toBe(`error GNC_AGREEMENT_FIELD: Fields exporter.id, goodsItems[].netMass are outside ${AGREEMENT} from KZ to KG for aci: remove them and submit again.`);
    expect(where(fromJson.stderr)).toEqual(['/body/exporter/id', '/body/goodsItems/0/netMass', '/body/goodsItems/1/netMass', '/body/goodsItems/2/netMass']);
    expect(kz.node.parts.store.messages.list({ limit: 10 })).toHaveLength(0);
  });

  it('prints an error of reading the file as its XML element (exit 2, GNC_SCHEMA_INVALID)', async () => {
    const empty = join(files, 'empty-exporter-id.xml');
    writeFileSync(empty, aciXml.replace('<ID>981140001234</ID>', '<ID></ID>'));
    const r = await send(empty);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error GNC_SCHEMA_INVALID: /);
    expect(where(r.stderr)).toEqual(['XML element /Declaration/Exporter/ID']);
  });
});

// KG -> KZ minimises: what it removes from an XML submission is named by the elements it was read from too
describe('minimisation of an XML submission names the removed elements', () => {
  const REMOVED = ['/Declaration/Exporter/ID', ...NET_MASS];

  it('answers an XML submission with removedXmlPaths beside removed, a JSON one as before', async () => {
    const r = await api(kg, 'POST', `/v1/messages?to=KZ&purpose=${risk}`, aciXml, { ...xml, 'idempotency-key': 'xml-minimised' });
    expect(r.status, r.text).toBe(202);
    expect(r.json.removed).toEqual(['exporter.id', 'goodsItems[].netMass']);
    expect(r.json.removedXmlPaths).toEqual(REMOVED);
    // a retry with the key answers the same, though nothing new is queued
    const again = await api(kg, 'POST', `/v1/messages?to=KZ&purpose=${risk}`, aciXml, { ...xml, 'idempotency-key': 'xml-minimised' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(r.json);
    const json = await api(kg, 'POST', '/v1/messages', { to: 'KZ', type: 'aci', purpose: risk, body: aci });
    expect(json.status, json.text).toBe(202);
    expect(Object.keys(json.json)).toEqual(['id', 'status', 'to', 'type', 'agreement', 'sha256', 'removed']);
    expect(json.json.removed).toEqual(r.json.removed);
    // nothing removed: an empty list
    const none = await api(kg, 'POST', `/v1/messages?to=KZ&purpose=${risk}`, aciXml.replace(/<ID>981140001234<\/ID>|<NetNetWeightMeasure[^>]*>[^<]*<\/NetNetWeightMeasure>/g, ''), xml);
    expect(none.status, none.text).toBe(202);
    expect(none.json).toMatchObject({ removed: [], removedXmlPaths: [] });
  });

  it('names the elements whose removal leaves the body invalid in the detail and as xmlPath (GNC_AGREEMENT_FIELD)', async () => {
    const r = await api(kg, 'POST', `/v1/messages?to=KZ&purpose=${risk}`, ecooXml, xml);
    expect(r.status, r.text).toBe(403);
    expect(r.json.code).toBe('GNC_AGREEMENT_FIELD');
    expect(r.json.issues.map((i: { path: string; xmlPath?: string }) => [i.path, i.xmlPath])).toEqual([['/body/arrangement', '/OriginCertificate/ArrangementName']]);
    expect(r.json.detail).toBe(
      `Removing XML element /OriginCertificate/ArrangementName (field arrangement), outside ${AGREEMENT} from KG to KZ, leaves the ecoo body invalid: XML element /OriginCertificate/ArrangementName: expected ${r.json.issues[0].expected}, received ${r.json.issues[0].received}. The agreement's field list must keep what the message needs.`,
    );
    const json = await api(kg, 'POST', '/v1/messages', { to: 'KZ', type: 'ecoo', purpose: risk, body: ecoo });
    expect(json.status, json.text).toBe(403);
    expect(json.json.issues).toEqual(r.json.issues.map(({ xmlPath: _, ...issue }: { xmlPath: string }) => issue));
    expect(json.json.detail).toBe(`Removing arrangement (outside ${AGREEMENT} from KG to KZ) leaves the ecoo body invalid: ${json.json.issues[0].message}. The agreement's field list must keep what the message needs.`);
  });

  it('gnc send of an XML file prints the removed elements after the fields, and --json lists them as removedXmlPaths; a JSON file as before', async () => {
    const aciXmlFile = new URL('../../../examples/messages/aci-kz-kg-road.xml', import.meta.url).pathname;
    const send = (...args: string[]) => gnc('send', '--dir', kg.dir, '--to', 'KZ', '--purpose', risk, ...args);
    const r = await send(aciXmlFile);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`under agreement KZ-KG-XML-PATHS@1; removed out-of-scope fields: exporter\\.id, goodsItems\\[\\]\\.netMass \\(XML elements ${REMOVED.join(', ').replace(/[[\]]/g, '\\$&')}\\)\n$`));
    const asJson = await send('--json', aciXmlFile);
    expect(asJson.code, asJson.stderr).toBe(0);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ removed: ['exporter.id', 'goodsItems[].netMass'], removedXmlPaths: REMOVED, replayed: false });
    const files = tempDir('gnc-send-minimised-');
    try {
      const file = join(files, 'aci.json');
      writeFileSync(file, JSON.stringify(aci));
      const fromJson = await send('--type', 'aci', file);
      expect(fromJson.stdout).toMatch(/removed out-of-scope fields: exporter\.id, goodsItems\[\]\.netMass\n$/);
      expect(JSON.parse((await send('--type', 'aci', '--json', file)).stdout)).not.toHaveProperty('removedXmlPaths');
    } finally {
      rmSync(files, { recursive: true, force: true });
    }
  });
});
