/**
 * What every cross-check gets: the declaration in force, where it came from, the rules, and lookups into the
 * AEO and e-CoO registries. Checks are pure functions of this context, so a recomputation gives the same
 * indicators for the same stored data, and tests can call them without a network.
 */
import type { Evidence, Indicator, IndicatorCode } from '../../../protocol/risk.js';
import type { AeoHolder, Validity } from '../aeo-registry.js';
import type { FullDeclaration } from '../declaration.js';
import type { EcooFound } from '../ecoo-registry.js';
import type { LoadedRules } from '../rules.js';

export interface AssessContext {
  /** Sending administration of the declaration. */
  partner: string;
  /** Message id of the version in force. */
  messageId: string;
  body: FullDeclaration;
  rules: LoadedRules;
  aeoHasData: (partner: string) => boolean;
  aeoValidity: (partner: string, aeoId: string, date: string) => Validity;
  /** Whom the partner's register lists under an AEO id (its current record), if anyone. */
  aeoHolder: (partner: string, aeoId: string) => AeoHolder | undefined;
  ecoo: (partner: string, number: string) => EcooFound | undefined;
}

/** Evidence from the declaration in force. */
export function aciEvidence(ctx: AssessContext, path: string, value?: string | number | null): Evidence {
  return { messageId: ctx.messageId, partner: ctx.partner, type: 'aci', path, ...(value !== undefined ? { value } : {}) };
}

/** Collects facts per indicator code: one indicator per code, its evidence and sentences merged. */
export class IndicatorSet {
  private readonly byCode = new Map<IndicatorCode, { weight: number; summaries: string[]; evidence: Evidence[]; rule?: string }>();
  private readonly extra: Indicator[] = [];
  /** Facts added so far (a check can tell whether it found anything). */
  added = 0;

  add(code: IndicatorCode, weight: number, summary: string, evidence: Evidence[]): void {
    this.added++;
    const cur = this.byCode.get(code);
    if (cur) {
      if (!cur.summaries.includes(summary)) cur.summaries.push(summary);
      for (const e of evidence) if (!cur.evidence.some((x) => sameEvidence(x, e))) cur.evidence.push(e);
    } else this.byCode.set(code, { weight, summaries: [summary], evidence: [...evidence] });
  }

  /** A local rule's indicator: each rule counts on its own, even when two rules share a code. */
  addRule(code: IndicatorCode, weight: number, rule: string, summary: string, evidence: Evidence[]): void {
    this.added++;
    this.extra.push(indicator(code, weight, summary, evidence, rule));
  }

  list(): Indicator[] {
    return [...[...this.byCode].map(([code, v]) => indicator(code, v.weight, v.summaries.join('; '), v.evidence)), ...this.extra];
  }
}

function sameEvidence(a: Evidence, b: Evidence): boolean {
  return a.messageId === b.messageId && a.path === b.path && a.partner === b.partner;
}

export function indicator(code: IndicatorCode, weight: number, summary: string, evidence: Evidence[], rule?: string): Indicator {
  const kind = weight > 0 ? 'risk' : weight < 0 ? 'facilitation' : 'info';
  return { code, kind, weight, summary, ...(rule !== undefined ? { rule } : {}), evidence };
}
