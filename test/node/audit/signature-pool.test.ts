import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultWorkerUrl, openSignatureVerifier, type SignatureJob } from '../../../node/audit/signature-pool.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { fromB64u } from '../../../protocol/envelope/base64url.js';
import { asFile, Exchange, newKey } from './fixture.js';
import { flipPayloadByte } from './helpers.js';

/** The compiled worker that `npm test` builds first (npm run build); these tests skip when it is absent. */
const DIST_WORKER = new URL('../../../dist/node/audit/verify-worker.js', import.meta.url);
const built = existsSync(fileURLToPath(DIST_WORKER));

function jobs(count: number): { jobs: SignatureJob[]; expected: boolean[] } {
  const key = newKey();
  const publicKey = fromB64u(key.jwk.x, 'x');
  const out: SignatureJob[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const message = new TextEncoder().encode(`message ${i}`);
    const signature = key.signer.sign(message);
    if (i % 7 === 3) signature[5] = signature[5]! ^ 0x20;
    out.push({ publicKey, message, signature });
    expected.push(i % 7 !== 3);
  }
  return { jobs: out, expected };
}

async function run(verifier: ReturnType<typeof openSignatureVerifier>, list: SignatureJob[]): Promise<boolean[]> {
  const results: boolean[] = new Array<boolean>(list.length);
  list.forEach((job, i) => verifier.add(job, (ok) => (results[i] = ok)));
  await verifier.drain();
  await verifier.close();
  return results;
}

describe('signature pool', () => {
  it('checks in-thread when running from TypeScript sources, where no compiled worker sits next to the module', () => {
    expect(defaultWorkerUrl()).toBeUndefined();
    expect(openSignatureVerifier(100_000).threads).toBe(0);
  });

  it('checks in-thread below the parallel threshold even with a compiled worker', () => {
    expect(openSignatureVerifier(10, { workerUrl: DIST_WORKER }).threads).toBe(0);
  });

  it('gives the same results in-thread as expected from the signatures', async () => {
    const { jobs: list, expected } = jobs(40);
    expect(await run(openSignatureVerifier(list.length, { workerUrl: null }), list)).toEqual(expected);
  });

  it.skipIf(!built)('gives each result back in order from two worker threads', async () => {
    const { jobs: list, expected } = jobs(700);
    const verifier = openSignatureVerifier(list.length, { workerUrl: DIST_WORKER, parallelThreshold: 0, threads: 2 });
    expect(verifier.threads).toBe(2);
    expect(await run(verifier, list)).toEqual(expected);
  });

  it.skipIf(!built)('reports a flipped byte through the worker threads as GNC_SIGNATURE_INVALID', async () => {
    const bundle = asFile(new Exchange(4).bundle());
    flipPayloadByte(bundle, 4, 'Almaty');
    const report = await verifyBundle(bundle, { workerUrl: DIST_WORKER, parallelThreshold: 0, threads: 2 });
    expect(report.threads).toBe(2);
    expect(report.failures.filter((f) => f.code === 'GNC_SIGNATURE_INVALID').map((f) => f.subject)).toEqual(['envelope kz-msg-2']);
  });
});
