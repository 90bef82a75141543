/**
 * An agreement's refusal of an ACI's notifyParty and officeOfExit submitted as WCO DM XML: the reader assembles them
 * from elements that are not in one of their own (GNC AdditionalInformation entries, ExitOffice), so each issue names
 * those elements (`xmlPaths`, the first as `xmlPath`), never the root element `/Declaration`, which the submitter must
 * not remove. The same body as JSON is answered as before. Real nodes, real HTTP; `gnc send` of the XML file (the real
 * CLI process) prints the same elements.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gnc } from '../../helpers/cli.js';
import { api, networkForFile, openAgreementDraft } from '../../helpers/network.js';

const aciXmlFile = new URL('../../../examples/messages/aci-kz-kg-road.xml', import.meta.url).pathname;
const aciXml = readFileSync(aciXmlFile, 'utf8');
const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const risk = 'pre-arrival-risk-assessment';

// KZ -> KG allows every member of the example declaration but notifyParty and officeOfExit
const fields = [...Object.keys(aci), 'reason'].filter((k) => !['kind', 'notifyParty', 'officeOfExit'].includes(k));
const draft = openAgreementDraft('KZ', 'KG', {
  id: 'KZ-KG-XML-MEMBERS',
  directions: [
    { from: 'KZ', to: 'KG', messages: [{ type: 'aci', fields, minimise: false, purposes: [risk], retentionDays: 30, onwardTransfer: false }] },
    { from: 'KG', to: 'KZ', messages: [{ type: 'aci', fields: ['*'], minimise: false, purposes: [risk], retentionDays: 30, onwardTransfer: false }] },
  ],
});
const { nodes: { KZ: kz } } = networkForFile(['KZ', 'KG'], { agreements: [{ a: 'KZ', b: 'KG', draft }] });

const info = (n: number): string => `/Declaration/AdditionalInformation[${n}]/StatementDescription`;
const NOTIFY = [4, 5, 6, 7, 8, 9].map(info);
const EXIT = ['/Declaration/ExitOffice/ID', info(2)];

describe('an XML submission refused for notifyParty and officeOfExit', () => {
  it('names the elements they were read from on each issue (xmlPaths, the first as xmlPath), not the root element', async () => {
    const r = await api(kz, 'POST', `/v1/messages?to=KG&purpose=${risk}`, aciXml, { 'content-type': 'application/xml' });
    expect(r.status, r.text).toBe(403);
    expect(r.json.code).toBe('GNC_AGREEMENT_FIELD');
    expect(r.json.issues.map((i: { path: string; xmlPath?: string; xmlPaths?: string[] }) => [i.path, i.xmlPath, i.xmlPaths])).toEqual([
      ['/body/notifyParty', NOTIFY[0], NOTIFY],
      ['/body/officeOfExit', EXIT[0], EXIT],
    ]);
    expect(r.json.detail).toBe(
      `XML elements ${[...NOTIFY, ...EXIT].join(', ')} (fields notifyParty, officeOfExit) are outside agreement KZ-KG-XML-MEMBERS@1 from KZ to KG for aci: remove them and submit again.`,
    );
    // the answer is what the served OpenAPI document says a problem is, which documents xmlPaths
    const doc = (await api(kz, 'GET', '/v1/openapi.json')).json;
    const problem = doc.components.schemas.ProblemDetails;
    expect(problem.properties.issues.items.properties.xmlPaths).toMatchObject({ type: 'array', items: { type: 'string' } });
    const parsed = z.fromJSONSchema(problem).safeParse(r.json);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    expect(kz.node.parts.store.messages.list({ limit: 10 })).toHaveLength(0);
  });

  it('answers the same body as JSON as before: the pointers, without xmlPath or xmlPaths', async () => {
    const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: risk, body: aci });
    expect(r.status, r.text).toBe(403);
    const issue = (field: string) => ({ path: `/body/${field}`, expected: 'no field outside the agreement scope', received: `field ${field}`, message: `/body/${field}: field ${field} is outside the agreement scope` });
    expect(JSON.stringify(r.json.issues)).toBe(JSON.stringify([issue('notifyParty'), issue('officeOfExit')]));
    expect(r.json.detail).toBe('Fields notifyParty, officeOfExit are outside agreement KZ-KG-XML-MEMBERS@1 from KZ to KG for aci: remove them and submit again.');
  });

  it('gnc send of the XML file prints the elements of each refused field', async () => {
    const r = await gnc('send', '--dir', kz.dir, '--to', 'KG', '--purpose', risk, aciXmlFile);
    expect(r.code, r.stderr).toBe(6);
    const where = r.stderr.split('\n').slice(1).filter(Boolean).map((l) => /^ {2}at (.*?): expected /.exec(l)?.[1] ?? l);
    expect(where).toEqual([
      `XML elements ${NOTIFY.join(', ')} (JSON pointer /body/notifyParty)`,
      `XML elements ${EXIT.join(', ')} (JSON pointer /body/officeOfExit)`,
    ]);
  });
});
