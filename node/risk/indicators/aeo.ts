/**
 * AEO cross-check (WCO SAFE Framework, mutual recognition): the consignor and the exporter named with an AEO
 * id are looked up in the registry of the administration that granted the status (the country prefix of
 * the AEO id, normally the sending partner), on the calendar date of the expected arrival. A valid AEO is a
 * facilitation indicator; a suspended, revoked, expired or unlisted one a risk indicator; an id that cannot be
 * checked because that administration never sent AEO data is only information.
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

export function aeoIndicators(ctx: AssessContext, out: IndicatorSet): void {
  const d = ctx.body;
  const claims = new Map<string, { roles: string[]; evidence: Evidence[] }>();
  for (const [role, party] of [['consignor', d.consignor], ['exporter', d.exporter]] as const) {
    if (!party?.aeoId) continue;
    const c = claims.get(party.aeoId) ?? { roles: [], evidence: [] };
    c.roles.push(role);
    c.evidence.push(aciEvidence(ctx, `/${role}/aeoId`, party.aeoId));
    claims.set(party.aeoId, c);
  }
  const date = arrivalDate(d);
  for (const [aeoId, c] of claims) {
    const registry = aeoId.slice(0, 2);
    const who = `${c.roles.join(' and ')} ${aeoId}`.replace(/^./, (s) => s.toUpperCase());
    if (!ctx.aeoHasData(registry)) {
      out.add('aeo-unverified', ctx.rules.weights['aeo-unverified'], `${who} cannot be checked: ${registry} has sent no AEO data`, c.evidence);
      continue;
    }
    const v = ctx.aeoValidity(registry, aeoId, date);
    const code = codeOf(v);
    const inferred = v.basis === 'inferred' ? ' (inferred from the authorisation date)' : '';
    const evidence = v.messageId ? [...c.evidence, { messageId: v.messageId, partner: registry, type: 'aeo' as const, path: v.path ?? '', value: v.status }] : c.evidence;
    out.add(code, ctx.rules.weights[code], `${who} ${SAYS[v.status]} in the ${registry} register as it stands for the arrival date ${date}${inferred}`, evidence);
  }
}
