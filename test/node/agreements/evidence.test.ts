/**
 * `agreement` evidence entries (SPEC 9.2) on two real nodes: every signed form of an agreement and every notice a node
 * signs, imports or accepts is recorded once, in the transaction that stores it, with the SHA-256 of its text (the
 * canonical general JWS, as a control envelope carries it; the compact JWS of a notice), the envelope that carried
 * it or `agreement:<id>`, and the administration it came from. A document delivered again adds nothing, and the
 * logs with these entries still verify, on the node and exported.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import type { SignedAgreement } from '../../../protocol/agreement/index.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { api, finalMessage, networkForFile, openAgreementDraft, runCli, waitFor, type TestNode } from '../../helpers/network.js';

const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);
const AGREEMENT = '/v1/agreements/KZ-KG-test';
const LOCAL = 'agreement:KZ-KG-test';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The `agreement` entries of a node's log, in order. */
function agreementEntries(n: TestNode): { messageId: string; peer: string; sha256: string }[] {
  const rows = n.node.parts.store.db.prepare('SELECT entry FROM evidence ORDER BY seq').pluck().all() as string[];
  return rows.map((r) => JSON.parse(r) as { event: string; messageId: string; peer: string; sha256: string })
    .filter((e) => e.event === 'agreement')
    .map(({ messageId, peer, sha256: hash }) => ({ messageId, peer, sha256: hash }));
}

/** The decoded payload text of the envelope `n` received as `id`, and its body. */
function received(n: TestNode, from: string, id: string): { payload: string; body: Record<string, unknown> } {
  const row = n.node.parts.store.messages.byKey('in', from, id);
  expect(row?.status).toBe('accepted');
  const jws = JSON.parse(Buffer.from(row!.jws!).toString('utf8')) as { payload: string };
  const payload = Buffer.from(jws.payload, 'base64url').toString('utf8');
  return { payload, body: (JSON.parse(payload) as { body: Record<string, unknown> }).body };
}

