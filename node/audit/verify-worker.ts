/**
 * Worker-thread entry of the signature pool (signature-pool.ts): receives packed batches, answers with one
 * result byte per record. Runs only from compiled JS (dist/node/audit/verify-worker.js); see the pool for why.
 */
import { parentPort } from 'node:worker_threads';
import { verifyPacked } from './signature-batch.js';

interface BatchRequest {
  id: number;
  packed: Uint8Array;
}

const port = parentPort;
if (port === null) throw new Error('verify-worker.js must run as a worker thread');

port.on('message', (req: BatchRequest) => {
  const results = verifyPacked(req.packed);
  port.postMessage({ id: req.id, results }, [results.buffer as ArrayBuffer]);
});
