/**
 * A root succession and a node key rotation while the partner is away longer than the maximum message age, on two real
 * nodes sharing a moved clock: every key envelope queued to KG grows too old and is sealed again by the key KZ signs
 * with then, which KG does not know, certified by a root KG has not been told of yet. KG must still learn the new root
 * and the new key over the wire, and no key envelope may end refused: a succession refused `GNC_KEY_UNKNOWN` is lost for
 * good (KG then refuses everything KZ signs), an announcement refused `GNC_CERT_INVALID` is a false alarm.
 */
import { describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { rotateNodeKeys, rotateRootKey } from '../../../node/keys/service.js';
import { api, finalMessage, moveClockWhenIdle, networkPerTest, restartNode, sharedClockPerTest, type TestNode, waitFor } from '../../helpers/network.js';
import { example } from '../../protocol/messages/fixtures.js';
import { verifiedExport } from '../audit/helpers.js';

const HOUR = 3_600_000;
const t = sharedClockPerTest();
const { clock } = t;
const network = networkPerTest();

/** KZ's key envelopes to KG that did not end delivered or sealed again, with the reason. */
function keyEnvelopesNotDelivered(kz: TestNode): string[] {
  const rows = kz.node.parts.store.db.prepare(`SELECT kind, status, error_code, error_reason FROM messages WHERE direction = 'out' AND type = 'key' AND status NOT IN ('delivered', 'resealed')`).all() as { kind: string; status: string; error_code: string | null; error_reason: string | null }[];
  return rows.map((r) => `${r.kind} ${r.status} ${r.error_code ?? ''} ${r.error_reason ?? ''}`);
}

/** KG is away while `change` runs on KZ, then past the overlap and the maximum message age; then it comes back. */
async function awayThrough(change: (kz: TestNode) => Promise<string>): Promise<{ kz: TestNode; kg: TestNode; current: string }> {
  const net = await network(['KZ', 'KG'], { nodeOptions: () => ({ clock }) });
  const kz = net.nodes.KZ!;
  const kg = net.nodes.KG!;
  await kg.node.stop();
  const current = await change(kz);
  await moveClockWhenIdle(t, kz, 'KG', t.ahead + 2 * HOUR);
  await waitFor(() => (kz.node.parts.signer().kid === current ? true : undefined), 10_000, 'the switch to the new key');
  await moveClockWhenIdle(t, kz, 'KG', t.ahead + 8 * 24 * HOUR);
  await restartNode(kg, { clock });
  return { kz, kg, current };
}

async function deliveredNow(kz: TestNode, kg: TestNode, current: string): Promise<void> {
  const r = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: example('aci-kz-kg-road') });
  expect(r.status, r.text).toBe(202);
  const m = await finalMessage(kz, r.json.id as string, 20_000);
  expect(`${m.status}:${m.error?.code ?? ''}:${m.error?.reason ?? ''}`).toBe('delivered::');
  await waitFor(() => (keyEnvelopesNotDelivered(kz).length === 0 && kz.node.parts.store.outbox.partners().length === 0 ? true : undefined), 20_000, 'the key envelopes').catch(() => undefined);
  expect(keyEnvelopesNotDelivered(kz)).toEqual([]);
  expect(kg.node.parts.trust.rootsOf('KZ').map((j) => j.x)).toHaveLength(2);
  expect(kg.node.parts.trust.resolveKey(current)?.country).toBe('KZ');
  await verifiedExport(kz, 'KG');
  await verifiedExport(kg, 'KZ');
}

describe('key envelopes sealed again for a partner away through a root succession and a rotation', () => {
  it('root succession, then a rotation: the succession sealed again by the new key reaches KG and names it', async () => {
    const { kz, kg, current } = await awayThrough(async (kz) => {
      await rotateRootKey(kz.dir, { clock });
      return (await rotateNodeKeys(kz.dir, { overlapHours: 1, clock })).current;
    });
    expect(loadIdentity(kz.dir).node.thumbprint).toBe(current);
    await deliveredNow(kz, kg, current);
  }, 60_000);

  it('a rotation, then a root succession while it waits: no announcement ahead of a notice is refused', async () => {
    const { kz, kg, current } = await awayThrough(async (kz) => {
      const rotated = await rotateNodeKeys(kz.dir, { overlapHours: 1, clock });
      await rotateRootKey(kz.dir, { clock });
      return rotated.current;
    });
    await deliveredNow(kz, kg, current);
  }, 60_000);
});
