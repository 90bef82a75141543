/**
 * `gnc partner add` records when this node started trusting each node key it pins (SPEC 9.2): one `key` entry per
 * certificate of the identity file stored for the first time, `key:<kid>` with the partner's country, in the
 * transaction that stores the certificate rows, so a failure of the entry (a trigger on the real database file here,
 * as a full disk or a crash would) pins nothing. A certificate held already, pinned again, adds none; the log stays
 * intact for `gnc audit verify --dir` and for the offline verifier of a bundle exported with it.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { Store } from '../../../node/store/store.js';
import type { EvidenceEntry } from '../../../protocol/evidence/chain.js';
import { execDir } from '../../helpers/cli.js';
import { initNode, runCli, tempDir } from '../../helpers/network.js';

const base = tempDir('gnc-pin-evidence-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

const sha256 = (text: string): string => createHash('sha256').update(text, 'ascii').digest('hex');

async function cli(args: string[]): Promise<string[]> {
  const r = await runCli(args);
  expect(r.code, r.out.join('\n')).toBe(0);
  return r.out;
}

function read<T>(dir: string, fn: (s: Store) => T): T {
  const s = Store.open(dir);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

const keyEntries = (dir: string): EvidenceEntry[] =>
  read(dir, (s) => (s.db.prepare('SELECT entry FROM evidence ORDER BY seq').pluck().all() as string[]).map((e) => JSON.parse(e) as EvidenceEntry).filter((e) => e.event === 'key'));

const pinnedCertificates = (dir: string, country: string): string[] => read(dir, (s) => s.partners.certificates(country).map((c) => c.compact));

async function exportIdentity(dir: string, name: string): Promise<{ file: string; certificates: string[] }> {
  const file = join(base, name);
  await cli(['identity', 'export', '--dir', dir, '--out', file, '--force']);
  return { file, certificates: JSON.parse(readFileSync(file, 'utf8')).certificates as string[] };
}

const pin = (dir: string, file: string, partnerDir: string): string[] => ['partner', 'add', '--dir', dir, file, '--fingerprint', loadIdentity(partnerDir).root.thumbprint];

describe('gnc partner add and the evidence log', () => {
  let kz = '';
  let kg = '';

  it('pins nothing when the key entry of a certificate cannot be written', async () => {
    kz = await initNode(base, 'KZ');
    kg = await initNode(base, 'KG');
    const { file } = await exportIdentity(kz, 'kz-1.json');
    execDir(kg, `CREATE TRIGGER test_refuse_key_entry BEFORE INSERT ON evidence WHEN json_extract(NEW.entry, '$.event') = 'key'
      BEGIN SELECT RAISE(ABORT, 'test: the key entry cannot be written'); END`);
    const refused = await runCli(pin(kg, file, kz));
    execDir(kg, 'DROP TRIGGER test_refuse_key_entry');
    expect(refused.code).not.toBe(0);
    expect(pinnedCertificates(kg, 'KZ')).toEqual([]);
    expect(read(kg, (s) => s.partners.get('KZ'))).toBeUndefined();
    expect(keyEntries(kg)).toEqual([]);
  });

  it('writes one key entry per certificate it stores, none for one held already', async () => {
    const first = await exportIdentity(kz, 'kz-1.json');
    await cli(pin(kg, first.file, kz));
    const kid = loadIdentity(kz).node.thumbprint;
    expect(pinnedCertificates(kg, 'KZ')).toEqual(first.certificates);
    expect(keyEntries(kg).map(({ messageId, peer, sha256: h }) => ({ messageId, peer, sha256: h }))).toEqual([
      { messageId: `key:${kid}`, peer: 'KZ', sha256: sha256(first.certificates[0]!) },
    ]);

    // pinned again with the same file: nothing new to trust, nothing logged
    await cli(pin(kg, first.file, kz));
    expect(keyEntries(kg)).toHaveLength(1);

    // after a rotation the file carries the new certificate beside the old one (and the old key's retirement): only the
    // new certificate and the notice are new here
    await cli(['keys', 'rotate', '--dir', kz]);
    const next = loadIdentity(kz);
    const second = await exportIdentity(kz, 'kz-2.json');
    expect(second.certificates).toHaveLength(2);
    await cli(pin(kg, second.file, kz));
    const entries = keyEntries(kg);
    expect(entries.filter((e) => e.messageId === `key:${next.node.thumbprint}`).map((e) => e.sha256)).toEqual([sha256(next.certificate)]);
    expect(entries.filter((e) => e.sha256 === sha256(first.certificates[0]!))).toHaveLength(1);
    expect(entries).toHaveLength(3); // the first certificate, the new one, the retirement of the first key
  });

  it('leaves a log that gnc audit verify --dir and the offline verifier accept', async () => {
    // KG's own key state goes to KZ when KZ pins it after a rotation: envelopes that KG's bundle can carry
    await cli(['keys', 'rotate', '--dir', kg]);
    await cli(pin(kg, (await exportIdentity(kz, 'kz-3.json')).file, kz));
    await cli(['audit', 'verify', '--dir', kg]);
    const bundle = join(base, 'kg-bundle.json');
    await cli(['audit', 'export', '--dir', kg, '--out', bundle, '--force']);
    const r = await runCli(['audit', 'verify', bundle, '--root', `KG=${loadIdentity(kg).root.thumbprint}`, '--root', `KZ=${loadIdentity(kz).root.thumbprint}`]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out.join('\n')).toContain('VERIFIED');
  });
});
