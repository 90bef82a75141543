/**
 * The CLI's draft helper. Root fingerprints cannot be written into a readable draft in advance (roots are
 * made when an administration runs `gnc init`), so draft files name them as "@root:KZ" and `gnc agreement
 * draft` replaces each with the fingerprint of that country's current root (this node's own, or a partner's:
 * the newest successor of the root pinned with `gnc partner add`, see roots.ts). Only
 * `parties[].rootFingerprint` is resolved: a placeholder anywhere else is ordinary text.
 */
import { GncError } from '../errors.js';

const PLACEHOLDER = /^@root:([A-Z]{2})$/;

/**
 * Returns a copy of `draft` with every `parties[i].rootFingerprint` of the form "@root:XX" replaced by
 * `fingerprints[XX]`. Throws GNC_AGREEMENT_INVALID when no fingerprint is known for XX. Input that is not
 * an object with a `parties` list is returned unchanged for draftAgreement to report.
 */
export function resolveDraftPlaceholders(draft: unknown, fingerprints: Readonly<Record<string, string>>): unknown {
  if (draft === null || typeof draft !== 'object' || Array.isArray(draft)) return draft;
  const parties = (draft as { parties?: unknown }).parties;
  if (!Array.isArray(parties)) return draft;
  const resolved = parties.map((party: unknown, i) => {
    if (party === null || typeof party !== 'object') return party;
    const fp = (party as { rootFingerprint?: unknown }).rootFingerprint;
    const m = typeof fp === 'string' ? PLACEHOLDER.exec(fp) : null;
    if (!m) return party;
    const country = m[1]!;
    const value = Object.hasOwn(fingerprints, country) ? fingerprints[country] : undefined;
    if (value === undefined) {
      throw new GncError(
        'GNC_AGREEMENT_INVALID',
        `Draft /parties/${i}/rootFingerprint is "${fp as string}", but no root is known for ${country}: pin the partner's root first (gnc partner add --fingerprint).`,
        { issues: [{ path: `/parties/${i}/rootFingerprint`, expected: `a pinned root for ${country}`, received: `string "${fp as string}"`, message: `/parties/${i}/rootFingerprint: no root is known for ${country}` }] },
      );
    }
    return { ...party, rootFingerprint: value };
  });
  return { ...draft, parties: resolved };
}
