/**
 * A node never signs with a key before its certificate starts (`nbf`) by its own clock. A rotation run with a clock
 * ahead of the node's certifies the new key from a later instant: the node keeps signing with the old key after every
 * partner acknowledged the announcement, since partners refuse what the new key signs before its start
 * (GNC_KEY_EXPIRED), and switches without a restart once it starts. Two real nodes share a clock moved by an offset.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { Keyring, ROTATION_CHECK_MS } from '../../../node/keys/keyring.js';
import { rotateNodeKeys } from '../../../node/keys/service.js';
import { Store } from '../../../node/store/store.js';
import { codeOf } from '../../helpers/errors.js';
import { api, finalMessage, initNode, networkForFile, runCli, tempDir, waitFor, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** How far ahead the rotation's clock runs: within the 300 s clock skew partners allow for the announcement. */
const AHEAD = 120_000;
let offset = 0;
const clock = (): number => Date.now() + offset;
const { nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG'], { nodeOptions: () => ({ clock }) });

/** Send an ACI from KG to KZ; resolves to KG's final record of it and the kid KZ stored it under. */
async function sendToKz(): Promise<{ status: string; code: string | undefined; kid: string | undefined }> {
  const r = await api(kg, 'POST', '/v1/messages', { to: 'KZ', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status, r.text).toBe(202);
  const m = await finalMessage(kg, r.json.id as string, 20_000);
  const jws = kz.node.parts.store.messages.byKey('in', 'KG', r.json.id as string)?.jws;
  const header = (b: Uint8Array) => JSON.parse(Buffer.from(JSON.parse(Buffer.from(b).toString('utf8')).protected, 'base64url').toString('utf8'));
  const kid = jws === undefined || jws === null ? undefined : (header(jws) as { kid: string }).kid;
  return { status: m.status as string, code: (m.receipt?.code ?? m.error?.code) as string | undefined, kid };
}

describe('a node key rotated with a clock ahead of the node', () => {
  let rotated: Awaited<ReturnType<typeof rotateNodeKeys>>;

  it('keeps signing with the old key once the partner acknowledged the announcement, and the partner accepts it', async () => {
    rotated = await rotateNodeKeys(kg.dir, { clock: () => clock() + AHEAD });
    expect((await finalMessage(kg, rotated.announcements.KZ!, 20_000)).status).toBe('delivered');
    // the pending rotation looks at the announcements again after ROTATION_CHECK_MS: every one is delivered by then
    await new Promise((r) => setTimeout(r, 3 * ROTATION_CHECK_MS));
    expect(kg.node.parts.signer().kid).toBe(rotated.previous);
    expect(await sendToKz()).toEqual({ status: 'delivered', code: undefined, kid: rotated.previous });
  }, 60_000);

  it('switches to the new key without a restart once its certificate starts', async () => {
    offset += AHEAD;
    await waitFor(() => (kg.node.parts.signer().kid === rotated.current ? true : undefined), 10_000, 'the switch to the new key');
    expect(await sendToKz()).toEqual({ status: 'delivered', code: undefined, kid: rotated.current });
  }, 60_000);
});

describe('a node key whose certificate starts after the node clock, with no older key to sign meanwhile', () => {
  const base = tempDir('gnc-nbf-');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('signs nothing (GNC_KEY_EXPIRED) until the certificate starts, then signs without a restart', async () => {
    const dir = await initNode(base, 'UZ');
    const store = Store.open(dir);
    try {
      // the clock set back a minute behind the instant `gnc init` certified the key from
      let behind = 60_000;
      const keyring = new Keyring(dir, store, () => Date.now() - behind);
      expect(codeOf(() => keyring.signer())).toBe('GNC_KEY_EXPIRED');
      behind = 0;
      expect(keyring.signer().kid).toBe(loadIdentity(dir).node.thumbprint);
    } finally {
      store.close();
    }
  });
});

describe('gnc keys status', () => {
  const base = tempDir('gnc-nbf-status-');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('marks a key whose certificate has not started yet, and signs with the key before it', async () => {
    const dir = await initNode(base, 'TJ');
    const rotated = await rotateNodeKeys(dir, { clock: () => Date.now() + AHEAD });
    const r = await runCli(['keys', 'status', '--dir', dir]);
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out[0]).toContain(`signing with ${rotated.previous}`);
    const line = (kid: string) => r.out.find((l) => l.includes(`  ${kid}  `)) ?? '';
    expect(line(rotated.current)).toMatch(/ NOT STARTED: signs nothing until \S+Z$/);
    expect(line(rotated.previous)).not.toContain('NOT STARTED');
  });
});
