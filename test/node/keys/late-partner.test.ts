/**
 * Partners that pin an administration after one of its key notices was queued to the partners it had then (SPEC
 * sections 2 and 9.10): the identity file carries the root-signed notices still relevant to its certificates, which
 * `gnc partner add` verifies and keeps; and pinning a partner queues this node's key state to it, so a partner that
 * pinned an identity file older than a rotation learns the new key over the wire, also while the node runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { openOffline } from '../../../node/compose.js';
import { Store } from '../../../node/store/store.js';
import { decodeKeyNotice } from '../../../protocol/notice.js';
import { initNode, runCli, startTestNode, tempDir, waitFor, type TestNode } from '../../helpers/network.js';
import { rmSync } from 'node:fs';

let base = '';
const running: TestNode[] = [];

afterEach(async () => {
  for (const n of running.splice(0)) await n.node.stop().catch(() => undefined);
  if (base) rmSync(base, { recursive: true, force: true });
  base = '';
});

async function cli(args: string[]): Promise<string[]> {
  const r = await runCli(args);
  expect(r.code, r.out.join('\n')).toBe(0);
  return r.out;
}

async function exportFile(from: string, name: string): Promise<string> {
  const file = join(base, name);
  await cli(['identity', 'export', '--dir', from, '--out', file, '--force']);
  return file;
}

function pinArgs(dir: string, file: string, partnerDir: string): string[] {
  return ['partner', 'add', '--dir', dir, file, '--fingerprint', loadIdentity(partnerDir).root.thumbprint];
}

/** What `dir`'s trust index says of `kid` (opened offline, as a restarted node would). */
async function trustOf(dir: string, kid: string): Promise<{ country: string; revokedAt: number | undefined } | undefined> {
  const off = openOffline(dir, { log: () => undefined });
  try {
    const k = off.parts.trust.resolveKey(kid);
    return k && { country: k.country, revokedAt: k.revokedAt };
  } finally {
    await off.close();
  }
}

async function startNode(country: string, dir: string): Promise<TestNode> {
  const n = await startTestNode(country, dir);
  running.push(n);
  return n;
}

