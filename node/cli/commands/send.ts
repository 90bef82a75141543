/**
 * `gnc send`: submit a message from a JSON or XML file, exactly as the API would (validation, agreement,
 * seal, outbox), without the API. Works whether or not the node is running: a running node's dispatcher
 * picks the outbox row up on its next sweep.
 */
import { existsSync, statSync } from 'node:fs';
import { MAX_BODY_BYTES } from '../../../protocol/constants.js';
import { GncError } from '../../../protocol/errors.js';
import { refuseProtoMembers } from '../../../protocol/validate.js';
import { parseXmlBody, removedXmlPaths, withXmlPaths, type XmlBody } from '../../../protocol/xml/index.js';
import { BODY_TOO_LARGE_ADVICE, BOM_REFUSAL } from '../../api/body.js';
import { checkedIdempotencyKey } from '../../api/idempotency-key.js';
import { agreementRef } from '../../../protocol/agreement/document.js';
import { scopeFor } from '../../../protocol/agreement/scope.js';
import { openOffline, type OfflineNode } from '../../compose.js';
import { parse } from '../args.js';
import { readInputFile } from '../files.js';
import type { Command } from '../command.js';

const spec = {
  name: 'send',
  usage: 'gnc send --dir DIR --to XX --purpose P [--type aci|ecoo|aeo] [--ref ID] [--idempotency-key K] [--json] FILE.json|FILE.xml',
  description:
    'Queue a message for a partner from a body file (JSON body, or WCO DM / GNC XML where the type comes from the root element). ' +
    '--purpose is one the agreement in force with the partner allows for the type: every message goes under one, and each allows a type only with a purpose it lists. ' +
    'With --idempotency-key, running the same command again (after an interruption) queues nothing new and names the message the first run queued.',
  options: {
    dir: { type: 'string' }, to: { type: 'string' }, type: { type: 'string' }, purpose: { type: 'string' }, ref: { type: 'string' }, 'idempotency-key': { type: 'string' }, json: { type: 'boolean' },
  },
  required: ['dir', 'to'],
  checkedRequired: ['purpose'],
  positionals: { min: 1, max: 1, names: 'FILE' },
} as const;

/**
 * A message body from a JSON or XML file, within the API's body limit (MAX_BODY_BYTES); from XML with the element
 * paths its members were read from (`xmlPathOf`, as for an XML submission to the API).
 */
