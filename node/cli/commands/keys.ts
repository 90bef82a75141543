/**
 * `gnc keys rotate|revoke|status` (issue 6): rotate the node key (or, with --root, name a successor root),
 * revoke a key from a point in time, and show which key signs. Rotation and revocation are announced to
 * every partner over the wire; a running node picks them up without a restart.
 */
import { dirOption, GncError } from '../../../protocol/errors.js';
import { DEFAULT_OVERLAP_HOURS, keyStatus, restoredSuccessionAdvice, revokeNodeKey, rotateNodeKeys, rotateRootKey, unusedKeyFileAdvice } from '../../keys/service.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';

const rotateSpec = {
  name: 'keys rotate',
  usage: 'gnc keys rotate --dir DIR [--overlap-hours N] [--announce MULTIADDR]... [--json] | gnc keys rotate --dir DIR --root [--json]',
  description: `Make a new node key and certificate and announce it to partners (old key retired after the overlap, default ${DEFAULT_OVERLAP_HOURS} h); --announce gives the addresses partners dial from then on (a node that moves); --root names a successor root signed by the current one.`,
  options: { dir: { type: 'string' }, 'overlap-hours': { type: 'string' }, announce: { type: 'string', multiple: true }, root: { type: 'boolean' }, json: { type: 'boolean' } },
  required: ['dir'],
} as const;

export const keysRotateCommand: Command = {
  spec: rotateSpec,
  async run(argv, out) {
    const { values } = parse(rotateSpec, argv);
    if (values.root && values.announce) throw new GncError('GNC_CONFIG_INVALID', '--announce goes with a node key rotation: rotate the root first, then the node key with --announce.');
    // a root succession takes effect at once and has no overlap: the option would be ignored, not applied
    if (values.root && values['overlap-hours'] !== undefined) throw new GncError('GNC_CONFIG_INVALID', `--overlap-hours goes with a node key rotation (a root succession has no overlap): run \`gnc keys rotate ${dirOption(values.dir)} --root\` without it, then the node key rotation with it.`);
    if (values.root) {
      const r = await rotateRootKey(values.dir!);
      if (values.json) return out(JSON.stringify(r));
      if (r.resumed) out(`Completed the interrupted root rotation to ${r.current} (was ${r.previous}); each step was done once.`);
      for (const x of r.restoredSuccessions) out(`WARNING: ${restoredSuccessionAdvice(x)}`);
      if (r.reusedKey) out(`Used the new root key ${r.current} that an interrupted root rotation had written before the certificate named it; no other root key was made.`);
      out(`New root ${r.current} succeeds ${r.previous} from ${r.effective}; node key re-certified by it; announced to ${r.sentTo.join(', ') || 'no partner'}.`);
      out('Give partners the new fingerprint by another channel so they can check it; keep both root keys offline.');
      return;
    }
    const hours = values['overlap-hours'] === undefined ? undefined : Number(values['overlap-hours']);
    if (hours !== undefined && (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 90)) throw new GncError('GNC_CONFIG_INVALID', `--overlap-hours must be a number of hours above 0 and at most 2160, got "${values['overlap-hours']}".`);
    // an interrupted rotation is completed, not begun again: explicit options that differ from it are refused
    const r = await rotateNodeKeys(values.dir!, { ...(hours !== undefined ? { overlapHours: hours } : {}), ...(values.announce ? { announce: values.announce } : {}) });
    if (values.json) return out(JSON.stringify(r));
    if (r.resumed) out(`Completed the interrupted rotation to node key ${r.current} (was ${r.previous}); each step was done once.`);
    if (r.reusedKey) out(`Used the new key ${r.current} that an interrupted rotation had written before it recorded itself; no other key was made.`);
    out(`New node key ${r.current} (was ${r.previous}); announced to ${Object.keys(r.announcements).join(', ') || 'no partner'}.`);
    out(`The node signs with the old key until every partner has received the announcement, at the latest until ${r.overlapUntil}, when the old key is retired.`);
  },
};

