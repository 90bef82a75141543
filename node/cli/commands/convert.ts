/**
 * `gnc convert --to xml|json FILE`: turn a message body from JSON into its XML form (WCO DM declaration for
 * ACI) or back, validating on the way, so integrators can test their mapping without a node.
 */
import { GncError } from '../../../protocol/errors.js';
import { assertBusinessType, parseBody } from '../../../protocol/messages/registry.js';
import { bodyToXml, bodyTypeOf } from '../../../protocol/xml/index.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { checkOutFile, FORCE_OPTION, writeOutFile } from '../files.js';
import { bodyFileType, readBodyFile } from './send.js';

const spec = {
  name: 'convert',
  usage: 'gnc convert --to xml|json [--type aci|ecoo|aeo] FILE [--out FILE [--force]]',
  description: 'Convert a message body between JSON and XML offline, validating it against the schema.',
  options: { to: { type: 'string' }, type: { type: 'string' }, out: { type: 'string' }, ...FORCE_OPTION },
  required: ['to'],
  positionals: { min: 1, max: 1, names: 'FILE' },
} as const;

export const convertCommand: Command = {
  spec,
  async run(argv, out) {
    const { values, positionals } = parse(spec, argv);
    if (values.to !== 'xml' && values.to !== 'json') throw new GncError('GNC_CONFIG_INVALID', `--to must be xml or json, not "${values.to}".`);
    checkOutFile(values.out, values.force);
    const file = readBodyFile(positionals[0]!);
    const type = assertBusinessType(bodyFileType(file, values.type) ?? bodyTypeOf(file.body));
    const body = parseBody(type, file.body);
    const text = values.to === 'xml' ? bodyToXml(type, body as Record<string, unknown>) : JSON.stringify(body, null, 2) + '\n';
    if (values.out) writeOutFile(values.out, text, values.force);
    else out(text.trimEnd());
  },
};
