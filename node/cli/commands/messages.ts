/** `gnc messages`: list messages in the local store, newest first, as a table or JSON lines. */
import { Store } from '../../store/store.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';

const spec = {
  name: 'messages',
  usage: 'gnc messages --dir DIR [--direction in|out] [--partner XX] [--type T] [--status S] [--limit N] [--json]',
  description: 'List sent and received messages with their delivery status and receipt.',
  options: {
    dir: { type: 'string' }, direction: { type: 'string' }, partner: { type: 'string' }, type: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' },
  },
  required: ['dir'],
} as const;

export const messagesCommand: Command = {
  spec,
  async run(argv, out) {
    const { values } = parse(spec, argv);
    const store = Store.open(values.dir!);
    try {
      const rows = store.messages.list({
        direction: values.direction === 'in' || values.direction === 'out' ? values.direction : undefined,
        partner: values.partner, type: values.type, status: values.status, limit: Number(values.limit ?? 50),
      });
      for (const r of rows) {
        const receipt = store.messages.receipt(r.seq);
        if (values.json) {
          out(JSON.stringify({ id: r.id, direction: r.direction, partner: r.partner, type: r.type, kind: r.kind, status: r.status, created: r.created, receipt: receipt?.status ?? null, code: r.error_code }));
        } else {
          const arrow = r.direction === 'out' ? `-> ${r.partner}` : `<- ${r.partner}`;
          out(`${r.created}  ${arrow}  ${r.type.padEnd(4)} ${(r.kind ?? '').padEnd(12)} ${r.status.padEnd(9)} ${r.id}${r.error_code ? `  ${r.error_code}` : ''}`);
        }
      }
      if (rows.length === 0 && !values.json) out('No messages.');
    } finally {
      store.close();
    }
  },
};
