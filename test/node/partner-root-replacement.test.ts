/**
 * A partner that lost its root is pinned again under a new root (`gnc partner add --replace-root`), on real KZ and KG
 * nodes over libp2p on 127.0.0.1: KG's old root is "lost" (never used again) and KG makes a new identity in a new data
 * dir. The replacement is refused without the option, without the removal and with a wrong fingerprint; after it the
 * new KG node connects and exchanges under a new agreement, an envelope signed by an old KG key is refused, and bundles
 * of the old and of the new exchange verify offline, each resting on its own KG root.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportEvidence } from '../../node/audit/export.js';
import { verifyBundle } from '../../node/audit/verify-bundle.js';
import { EvidenceLog } from '../../node/store/evidence.js';
import { Store } from '../../node/store/store.js';
import { exportIdentity } from '../../certs/public-identity.js';
import { loadIdentity } from '../../certs/identity.js';
import { api, finalMessage, initNode, networkPerTest, openAgreementDraft, pinnedPairDirs, restartNode, runCli, signAgreementBoth, startTestNode, tempDir, type TestNode } from '../helpers/network.js';
import { example } from '../protocol/messages/fixtures.js';
import { MESSAGE_SELECT } from '../../node/store/messages.js';

const network = networkPerTest();

async function send(from: TestNode, to: string, fixture: Parameters<typeof example>[0]): Promise<string> {
  const r = await api(from, 'POST', '/v1/messages', { to, type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example(fixture) });
  expect(r.status, r.text).toBe(202);
  return r.json.id as string;
}

function bundleOf(n: TestNode, messageIds: string[]) {
  const { parts } = n.node;
  const evidence = new EvidenceLog(parts.store.db, parts.identity.country, parts.signer, parts.clock);
  return exportEvidence({ dir: parts.dir, store: parts.store, identity: parts.identity, evidence, clock: parts.clock }, { messageIds });
}

describe('gnc partner add --replace-root', () => {
  it('pins a removed partner under a new root; the old root is evidence only, both exchanges verify offline', async () => {
    const net = await network(['KZ', 'KG']);
    const [kz, kg] = [net.nodes.KZ!, net.nodes.KG!];
    const kzFp = loadIdentity(kz.dir).root.thumbprint;
    const oldFp = loadIdentity(kg.dir).root.thumbprint;
    const before = await send(kz, 'KG', 'aci-kz-kg-road');
    expect((await finalMessage(kz, before, 30_000)).status).toBe('delivered');

    // KG lost its root: a new identity in a new data dir, which pins KZ as any new node does
    const kg2Dir = await initNode(tempDir(), 'KG');
    const kzFile = join(net.base, 'KZ.now.identity.json');
    writeFileSync(kzFile, JSON.stringify(exportIdentity(loadIdentity(kz.dir))));
    expect((await runCli(['partner', 'add', '--dir', kg2Dir, kzFile, `--fingerprint=${kzFp}`])).code).toBe(0);
    const newFp = loadIdentity(kg2Dir).root.thumbprint;
    const kg2File = join(net.base, 'KG.new.identity.json');
    writeFileSync(kg2File, JSON.stringify(exportIdentity(loadIdentity(kg2Dir))));

    // refused: without the option (the message names it), with it while KG is pinned (names the removal)
    const plain = await runCli(['partner', 'add', '--dir', kz.dir, kg2File, `--fingerprint=${newFp}`]);
    expect(plain.code).not.toBe(0);
    expect(plain.out.join('\n')).toMatch(/GNC_FINGERPRINT_MISMATCH: KG is already pinned with root .*--replace-root/);
    const pinned = await runCli(['partner', 'add', '--dir', kz.dir, kg2File, `--fingerprint=${newFp}`, '--replace-root']);
    expect(pinned.code).not.toBe(0);
    expect(pinned.out.join('\n')).toMatch(/GNC_CONFLICT: KG is a pinned partner .*`gnc partner remove --dir .* KG --reason TEXT`/);
    expect(kz.node.parts.store.partners.get('KG')!.fingerprint).toBe(oldFp);

    const removed = await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'KG root lost', '--despite-agreement']);
    expect(removed.code, removed.out.join('\n')).toBe(0);
    // an envelope the old KG node signs now (its old key), which cannot reach KZ: kept to hand to KZ's receiver below
    const stale = await send(kg, 'KZ', 'aci-kz-kg-road');
    const staleBytes = (kg.node.parts.store.db.prepare(`SELECT jws FROM (${MESSAGE_SELECT}) WHERE id = ?`).get(stale) as { jws: Buffer }).jws;
    const oldKid = kg.node.parts.signer().kid;
    await kg.node.stop();

    // removed now, KG under the new root is still refused without the option, and the advice is that option alone
    // (not `gnc partner remove`, which answers that KG was removed already)
    const forgot = await runCli(['partner', 'add', '--dir', kz.dir, kg2File, `--fingerprint=${newFp}`]);
    expect(forgot.code).toBe(3);
    expect(forgot.out.join('\n')).toMatch(/GNC_FINGERPRINT_MISMATCH: KG was pinned with root .*; if that root was lost, pin this root with --replace-root \(KG was removed at /);
    expect(forgot.out.join('\n')).not.toMatch(/gnc partner remove/);
    const wrong = await runCli(['partner', 'add', '--dir', kz.dir, kg2File, `--fingerprint=${oldFp}`, '--replace-root']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out.join('\n')).toMatch(/GNC_FINGERPRINT_MISMATCH/);
    const r = await runCli(['partner', 'add', '--dir', kz.dir, kg2File, `--fingerprint=${newFp}`, '--replace-root']);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out.join('\n')).toMatch(new RegExp(`^Pinned KG \\(Customs of KG\\), a partner again \\(removed at \\S+\\), root ${newFp} in place of root ${oldFp} \\(replaced`));
    // the replacement is a key entry of KZ's log, written with it
    const entry = kz.node.parts.store.db.prepare("SELECT entry FROM evidence WHERE message_id = ?").get(`key:${newFp}`) as { entry: string } | undefined;
    expect(JSON.parse(entry!.entry)).toMatchObject({ event: 'key', peer: 'KG', sha256: Buffer.from(newFp, 'base64url').toString('hex') });
    expect((await runCli(['audit', 'verify', '--dir', kz.dir])).code).toBe(0);

    // trust: the old key counts for nothing, and an envelope it signed is refused
    kz.node.parts.trust.reload();
    expect(kz.node.parts.trust.resolveKey(oldKid)).toBeUndefined();
    const answer = await kz.node.receiver.handle(new Uint8Array(staleBytes), 'KG');
    const receipt = JSON.parse(Buffer.from((JSON.parse(new TextDecoder().decode(answer)) as { payload: string }).payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(JSON.stringify(receipt)).toContain('GNC_KEY_UNKNOWN');
    expect(kz.node.parts.store.messages.byKey('in', 'KG', stale)).toBeUndefined();

    // GET /v1/partners tells the old root and the certificates it issued from those that count
    const view = ((await api(kz, 'GET', '/v1/partners')).json.items as { country: string; fingerprint: string; replacedRoots: unknown; certificates: { kid: string; replacedRoot: boolean }[] }[]).find((p) => p.country === 'KG')!;
    expect(view.fingerprint).toBe(newFp);
    expect(view.replacedRoots).toEqual([{ fingerprint: oldFp, replacedAt: expect.any(String), replacedBy: newFp }]);
    expect(view.certificates.filter((c) => c.replacedRoot).map((c) => c.kid)).toEqual([oldKid]);
    expect(view.certificates.filter((c) => !c.replacedRoot).map((c) => c.kid)).toEqual([loadIdentity(kg2Dir).node.thumbprint]);
    expect(((await api(kz, 'GET', '/v1/partners')).json.items as { country: string; replacedRoots: unknown[] }[]).filter((p) => p.country !== 'KG').every((p) => p.replacedRoots.length === 0)).toBe(true);

    // the old agreement stays readable but binds nothing; a new one is signed under the new root
    const old = await api(kz, 'GET', '/v1/agreements/KZ-KG-test');
    expect(old.status, old.text).toBe(200);
    expect(old.json.status).toBe('terminated');
    await kz.node.stop();
    await signAgreementBoth({ KZ: kz.dir, KG: kg2Dir }, 'KZ', 'KG', openAgreementDraft('KZ', 'KG', { id: 'KZ-KG-new' }));
    await restartNode(kz);
    const kg2 = await startTestNode('KG', kg2Dir);
    try {
      const after = await send(kz, 'KG', 'aci-kz-kg-road');
      const delivered = await finalMessage(kz, after, 30_000);
      expect(delivered.status).toBe('delivered');
      expect(delivered.agreement).toBe('KZ-KG-new@1');
      // a cancellation of the message KG's old node got is refused here: KG's new node does not hold it
      const outboundBefore = kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'out'`).pluck().get();
      const cancel = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', ref: before, body: example('aci-kz-kg-cancellation') });
      expect(cancel.status, cancel.text).toBe(422);
      expect(cancel.json.code).toBe('GNC_ORIGINAL_UNKNOWN');
      expect(cancel.json.detail).toContain(`which was sent to KG's node under its root ${oldFp}, replaced as lost at`);
      expect(kz.node.parts.store.db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'out'`).pluck().get()).toBe(outboundBefore);

      // evidence: each exchange verifies on its own KG root; a bundle of both carries both
      const oldBundle = bundleOf(kz, [before]);
      expect(oldBundle.roots.filter((x) => x.country === 'KG').map((x) => x.fingerprint)).toEqual([oldFp]);
      const oldReport = await verifyBundle(oldBundle, { trustedRoots: { KZ: kzFp, KG: oldFp } });
      expect(oldReport.failures).toEqual([]);
      const newBundle = bundleOf(kz, [after]);
      expect(newBundle.roots.filter((x) => x.country === 'KG').map((x) => x.fingerprint)).toEqual([newFp]);
      expect((await verifyBundle(newBundle, { trustedRoots: { KZ: kzFp, KG: newFp } })).failures).toEqual([]);
      const wrongRoot = await verifyBundle(newBundle, { trustedRoots: { KZ: kzFp, KG: oldFp } });
      expect(wrongRoot.ok).toBe(false);
      expect(wrongRoot.failures.map((f) => f.code)).toContain('GNC_FINGERPRINT_MISMATCH');

      const both = bundleOf(kz, [before, after]);
      expect(both.roots.filter((x) => x.country === 'KG').map((x) => x.fingerprint).sort()).toEqual([oldFp, newFp].sort());
      const file = join(net.base, 'both.bundle.json');
      writeFileSync(file, JSON.stringify(both));
      const ok = await runCli(['audit', 'verify', file, `--root=KZ=${kzFp}`, `--root=KG=${oldFp}`, `--root=KG=${newFp}`]);
      expect(ok.code, ok.out.join('\n')).toBe(0);
      expect(ok.out.join('\n')).toMatch(new RegExp(`KG  ${oldFp}  \\(matches[\\s\\S]*KG  ${newFp}  \\(matches|KG  ${newFp}  \\(matches[\\s\\S]*KG  ${oldFp}  \\(matches`));
      const onlyOld = await runCli(['audit', 'verify', file, `--root=KZ=${kzFp}`, `--root=KG=${oldFp}`]);
      expect(onlyOld.code).not.toBe(0);
      expect(onlyOld.out.join('\n')).toMatch(new RegExp(`KG  ${newFp}  \\(DOES NOT MATCH`));
    } finally {
      await kg2.node.stop();
    }
  }, 120_000);

  it('never pins again a root of the replaced chain: the lost root in office, a successor of the root first pinned, is refused', async () => {
    const base = tempDir();
    const dirs = await pinnedPairDirs(base);
    // KG's root R1 is succeeded by R2, which KZ pins again from KG's current identity file; then R2 is lost
    const r1 = loadIdentity(dirs.KG).root.thumbprint;
    const rotated = await runCli(['keys', 'rotate', '--dir', dirs.KG, '--root', '--json']);
    expect(rotated.code, rotated.out.join('\n')).toBe(0);
    const r2 = JSON.parse(rotated.out[0]!).current as string;
    const r2File = join(base, 'KG.r2.identity.json');
    expect((await runCli(['identity', 'export', '--dir', dirs.KG, '--out', r2File])).code).toBe(0);
    expect((await runCli(['partner', 'add', '--dir', dirs.KZ, r2File, `--fingerprint=${r2}`])).code).toBe(0);
    const kg2Dir = await initNode(join(base, 'new'), 'KG');
    const r3 = loadIdentity(kg2Dir).root.thumbprint;
    const r3File = join(base, 'KG.r3.identity.json');
    writeFileSync(r3File, JSON.stringify(exportIdentity(loadIdentity(kg2Dir))));
    expect((await runCli(['partner', 'remove', '--dir', dirs.KZ, 'KG', '--reason', 'KG root lost'])).code).toBe(0);
    expect((await runCli(['partner', 'add', '--dir', dirs.KZ, r3File, `--fingerprint=${r3}`, '--replace-root'])).code).toBe(0);

    // whoever holds the lost R2 now cannot become KG here again, by a replacement or otherwise
    expect((await runCli(['partner', 'remove', '--dir', dirs.KZ, 'KG', '--reason', 'KG says R3 is lost too'])).code).toBe(0);
    for (const extra of [['--replace-root'], []]) {
      const back = await runCli(['partner', 'add', '--dir', dirs.KZ, r2File, `--fingerprint=${r2}`, ...extra]);
      expect(back.code, back.out.join('\n')).toBe(3);
      expect(back.out.join('\n')).toMatch(new RegExp(`GNC_FINGERPRINT_MISMATCH: Root ${r2} of KG \\(a successor of root ${r1}\\) was replaced as lost`));
    }
    const list = await runCli(['partner', 'list', '--dir', dirs.KZ]);
    expect(list.out.join('\n')).toMatch(new RegExp(`^KG  Customs of KG  root ${r3} .*REMOVED`));
    // the replaced root is listed under KG, as evidence that trusts nothing
    expect(list.out.join('\n')).toMatch(new RegExp(`^ {4}REPLACED ROOT (${r1}|${r2}) {2}at \\S+ by ${r3}: evidence only, trusted for nothing$`, 'm'));
    // the root pinned in place of the lost one is pinned again as usual
    const r3Again = await runCli(['partner', 'add', '--dir', dirs.KZ, r3File, `--fingerprint=${r3}`]);
    expect(r3Again.code, r3Again.out.join('\n')).toBe(0);
    expect((await runCli(['partner', 'list', '--dir', dirs.KZ, '--pinned'])).out.join('\n')).toMatch(new RegExp(`^KG  Customs of KG  root ${r3} `));
  }, 60_000);

  it('signs no notice about an agreement under the replaced root: it is terminated already, and the new node does not hold it', async () => {
    const base = tempDir();
    const dirs = await pinnedPairDirs(base);
    await signAgreementBoth(dirs, 'KZ', 'KG', openAgreementDraft('KZ', 'KG'));
    const oldFp = loadIdentity(dirs.KG).root.thumbprint;
    const kg2Dir = await initNode(join(base, 'new'), 'KG');
    const newFile = join(base, 'KG.new.identity.json');
    writeFileSync(newFile, JSON.stringify(exportIdentity(loadIdentity(kg2Dir))));
    expect((await runCli(['partner', 'remove', '--dir', dirs.KZ, 'KG', '--reason', 'KG root lost', '--despite-agreement'])).code).toBe(0);
    expect((await runCli(['partner', 'add', '--dir', dirs.KZ, newFile, `--fingerprint=${loadIdentity(kg2Dir).root.thumbprint}`, '--replace-root'])).code).toBe(0);
    const entries = entriesAndNotices(dirs.KZ);
    for (const action of ['terminate', 'suspend', 'resume']) {
      const r = await runCli(['agreement', action, '--dir', dirs.KZ, '--id', 'KZ-KG-test', '--reason', 'The old agreement']);
      expect(r.code, r.out.join('\n')).toBe(2);
      expect(r.out.join('\n')).toContain(`GNC_CONFLICT: Agreement KZ-KG-test@1 was signed under KG's root ${oldFp}, replaced as lost`);
    }
    // nothing signed, stored, logged or queued
    const messages = await runCli(['messages', '--dir', dirs.KZ]);
    expect(messages.out).toEqual(['No messages.']);
    expect(entriesAndNotices(dirs.KZ)).toBe(entries);
    const shown = await runCli(['agreement', 'list', '--dir', dirs.KZ]);
    expect(shown.out.join('\n')).toMatch(/^KZ-KG-test@1 {2}with KG {2}terminated /m);
  }, 60_000);
});

/** How many entries the evidence log of data dir `dir` holds, and its agreement notices. */
function entriesAndNotices(dir: string): number {
  const store = Store.open(dir);
  try {
    return store.db.prepare('SELECT (SELECT COUNT(*) FROM evidence) + (SELECT COUNT(*) FROM agreement_notices)').pluck().get() as number;
  } finally {
    store.close();
  }
}
