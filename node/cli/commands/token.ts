/** `gnc token create|list|revoke`: API bearer tokens with scopes; the secret is printed once, stored hashed. */
import { GncError } from '../../../protocol/errors.js';
import { SCOPES, type Scope } from '../../store/tokens.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { openNodeStore } from '../files.js';

const createSpec = {
  name: 'token create',
  usage: 'gnc token create --dir DIR --name NAME --scopes submit,read[,admin] [--json]',
  description: 'Create a bearer token for the local API. The token is printed once; only its hash is stored.',
  options: { dir: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'string' }, json: { type: 'boolean' } },
  required: ['dir', 'name', 'scopes'],
} as const;

export const tokenCreateCommand: Command = {
  spec: createSpec,
  async run(argv, out) {
    const { values } = parse(createSpec, argv);
    // names are labels (a replacement token may share its predecessor's name until that one is revoked by id)
    if (values.name!.trim() === '') throw new GncError('GNC_CONFIG_INVALID', '--name must say who the token is for, e.g. --name single-window.');
    const entries = values.scopes!.split(',').map((s) => s.trim());
    // `read,,admin` or `read,` is a typo (a scope left out?), not a list of two: say where, as for an unknown scope
    const empty = entries.indexOf('');
    if (empty >= 0 && entries.some((s) => s !== '')) {
      throw new GncError('GNC_CONFIG_INVALID', `--scopes "${values.scopes}" has an empty entry (entry ${empty + 1} of ${entries.length}, between two commas or at an end): remove the extra comma or name the scope, from ${SCOPES.join(', ')}.`);
    }
    const scopes = [...new Set(entries.filter(Boolean))];
    const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0 || bad.length) throw new GncError('GNC_CONFIG_INVALID', `Unknown scope(s) ${bad.join(', ') || '(none given)'}: use a comma-separated list of ${SCOPES.join(', ')}.`);
    const store = openNodeStore(values.dir!);
    try {
      const { token, info } = store.tokens.create(values.name!, scopes as Scope[]);
      if (values.json) out(JSON.stringify({ token, ...info }));
      else {
        out(`Token "${info.name}" (${info.scopes.join(', ')}), id ${info.id}. Shown once, store it safely:`);
        out(token);
      }
    } finally {
      store.close();
    }
  },
};

const listSpec = { name: 'token list', usage: 'gnc token list --dir DIR', description: 'List API tokens (never their secrets).', options: { dir: { type: 'string' } }, required: ['dir'] } as const;

export const tokenListCommand: Command = {
  spec: listSpec,
  async run(argv, out) {
    const { values } = parse(listSpec, argv);
    const store = openNodeStore(values.dir!);
    try {
      for (const t of store.tokens.list()) out(`${t.id}  ${t.name}  ${t.scopes.join(',')}  created ${t.created_at}${t.revoked_at ? `  REVOKED ${t.revoked_at}` : ''}`);
    } finally {
      store.close();
    }
  },
};

const revokeSpec = { name: 'token revoke', usage: 'gnc token revoke --dir DIR ID', description: 'Revoke an API token by id.', options: { dir: { type: 'string' } }, required: ['dir'], positionals: { min: 1, max: 1, names: 'ID' } } as const;

export const tokenRevokeCommand: Command = {
  spec: revokeSpec,
  async run(argv, out) {
    const { values, positionals } = parse(revokeSpec, argv);
    const store = openNodeStore(values.dir!);
    try {
      if (!store.tokens.revoke(positionals[0]!)) throw new GncError('GNC_NOT_FOUND', `No active token with id ${positionals[0]}: see \`gnc token list\`.`);
      out(`Revoked token ${positionals[0]}`);
    } finally {
      store.close();
    }
  },
};
