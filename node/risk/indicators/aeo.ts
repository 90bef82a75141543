/**
 * AEO cross-check (WCO SAFE Framework, mutual recognition): the consignor and the exporter named with an AEO
 * id are looked up in the registry of the administration that granted the status (the country prefix of
 * the AEO id, normally the sending partner), on the calendar date of the expected arrival (at the border, when the
 * rules file gives its time zone: declaration.ts arrivalDate). A valid AEO is a
 * facilitation indicator; a suspended, revoked, expired or unlisted one a risk indicator; an id that cannot be
 * checked because that administration never sent AEO data is only information. The status belongs to the
 * trader the register lists under the id: a party whose trader id is not that trader's national trader id
 * (with or without the country prefix) quotes someone else's AEO id, and is not listed as an AEO.
 */
import type { BuiltinIndicator, Evidence } from '../../../protocol/risk.js';
import type { Validity } from '../aeo-registry.js';
import { arrivalDate } from '../declaration.js';
import { aciEvidence, type AssessContext, type IndicatorSet } from './context.js';

function codeOf(v: Validity): BuiltinIndicator {
  switch (v.status) {
    case 'valid':
      return 'aeo-valid';
    case 'suspended':
      return 'aeo-suspended';
    case 'revoked':
      return 'aeo-revoked';
    case 'expired':
    case 'not-yet-valid':
      return 'aeo-expired';
    default:
      return 'aeo-not-listed';
  }
}

const SAYS: Record<Validity['status'], string> = {
  valid: 'is a valid AEO',
  suspended: 'is an AEO whose status was suspended',
  revoked: 'is an AEO whose status was revoked',
  expired: 'holds an AEO authorisation that had expired',
  'not-yet-valid': 'holds an AEO authorisation not yet valid',
  removed: 'is no longer listed as an AEO',
  unknown: 'is not listed as an AEO',
};

/** Same trader id, written with or without the granting country's prefix (`KZ981140001234` is `981140001234` of KZ). */
function sameTrader(declared: string, listed: string, country: string): boolean {
  const n = (v: string): string => v.toUpperCase().replace(/[^\p{L}\p{N}]+/gu, '');
  const [a, b] = [n(declared), n(listed)];
  return a === b || a === country + b || country + a === b;
}

export function aeoIndicators(ctx: AssessContext, out: IndicatorSet): void {
  const d = ctx.body;
  const claims = new Map<string, { roles: ('consignor' | 'exporter')[]; evidence: Evidence[] }>();
  for (const [role, party] of [['consignor', d.consignor], ['exporter', d.exporter]] as const) {
    if (!party?.aeoId) continue;
    const c = claims.get(party.aeoId) ?? { roles: [], evidence: [] };
    c.roles.push(role);
    c.evidence.push(aciEvidence(ctx, `/${role}/aeoId`, party.aeoId));
    claims.set(party.aeoId, c);
  }
  const arrival = arrivalDate(d, ctx.rules.zones);
  for (const [aeoId, claim] of claims) {
    const registry = aeoId.slice(0, 2);
    const whoOf = (roles: string[]): string => `${roles.join(' and ')} ${aeoId}`.replace(/^./, (s) => s.toUpperCase());
    if (!ctx.aeoHasData(registry)) {
      out.add('aeo-unverified', ctx.rules.weights['aeo-unverified'], `${whoOf(claim.roles)} cannot be checked: ${registry} has sent no AEO data`, claim.evidence);
      continue;
    }
    // the status belongs to the trader the register lists under the id: a party with another trader id borrows it
    const holder = ctx.aeoHolder(registry, aeoId);
    const c = { roles: [] as string[], evidence: [] as Evidence[] };
    claim.roles.forEach((role, i) => {
      const id = d[role]!.id;
      if (holder === undefined || id === undefined || sameTrader(id, holder.nationalTraderId, registry)) {
        c.roles.push(role);
        c.evidence.push(claim.evidence[i]!);
        return;
      }
      out.add('aeo-not-listed', ctx.rules.weights['aeo-not-listed'],
        `${whoOf([role])} is not listed as an AEO: the ${registry} register lists ${aeoId} for another trader (national trader id ${holder.nationalTraderId}, ${holder.legalName}), not for the ${role}'s trader id ${id}`,
        [claim.evidence[i]!, aciEvidence(ctx, `/${role}/id`, id), { messageId: holder.messageId, partner: registry, type: 'aeo', path: holder.path, value: holder.nationalTraderId }]);
    });
    if (c.roles.length === 0) continue;
    const who = whoOf(c.roles);
    const v = ctx.aeoValidity(registry, aeoId, arrival.date);
    const code = codeOf(v);
    const inferred = v.basis === 'inferred' ? ' (inferred from the authorisation date)' : '';
    const evidence = v.messageId ? [...c.evidence, { messageId: v.messageId, partner: registry, type: 'aeo' as const, path: v.path ?? '', value: v.status }] : c.evidence;
    out.add(code, ctx.rules.weights[code], `${who} ${SAYS[v.status]} in the ${registry} register as it stands for the arrival date ${arrival.label}${inferred}`, evidence);
  }
}
