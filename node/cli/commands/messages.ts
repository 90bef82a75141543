/** `gnc messages`: list messages in the local store, newest first, as a table or JSON lines. */
import { ListMessagesQuery } from '../../../protocol/api/schemas.js';
import { parseWith } from '../../../protocol/validate.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { openNodeStore } from '../files.js';

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
    // the API's query schema: the same filters, refused the same way (an unknown status is an error, not an empty list)
    const { dir, json, ...filters } = values;
    const q = parseWith(ListMessagesQuery, Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)), 'Options', '');
    const store = openNodeStore(dir!);
    try {
      const rows = store.messages.list({ direction: q.direction, partner: q.partner, type: q.type, status: q.status, limit: q.limit });
      for (const r of rows) {
        const receipt = store.messages.receipt(r.seq);
        if (json) {
          out(JSON.stringify({ id: r.id, direction: r.direction, partner: r.partner, type: r.type, kind: r.kind, status: r.status, created: r.created, receipt: receipt?.status ?? null, code: r.error_code, resealedAs: r.resealed_as }));
        } else {
          const arrow = r.direction === 'out' ? `-> ${r.partner}` : `<- ${r.partner}`;
          out(`${r.created}  ${arrow}  ${r.type.padEnd(4)} ${(r.kind ?? '').padEnd(12)} ${r.status.padEnd(9)} ${r.id}${r.error_code ? `  ${r.error_code}` : ''}${r.resealed_as ? `  now ${r.resealed_as}` : ''}`);
        }
      }
      if (rows.length === 0 && !json) out('No messages.');
    } finally {
      store.close();
    }
  },
};