export function readBodyFile(path: string): { type?: string; body: unknown; xmlPathOf?: XmlBody['xmlPathOf'] } {
  const size = existsSync(path) ? statSync(path).size : 0;
  if (size > MAX_BODY_BYTES) {
    throw new GncError('GNC_BODY_TOO_LARGE', `${path} has ${size} bytes, over the ${MAX_BODY_BYTES}-byte limit of a message body (as for the API): ${BODY_TOO_LARGE_ADVICE}.`);
  }
  const text = readInputFile(path);
  if (path.toLowerCase().endsWith('.xml') || text.trimStart().startsWith('<')) {
    const { type, body, xmlPathOf } = parseXmlBody(text);
    return { type, body, xmlPathOf };
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (err) {
    if (text.charCodeAt(0) === 0xfeff) throw new GncError('GNC_INVALID_JSON', `${path} is not valid JSON: ${BOM_REFUSAL}.`);
    throw new GncError('GNC_INVALID_JSON', `${path} is not valid JSON (${(err as Error).message}).`);
  }
  // the file is the body of the submission: its members are named as the API names them, under /body
  refuseProtoMembers(text, body, '/body');
  return { body };
}

/**
 * The type of a body file: --type, else the XML root's (a JSON body says none). A --type that contradicts the
 * XML root is refused rather than read as a schema error of the wrong type.
 */
export function bodyFileType(file: { type?: string }, given: string | undefined): string | undefined {
  if (file.type !== undefined && given !== undefined && file.type !== given) {
    // every business type (aci, ecoo, aeo) starts with a vowel
    throw new GncError('GNC_UNKNOWN_TYPE', `--type ${given} contradicts the XML root, which is an ${file.type} document: leave --type out for an XML file.`);
  }
  return given ?? file.type;
}

/**
 * `gnc send` without --purpose, refused before the body is checked (which may take a round of fixes first): the
 * agreement in force with the partner allows the type only with a purpose it lists, and the submission would be
 * refused for the missing purpose after the body all the same. Without an agreement in force that allows the type,
 * the submission's own refusal (GNC_AGREEMENT_NONE, GNC_AGREEMENT_TYPE, GNC_PARTNER_UNKNOWN) says what is missing.
 */
function refuseWithoutPurpose(node: OfflineNode, to: string, type: string): void {
  const self = node.parts.identity.country;
  const known = node.agreements.inForce(to);
  const scope = known && scopeFor(known.document, self, to, type);
  if (!known || !scope) return;
  throw new GncError('GNC_AGREEMENT_PURPOSE', `gnc send needs --purpose: agreement ${agreementRef(known.document)} allows ${type} messages from ${self} to ${to} only for ${scope.purposes.join(', ')}; pass one of them, e.g. --purpose ${scope.purposes[0]}.`);
}

/** Most element paths a queued line lists; `--json` gives them all. */
const MAX_LISTED_ELEMENTS = 20;

/** `XML elements A, B` of the file, the first MAX_LISTED_ELEMENTS and how many more. */
function elementsIn(paths: readonly string[]): string {
  const more = paths.length - MAX_LISTED_ELEMENTS;
  return `XML element${paths.length > 1 ? 's' : ''} ${paths.slice(0, MAX_LISTED_ELEMENTS).join(', ')}${more > 0 ? ` and ${more} more (--json lists them all)` : ''}`;
}

export const sendCommand: Command = {
  spec,
  async run(argv, out) {
    const { values, positionals } = parse(spec, argv);
    const file = readBodyFile(positionals[0]!);
    const type = bodyFileType(file, values.type);
    if (type === undefined) throw new GncError('GNC_UNKNOWN_TYPE', 'A JSON body file does not say its type: pass --type aci|ecoo|aeo.');
    const given = values['idempotency-key'];
    const key = given === undefined ? undefined : checkedIdempotencyKey(given, '--idempotency-key');
    const node = openOffline(values.dir!);
    try {
      if (values.purpose === undefined) refuseWithoutPurpose(node, values.to!, type);
      // the operator's keys are the CLI's own: apart from every API token's
      const request = { to: values.to!, type, purpose: values.purpose, ref: values.ref, body: file.body };
      // a refusal of an XML file's body (an agreement's field refusal) also names the element, as the API's does
      const { result: r, replayed } = await node.submit.submit(request, key === undefined ? undefined : { tokenId: 'cli', key }).catch((err: unknown) => {
        throw file.xmlPathOf ? withXmlPaths(err, file.xmlPathOf, file.body) : err;
      });
      // an XML file's removed fields are named by their elements in it too, as the API's answer does
      const removedXml = file.xmlPathOf && removedXmlPaths(file.body, r.removed, file.xmlPathOf);
      if (values.json) out(JSON.stringify(removedXml ? { ...r, removedXmlPaths: removedXml, replayed } : { ...r, replayed }));
      else if (replayed) out(`Already queued: ${r.type} ${r.id} for ${r.to}, by an earlier run with idempotency key ${JSON.stringify(key)}; nothing new was queued (gnc messages shows its status).`);
      else out(`Queued ${r.type} ${r.id} for ${r.to} under agreement ${r.agreement}${r.removed.length ? `; removed out-of-scope fields: ${r.removed.join(', ')}${removedXml?.length ? ` (${elementsIn(removedXml)})` : ''}` : ''}`);
    } finally {
      await node.close();
    }
  },
};
