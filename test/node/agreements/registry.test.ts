/**
 * The agreements a node holds are keyed by id and version: one id@version names one document on a node, as
 * envelopes and notices name an agreement by nothing else. A document with the id and version of one already
 * held but other content (another partner's agreement, or a different draft) is refused (SPEC section 8.4),
 * never written over the one held. Real data dirs (gnc init, partner add) and the real CLI.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgreementService } from '../../../node/agreements/service.js';
import { openOffline, type OfflineNode } from '../../../node/compose.js';
import { makeNetwork, openAgreementDraft, runCli } from '../../helpers/network.js';

let net: Awaited<ReturnType<typeof makeNetwork>> | undefined;
const open: OfflineNode[] = [];
afterEach(async () => {
  for (const n of open.splice(0)) await n.close();
  await net?.close();
  net = undefined;
});

function offline(dir: string): { node: OfflineNode; svc: AgreementService } {
  const node = openOffline(dir);
  open.push(node);
  return { node, svc: new AgreementService(node.parts, node.agreements, () => node.submit) };
}

describe('agreement registry', () => {
  it("refuses to sign another partner's agreement under the id and version of one in force, and keeps the one in force", async () => {
    net = await makeNetwork(['KZ', 'KG', 'CN'], { agreements: [{ a: 'KZ', b: 'KG', draft: openAgreementDraft('KZ', 'KG', { id: 'MRA-2026' }) }], start: false });
    const cn = offline(net.dirs.CN!);
    const proposal = await cn.svc.sign(cn.svc.draft(openAgreementDraft('CN', 'KZ', { id: 'MRA-2026' })));
    const file = join(net.base, 'cn-proposal.json');
    writeFileSync(file, JSON.stringify(proposal.signed));
    const r = await runCli(['agreement', 'sign', '--dir', net.dirs.KZ!, file]);
    expect(r.code, r.out.join('\n')).toBe(6);
    expect(r.out.join('\n')).toContain('GNC_AGREEMENT_OVERLAP');
    const kz = offline(net.dirs.KZ!);
    const inForce = kz.node.agreements.inForce('KG');
    expect(inForce?.document.parties.map((p) => p.country)).toEqual(['KZ', 'KG']);
    expect(inForce?.partner).toBe('KG');
    expect(kz.node.agreements.inForce('CN')).toBeUndefined();
  });

  it('refuses a proposal with the id and version of a held draft but other content, and keeps the draft', async () => {
    net = await makeNetwork(['KZ', 'KG'], { agreements: [], start: false });
    const kz = offline(net.dirs.KZ!);
    const kg = offline(net.dirs.KG!);
    await kz.svc.sign(kz.svc.draft(openAgreementDraft('KZ', 'KG', { id: 'MRA-2027', title: 'As KZ drafted it' })));
    const theirs = await kg.svc.sign(kg.svc.draft(openAgreementDraft('KZ', 'KG', { id: 'MRA-2027', title: 'As KG drafted it' })));
    expect(() => kz.svc.import(theirs.signed)).toThrow(expect.objectContaining({ code: 'GNC_AGREEMENT_OVERLAP' }));
    const held = kz.node.agreements.require('MRA-2027', 1);
    expect(held.document.title).toBe('As KZ drafted it');
    expect(held.signedBy).toEqual(['KZ']);
  });
});
