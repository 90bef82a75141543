/**
 * `gnc identity export` and `gnc partner add|list|remove`: exchanging public identities between administrations.
 * Pinning requires the fingerprint obtained by another channel; a mismatch is refused (GNC_FINGERPRINT_MISMATCH).
 * Removing ends a partnership and keeps its evidence.
 */
import { loadIdentity } from '../../../certs/identity.js';
import { exportIdentity, parseIdentityFile } from '../../../certs/public-identity.js';
import { ownCertificates } from '../../../certs/rotation.js';
import { PartnerRemoveRequest } from '../../../protocol/api/schemas.js';
import { dirOption, GncError, isGncError } from '../../../protocol/errors.js';
import type { PublicIdentity } from '../../../protocol/identity.js';
import { sha256Ascii } from '../../../protocol/envelope/seal.js';
import { jwkThumbprint } from '../../../protocol/jwk.js';
import { openOffline, type OfflineNode } from '../../compose.js';
import { queueWithdrawnAgreementsAgain, type QueuedAgain } from '../../agreements/requeue.js';
import { queueKeyState, type KeyStateQueued } from '../../keys/service.js';
import { addPartner, removePartner } from '../../partners.js';
import { KeyNoticeRepo } from '../../store/key-notices.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { checkOutFile, FORCE_OPTION, openNodeStore, readInputFile, writeOutFile } from '../files.js';

/**
 * This administration's identity file, with every node certificate a partner pinning from it needs, and the key
 * notices relevant to them unless `withNotices` is false (for a partner whose version predates them, which refuses a
 * file that carries any: it gets them over the wire once this node pins it, as queueKeyState queues them).
 */
function exportOwnIdentity(dir: string, withNotices: boolean): PublicIdentity {
  const id = loadIdentity(dir);
  const store = openNodeStore(dir);
  try {
    const notices = new KeyNoticeRepo(store.db);
    return exportIdentity(id, {
      held: ownCertificates(dir), revokedAt: (kid) => notices.revokedAt(kid, id.country),
      notices: withNotices ? notices.list(undefined, [id.country]).map((n) => n.compact) : [],
    });
  } finally {
    store.close();
  }
}

const exportSpec = {
  name: 'identity export',
  usage: 'gnc identity export --dir DIR [--out FILE [--force]] [--without-notices]',
  description: "Write this administration's public identity (root public JWK, fingerprint, node certificates, addresses, and the root-signed key notices relevant to them) for partners. --without-notices leaves the notices out, for a partner running a version from before 2026-11-24, which refuses a file that carries them; it gets them over the wire once you pin it.",
  options: { dir: { type: 'string' }, out: { type: 'string' }, 'without-notices': { type: 'boolean' }, ...FORCE_OPTION },
  required: ['dir'],
} as const;