describe('an identity file exported after a key notice', () => {
  it("carries the old key's retirement and an explicit revocation, which a partner pinning from it enforces", async () => {
    base = tempDir();
    const kz = await initNode(base, 'KZ');
    const kg = await initNode(base, 'KG');
    const oldKid = loadIdentity(kz).node.thumbprint;
    // no partner yet: the new key signs at once, and the old one is retired at the end of the overlap
    await cli(['keys', 'rotate', '--dir', kz]);
    const overlapUntil = JSON.parse(readFileSync(join(kz, 'identity/rotation.json'), 'utf8')).overlapUntil as string;
    const retirementOnly = JSON.parse(readFileSync(await exportFile(kz, 'kz-rotated.json'), 'utf8'));
    expect(retirementOnly.notices).toHaveLength(1);
    // for a partner whose version predates notices (its schema refuses the member): the file as such versions wrote it
    const plain = join(base, 'kz-plain.json');
    await cli(['identity', 'export', '--dir', kz, '--out', plain, '--without-notices']);
    const older = JSON.parse(readFileSync(plain, 'utf8'));
    expect(older).not.toHaveProperty('notices');
    expect(older.certificates).toEqual(retirementOnly.certificates);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    await cli(['keys', 'revoke', '--dir', kz, '--kid', oldKid, '--reason', 'decommissioned early', '--at', at]);
    const file = await exportFile(kz, 'kz.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).notices.map((n: string) => decodeKeyNotice(n).payload)).toEqual([
      expect.objectContaining({ kind: 'revocation', kid: oldKid, revokedAt: at }),
      expect.objectContaining({ kind: 'revocation', kid: oldKid, revokedAt: overlapUntil }),
    ]);
    const out = await cli(pinArgs(kg, file, kz));
    expect(out.join('\n')).toContain('2 key notice(s)');
    expect(await trustOf(kg, oldKid)).toEqual({ country: 'KZ', revokedAt: Date.parse(at) });
    const store = Store.open(kg);
    try {
      // the two notices and the two certificates of the file
      expect(store.db.prepare(`SELECT COUNT(*) FROM evidence WHERE entry LIKE '%"event":"key"%'`).pluck().get()).toBe(4);
    } finally {
      store.close();
    }
  });

  it('is refused whole when a notice in it was altered, and nothing is pinned', async () => {
    base = tempDir();
    const kz = await initNode(base, 'KZ');
    const kg = await initNode(base, 'KG');
    await cli(['keys', 'rotate', '--dir', kz]);
    const file = await exportFile(kz, 'kz.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    const [h, p, s] = (doc.notices[0] as string).split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
    payload.revokedAt = '2099-01-01T00:00:00.000Z';
    doc.notices[0] = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    writeFileSync(file, JSON.stringify(doc));
    const r = await runCli(pinArgs(kg, file, kz));
    expect(r.code).not.toBe(0);
    expect(r.out.join('\n')).toMatch(/GNC_SIGNATURE_INVALID[\s\S]*Key notice 1 of KZ's identity file is refused[\s\S]*nothing was pinned/);
    const store = Store.open(kg);
    try {
      expect(store.partners.list()).toEqual([]);
      expect(store.partners.certificates()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('carries the root succession, so a partner pinned with the old root pins the new one', async () => {
    base = tempDir();
    const kz = await initNode(base, 'KZ');
    const kg = await initNode(base, 'KG');
    await cli(pinArgs(kg, await exportFile(kz, 'kz-old-root.json'), kz));
    // the succession is queued to the partners KZ has: none, so KG never hears of it over the wire
    await cli(['keys', 'rotate', '--dir', kz, '--root']);
    await cli(pinArgs(kg, await exportFile(kz, 'kz-new-root.json'), kz));
    const off = openOffline(kg, { log: () => undefined });
    try {
      expect(off.parts.trust.rootsOf('KZ').length).toBe(2);
      expect(off.parts.store.partners.get('KZ')?.fingerprint).not.toBe(loadIdentity(kz).root.thumbprint);
    } finally {
      await off.close();
    }
  });
});

describe('pinning a partner', () => {
  it('queues this node\'s key state to it, so a partner that pinned a file older than the rotation learns the new key (node running)', async () => {
    base = tempDir();
    const kzDir = await initNode(base, 'KZ');
    const kgDir = await initNode(base, 'KG');
    const oldKid = loadIdentity(kzDir).node.thumbprint;
    await cli(pinArgs(kgDir, await exportFile(kzDir, 'kz-before.json'), kzDir));
    // KZ has no partner when it rotates: it signs with the new key at once, and the announcement went to nobody
    await cli(['keys', 'rotate', '--dir', kzDir]);
    const newKid = loadIdentity(kzDir).node.thumbprint;
    const kz = await startNode('KZ', kzDir);
    const kg = await startNode('KG', kgDir);
    const out = await cli(pinArgs(kzDir, await exportFile(kgDir, 'kg.json'), kgDir));
    // the key that signs first (KG learns it from that very envelope), then the old one, which counts until its retirement
    expect(out.join('\n')).toContain(`Queued to KG: the certificate(s) of node key(s) ${newKid}, ${oldKid}, then the revocation(s) of node key(s) ${oldKid}`);
    await waitFor(() => kg.node.parts.trust.resolveKey(newKid), 20_000, 'KG to know the new key');
    await waitFor(() => kg.node.parts.trust.resolveKey(oldKid)?.revokedAt, 20_000, "KG to hold the old key's retirement");
    const sent = (): { kind: string; status: string }[] => kz.node.parts.store.db.prepare(`SELECT kind, status FROM messages WHERE direction = 'out' AND type = 'key' ORDER BY seq`).all() as never;
    await waitFor(() => (sent().every((m) => m.status === 'delivered') ? true : undefined), 20_000, 'every key message delivered');
    expect(sent().map((m) => m.kind)).toEqual(['announce', 'announce', 'revoke']);
  }, 60_000);
});
