/**
 * The Policy backed by bilateral agreements: a business message may be sent or accepted only under the
 * agreement in force between the two administrations, for a type, purpose and fields that agreement allows
 * in that direction. On send, out-of-scope fields are stripped when the agreement says to minimise (and the
 * caller is told which); on receive they are always refused.
 */
import { agreementPeriod, enforceOnReceive, enforceOnSend, scopeFor } from '../../protocol/agreement/index.js';
import { GncError } from '../../protocol/errors.js';
import type { BusinessType } from '../../protocol/messages/registry.js';
import type { AgreementRegistry } from '../agreements/registry.js';
import type { Policy, SendDecision } from './policy.js';

export class AgreementPolicy implements Policy {
  constructor(private readonly registry: AgreementRegistry, private readonly self: string) {}

  private inForce(partner: string, now: number) {
    const k = this.registry.inForce(partner, now);
    if (!k) throw new GncError('GNC_AGREEMENT_NONE', this.whyNone(partner, now));
    return k.document;
  }

  /**
   * Says what became of the agreement of the current period with the partner (the one started last), so the
   * operator knows to resume, renew or draft; a renewal signed in advance does not hide a suspension. With none
   * started yet, the one that starts first.
   */
  private whyNone(partner: string, now: number): string {
    const none = `No agreement signed by both ${this.self} and ${partner} is in force`;
    const held = this.registry.all().filter((k) => k.complete && k.partner === partner);
    const started = held.filter((k) => agreementPeriod(k.document).start <= now);
    const latest = started.length > 0
      ? started.sort((x, y) => agreementPeriod(y.document).start - agreementPeriod(x.document).start || y.document.version - x.document.version)[0]
      : held.sort((x, y) => agreementPeriod(x.document).start - agreementPeriod(y.document).start || y.document.version - x.document.version)[0];
    if (!latest) return `${none}: nothing may be exchanged until one is (gnc agreement draft/sign/propose).`;
    const ref = `${latest.document.id}@${latest.document.version}`;
    switch (this.registry.statusOf(latest, now)) {
      case 'suspended':
        return `${none}: ${ref} is suspended; only the administration that suspended it can resume it (gnc agreement resume).`;
      case 'terminated':
        return `${none}: ${ref} was terminated; negotiate a new agreement (gnc agreement draft/sign/propose).`;
      case 'expired':
        return `${none}: ${ref} ended at its validUntil (${latest.document.validUntil}); negotiate a renewal (gnc agreement draft/sign/propose).`;
      case 'not-yet-valid':
        return `${none}: ${ref} starts at its validFrom (${latest.document.validFrom}).`;
      default:
        return `${none} (latest held: ${ref}): see gnc agreement list.`;
    }
  }

  onSend(to: string, type: BusinessType, purpose: string | undefined, body: Record<string, unknown>, now: number): SendDecision {
    const doc = this.inForce(to, now);
    const r = enforceOnSend(doc, this.self, to, type, purpose, body);
    const scope = scopeFor(doc, this.self, to, type)!;
    return { agreement: `${doc.id}@${doc.version}`, body: r.body as Record<string, unknown>, removed: r.removed, retentionDays: scope.retentionDays };
  }

  onReceive(from: string, type: BusinessType, purpose: string | undefined, agreementId: string | null, body: Record<string, unknown>, now: number): { retentionDays: number } {
    const doc = this.inForce(from, now);
    if (agreementId !== `${doc.id}@${doc.version}`) {
      throw new GncError('GNC_AGREEMENT_NONE', `Message names agreement ${agreementId ?? '(none)'}, but the agreement in force between ${from} and ${this.self} is ${doc.id}@${doc.version}.`);
    }
    enforceOnReceive(doc, from, this.self, type, purpose, body);
    return { retentionDays: scopeFor(doc, from, this.self, type)!.retentionDays };
  }

  notInForce(agreementRef: string, partner: string, now: number): string | undefined {
    const k = this.registry.inForce(partner, now);
    const current = k && `${k.document.id}@${k.document.version}`;
    if (current === agreementRef) return undefined;
    const at = agreementRef.lastIndexOf('@');
    const sealed = this.registry.get(agreementRef.slice(0, at), Number(agreementRef.slice(at + 1)));
    const status = sealed && this.registry.statusOf(sealed, now);
    const what = status === 'superseded' ? `was superseded by ${current ?? 'a later version'}`
      : status === 'suspended' ? 'was suspended'
      : status === 'terminated' ? 'was terminated'
      : status === 'expired' ? `ended at its validUntil (${sealed!.document.validUntil})`
      : 'stopped being in force';
    // sealed under its own agreement, the message is checked again under the one in force when submitted again
    const next = current
      ? `submit it again to send it under ${current}, which checks it against its own types, purposes and fields`
      : `submit it again once an agreement with ${partner} is in force (gnc agreement list)`;
    return `Agreement ${agreementRef} ${what} before the message was delivered, so it was not sent: ${next}.`;
  }
}