export const identityExportCommand: Command = {
  spec: exportSpec,
  async run(argv, out) {
    const { values } = parse(exportSpec, argv);
    checkOutFile(values.out, values.force, values.dir);
    const doc = exportOwnIdentity(values.dir!, values['without-notices'] !== true);
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
  usage: 'gnc partner add --dir DIR FILE --fingerprint FINGERPRINT [--replace-root]',
  description: "Pin a partner administration's root key from its identity file, only if its fingerprint matches the one you received by another channel. The key notices the file carries are verified and kept; this node's own key state (certificates, pending revocations, root successions) is queued to the partner, and for a partner removed before, the agreement messages its removal withdrew that still apply (a termination, a suspension, a proposal awaiting its signature), all in the commit that pins it: when one cannot be queued nothing is pinned, and the command is to be run again. --replace-root: the partner lost its root and made a new one; pin that new root in place of the old, for a partner removed first (gnc partner remove). The old root and what it certified are kept as evidence and trusted for nothing new.",
  options: { dir: { type: 'string' }, fingerprint: { type: 'string' }, 'replace-root': { type: 'boolean' } },
  required: ['dir', 'fingerprint'],
  positionals: { min: 1, max: 1, names: 'FILE' },
} as const;

export const partnerAddCommand: Command = {
  spec: addSpec,
  async run(argv, out) {
    const { values, positionals } = parse(addSpec, argv);
    const dir = values.dir!;
    const n = openOffline(dir, { log: () => undefined });
    try {
      const { store, identity, trust } = n.parts;
      const file = parseIdentityFile(readInputFile(positionals[0]!, { what: 'identity file' }), positionals[0]!);
      // what tells the partner is signed now: when nothing can be (this node's key has expired), it is pinned alone
      const unsigned = cannotSign(n);
      let country = 'The partner';
      // the pin and what tells the partner commit together: a pin kept without them (a crash, a failed queueing in
      // between) would leave the partner unaware of this node's keys and of the notices its removal withdrew, and
      // nothing would detect it
      const r = await n.submit.commitQueuing((queue, queueAgain) => {
        // the file's certificates and notices are stored as if they had come over the wire, each new one with its `key`
        // evidence entry in the pinning transaction: the log shows from when this node trusted each key it pinned
        const p = addPartner(store, identity.country, file, values.fingerprint!, n.parts.clock(), (compact, notice) => {
          n.evidence.append('key', `key:${notice.kind === 'revocation' ? notice.kid : jwkThumbprint(notice.newRoot)}`, notice.country, sha256Ascii(compact));
        }, (compact, payload) => n.evidence.append('key', `key:${payload.sub}`, payload.country, sha256Ascii(compact)), {
          replaceRoot: values['replace-root'] === true,
          // SPEC 9.2: the new root's entry, its sha256 the root's RFC 7638 thumbprint as hex (the SHA-256 of its canonical JWK)
          onReplacedRoot: (_old, by, country) => void n.evidence.append('key', `key:${by}`, country, Buffer.from(by, 'base64url').toString('hex')),
          dir,
        });
        country = p.country;
        // a partner now, for the envelopes queued to it below (read back from the store if the unit rolls back)
        trust.reload();
        if (unsigned !== undefined) return { p };
        const keys = queueKeyState(n, p.country, queue);
        const again = queueWithdrawnAgreementsAgain({ store, registry: n.agreements, clock: n.parts.clock }, p.country, queueAgain);
        return { p, keys, again };
      }, (cause) => `${country} was not pinned: its pin and what tells it of this node (this node's key state, the agreement messages its removal withdrew) could not be stored and queued together (${cause}), and the pin is kept only with them. Nothing was stored; run the command again, and if it fails again check the node's log and its data dir and report it.`)
        .catch((err: unknown) => {
          trust.reload();
          n.agreements.reload();
          throw err;
        });
      const { p } = r;
      const notices = p.notices > 0 ? `, ${p.notices} key notice(s)` : '';
      const replaced = p.replacedRoot === null ? '' : ` in place of root ${p.replacedRoot} (replaced: kept as evidence, trusted for nothing new; negotiate a new agreement)`;
      out(`Pinned ${p.country} (${p.name})${p.wasRemoved === null ? '' : `, a partner again (removed at ${p.wasRemoved})`}, root ${p.fingerprint}${replaced}; ${p.certificates} certificate(s)${notices}, addresses ${p.addresses.join(' ')}`);
      if (unsigned !== undefined) {
        out(`${p.country} is pinned, but nothing was queued to it, as this node cannot sign now (${unsigned.code}: ${unsigned.message}) Once it can, run this command again: it queues this node's key state and the agreement messages a removal withdrew. If ${p.country} pinned an identity file older than your last key rotation, give it a current one (\`gnc identity export\`).`);
      }
      if (r.keys !== undefined) tellKeyState(r.keys, p.country, out);
      if (r.again !== undefined) tellWithdrawnAgain(r.again, p.country, out);
    } finally {
      await n.close();
    }
  },
};

/** The error that keeps this node from signing now (its key has expired, or not started), if one does. */
function cannotSign(n: OfflineNode): GncError | undefined {
  try {
    n.parts.signer();
    return undefined;
  } catch (err) {
    if (isGncError(err)) return err;
    throw err;
  }
}

/** Say what of this node's key state was queued to the partner just pinned (queueKeyState). */
function tellKeyState(q: KeyStateQueued, partner: string, out: (line: string) => void): void {
  if (q.queued.length === 0) return;
  const parts = [
    q.successions > 0 ? `${q.successions} root succession(s)` : '',
    q.announced.length > 0 ? `the certificate(s) of node key(s) ${q.announced.join(', ')}` : '',
    q.revoked.length > 0 ? `the revocation(s) of node key(s) ${q.revoked.join(', ')}` : '',
  ].filter((x) => x !== '');
  out(`Queued to ${partner}: ${parts.join(', then ')}, so that it knows this node's keys whichever identity file it pinned; they leave when the node runs.`);
}

/**
 * Say which agreement envelopes a removal withdrew were queued to the partner again (node/agreements/requeue.ts), and
 * which were not, with why.
 */
function tellWithdrawnAgain(r: QueuedAgain, partner: string, out: (line: string) => void): void {
  if (r.queued.length > 0) out(`Queued to ${partner} again, as its removal withdrew them: ${r.queued.map((q) => `${q.withdrawn} as ${q.id}`).join(', ')} (agreement messages that still apply); they leave when the node runs.`);
  for (const l of r.left) out(`Not queued again: ${l.withdrawn}, withdrawn at the removal, since ${l.why}.`);
}

const listSpec = {
  name: 'partner list',
  usage: 'gnc partner list --dir DIR [--pinned]',
  description: 'List partner administrations: pinned ones, and removed ones marked REMOVED with the time and reason (--pinned: only the pinned ones); under each, the roots it replaced as lost (REPLACED ROOT).',
  options: { dir: { type: 'string' }, pinned: { type: 'boolean' } },
  required: ['dir'],
} as const;

export const partnerListCommand: Command = {
  spec: listSpec,
  async run(argv, out) {
    const { values } = parse(listSpec, argv);
    const store = openNodeStore(values.dir!);
    try {
      const rows = values.pinned ? store.partners.pinned() : store.partners.list();
      if (rows.length === 0) out(`No partners yet: gnc partner add ${dirOption(values.dir)} FILE --fingerprint FINGERPRINT`);
      for (const p of rows) {
        const removed = p.removed_at === null ? '' : `  REMOVED ${p.removed_at}${p.removal_reason ? ` (${p.removal_reason})` : ''}`;
        out(`${p.country}  ${p.name}  root ${p.fingerprint}  ${(JSON.parse(p.addresses) as string[]).join(' ')}${removed}`);
        // a root replaced as lost (--replace-root) is kept as evidence and trusts nothing: said, so that no one takes
        // its certificates, still in the store, for ones in force
        for (const r of store.partners.replacedRoots(p.country)) out(`    REPLACED ROOT ${r.fingerprint}  at ${r.replaced_at} by ${r.replaced_by}: evidence only, trusted for nothing`);
      }
    } finally {
      store.close();
    }
  },
};

const removeSpec = {
  name: 'partner remove',
  usage: 'gnc partner remove --dir DIR COUNTRY --reason TEXT [--despite-agreement]',
  description: 'End a partnership: the partner is trusted no more (its connections close, its envelopes are refused) and what is still queued for it is withdrawn; its root, certificates and messages stay as evidence. Refused while an agreement with it is active, suspended or not yet valid, or an agreement notice to it is undelivered, unless --despite-agreement. Works while the node runs; `gnc partner add` pins it again.',
  options: { dir: { type: 'string' }, reason: { type: 'string' }, 'despite-agreement': { type: 'boolean' } },
  required: ['dir', 'reason'],
  positionals: { min: 1, max: 1, names: 'COUNTRY' },
} as const;

export const partnerRemoveCommand: Command = {
  spec: removeSpec,
  async run(argv, out) {
    const { values, positionals } = parse(removeSpec, argv);
    const reason = PartnerRemoveRequest.shape.reason.safeParse(values.reason!.trim());
    if (!reason.success) throw new GncError('GNC_CONFIG_INVALID', 'Option --reason: expected why the partnership ends, 1-500 characters, not only spaces.');
    const n = openOffline(values.dir!);
    try {
      const r = await removePartner(n.parts.store, n.agreements, positionals[0]!, { reason: reason.data, despiteAgreement: values['despite-agreement'] === true, dir: values.dir! }, n.parts.clock());
      out(`Removed ${r.country} (${r.name}) at ${r.removedAt}: trusted no more; ${r.withdrawn.length} queued message(s) withdrawn. Its root, certificates and messages stay as evidence; \`gnc partner add ${dirOption(values.dir)} FILE --fingerprint FINGERPRINT\` pins it again.`);
      if (r.agreements.length > 0) out(`Not told to ${r.country}, and left as they are here: ${r.agreements.join(', ')}.`);
    } finally {
      await n.close();
    }
  },
};