const revokeSpec = {
  name: 'keys revoke',
  usage: 'gnc keys revoke --dir DIR --kid KID --reason TEXT [--at RFC3339] [--json]',
  description: 'Publish a root-signed revocation of a node key to every partner: signatures made at or after --at (default now) are refused; earlier ones stay valid evidence.',
  options: { dir: { type: 'string' }, kid: { type: 'string' }, reason: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' } },
  required: ['dir', 'kid', 'reason'],
} as const;

export const keysRevokeCommand: Command = {
  spec: revokeSpec,
  async run(argv, out) {
    const { values } = parse(revokeSpec, argv);
    const r = await revokeNodeKey(values.dir!, values.kid!, values.reason!, values.at ? { at: values.at } : {});
    if (values.json) return out(JSON.stringify({ kid: r.kid, revokedAt: r.revokedAt, sentTo: r.sentTo }));
    out(`Revoked node key ${r.kid} from ${r.revokedAt}; sent to ${r.sentTo.join(', ') || 'no partner'}.`);
  },
};

const statusSpec = {
  name: 'keys status',
  usage: 'gnc keys status --dir DIR [--json]',
  description: 'Show the node keys of this administration, which one signs now, and a rotation in progress.',
  options: { dir: { type: 'string' }, json: { type: 'boolean' } },
  required: ['dir'],
} as const;

/**
 * A key outside its certificate's validity by this machine's clock signs nothing partners accept: one not started yet
 * (a rotation run with a clock ahead, or this clock behind) signs only from its start, an expired one never again.
 */
function validityMark(k: { notBefore: string; notAfter: string }, now: number): string {
  if (Date.parse(k.notAfter) <= now) return '  EXPIRED';
  if (Date.parse(k.notBefore) > now) return `  NOT STARTED: signs nothing until ${k.notBefore}`;
  return '';
}

/**
 * A revocation counts from its time: one still ahead (a rotation's retirement of the old key at the end of the overlap,
 * or `gnc keys revoke --at` later) leaves the key signing until then, which "REVOKED" would deny.
 */
function revocationMark(revokedAt: string | undefined, now: number): string {
  if (revokedAt === undefined) return '';
  return Date.parse(revokedAt) <= now ? `  REVOKED from ${revokedAt}` : `  RETIRES at ${revokedAt}: what it signs from then on is refused`;
}

export const keysStatusCommand: Command = {
  spec: statusSpec,
  async run(argv, out) {
    const { values } = parse(statusSpec, argv);
    const s = await keyStatus(values.dir!);
    if (values.json) return out(JSON.stringify(s));
    const now = Date.now();
    const expired = Date.parse(s.expiresAt) <= now;
    // what signs now and what is pending, from the one keyring state: an incomplete rotation (ROTATION INCOMPLETE below)
    // has not been announced, so its new key signs only from the end of the overlap, unless it signs already
    const incomplete = s.incomplete && s.incomplete.to !== s.active ? ` (rotation to ${s.incomplete.to} INCOMPLETE, see below: it signs from ${s.incomplete.overlapUntil} whether partners know it or not)` : '';
    const waiting = s.pending && !s.incomplete ? ` (rotation to ${s.pending.to} waiting for partners until ${s.pending.overlapUntil})` : incomplete;
    out(`${s.country}: signing with ${s.active}${waiting}${expired ? `, which EXPIRED at ${s.expiresAt}: nothing can be signed until you rotate (gnc keys rotate ${dirOption(values.dir)})` : ''}`);
    // a root rotation first: a node key rotation is completed only after it
    if (s.incompleteRoot) out(`  ROOT ROTATION INCOMPLETE: ${s.incompleteRoot.advice}`);
    if (s.incomplete) out(`  ROTATION INCOMPLETE: ${s.incomplete.advice}`);
    for (const r of s.restoredSuccessions) out(`  SUCCESSION RESTORED: ${r.advice}`);
    for (const r of s.restoredRevocations) out(`  REVOCATION RESTORED: ${r.advice}`);
    for (const f of s.unusedKeyFiles) out(`  UNUSED KEY FILE: ${unusedKeyFileAdvice(f, values.dir!)}`);
    for (const k of s.keys) out(`  ${k.kid}  issuer ${k.issuer}  valid ${k.notBefore} to ${k.notAfter}${validityMark(k, now)}${revocationMark(k.revokedAt, now)}`);
  },
};