/** The id of the one agreement control envelope `n` received. */
function receivedControl(n: TestNode): string {
  const ids = n.node.parts.store.db.prepare(`SELECT id FROM messages WHERE direction = 'in' AND type = 'agreement'`).pluck().all() as string[];
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

let v2Proposal = '';
let v2Countersigned = '';
let notice = '';
let noticeMessage = '';

describe('agreement evidence entries', () => {
  it('records each signed form of an agreement exchanged as files, once per node, with the administration it came from', async () => {
    const signed = (await api(kz, 'GET', `${AGREEMENT}?version=1`)).json.signed as SignedAgreement;
    const both = sha256(canonicalJson(signed));
    const kzOnly = sha256(canonicalJson({ payload: signed.payload, signatures: [signed.signatures[0]] }));
    // KZ signed, then imported the copy KG countersigned; KG imported KZ's copy, then signed it
    const expected = [{ messageId: LOCAL, peer: 'KZ', sha256: kzOnly }, { messageId: LOCAL, peer: 'KG', sha256: both }];
    expect(agreementEntries(kz)).toEqual(expected);
    expect(agreementEntries(kg)).toEqual(expected);
  });

  it('records a proposal and its countersignature received over the wire under the envelope that carried them', async () => {
    const draft = openAgreementDraft('KZ', 'KG', { version: 2, validFrom: '2031-01-01', validUntil: '2035-12-31' });
    const proposed = await api(kz, 'POST', '/v1/agreements', { draft, propose: true });
    expect(proposed.status, proposed.text).toBe(201);
    v2Proposal = proposed.json.proposedAs as string;
    const v2 = (n: TestNode) => api(n, 'GET', `${AGREEMENT}?version=2`);
    await waitFor(async () => ((await v2(kg)).status === 200 ? true : undefined), 15_000, 'the proposal at KG');
    const signed = await api(kg, 'POST', `${AGREEMENT}/sign?version=2`);
    expect(signed.status, signed.text).toBe(200);
    await waitFor(async () => ((await v2(kz)).json.complete === true ? true : undefined), 15_000, 'the countersignature at KZ');
    v2Countersigned = receivedControl(kz);

    // the hashed text is the agreement exactly as the envelope's payload carries it
    const proposal = received(kg, 'KZ', v2Proposal);
    const kzOnly = canonicalJson(proposal.body['agreement']);
    expect(proposal.payload).toContain(kzOnly);
    const countersigned = received(kz, 'KG', v2Countersigned);
    const both = canonicalJson(countersigned.body['agreement']);
    expect(countersigned.payload).toContain(both);
    expect(agreementEntries(kz).slice(2)).toEqual([
      { messageId: LOCAL, peer: 'KZ', sha256: sha256(kzOnly) },
      { messageId: v2Countersigned, peer: 'KG', sha256: sha256(both) },
    ]);
    expect(agreementEntries(kg).slice(2)).toEqual([
      { messageId: v2Proposal, peer: 'KZ', sha256: sha256(kzOnly) },
      { messageId: LOCAL, peer: 'KG', sha256: sha256(both) },
    ]);
  }, 60_000);

  it('records a suspension signed here as agreement:<id>, and the partner records it under its envelope', async () => {
    const s = await api(kz, 'POST', `${AGREEMENT}/suspend`, { reason: 'Data protection incident' });
    expect(s.status, s.text).toBe(202);
    noticeMessage = s.json.noticeMessage as string;
    const status = async () => (await api(kg, 'GET', `${AGREEMENT}?version=1`)).json.status as string;
    await waitFor(async () => ((await status()) === 'suspended' ? true : undefined), 15_000, 'the suspension at KG');
    notice = received(kg, 'KZ', noticeMessage).body['notice'] as string;
    expect(agreementEntries(kz).slice(4)).toEqual([{ messageId: LOCAL, peer: 'KZ', sha256: sha256(notice) }]);
    expect(agreementEntries(kg).slice(4)).toEqual([{ messageId: noticeMessage, peer: 'KZ', sha256: sha256(notice) }]);
  }, 60_000);

  it('writes the entry of a document received over the wire right after the received entry of its envelope', () => {
    // one transaction stores the envelope, then the document: the log never shows a document before its arrival
    for (const [n, id] of [[kg, v2Proposal], [kz, v2Countersigned], [kg, noticeMessage]] as const) {
      const entries = (n.node.parts.store.db.prepare('SELECT entry FROM evidence ORDER BY seq').pluck().all() as string[]).map((r) => JSON.parse(r) as { event: string; messageId: string });
      const at = entries.findIndex((e) => e.event === 'received' && e.messageId === id);
      expect(at, `${n.country} ${id}`).toBeGreaterThanOrEqual(0);
      expect(entries[at + 1], `${n.country} ${id}`).toMatchObject({ event: 'agreement', messageId: id });
    }
  });

  it('adds no entry for a notice or an agreement held already that arrives again in another envelope', async () => {
    const before = { kz: agreementEntries(kz), kg: agreementEntries(kg) };
    const again = await kz.node.submit.queueControl('KG', 'agreement', { action: 'notice', notice });
    expect((await finalMessage(kz, again.id, 20_000)).status).toBe('delivered');
    const proposedAgain = await api(kz, 'POST', `${AGREEMENT}/propose?version=2`);
    expect(proposedAgain.status, proposedAgain.text).toBe(202);
    expect((await finalMessage(kz, proposedAgain.json.proposedAs as string, 20_000)).status).toBe('delivered');
    expect(received(kg, 'KZ', again.id).body['notice']).toBe(notice);
    expect(agreementEntries(kz)).toEqual(before.kz);
    expect(agreementEntries(kg)).toEqual(before.kg);
  }, 60_000);

  it('takes an imported copy of a held agreement written in another member order and layout for the same document', async () => {
    const before = agreementEntries(kg);
    const signed = (await api(kg, 'GET', `${AGREEMENT}?version=1`)).json.signed as SignedAgreement;
    const file = join(net.base, 'reordered.json');
    const signatures = signed.signatures.map((x) => ({ signature: x.signature, protected: x.protected }));
    const reordered = { signatures, payload: signed.payload };
    writeFileSync(file, JSON.stringify(reordered, null, 2));
    const r = await runCli(['agreement', 'import', '--dir', kg.dir, file]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(agreementEntries(kg)).toEqual(before);
  });

  it('keeps both logs intact for gnc audit verify --dir, and a bundle holding the entries verifies offline', async () => {
    for (const n of [kz, kg]) {
      const r = await runCli(['audit', 'verify', '--dir', n.dir]);
      expect(r.code, r.out.join('\n')).toBe(0);
    }
    const file = join(net.base, 'kg-agreements.json');
    const exported = await runCli(['audit', 'export', '--dir', kg.dir, '--out', file, '--partner', 'KZ']);
    expect(exported.code, exported.out.join('\n')).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { chain: { entries: { event: string; messageId: string }[] } };
    const entries = bundle.chain.entries.filter((e) => e.event === 'agreement');
    expect(entries.map((e) => e.messageId)).toEqual([v2Proposal, LOCAL, noticeMessage]);
    const report = await verifyBundle(bundle);
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
  }, 60_000);
});
