/**
 * The end of a rotation's overlap is the instant the old key's retirement takes effect (`revokedAt`): partners refuse
 * whatever the old key signs from then on (GNC_KEY_REVOKED), a business message finally and a receipt every time it is
 * answered again. A node whose partner never acknowledged the announcement switches exactly then, not at its next
 * look at the announcements (every ROTATION_CHECK_MS). KZ's and KG's data dirs, pinned to each other; KZ rotates with
 * KG's node down, on a clock the test holds.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, ROTATION_CHECK_MS } from '../../../node/keys/keyring.js';
import { rotateNodeKeys } from '../../../node/keys/service.js';
import { KeyNoticeRepo } from '../../../node/store/key-notices.js';
import { Store } from '../../../node/store/store.js';
import { pinnedPairDirs, runCli, tempDir } from '../../helpers/network.js';

const base = tempDir('gnc-overlap-end-');
let dir: string;
let rotated: Awaited<ReturnType<typeof rotateNodeKeys>>;
let store: Store;

beforeAll(async () => {
  const dirs = await pinnedPairDirs(base);
  dir = dirs.KZ;
  const started = Date.now();
  rotated = await rotateNodeKeys(dir, { overlapHours: 1, clock: () => started });
  store = Store.open(dir);
}, 60_000);
afterAll(() => {
  store?.close();
  rmSync(base, { recursive: true, force: true });
});

describe('the end of the overlap with a partner that never acknowledged the announcement', () => {
  it('signs with the new key from the instant the old key is retired, also right after a look at the announcements', () => {
    const retiredAt = new KeyNoticeRepo(store.db).revokedAt(rotated.previous, 'KZ');
    expect(retiredAt).toBe(Date.parse(rotated.overlapUntil));
    let now = retiredAt! - ROTATION_CHECK_MS / 4;
    const keyring = new Keyring(dir, store, () => now);
    // KG's announcement is still queued: the old key signs until the overlap ends
    expect(keyring.signer().kid).toBe(rotated.previous);
    now = retiredAt!;
    expect(keyring.signer().kid).toBe(rotated.current);
    expect(keyring.status()).toMatchObject({ active: rotated.current, pending: undefined });
  });
});

describe('gnc keys status during the overlap', () => {
  it('shows the old key, which signs until the overlap ends, as retiring then, not as revoked', async () => {
    const r = await runCli(['keys', 'status', '--dir', dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out[0]).toContain(`signing with ${rotated.previous} (rotation to ${rotated.current} waiting for partners until ${rotated.overlapUntil})`);
    const line = r.out.find((l) => l.includes(`  ${rotated.previous}  `)) ?? '';
    expect(line).toMatch(new RegExp(`  RETIRES at ${rotated.overlapUntil.replace(/\./g, '\\.')}: what it signs from then on is refused$`));
    expect(line).not.toContain('REVOKED');
  });
});
