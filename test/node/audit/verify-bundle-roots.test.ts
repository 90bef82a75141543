import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { signKeyNotice } from '../../../protocol/notice.js';
import { asFile, certify, Exchange, iso, newKey, T0, type Key } from './fixture.js';

const HOUR = 3_600_000;

/** KG hands over from its root to a new one at T0 - 12 h; its node key is re-certified by the new root. */
function succeeded(): { x: Exchange; newRoot: Key } {
  const x = new Exchange(0);
  const newRoot = newKey();
  x.successions.push(signKeyNotice({ v: 1, kind: 'root-succession', country: 'KG', newRoot: newRoot.jwk, effective: iso(T0 - 12 * HOUR) }, x.kg.root.signer));
  x.kg.node = newKey();
  x.certificates[1] = certify('KG', x.kg.node, newRoot, { iat: T0 - 6 * HOUR, nbf: T0 - 6 * HOUR });
  return { x, newRoot };
}

describe('root succession in the offline verifier', () => {
  it('accepts a certificate issued by the successor the old root named', async () => {
    const { x } = succeeded();
    x.send();
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures).toEqual([]);
    expect(report.counts.successions).toBe(1);
  });

  it('reports GNC_CERT_INVALID for a certificate the old root issued after its succession', async () => {
    const { x } = succeeded();
    x.certificates.push(certify('KG', newKey(), x.kg.root, { iat: T0 - HOUR, nbf: T0 - HOUR }));
    x.send();
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.map((f) => [f.code, f.check])).toEqual([['GNC_CERT_INVALID', 'certificates']]);
    expect(report.failures[0]?.message).toMatch(/not in office/);
  });

  it('reports GNC_CERT_INVALID for a succession not signed by a root of the country', async () => {
    const x = new Exchange(1);
    x.successions.push(signKeyNotice({ v: 1, kind: 'root-succession', country: 'KG', newRoot: newKey().jwk, effective: iso(T0) }, newKey().signer));
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures.map((f) => [f.code, f.check])).toEqual([['GNC_CERT_INVALID', 'root successions']]);
  });

  it('follows a chain of successions listed out of order', async () => {
    const { x, newRoot } = succeeded();
    const third = newKey();
    x.successions.unshift(signKeyNotice({ v: 1, kind: 'root-succession', country: 'KG', newRoot: third.jwk, effective: iso(T0 - 3 * HOUR) }, newRoot.signer));
    x.kg.node = newKey();
    x.certificates[1] = certify('KG', x.kg.node, third, { iat: T0 - 2 * HOUR, nbf: T0 - 2 * HOUR });
    x.send();
    const report = await verifyBundle(asFile(x.bundle()));
    expect(report.failures).toEqual([]);
  });
});
