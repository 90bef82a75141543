/** `gnc start`: run the node until SIGINT/SIGTERM, then stop cleanly (outbox and store stay consistent). */
import { unusedKeyFiles } from '../../../certs/rotation.js';
import { parseWith } from '../../../protocol/validate.js';
import { openNode } from '../../compose.js';
import { rootRotationAdvice, rootRotationProgress, rotationAdvice, rotationProgress, unusedKeyFileAdvice } from '../../keys/service.js';
import { PortOption } from '../../config.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';

const spec = {
  name: 'start',
  usage: 'gnc start --dir DIR [--api-port N]',
  description: 'Start the node: libp2p exchange with partners, dispatcher, local HTTP API.',
  options: { dir: { type: 'string' }, 'api-port': { type: 'string' } },
  required: ['dir'],
} as const;

export const startCommand: Command = {
  spec,
  async run(argv, out) {
    const { values } = parse(spec, argv);
    const apiPort = values['api-port'] === undefined ? undefined : parseWith(PortOption, values['api-port'], '--api-port', '', 'GNC_CONFIG_INVALID');
    // every warning is told to the operator on stderr, in a plain line after its JSON log line (where errors go too;
    // stdout has the one line saying the node runs): a revocation stored again at start (compose.ts), and those below
    const warn = (line: string): void => void process.stderr.write(line + '\n');
    const node = openNode(values.dir!, { ...(apiPort !== undefined ? { apiPort } : {}), warn });
    await node.start();
    out(`GNC node ${node.country} running: API ${node.apiUrl}/v1, libp2p ${node.host!.getMultiaddrs().map(String).join(' ')}`);
    const warning = (text: string): void => {
      node.parts.log(`WARNING: ${text}`);
      warn(`WARNING: ${text}`);
    };
    // the node cannot complete an interrupted rotation itself (the retirement needs the root key, kept offline)
    // a root rotation first: a node key rotation is completed only after it (rotateNodeKeys)
    const root = rootRotationProgress(node.parts);
    if (root) warning(rootRotationAdvice(root, values.dir!));
    const rotation = rotationProgress(node.parts);
    // with the key that signs, as `gnc keys status` gives it: a revocation restored at start switches to the new key now
    const signing = node.ext.signing?.().kid;
    if (rotation) warning(rotationAdvice(rotation, values.dir!, node.parts.clock(), { rootFirst: root !== undefined, ...(signing !== undefined ? { signing } : {}) }));
    // nor does it use or delete a key file no certificate names (the command that made it does)
    for (const f of unusedKeyFiles(values.dir!)) warning(`unused key file ${unusedKeyFileAdvice(f, values.dir!)}`);
    const halted = await Promise.race([
      new Promise<undefined>((resolve) => {
        const stop = (): void => resolve(undefined);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }),
      node.halted,
    ]);
    out('stopping...');
    await node.stop();
    // another node took this data dir over: exit with its code, so a service manager sees the failure
    if (halted) throw halted;
  },
};
