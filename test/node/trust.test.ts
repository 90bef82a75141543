/**
 * The trust index over a real store: which certificate admits a peer id as time passes, and when its listeners hear
 * of it. A node wakes at `nextChange` to `recheck`; a timer may fire a millisecond before that instant by the wall
 * clock, and the change it was set for must still be ahead when the node asks again.
 */
import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../node/store/store.js';
import { TrustIndex } from '../../node/trust.js';
import { issueNodeCertificate } from '../../protocol/certificate.js';
import { keyObjectSigner } from '../../protocol/envelope/seal.js';
import { jwkThumbprint, publicJwkOf } from '../../protocol/jwk.js';
import { tempDir } from '../helpers/network.js';

const SKEW_MS = 1_000;
const T0 = Date.parse('2026-11-24T00:00:00.000Z');
const PEER = '12D3KooWTrustIndexTestPeer';

let dir: string | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});

function key() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwkOf(privateKey);
  return { jwk, signer: keyObjectSigner(jwkThumbprint(jwk), privateKey) };
}

/** A store holding KG pinned and one certificate of its node for PEER, valid from T0 to `exp`. */
function storeWithCertificate(exp: number): Store {
  dir = tempDir('gnc-trust-');
  store = Store.open(dir);
  const [root, node] = [key(), key()];
  store.partners.upsert({
    country: 'KG', name: 'Customs of KG', root_jwk: JSON.stringify(root.jwk), fingerprint: root.signer.kid, addresses: '[]',
    identity: '{}', added_at: new Date(T0).toISOString(),
  });
  const compact = issueNodeCertificate({
    v: 1, iss: root.signer.kid, sub: node.signer.kid, country: 'KG', name: 'Customs of KG', jwk: node.jwk, peerId: PEER,
    addrs: [], iat: new Date(T0).toISOString(), nbf: new Date(T0).toISOString(), exp: new Date(exp).toISOString(),
  }, root.signer);
  store.partners.addCertificate({ kid: node.signer.kid, country: 'KG', peer_id: PEER, compact, not_before: T0, not_after: exp, added_at: '' });
  return store;
}

describe('TrustIndex.nextChange', () => {
  it('names the end of a certificate (plus the clock skew) while the peer is admitted', () => {
    const exp = T0 + 60_000;
    const trust = new TrustIndex(storeWithCertificate(exp), () => T0 + 1_000, SKEW_MS);
    expect(trust.peer(PEER)?.country).toBe('KG');
    expect(trust.nextChange()).toBe(exp + SKEW_MS + 1);
  });

  it('still names a change that the clock passed after the last look, so that a recheck then tells the listeners', () => {
    const exp = T0 + 60_000;
    let now = exp + SKEW_MS; // the last instant the certificate counts: a timer for the next one fired a millisecond early
    const trust = new TrustIndex(storeWithCertificate(exp), () => now, SKEW_MS);
    let heard = 0;
    trust.onChange(() => heard++);
    trust.recheck();
    expect(heard).toBe(0);
    now += 1;
    expect(trust.nextChange()).toBe(exp + SKEW_MS + 1);
    trust.recheck();
    expect(heard).toBe(1);
    expect(trust.peer(PEER)).toBeUndefined();
    expect(trust.nextChange()).toBeUndefined();
  });
});
