/**
 * `gnc identity export` and `gnc partner add|list`: exchanging public identities between administrations.
 * Pinning requires the fingerprint obtained by another channel; a mismatch is refused (GNC_FINGERPRINT_MISMATCH).
 */
import { loadIdentity } from '../../../certs/identity.js';
import { exportIdentity, parseIdentityFile } from '../../../certs/public-identity.js';
import { ownCertificates } from '../../../certs/rotation.js';
import type { PublicIdentity } from '../../../protocol/identity.js';
import { addPartner } from '../../partners.js';
import { KeyNoticeRepo } from '../../store/key-notices.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { checkOutFile, FORCE_OPTION, openNodeStore, readInputFile, writeOutFile } from '../files.js';

/** This administration's identity file, with every node certificate a partner pinning from it needs. */
function exportOwnIdentity(dir: string): PublicIdentity {
  const id = loadIdentity(dir);
  const store = openNodeStore(dir);
  try {
    const notices = new KeyNoticeRepo(store.db);
    return exportIdentity(id, { held: ownCertificates(dir), revokedAt: (kid) => notices.revokedAt(kid, id.country) });
  } finally {
    store.close();
  }
}

const exportSpec = {
  name: 'identity export',
  usage: 'gnc identity export --dir DIR [--out FILE [--force]]',
  description: "Write this administration's public identity (root public JWK, fingerprint, node certificates, addresses) for partners.",
  options: { dir: { type: 'string' }, out: { type: 'string' }, ...FORCE_OPTION },
  required: ['dir'],
} as const;

export const identityExportCommand: Command = {
  spec: exportSpec,
  async run(argv, out) {
    const { values } = parse(exportSpec, argv);
    checkOutFile(values.out, values.force, values.dir);
    const doc = exportOwnIdentity(values.dir!);
    const text = JSON.stringify(doc, null, 2) + '\n';
    if (values.out) {
      writeOutFile(values.out, text, values.force);
      out(`Wrote ${doc.country} identity to ${values.out}; fingerprint ${doc.root.fingerprint}`);
    } else {
      process.stdout.write(text);
    }
  },
};

const addSpec = {
  name: 'partner add',
  usage: 'gnc partner add --dir DIR FILE --fingerprint FINGERPRINT',
  description: "Pin a partner administration's root key from its identity file, only if its fingerprint matches the one you received by another channel.",
  options: { dir: { type: 'string' }, fingerprint: { type: 'string' } },
  required: ['dir', 'fingerprint'],
  positionals: { min: 1, max: 1, names: 'FILE' },
} as const;

export const partnerAddCommand: Command = {
  spec: addSpec,
  async run(argv, out) {
    const { values, positionals } = parse(addSpec, argv);
    const store = openNodeStore(values.dir!);
    try {
      const self = loadIdentity(values.dir!);
      const p = addPartner(store, self.country, parseIdentityFile(readInputFile(positionals[0]!, { what: 'identity file' }), positionals[0]!), values.fingerprint!);
      out(`Pinned ${p.country} (${p.name}), root ${p.fingerprint}; ${p.certificates} certificate(s), addresses ${p.addresses.join(' ')}`);
    } finally {
      store.close();
    }
  },
};

const listSpec = {
  name: 'partner list',
  usage: 'gnc partner list --dir DIR',
  description: 'List pinned partner administrations.',
  options: { dir: { type: 'string' } },
  required: ['dir'],
} as const;

export const partnerListCommand: Command = {
  spec: listSpec,
  async run(argv, out) {
    const { values } = parse(listSpec, argv);
    const store = openNodeStore(values.dir!);
    try {
      const rows = store.partners.list();
      if (rows.length === 0) out('No partners yet: gnc partner add --dir DIR FILE --fingerprint F');
      for (const p of rows) out(`${p.country}  ${p.name}  root ${p.fingerprint}  ${(JSON.parse(p.addresses) as string[]).join(' ')}`);
    } finally {
      store.close();
    }
  },
};
