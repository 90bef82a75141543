/**
 * `gnc messages`: list messages in the local store, newest first, as a table or JSON lines; `gnc messages withdraw`:
 * take back one the partner does not have yet, as `POST /v1/messages/{id}/withdraw` does.
 */
import { ListMessagesQuery, WithdrawRequest } from '../../../protocol/api/schemas.js';
import { MessageId } from '../../../protocol/envelope/payload.js';
import { withdrawMessage } from '../../outbound/withdraw.js';
import { summaryOf } from '../../api/views.js';
import { parseWith } from '../../../protocol/validate.js';
import { parse, parseOptions } from '../args.js';
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
    const q = parseOptions(ListMessagesQuery, filters);
    const store = openNodeStore(dir!);
    try {
      const rows = store.messages.list({ direction: q.direction, partner: q.partner, type: q.type, status: q.status, limit: q.limit });
      const now = Date.now();
      for (const r of rows) {
        // as the API's list says it (node/api/views.ts): past its retention end, purged, whether or not the running
        // node's sweep removed it yet; a received business message with the terms it was accepted under
        const s = summaryOf(r, store.messages.receipt(r.seq), now, store.terms);
        const purged = s.purged?.at ?? null;
        if (json) {
          out(JSON.stringify({ id: s.id, direction: s.direction, partner: s.partner, type: s.type, kind: s.kind, status: s.status, created: s.created, receipt: s.receiptStatus, code: r.error_code, resealedAs: s.resealedAs, withdrawn: s.withdrawn, purged: s.purged, terms: s.terms }));
        } else {
          const arrow = r.direction === 'out' ? `-> ${r.partner}` : `<- ${r.partner}`;
          out(`${r.created}  ${arrow}  ${r.type.padEnd(4)} ${(r.kind ?? '').padEnd(12)} ${r.status.padEnd(9)} ${r.id}${r.error_code ? `  ${r.error_code}` : ''}${r.resealed_as ? `  now ${r.resealed_as}` : ''}${r.withdrawn_at === null ? '' : `  withdrawn ${new Date(r.withdrawn_at).toISOString()}: ${r.withdrawal_reason ?? ''}`}${purged === null ? '' : `  purged ${purged}`}`);
        }
      }
      if (rows.length === 0 && !json) out('No messages.');
    } finally {
      store.close();
    }
  },
};

const withdrawSpec = {
  name: 'messages withdraw',
  usage: 'gnc messages withdraw --dir DIR ID --reason TEXT',
  description: 'Withdraw a message queued for a partner that does not have it yet (queued or retrying, never handed over): it ends withdrawn and is not sent. Works while the node runs.',
  options: { dir: { type: 'string' }, reason: { type: 'string' } },
  required: ['dir', 'reason'],
  positionals: { min: 1, max: 1, names: 'ID' },
} as const;

export const messagesWithdrawCommand: Command = {
  spec: withdrawSpec,
  async run(argv, out) {
    const { values, positionals } = parse(withdrawSpec, argv);
    // the API's checks: a message id, and a reason of 1-500 characters
    const id = parseWith(MessageId, positionals[0]!, 'Message id', '/ID', 'GNC_CONFIG_INVALID');
    const { reason } = parseWith(WithdrawRequest, { reason: values.reason }, 'Option', '-', 'GNC_CONFIG_INVALID');
    const store = openNodeStore(values.dir!);
    try {
      const { message, already } = await store.commits.run(() => withdrawMessage(store, id, reason, Date.now()));
      const at = new Date(message.withdrawn_at!).toISOString();
      out(already
        ? `${id} to ${message.partner} was withdrawn already, at ${at} (${message.withdrawal_reason ?? ''}); nothing changed.`
        : `Withdrew ${id} to ${message.partner} at ${at}: it will not be sent.`);
    } finally {
      store.close();
    }
  },
};
