import { describe, expect, it } from 'vitest';
import { verifyLog } from '../../../node/audit/verify-log.js';
import { Exchange } from './fixture.js';

function input(x: Exchange, checkpoints: string[]) {
  return { entries: x.entries, checkpoints, node: 'KZ', keys: (kid: string) => (kid === x.kz.node.signer.kid ? x.kz.node.jwk : undefined) };
}

describe("status of the node's own evidence log", () => {
  it('is ok and counts the entries after the last checkpoint', () => {
    const x = new Exchange(3);
    const status = verifyLog(input(x, [x.checkpoint(4)]));
    expect(status).toMatchObject({ ok: true, entries: 6, checkpointed: 4, uncheckpointed: 2, head: { seq: 6 } });
  });

  it('reports GNC_AUDIT_BROKEN for a deleted entry', () => {
    const x = new Exchange(3);
    const cp = x.checkpoint();
    x.entries.splice(1, 1);
    expect(verifyLog(input(x, [cp])).problems.map((p) => [p.code, p.seq])).toEqual([['GNC_AUDIT_BROKEN', 2]]);
  });

  it('reports GNC_AUDIT_BROKEN when the tail after a checkpoint was cut off', () => {
    const x = new Exchange(3);
    const cp = x.checkpoint();
    x.entries.length = 4;
    expect(verifyLog(input(x, [cp])).problems.map((p) => [p.code, p.seq])).toEqual([['GNC_AUDIT_BROKEN', 6]]);
  });

  it('reports GNC_KEY_UNKNOWN for a checkpoint signed by a key that is not the node', () => {
    const x = new Exchange(1);
    expect(verifyLog(input(x, [x.checkpoint(2, x.kg.node.signer)])).problems.map((p) => p.code)).toEqual(['GNC_KEY_UNKNOWN']);
  });
});
