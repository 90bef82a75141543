/**
 * Agreement documents over the wire: each administration sends its own. A notice or proposal that a third
 * administration signed and another partner relays is refused with a signed negative receipt and, as the
 * receipt says, nothing of it is stored or applied. Three real nodes over libp2p on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import { draftAgreement, resolveDraftPlaceholders, signAgreement, signNotice } from '../../../protocol/agreement/index.js';
import { api, finalMessage, networkPerTest, openAgreementDraft, type TestNode } from '../../helpers/network.js';

const network = networkPerTest();

/** KG sends `body` to KZ in an agreement control envelope; resolves to KG's record of the outcome. */
async function relay(kg: TestNode, body: Record<string, unknown>): Promise<{ status: string; error?: { code: string } }> {
  const { id } = await kg.node.submit.queueControl('KZ', 'agreement', body);
  return finalMessage(kg, id, 20_000);
}

describe('agreement control envelopes', () => {
  it("refuses a notice by a third administration relayed by a partner, and does not apply it", async () => {
    const net = await network(['KZ', 'KG', 'CN']);
    const [kz, kg, cn] = [net.nodes.KZ!, net.nodes.KG!, net.nodes.CN!];
    const notice = signNotice(
      { v: 1, agreementId: 'KZ-CN-test', version: 1, action: 'suspend', effective: new Date().toISOString(), reason: 'Drafted, never sent', by: 'CN' },
      cn.node.parts.identity.root.signer,
    );
    const m = await relay(kg, { action: 'notice', notice });
    expect(m.status).toBe('rejected');
    expect(m.error?.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect((await api(kz, 'GET', '/v1/agreements/KZ-CN-test')).json).toMatchObject({ status: 'active', notices: [] });
  });

  it("refuses a proposal by a third administration relayed by a partner, and does not store it", async () => {
    const net = await network(['KZ', 'KG', 'CN']);
    const [kz, kg, cn] = [net.nodes.KZ!, net.nodes.KG!, net.nodes.CN!];
    const roots = { CN: cn.node.parts.identity.root.thumbprint, KZ: kz.node.parts.identity.root.thumbprint };
    const draft = draftAgreement(resolveDraftPlaceholders(openAgreementDraft('CN', 'KZ', { id: 'CN-KZ-NEXT', validFrom: '2031-01-01', validUntil: '2031-12-31' }), roots));
    const proposal = signAgreement(draft, cn.node.parts.identity.root.signer);
    const m = await relay(kg, { action: 'propose', agreement: proposal });
    expect(m.status).toBe('rejected');
    expect(m.error?.code).toBe('GNC_AGREEMENT_SIGNATURE');
    expect((await api(kz, 'GET', '/v1/agreements/CN-KZ-NEXT')).status).toBe(404);
  });
});
