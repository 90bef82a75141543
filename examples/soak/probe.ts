/**
 * Loaded into each node process by the soak run only (`node --expose-gc --import <this file> gnc start --dir D`):
 * on SIGUSR2 it collects garbage (with --expose-gc) and appends one line of JSON to D/soak-probe.jsonl: the
 * process's memory (process.memoryUsage) and its live handles and requests by kind (timers, sockets: what a
 * leak of timers or connections shows in). The node itself exposes nothing for it, and a node started otherwise
 * never loads it.
 */
import { appendFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';

const at = process.argv.indexOf('--dir');
const dir = at >= 0 ? process.argv[at + 1] : undefined;
if (dir !== undefined) {
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const resources: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
    const m = process.memoryUsage();
    // GNC_SOAK_SNAPSHOTS=1 (soak --snapshots): a heap snapshot beside each sample, for Chrome DevTools' comparison view
    if (process.env['GNC_SOAK_SNAPSHOTS'] === '1') writeHeapSnapshot(join(dir, `soak-${Date.now()}.heapsnapshot`));
    appendFileSync(join(dir, 'soak-probe.jsonl'), JSON.stringify({ at: Date.now(), gc: gc !== undefined, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, resources }) + '\n');
  });
}
