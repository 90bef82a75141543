/**
 * The XML elements an agreement's refusal or minimisation names for a body read from XML (GncError.inXml,
 * removedXmlPaths), where the reader assembled a member from elements elsewhere: the ACI's officeOfExit (ExitOffice
 * and a GNC AdditionalInformation entry) and notifyParty (GNC AdditionalInformation entries only) have no element of
 * their own, so they are named by the elements of their members, never by the document's root.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { enforceOnSend } from '../../../protocol/agreement/index.js';
import { isGncError } from '../../../protocol/errors.js';
import { parseXmlBody, removedXmlPaths, withXmlPaths } from '../../../protocol/xml/index.js';
import { draft, gncError, MESSAGES_DIR } from '../agreement/helpers.js';

const RISK = 'pre-arrival-risk-assessment';
const read = parseXmlBody(readFileSync(`${MESSAGES_DIR}aci-kz-kg-road.xml`));
const body = read.body as Record<string, unknown>;
const info = (n: number): string => `/Declaration/AdditionalInformation[${n}]/StatementDescription`;
const NOTIFY = [4, 5, 6, 7, 8, 9].map(info);
const EXIT = ['/Declaration/ExitOffice/ID', info(2)];

/** The KZ -> KG ACI scope: every member of the example but `leftOut`, refused or (`minimise`) removed. */
function scope(fields: string[], minimise: boolean) {
  return draft('kz-kg-mra', (d) => {
    Object.assign(d.directions[0].messages[0], { fields, minimise });
  });
}
const allBut = (...leftOut: string[]): string[] => [...Object.keys(body), 'reason'].filter((k) => k !== 'kind' && !leftOut.includes(k));

describe('elements of a member the XML reader assembled from elements elsewhere', () => {
  it('lists the elements of notifyParty and officeOfExit as removedXmlPaths, not the root element', () => {
    const r = enforceOnSend(scope(allBut('notifyParty', 'officeOfExit'), true), 'KZ', 'KG', 'aci', RISK, body);
    expect(r.removed).toEqual(['notifyParty', 'officeOfExit']);
    expect(removedXmlPaths(body, r.removed, read.xmlPathOf)).toEqual([...NOTIFY, ...EXIT]);
  });

  it('names them in the refusal of a scope without minimisation', () => {
    const err = withXmlPaths(gncError(() => enforceOnSend(scope(allBut('notifyParty', 'officeOfExit'), false), 'KZ', 'KG', 'aci', RISK, body)), read.xmlPathOf);
    if (!isGncError(err)) throw new Error('expected a GncError');
    expect(err.code).toBe('GNC_AGREEMENT_FIELD');
    expect(err.message).toBe(
      `XML elements ${[...NOTIFY, ...EXIT].join(', ')} (fields notifyParty, officeOfExit) are outside agreement KZ-KG-MRA-2026@1 from KZ to KG for aci: remove them and submit again.`,
    );
  });

  it('gives their issues all their elements as xmlPaths, the first as xmlPath, given the body read; the root without it', () => {
    const refusal = gncError(() => enforceOnSend(scope(allBut('notifyParty', 'officeOfExit'), false), 'KZ', 'KG', 'aci', RISK, body));
    const located = (err: unknown) => (isGncError(err) ? err.issues?.map((i) => [i.path, i.xmlPath, i.xmlPaths]) : undefined);
    expect(located(withXmlPaths(refusal, read.xmlPathOf, body))).toEqual([
      ['/body/notifyParty', NOTIFY[0], NOTIFY],
      ['/body/officeOfExit', EXIT[0], EXIT],
    ]);
    expect(located(withXmlPaths(refusal, read.xmlPathOf))).toEqual([
      ['/body/notifyParty', '/Declaration', undefined],
      ['/body/officeOfExit', '/Declaration', undefined],
    ]);
  });

  it('words a refusal for XML once: a second pass (the API and gnc send share withXmlPaths) keeps the message and issues, and no wording function is left on the error', () => {
    const refusal = gncError(() => enforceOnSend(scope(allBut('notifyParty', 'officeOfExit'), false), 'KZ', 'KG', 'aci', RISK, body));
    const once = withXmlPaths(refusal, read.xmlPathOf);
    const twice = withXmlPaths(once, read.xmlPathOf);
    if (!isGncError(once) || !isGncError(twice)) throw new Error('expected GncErrors');
    expect(twice.message).toBe(once.message);
    expect(twice.issues).toEqual(once.issues);
    expect(twice.inXml).toBeUndefined();
    expect(JSON.parse(JSON.stringify(twice))).not.toHaveProperty('inXml');
  });
});
